import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './run-cli.ts';

type Tree = Record<string, unknown>;

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Tree, v as Tree)
        : v;
  }
  return out;
}

/**
 * Writes pipelines/demo.yaml with some fields changed into `dir`, and returns its path.
 * Overrides merge into the demo's mappings; top-level keys listed in `replace` are replaced whole.
 */
export function demoPipelineWith(
  dir: string,
  overrides: Tree,
  nameOrOpts: string | { name?: string; replace?: string[] } = {},
): string {
  const opts = typeof nameOrOpts === 'string' ? { name: nameOrOpts } : nameOrOpts;
  const demo = parse(readFileSync(join(REPO_ROOT, 'pipelines/demo.yaml'), 'utf8')) as Tree;
  for (const key of opts.replace ?? []) delete demo[key];
  const path = join(dir, opts.name ?? 'pipeline.yaml');
  writeFileSync(path, stringify(merge(demo, overrides)));
  return path;
}
