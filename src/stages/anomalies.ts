import { OffsiteError } from '../errors.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import {
  BASELINE_NOTE,
  type BackupFacts,
  backupFactsOf,
  baselineNote,
  findAnomalies,
  pickPreviousVerified,
  schemaFingerprintOf,
} from '../report/anomalies.ts';
import { type RunHistory, readRunHistory } from '../report/history.ts';

/**
 * anomalies: compare this backup with the previous verified one of the same pipeline, before
 * anything is published. Findings are warnings unless `anomalies.fail` names their kind: then
 * the run fails and the good backups already stored are not rotated out by a bad one.
 */
export const anomaliesStage: StageDefinition = {
  name: 'anomalies',
  failureCode: 'ANOMALY_DETECTED',
  async run(ctx) {
    const config = ctx.config.anomalies;
    if (!config.enabled) return 'skipped';
    const started = Date.now();
    let history: RunHistory;
    try {
      history = await readRunHistory(ctx.deps.store, ctx.config.store.prefix, ctx.config.name, {
        limit: config.lookback,
        signal: ctx.signal,
      });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      // An unreachable store fails the upload right after; this stage only says it could not compare.
      const summary = `could not read the previous reports from the store: ${(err as Error).message}`;
      ctx.anomalies.push({
        name: BASELINE_NOTE,
        status: 'warned',
        summary,
        details: [],
        durationMs: Date.now() - started,
      });
      ctx.log.warn({ err: (err as Error).message }, 'anomalies: history unreadable');
      return 'skipped';
    }
    const { reports, unreadable } = history;
    for (const u of unreadable)
      ctx.log.warn({ key: u.key, err: u.error }, 'a stored run report is unreadable');
    const previous = pickPreviousVerified(reports, ctx.snapshot!.createdAt);
    const note = baselineNote(ctx.config.name, previous);
    const findings = previous ? findAnomalies(backupFactsOf(previous), currentFacts(ctx), config) : [];
    const durationMs = Date.now() - started;
    ctx.anomalies.push(...[note, ...findings].map((f) => ({ ...f, durationMs })));
    for (const f of findings) ctx.log.warn({ anomaly: f.name, status: f.status }, f.summary);

    const failed = findings.filter((f) => f.status === 'failed');
    if (failed.length > 0) {
      throw new OffsiteError(
        'ANOMALY_DETECTED',
        `compared with the previous verified backup: ${failed.map((f) => f.summary).join('; ')}`,
        {
          hint: 'nothing was published; if the change is intended, set these kinds to warn (remove them from anomalies.fail) for one run',
        },
      );
    }
    return previous ? undefined : 'skipped';
  },
};

function currentFacts(ctx: Parameters<StageDefinition['run']>[0]): BackupFacts {
  return {
    rowCounts: ctx.facts?.rowCounts ?? new Map(),
    dumpBytes: ctx.dump?.bytes ?? null,
    schemaFingerprint: schemaFingerprintOf(ctx.checks),
  };
}
