import { existsSync } from 'node:fs';
import { loadPipeline, loadStorePipeline } from '../config/load.ts';
import type { PipelineConfig, StorePipelineConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { Log } from '../pipeline/run-context.ts';
import { dateInZone } from '../stages/locate-snapshot.ts';

/** A usage error (exit 2) pointing at --help (a command's own, when given). */
export function usageError(message: string, command?: string): OffsiteError {
  return new OffsiteError('USAGE', message, {
    hint: command ? `see offsite ${command} --help` : 'see offsite --help',
  });
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
  if (!pipeline || extra.length > 0) {
    throw usageError(
      `offsite ${command} takes exactly one pipeline (a file, or a name in pipelines/)`,
      command,
    );
  }
  return pipeline;
}

/** Checks an optional --date value (usage error when it is not a calendar date). */
export function checkDate(date: string | undefined): string | undefined {
  if (date !== undefined && !validDate(date)) {
    throw usageError(`--date ${date}: expected a calendar date as YYYY-MM-DD`);
  }
  return date;
}

/**
 * Parses `run --at`: 'now', or an ISO 8601 time with a zone (Z or ±hh:mm), since a time without
 * one means a different instant on every machine. Whether RDS can restore to it is the locate
 * stage's question (it knows the window).
 */
export function parseAt(at: string | undefined): Date | 'now' | undefined {
  if (at === undefined) return undefined;
  if (at === 'now') return 'now';
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;
  const parsed = new Date(at);
  if (!iso.test(at) || Number.isNaN(parsed.getTime())) {
    throw usageError(
      `--at ${at}: expected now or an ISO 8601 time with a zone, e.g. 2026-11-25T14:30:00Z or 2026-11-25T15:30:00+01:00`,
    );
  }
  return parsed;
}

/**
 * RDS keeps automated snapshots for the instance's backup retention period, at most 35 days
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html).
 */
export const RDS_MAX_RETENTION_DAYS = 35;

const DAY_MS = 86_400_000;

/**
 * Checks `run --date` against the calendar of the pipeline's time zone: no snapshot can exist
 * for a day in the future or one older than RDS's longest retention. A usage error (exit 2)
 * before anything is created; pure, `now` is passed in.
 */
export function checkRunDate(
  date: string | undefined,
  opts: { timeZone: string; now: Date },
): string | undefined {
  if (date === undefined) return undefined;
  checkDate(date);
  const today = dateInZone(opts.now, opts.timeZone);
  if (date > today) {
    throw new OffsiteError(
      'USAGE',
      `--date ${date} is in the future: today is ${today} in ${opts.timeZone} (source.snapshot.timeZone)`,
      { hint: 'give the day a snapshot was taken, or leave --date out to back up the newest snapshot' },
    );
  }
  const daysAgo = Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${date}T00:00:00Z`)) / DAY_MS);
  if (daysAgo > RDS_MAX_RETENTION_DAYS) {
    throw new OffsiteError(
      'USAGE',
      `--date ${date} is ${daysAgo} days ago: RDS keeps automated snapshots for at most ${RDS_MAX_RETENTION_DAYS} days (the longest backup retention period), so none can exist for that day`,
      {
        hint: `pick a day since ${dateInZone(new Date(Date.parse(`${today}T12:00:00Z`) - RDS_MAX_RETENTION_DAYS * DAY_MS), 'UTC')}; a backup already made of that day comes back with offsite restore --date`,
      },
    );
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

/** Loads a pipeline for a command that only reads the store: `source:` may be left out. */
export async function loadStorePipelineFor(pipeline: string, log: Log): Promise<StorePipelineConfig> {
  const file = resolvePipelineFile(pipeline);
  const { config, warnings } = await loadStorePipeline(file);
  for (const w of warnings) log.warn({ field: w.path }, `${file}: ${w.path}: ${w.message}`);
  return config;
}
