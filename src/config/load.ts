import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OffsiteError } from '../errors.ts';
import { interpolateEnv, type MissingVariable } from './interpolate.ts';
import { type ConfigIssue, checkRules, findInlineSecrets } from './rules.ts';
import {
  type PipelineConfig,
  pipelineSchema,
  type StorePipelineConfig,
  storePipelineSchema,
} from './schema.ts';
import { describeZodIssue } from './zod-issues.ts';

/** A loaded pipeline and the warnings its rules raised. */
export interface LoadedPipeline {
  config: PipelineConfig;
  file: string;
  warnings: ConfigIssue[];
}

/** What checking a pipeline file found: the configuration, or every problem by path. */
export type PipelineCheck =
  | ({ valid: true } & LoadedPipeline)
  | { valid: false; file: string; problems: ConfigIssue[] };

/**
 * Loads a pipeline file in three steps: schema (zod), normalise (env interpolation, defaults,
 * name from the file name), cross-field rules. Every problem is reported at once, by path.
 */
export async function loadPipeline(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedPipeline> {
  return orThrow(await checkPipelineFile(file, env));
}

/**
 * Loads a pipeline file for the commands that only read the store (restore, list, check,
 * report): `source:` may be left out; when present it is checked as for a run.
 */
export async function loadStorePipeline(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ config: StorePipelineConfig; file: string; warnings: ConfigIssue[] }> {
  return orThrow(await checkPipelineFile(file, env, 'store')) as unknown as {
    config: StorePipelineConfig;
    file: string;
    warnings: ConfigIssue[];
  };
}

/** Like loadPipeline, but returns the problems instead of throwing them (for `offsite validate`). */
export async function checkPipelineFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  scope: 'run' | 'store' = 'run',
): Promise<PipelineCheck> {
  const invalid = (message: string): PipelineCheck => ({
    valid: false,
    file,
    problems: [{ path: '(file)', message }],
  });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return invalid(
      `cannot read the pipeline file (${(err as Error).message}); pass the path of a pipeline file, e.g. pipelines/demo.yaml`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    return invalid(`not valid YAML: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return invalid('expected a mapping with source:, store: and so on');
  }
  return checkPipeline(raw as Record<string, unknown>, file, env, scope);
}

/** Validates an already parsed pipeline document (see loadPipeline). */
export function parsePipeline(
  raw: Record<string, unknown>,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): LoadedPipeline {
  return orThrow(checkPipeline(raw, file, env));
}

function checkPipeline(
  raw: Record<string, unknown>,
  file: string,
  env: NodeJS.ProcessEnv,
  scope: 'run' | 'store' = 'run',
): PipelineCheck {
  const invalid = (problems: ConfigIssue[]): PipelineCheck => ({ valid: false, file, problems });
  const secrets = findInlineSecrets(raw);
  if (secrets.length > 0) return invalid(secrets);

  const missing: MissingVariable[] = [];
  const interpolated = interpolateEnv(raw, env, missing) as Record<string, unknown>;
  if (missing.length > 0) {
    return invalid(
      missing.map((m) => ({
        path: m.path,
        message: `environment variable ${m.variable} is not set; export it`,
      })),
    );
  }
  interpolated.name ??= basename(file, extname(file));

  // reportInput: without it zod drops the value, and a wrong type reads like a missing field.
  const schema = scope === 'store' ? storePipelineSchema : pipelineSchema;
  const parsed = schema.safeParse(interpolated, { reportInput: true });
  if (!parsed.success) return invalid(parsed.error.issues.map(describeZodIssue));

  const { errors, warnings } = checkRules(parsed.data);
  if (errors.length > 0) return invalid(errors);
  // A store-scope config may lack `source`; only loadStorePipeline hands one out, typed so.
  return { valid: true, config: parsed.data as PipelineConfig, file, warnings };
}

function orThrow(check: PipelineCheck): LoadedPipeline {
  if (!check.valid) throw configError(check.file, check.problems);
  return check;
}

function configError(file: string, issues: ConfigIssue[]): OffsiteError {
  const [only] = issues;
  if (issues.length === 1 && only?.path === '(file)') {
    return new OffsiteError('CONFIG_INVALID', `${file}: ${only.message}`);
  }
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`);
  return new OffsiteError('CONFIG_INVALID', `${file}: invalid pipeline\n${lines.join('\n')}`, {
    hint: 'fix the fields above; pipelines/example-production.yaml documents every field',
  });
}
