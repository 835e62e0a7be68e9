// Reaping: deleting temporary instances an earlier run left behind (killed with SIGKILL, a host
// that died, a delete RDS refused). They are found by offsite's tags alone, and only an instance
// that is unmistakably a temporary copy of this pipeline is touched: tagged by offsite for this
// pipeline, named as that run's copy, not the source. Its run is over when no live lock holds
// it; its offsite:expires-at is a safety net for a run that lives on past its TTL.
import type { ReapedInstance } from '../report/run-report.ts';
import { TAGS, temporaryInstanceId } from '../stages/restore-instance.ts';
import { listLocks } from '../store/locks.ts';
import type { InstanceInfo, ObjectStore, RdsPort } from './ports.ts';
import type { Log } from './run-context.ts';
import { lockIsLive } from './run-lock.ts';

/** What reaping one pipeline's leftovers needs. */
export interface ReapOptions {
  rds: RdsPort;
  store: ObjectStore;
  /** The store's key prefix (where the pipeline's run locks are). */
  prefix: string;
  pipeline: string;
  /** The production instance: never touched, whatever its tags say. */
  sourceInstanceId: string;
  /** The run doing the reaping, whose own instance is never a leftover. */
  ownRunId?: string;
  dryRun: boolean;
  now(): Date;
  log: Log;
  signal?: AbortSignal;
}

/** A leftover: why it may be deleted, or null when it must be left alone. */
export function leftoverReason(
  instance: InstanceInfo,
  opts: { pipeline: string; sourceInstanceId: string; liveRunIds: ReadonlySet<string>; now: Date },
): ReapedInstance['reason'] | null {
  const { tags } = instance;
  if (instance.id === opts.sourceInstanceId.toLowerCase()) return null;
  if (tags[TAGS.tool] !== 'offsite' || tags[TAGS.pipeline] !== opts.pipeline) return null;
  const runId = tags[TAGS.runId];
  // The name check is the guard's: a production instance someone copied the tags onto is not ours.
  if (!runId || instance.id !== temporaryInstanceId(opts.pipeline, runId)) return null;
  if (instance.status === 'deleting') return null;
  if (!opts.liveRunIds.has(runId)) return 'run-over';
  const expires = Date.parse(tags[TAGS.expiresAt] ?? '');
  return Number.isFinite(expires) && expires <= opts.now.getTime() ? 'expired' : null;
}

/** Finds the pipeline's leftover temporary instances and starts deleting them (not with dryRun). */
export async function reapLeftovers(opts: ReapOptions): Promise<ReapedInstance[]> {
  const now = opts.now();
  const locks = await listLocks(opts.store, opts.prefix, opts.pipeline, opts.signal);
  const liveRunIds = new Set(locks.filter((l) => lockIsLive(l, now)).map((l) => l.lock.runId));
  if (opts.ownRunId) liveRunIds.add(opts.ownRunId);
  const out: ReapedInstance[] = [];
  for (const instance of await opts.rds.listInstances(opts.signal)) {
    const reason = leftoverReason(instance, { ...opts, liveRunIds, now });
    if (!reason) continue;
    const runId = instance.tags[TAGS.runId] ?? '';
    const entry: ReapedInstance = { id: instance.id, runId, reason, result: 'would-delete' };
    if (!opts.dryRun) {
      try {
        const started = await opts.rds.deleteInstance(instance.id, opts.signal);
        entry.result = started === 'not-found' ? 'gone' : started === 'started' ? 'deleting' : 'failed';
        if (started === 'busy') entry.error = 'RDS refused: the instance is in a transitional state';
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        entry.result = 'failed';
        entry.error = (err as Error).message;
      }
    }
    opts.log.warn(
      { instance: instance.id, runId, reason, result: entry.result },
      'leftover temporary instance',
    );
    out.push(entry);
  }
  return out;
}
