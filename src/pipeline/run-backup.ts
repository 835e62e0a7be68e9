import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { exportRunMetrics } from '../adapters/metrics-export.ts';
import { callFailed } from '../classify/classify-error.ts';
import type { PipelineConfig } from '../config/schema.ts';
import { createRunNotifier, NO_NOTIFICATIONS, type RunNotifier } from '../notify/notify-run.ts';
import { reportHtmlKey } from '../report/history.ts';
import type { RunReport } from '../report/run-report.ts';
import { countingRequests } from '../report/store-requests.ts';
import { anomaliesStage } from '../stages/anomalies.ts';
import { dumpStage } from '../stages/dump.ts';
import { locateStage, majorOf } from '../stages/locate-snapshot.ts';
import { writeRunReport } from '../stages/report.ts';
import { restoreStage } from '../stages/restore-instance.ts';
import { openScratchServerEarly } from '../stages/scratch-server-early.ts';
import { sourceFactsStage } from '../stages/source-facts.ts';
import { teardownStage } from '../stages/teardown-instance.ts';
import { startChunkUpload, uploadStage } from '../stages/upload.ts';
import { verifyRestoreStage } from '../stages/verify-restore.ts';
import type { Progress } from './progress.ts';
import { pruneAfterRun } from './prune-after-run.ts';
import { reapLeftovers } from './reap-leftovers.ts';
import type { Deps, Log, RunContext } from './run-context.ts';
import { newRunId } from './run-id.ts';
import { acquireRunLock } from './run-lock.ts';
import { runStages, type StageDefinition } from './run-pipeline.ts';
import { TeardownStack } from './teardown-stack.ts';

/**
 * The restore of the temporary instance, with the scratch server of the restore test starting
 * meanwhile (it needs only the snapshot's major version).
 */
function restoreWithScratchStarting(): StageDefinition {
  return {
    ...restoreStage,
    run(ctx) {
      openScratchServerEarly(ctx, majorOf(ctx.snapshot!.engineVersion));
      return restoreStage.run(ctx);
    },
  };
}

/**
 * The teardown, with the dump's chunks starting to upload as soon as the dump is whole: RDS takes
 * minutes to delete an instance, and the upload goes on through the restore test. Only the
 * manifest waits for the verdict (a failed test leaves packs no manifest names, which prune
 * removes). After a failure there is no dump (ctx.dump unset) and nothing starts.
 */
function teardownWhileUploading(): StageDefinition {
  return {
    ...teardownStage,
    run(ctx) {
      if (ctx.dump) startChunkUpload(ctx);
      return teardownStage.run(ctx);
    },
  };
}

/** The nightly order: the temporary instance lives only from restore to teardown. */
export const BACKUP_STAGES = [
  locateStage,
  restoreWithScratchStarting(),
  sourceFactsStage,
  dumpStage,
  teardownWhileUploading(),
  verifyRestoreStage,
  anomaliesStage,
  uploadStage,
];

/** What a caller may choose about one run. */
export interface RunOptions {
  date: string | null;
  /** `--at`: back up the source as it was at this time ('now': its latest restorable time) instead of a snapshot. */
  at?: Date | 'now' | null;
  reason: string | null;
  signal: AbortSignal;
  /**
   * Where the stages report how far they are (a live view, log lines), given the run's logger
   * (its lines name the pipeline and run); absent: nowhere.
   */
  progress?: (runLog: Log) => Progress;
}

/**
 * Runs one backup of a pipeline end to end and returns its report. Never throws for a failed run;
 * throws RUN_LOCKED, before anything exists, when another run of the pipeline holds its lock.
 */
export async function runBackup(
  config: PipelineConfig,
  deps: Deps,
  log: Log,
  opts: RunOptions,
): Promise<RunReport> {
  const startedAt = deps.now();
  const runId = newRunId(startedAt);
  // Every line of this run names it, so runs of several pipelines in one log can be told apart.
  const runLog = log.child?.({ pipeline: config.name, runId }) ?? log;
  return runWithNotifications(config, deps, runLog, opts, { runId, startedAt });
}

async function runWithNotifications(
  config: PipelineConfig,
  deps: Deps,
  log: Log,
  opts: RunOptions,
  run: { runId: string; startedAt: Date },
): Promise<RunReport> {
  const notifier = runNotifier(config, deps, log);
  // Before anything else, not awaited: a heartbeat service that is down must not hold up the run.
  const started = notifier.start();
  let report: RunReport;
  try {
    report = await runUnderLock(config, deps, log, opts, run);
  } catch (err) {
    // No report to send (the lock was held, the work directory refused): the heartbeat hears /fail.
    await started;
    await notifier.end(null, { htmlInStore: null });
    throw err;
  }
  return withNotifications(
    report,
    [...(await started), ...(await notifier.end(report, whereabouts(config, deps, report)))],
    log,
  );
}

