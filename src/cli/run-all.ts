import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import pLimit from 'p-limit';
import type { PipelineConfig } from '../config/schema.ts';
import { asOffsiteError, type ErrorCode, mostSevere } from '../errors.ts';
import type { Log } from '../pipeline/run-context.ts';
import { formatBytes, formatDuration } from '../report/format.ts';
import type { RunReport } from '../report/run-report.ts';
import { loadPipelineFor, usageError } from './arguments.ts';
import { type BackupRequest, backUp, progressOutput } from './backup-run.ts';
import { failedWith, type Outcome } from './command.ts';

/** How one pipeline of `offsite run --all` ended. */
export interface PipelineRun {
  /** The pipeline's name (its file's name when the file could not be read). */
  pipeline: string;
  file: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  /** The error code of a run that did not succeed (README "Exit codes" maps it). */
  code: ErrorCode | null;
  message: string | null;
  durationMs: number;
  backupId: string | null;
  bytesUploaded: number | null;
  /** The run's report (JSON) on this machine; null when the run was refused before it began. */
  report: string | null;
}

const DEFAULT_CONCURRENCY = 2;

/** --concurrency N: a whole number of runs at once, at least 1. */
export function concurrencyOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw usageError(
      `--concurrency ${value}: expected a whole number of runs at once, 1 to 64, e.g. --concurrency 2`,
      'run',
    );
  }
  return n;
}

/** The pipeline files of `dir` (*.yaml, *.yml), sorted; a usage error when there are none. */
export function pipelineFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw usageError(
      `--dir ${dir}: cannot read the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a directory of pipeline files`,
      'run',
    );
  }
  const files = names
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
  if (files.length === 0)
    throw usageError(`no pipeline files (*.yaml) in ${dir}/: add one, or give --dir DIR`, 'run');
  return files;
}

/**
 * The exit code rule of `offsite run --all`: 'ok' (0) when every pipeline's backup was
 * published; otherwise the most severe failure's (errors.ts mostSevere: 130, then 1, 5, 3, 2, 4, 6).
 */
export function combinedOutcome(runs: PipelineRun[]): Outcome {
  const worst = mostSevere(runs.flatMap((r) => (r.code ? [r.code] : [])));
  return worst ? failedWith(worst) : 'ok';
}

/** The table `offsite run --all` ends with: one row per pipeline, then the verdict. */
export function summaryTable(runs: PipelineRun[]): string {
  const header = ['pipeline', 'status', 'code', 'time', 'uploaded', 'backup / report'];
  const rows = runs.map((r) => [
    r.pipeline,
    r.status,
    r.code ?? '-',
    formatDuration(r.durationMs),
    r.bytesUploaded === null ? '-' : formatBytes(r.bytesUploaded),
    // One line per pipeline: a refusal's first line (stderr has it whole).
    r.backupId ?? r.report ?? r.message?.split('\n')[0] ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const passed = runs.filter((r) => r.status === 'succeeded').length;
  return `${[line(header), ...rows.map(line)].join('\n')}\noffsite run --all: ${passed}/${runs.length} pipelines backed up\n`;
}

function fromReport(file: string, report: RunReport): PipelineRun {
  return {
    pipeline: report.pipeline,
    file,
    status:
      report.status === 'succeeded' ? 'succeeded' : report.status === 'cancelled' ? 'cancelled' : 'failed',
    code:
      report.status === 'succeeded'
        ? null
        : report.status === 'cancelled'
          ? 'CANCELLED'
          : ((report.error?.code ?? 'INTERNAL') as ErrorCode),
    message: report.error?.message ?? null,
    durationMs: report.durationMs,
    backupId: report.backup?.id ?? null,
    bytesUploaded: report.backup?.bytesUploaded ?? null,
    report: report.reports.json,
  };
}

function refused(pipeline: string, file: string, err: unknown, startedAt: number): PipelineRun {
  const e = asOffsiteError(err, 'INTERNAL');
  return {
    pipeline,
    file,
    status: e.code === 'CANCELLED' ? 'cancelled' : 'failed',
    code: e.code,
    message: `${e.message}${e.hint ? ` (${e.hint})` : ''}`,
    durationMs: Date.now() - startedAt,
    backupId: null,
    bytesUploaded: null,
    report: null,
  };
}

/**
 * offsite run --all: every pipeline file of `dir`, at most `concurrency` at once. A pipeline that
 * is refused (an invalid file, a missing secret, its lock held) or fails does not stop the others.
 */
export async function runAll(opts: {
  dir: string;
  concurrency: number;
  json: boolean;
  request: BackupRequest;
  log: Log;
}): Promise<Outcome> {
  const files = pipelineFiles(opts.dir);
  const runs: PipelineRun[] = [];
  const loaded: { file: string; config: PipelineConfig }[] = [];
  for (const file of files) {
    const started = Date.now();
    try {
      loaded.push({ file, config: await loadPipelineFor(file, opts.log) });
    } catch (err) {
      runs.push(refused(basename(file).replace(/\.ya?ml$/, ''), file, err, started));
    }
  }
  const output = progressOutput(
    loaded.map((l) => l.config.name),
    opts.log,
  );
  const limit = pLimit(opts.concurrency);
  try {
    const done = await Promise.all(
      loaded.map(({ file, config }) =>
        limit(async () => {
          const started = Date.now();
          try {
            return fromReport(
              file,
              await backUp(file, config, opts.request, output.log, output.progressOf(config.name)),
            );
          } catch (err) {
            return refused(config.name, file, err, started);
          }
        }),
      ),
    );
    runs.push(...done);
  } finally {
    await output.stop();
  }
  runs.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file));
  for (const r of runs) {
    if (r.code && r.message) process.stderr.write(`offsite: ${r.pipeline}: ${r.code}: ${r.message}\n`);
  }
  const table = summaryTable(runs);
  const outcome = combinedOutcome(runs);
  if (opts.json) {
    const status = outcome === 'ok' ? 'succeeded' : 'failed';
    process.stdout.write(`${JSON.stringify({ status, pipelines: runs }, null, 2)}\n`);
    process.stderr.write(table);
  } else process.stdout.write(table);
  return outcome;
}
