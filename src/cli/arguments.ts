import { existsSync } from 'node:fs';
import { OffsiteError } from '../errors.ts';

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