function runNotifier(config: PipelineConfig, deps: Deps, log: Log): RunNotifier {
  if (!deps.notify || !config.notify) return NO_NOTIFICATIONS;
  // Not the run's signal: an interrupted run still tells its heartbeat and webhooks it failed.
  const sleep = (ms: number) => deps.sleep(ms, new AbortController().signal);
  return createRunNotifier(config.notify, { transport: deps.notify, env: process.env, log, sleep });
}

// The HTML page is in the store when the report went there (a temporary instance was requested)
// and the report stage did not fail.
function whereabouts(config: PipelineConfig, deps: Deps, report: RunReport): { htmlInStore: string | null } {
  const stored =
    report.tempInstance !== null &&
    report.stages.some((s) => s.name === 'report' && s.status === 'succeeded');
  return {
    htmlInStore: stored
      ? deps.store.urlOf(reportHtmlKey(config.store.prefix, config.name, report.runId))
      : null,
  };
}

// The local JSON report gets the notifications too; the stored copy was written before they were sent.
async function withNotifications(
  report: RunReport,
  notifications: RunReport['notifications'],
  log: Log,
): Promise<RunReport> {
  if (!notifications || notifications.length === 0) return report;
  const updated = { ...report, notifications };
  await writeFile(report.reports.json, `${JSON.stringify(updated, null, 2)}\n`).catch((err: unknown) => {
    log.warn({ err: (err as Error).message }, 'could not add the notifications to the local JSON report');
  });
  return updated;
}

async function runUnderLock(
  config: PipelineConfig,
  uncounted: Deps,
  log: Log,
  opts: RunOptions,
  run: { runId: string; startedAt: Date },
): Promise<RunReport> {
  // Every store request of the run, counted for the cost in its report.
  const deps: Deps = { ...uncounted, store: countingRequests(uncounted.store) };
  const { runId } = run;
  // First of all: two runs of one pipeline would make two instances of one snapshot and share
  // one chunk-index cache.
  const lock = await acquireRunLock({
    store: deps.store,
    prefix: config.store.prefix,
    pipeline: config.name,
    runId,
    workDir: config.workDir,
    command: 'offsite run',
    now: deps.now,
    log,
    signal: opts.signal,
  });
  try {
    return await runLocked(config, deps, log, opts, run);
  } finally {
    await lock.release();
  }
}

async function runLocked(
  config: PipelineConfig,
  deps: Deps,
  log: Log,
  opts: RunOptions,
  run: { runId: string; startedAt: Date },
): Promise<RunReport> {
  const { runId, startedAt } = run;
  const reaped = await reapLeftovers({
    rds: deps.rds,
    store: deps.store,
    prefix: config.store.prefix,
    pipeline: config.name,
    sourceInstanceId: config.source.instanceId,
    ownRunId: runId,
    dryRun: false,
    now: deps.now,
    log,
    signal: opts.signal,
  }).catch((err: unknown) => {
    // Cleaning up after others must not cost tonight's backup; the next run tries again.
    log.warn({ err: (err as Error).message }, 'could not look for leftover temporary instances');
    return [];
  });
  const workDir = resolve(config.workDir, config.name, runId);
  const reportBase = join(resolve(config.reportDir), config.name, runId);
  const teardown = new TeardownStack();
  await mkdir(workDir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw callFailed(err, `creating the work directory ${workDir} (workDir)`);
  });
  // The dump is a full copy of production data: it never outlives the run on this machine.
  teardown.push('work directory', () => rm(workDir, { recursive: true, force: true }));

  const ctx: RunContext = {
    config,
    runId,
    startedAt,
    requestedDate: opts.date,
    requestedPointInTime: opts.at ?? null,
    reason: opts.reason,
    log,
    signal: opts.signal,
    deps,
    progress: opts.progress?.(log),
    teardown,
    workDir,
    reportPaths: { json: `${reportBase}.json`, markdown: `${reportBase}.md` },
    checks: [],
    anomalies: [],
    reaped,
  };
  log.info({ pipeline: config.name, runId, date: opts.date }, 'run started');
  const outcome = await runStages(ctx, BACKUP_STAGES);
  // After publishing, under the same lock; its failure is in the report, never the run's.
  if (outcome.status === 'succeeded' && ctx.backup?.published && config.retention?.pruneAfterRun) {
    ctx.prune = await pruneAfterRun(ctx);
  }
  const report = await writeRunReport(ctx, outcome);
  await exportRunMetrics(report, config.metrics, log);
  log.info({ status: report.status, report: report.reports.json }, `run ${report.status}`);
  return report;
}
