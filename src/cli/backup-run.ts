import { createDeps } from '../adapters/create-deps.ts';
import { preflight, preflightError } from '../config/preflight.ts';
import type { PipelineConfig } from '../config/schema.ts';
import type { Progress } from '../pipeline/progress.ts';
import { BACKUP_STAGES, runBackup } from '../pipeline/run-backup.ts';
import type { Log } from '../pipeline/run-context.ts';
import { formatBytes, formatDuration } from '../report/format.ts';
import type { RunReport } from '../report/run-report.ts';
import { openPipelineStore } from '../store/open-store.ts';
import { checkRunDate } from './arguments.ts';
import { progressLines } from './progress-lines.ts';
import { type ProgressView, startProgressView } from './progress-view.ts';

/** What a run was asked for on the command line. */
export interface BackupRequest {
  date: string | undefined;
  at: Date | 'now' | undefined;
  reason: string | undefined;
  signal: AbortSignal;
}

/**
 * One pipeline's backup as `offsite run` does it: everything that can be refused is refused
 * before an instance, a directory or an object exists; then the run. Throws for a refusal (and
 * RUN_LOCKED); a run that failed returns its report.
 */
export async function backUp(
  file: string,
  config: PipelineConfig,
  request: BackupRequest,
  log: Log,
  progress: (runLog: Log) => Progress,
): Promise<RunReport> {
  checkRunDate(request.date, { timeZone: config.source.snapshot.timeZone, now: new Date() });
  const problems = await preflight(config);
  if (problems.length > 0) throw preflightError(file, problems);
  const deps = createDeps(config);
  // An encrypted pipeline's key opens (or is made, on the first run) before anything is written.
  const store = await openPipelineStore(deps.store, config, {
    create: true,
    signal: request.signal,
    onCreated: (keyId, label) =>
      log.info(
        { keyId },
        `made the store's data key; its first wrapped copy is ${keyId}, opened by ${label}`,
      ),
  });
  return runBackup(config, { ...deps, store }, log, {
    date: request.date ?? null,
    at: request.at ?? null,
    reason: request.reason ?? null,
    signal: request.signal,
    progress,
  });
}

/** How runs show their progress: a live view on a terminal, else plain log lines. */
export interface ProgressOutput {
  /** The logger runs log to: on a terminal with the view, warnings and errors only (the view says the rest). */
  log: Log;
  progressOf(pipeline: string): (runLog: Log) => Progress;
  stop(): Promise<void>;
}

/**
 * A live view (listr2) on stderr when stderr is a terminal; plain lines otherwise (cron,
 * systemd, a pipe): no control characters, progress as log lines every half minute.
 */
export function progressOutput(pipelines: string[], log: Log): ProgressOutput {
  if (process.stderr.isTTY !== true) {
    return { log, progressOf: () => (runLog) => progressLines(runLog), stop: async () => {} };
  }
  const view: ProgressView = startProgressView(
    pipelines,
    BACKUP_STAGES.map((s) => s.name),
  );
  // Info lines would only pile up below the view; --debug (a level under info) keeps them all.
  const verbose = ((log as { levelVal?: number }).levelVal ?? 30) < 30;
  return {
    log: verbose ? log : (log.child?.({}, { level: 'warn' }) ?? log),
    progressOf: (pipeline) => () => view.progressOf(pipeline),
    stop: () => view.stop(),
  };
}

/** Each error of a failed run and what to do about it, as a cron mail ends. */
export function errorLines(report: RunReport, label = ''): string {
  return report.errors
    .map((e) => `offsite: ${label}${e.stage} ${e.code}: ${e.message}\n${e.hint ? `  → ${e.hint}\n` : ''}`)
    .join('');
}

/** One line a cron mail or a terminal ends with: the verdict, what was published, where the report is. */
export function runSummaryLine(r: RunReport): string {
  const what = r.backup
    ? `backup ${r.backup.id} published: ${bytesBoth(r.backup.bytesRead)} read, ${bytesBoth(r.backup.bytesUploaded)} uploaded`
    : 'nothing published';
  const failed = r.checks.filter((c) => c.status === 'failed').length;
  const checks = r.checks.length > 0 ? `, ${r.checks.length - failed}/${r.checks.length} checks passed` : '';
  return `offsite run ${r.pipeline}: ${r.status} in ${formatDuration(r.durationMs)}; ${what}${checks}; report: ${r.reports.html ?? r.reports.markdown}`;
}

const bytesBoth = (n: number) => `${formatBytes(n)} (${n} bytes)`;
