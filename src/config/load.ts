import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { OffsiteError } from '../errors.ts';
import { interpolateEnv, type MissingVariable } from './interpolate.ts';
import { type ConfigIssue, checkRules, findInlineSecrets } from './rules.ts';
import { type PipelineConfig, pipelineSchema } from './schema.ts';

/** A loaded pipeline and the warnings its rules raised. */
export interface LoadedPipeline {
  config: PipelineConfig;
  file: string;
  warnings: ConfigIssue[];
}

/**
 * Loads a pipeline file in three steps: schema (zod), normalise (env interpolation, defaults,
 * name from the file name), cross-field rules. Every problem is reported at once, by path.
 */
export async function loadPipeline(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedPipeline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new OffsiteError(
      'CONFIG_INVALID',
      `${file}: cannot read the pipeline file (${(err as Error).message})`,
      {
        hint: 'pass the path of a pipeline file, e.g. pipelines/demo.yaml',
        cause: err,
      },
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new OffsiteError('CONFIG_INVALID', `${file}: not valid YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new OffsiteError('CONFIG_INVALID', `${file}: expected a mapping with source:, store: and so on`);
  }
  return parsePipeline(raw as Record<string, unknown>, file, env);
}

/** Validates an already parsed pipeline document (see loadPipeline). */
export function parsePipeline(
  raw: Record<string, unknown>,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): LoadedPipeline {
  const secrets = findInlineSecrets(raw);
  if (secrets.length > 0) throw configError(file, secrets);

  const missing: MissingVariable[] = [];
  const interpolated = interpolateEnv(raw, env, missing) as Record<string, unknown>;
  if (missing.length > 0) {
    throw configError(
      file,
      missing.map((m) => ({
        path: m.path,
        message: `environment variable ${m.variable} is not set; export it`,
      })),
    );
  }
  interpolated.name ??= basename(file, extname(file));

  const parsed = pipelineSchema.safeParse(interpolated);
  if (!parsed.success) throw configError(file, parsed.error.issues.map(describeZodIssue));

  const { errors, warnings } = checkRules(parsed.data);
  if (errors.length > 0) throw configError(file, errors);
  return { config: parsed.data, file, warnings };
}

function describeZodIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const path = issue.path.join('.') || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return {
      path: path === '(top level)' ? issue.keys.join(', ') : `${path}.${issue.keys.join(', ')}`,
      message: 'unknown field; remove it or check its spelling (see pipelines/example-production.yaml)',
    };
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return { path, message: `required (${issue.expected}); add it` };
  }
  return { path, message: issue.message };
}

function configError(file: string, issues: ConfigIssue[]): OffsiteError {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`);
  return new OffsiteError('CONFIG_INVALID', `${file}: invalid pipeline\n${lines.join('\n')}`, {
    hint: 'fix the fields above; pipelines/example-production.yaml documents every field',
  });
}
