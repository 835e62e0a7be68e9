import { existsSync } from 'node:fs';
import { loadPipeline } from '../config/load.ts';
import type { PipelineConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { Log } from '../pipeline/run-context.ts';

/** A usage error (exit 2) pointing at --help. */
export function usageError(message: string): OffsiteError {
  return new OffsiteError('USAGE', message, { hint: 'see offsite --help' });
}

/** Whether a string is a real calendar date written YYYY-MM-DD. */
export function validDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
}

/** A pipeline is given as a file path, or by name: `demo` means pipelines/demo.yaml. */
export function resolvePipelineFile(pipeline: string): string {
  if (/^[a-z][a-z0-9-]*$/.test(pipeline) && !existsSync(pipeline)) return `pipelines/${pipeline}.yaml`;
  return pipeline;
}

/** The one pipeline a command takes from its positionals (usage error otherwise). */
export function onePipeline(positionals: string[], command: string): string {
  const [pipeline, ...extra] = positionals;
  if (!pipeline || extra.length > 0) throw usageError(`offsite ${command} takes exactly one pipeline`);
  return pipeline;
}

/** Checks an optional --date value (usage error when it is not a calendar date). */
export function checkDate(date: string | undefined): string | undefined {
  if (date !== undefined && !validDate(date)) {
    throw usageError(`--date ${date}: expected a calendar date as YYYY-MM-DD`);
  }
  return date;
}

/** Loads a pipeline given by file or name, logging the warnings its rules raised. */
export async function loadPipelineFor(pipeline: string, log: Log): Promise<PipelineConfig> {
  const file = resolvePipelineFile(pipeline);
  const { config, warnings } = await loadPipeline(file);
  for (const w of warnings) log.warn({ field: w.path }, `${file}: ${w.path}: ${w.message}`);
  return config;
}
