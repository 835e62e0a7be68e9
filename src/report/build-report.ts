import packageJson from '../../package.json' with { type: 'json' };
import { networkWarnings } from '../config/network.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { StagesOutcome } from '../pipeline/run-pipeline.ts';
import { outOfScope } from '../verify/coverage.ts';
import { type CostInputs, runCost } from './cost.ts';
import { type RunReport, runReportSchema } from './run-report.ts';
import { requestCountsOf } from './store-requests.ts';

/** The offsite version written into every report and manifest: package.json's, wherever it is installed. */
export const OFFSITE_VERSION: string = packageJson.version;

/** What the report stage works out itself, from the stored history (see src/stages/report.ts). */
export interface ReportExtras {
  changes?: RunReport['changes'];
  /** The store's size at the oldest run of the last 30 days, for the cost trend. */
  storeEarlier?: CostInputs['earlier'];
}

/** Builds the RunReport from what the stages recorded. Pure: no I/O. */
export function buildRunReport(
  ctx: RunContext,
  outcome: StagesOutcome,
  finishedAt: Date,
  extras: ReportExtras = {},
): RunReport {
  const { snapshot, instance, facts } = ctx;
  const rows = facts ? [...facts.rowCounts.values()].reduce((a, b) => a + b, 0) : 0;
  const errors = outcome.errors.map((e) => ({
    stage: e.stage ?? 'unknown',
    code: e.code,
    message: e.message,
    ...(e.hint ? { hint: e.hint } : {}),
  }));
  const report: RunReport = {
    schemaVersion: 1,
    pipeline: ctx.config.name,
    runId: ctx.runId,
    status: outcome.status,
    reason: ctx.reason,
    requestedDate: ctx.requestedDate,
    startedAt: ctx.startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.max(0, finishedAt.getTime() - ctx.startedAt.getTime()),
    snapshot: snapshot
      ? {
          id: snapshot.id,
          createdAt: snapshot.createdAt.toISOString(),
          engineVersion: snapshot.engineVersion,
          ...(snapshot.pointInTime && {
            pointInTime: {
              restoreTime: snapshot.createdAt.toISOString(),
              latest: snapshot.pointInTime.latest,
            },
          }),
        }
      : null,
    stages: outcome.stages,
    tempInstance: instance
      ? {
          id: instance.id,
          deleted: instance.deletedAt !== null,
          lifetimeMs: Math.max(
            0,
            (instance.deletedAt ?? finishedAt).getTime() - instance.createdAt.getTime(),
          ),
          createdAt: instance.createdAt.toISOString(),
          deletedAt: instance.deletedAt?.toISOString() ?? null,
        }
      : null,
    source: facts
      ? {
          serverVersion: facts.serverVersion,
          extensions: facts.extensions,
          tables: facts.rowCounts.size,
          rows,
        }
      : null,
    checks: ctx.checks,
    restoreTest: ctx.restoreTest ?? null,
    dump: ctx.dump ? { bytes: ctx.dump.bytes, files: ctx.dump.files.length } : null,
    anomalies: ctx.anomalies,
    ...(extras.changes !== undefined && { changes: extras.changes }),
    backup: ctx.backup?.published ? { ...ctx.backup, location: ctx.deps.store.location } : null,
    store: ctx.storeStats ?? null,
    cost: runCost(
      {
        instance: instance
          ? {
              instanceClass: ctx.config.source.tempInstance.instanceClass ?? null,
              lifetimeMs: Math.max(
                0,
                (instance.deletedAt ?? finishedAt).getTime() - instance.createdAt.getTime(),
              ),
            }
          : null,
        requests: requestCountsOf(ctx.deps.store),
        storeKind: ctx.config.store.kind,
        storedBytes: ctx.storeStats?.totalBytes ?? null,
        uploadedBytes: ctx.backup?.bytesUploaded ?? 0,
        earlier: extras.storeEarlier ?? null,
      },
      ctx.config.costs,
    ),
    reaped: ctx.reaped ?? [],
    ...(ctx.prune && { prune: ctx.prune }),
    coverage: facts?.coverage
      ? {
          unloggedTables: facts.coverage.unloggedTables,
          materializedViews: facts.coverage.materializedViews,
          largeObjects: facts.coverage.largeObjects,
          outOfScope: outOfScope(facts.coverage),
          rowOrderFallbacks: ctx.dump?.order?.fallbacks ?? [],
        }
      : null,
    // maxRSS is in KiB: the peak resident memory of this process over the whole run.
    resources: { peakRssBytes: process.resourceUsage().maxRSS * 1024 },
    versions: {
      server: facts?.serverVersion ?? null,
      pgDump: ctx.pgTools?.pgDumpVersion ?? null,
      pgRestore: ctx.pgTools?.pgRestoreVersion ?? null,
      scratchServer: ctx.restoreTest?.scratchServerVersion ?? null,
      offsite: OFFSITE_VERSION,
      extensions: facts?.extensions ?? [],
    },
    reports: ctx.reportPaths,
    error: errors[0] ?? null,
    errors,
    warnings: [...networkWarnings(ctx.config), ...pruneWarnings(ctx.prune)],
  };
  return runReportSchema.parse(report);
}

/** A failed prune after the run: the backup is published, but the store was not pruned. */
function pruneWarnings(prune: RunContext['prune']): string[] {
  if (prune?.status !== 'failed' || !prune.error) return [];
  const hint = prune.error.hint ? ` (${prune.error.hint})` : '';
  return [
    `the prune after this run failed: ${prune.error.message}${hint}. The backup is published; nothing is removed until offsite prune succeeds.`,
  ];
}
