// Run locks in the store, after restic's lock files: one small JSON object per run in progress,
// `<prefix>/<pipeline>/locks/<run-id>.json`, renewed while the run lasts and deleted at its end.
// Being in the store, it covers two machines that share one; a lock whose renewals stopped (a
// crashed or killed holder) is stale after the lease and no longer counts.
import type { ObjectStore } from '../pipeline/ports.ts';
import { locksPrefix } from './layout.ts';

/** Who holds a run lock and since when (the lock object's JSON). */
export interface LockRecord {
  host: string;
  pid: number;
  runId: string;
  /** ISO time the lock was first written; with runId, orders two runs that raced. */
  startedAt: string;
  /** ISO time of the last renewal; older than the lease: the holder is gone. */
  renewedAt: string;
  /** What the holder runs, e.g. "offsite run". */
  command: string;
}

/** A lock found in the store, with its key. */
export interface StoredLock {
  key: string;
  lock: LockRecord;
}

/** The key of a run's lock object. */
export function lockKey(prefix: string, pipeline: string, runId: string): string {
  return `${locksPrefix(prefix, pipeline)}${runId}.json`;
}

/** Writes (or renews) a lock object; never with Object Lock retention, since it is deleted soon. */
export async function writeLock(
  store: ObjectStore,
  key: string,
  lock: LockRecord,
  signal?: AbortSignal,
): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(lock, null, 2)}\n`);
  await store.put(key, body, body.length, signal, { noRetention: true });
}

/**
 * Every lock object of a pipeline. One that cannot be read or parsed (a half-written or foreign
 * object) is returned with a renewedAt of the epoch, so it counts as stale and is cleaned up.
 */
export async function listLocks(
  store: ObjectStore,
  prefix: string,
  pipeline: string,
  signal?: AbortSignal,
): Promise<StoredLock[]> {
  const out: StoredLock[] = [];
  for (const { key } of await store.list(locksPrefix(prefix, pipeline), signal)) {
    if (!key.endsWith('.json')) continue;
    out.push({ key, lock: await readLock(store, key, signal) });
  }
  return out;
}

async function readLock(store: ObjectStore, key: string, signal?: AbortSignal): Promise<LockRecord> {
  const runId = key.slice(key.lastIndexOf('/') + 1, -'.json'.length);
  const unreadable: LockRecord = {
    host: 'unknown',
    pid: 0,
    runId,
    startedAt: new Date(0).toISOString(),
    renewedAt: new Date(0).toISOString(),
    command: 'unknown',
  };
  try {
    const chunks: Buffer[] = [];
    for await (const c of await store.get(key, signal)) chunks.push(c as Buffer);
    const parsed = JSON.parse(Buffer.concat(chunks).toString()) as Partial<LockRecord>;
    if (typeof parsed.renewedAt !== 'string' || typeof parsed.startedAt !== 'string') return unreadable;
    return { ...unreadable, ...parsed };
  } catch (err) {
    if (signal?.aborted) throw err;
    // Deleted between list and get (its run just ended): gone is as good as stale.
    return unreadable;
  }
}

/** Whether a lock still counts: renewed within the lease (a clock ahead of ours counts as fresh). */
export function isFresh(lock: LockRecord, now: Date, leaseMs: number): boolean {
  const renewed = Date.parse(lock.renewedAt);
  return Number.isFinite(renewed) && now.getTime() - renewed < leaseMs;
}

/** Orders two racing runs: the earlier (startedAt, runId) keeps the lock. */
export function comesFirst(a: LockRecord, b: LockRecord): boolean {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt;
  return a.runId < b.runId;
}

/** One line naming a holder, for messages: host, pid, run id and start. */
export function describeHolder(lock: LockRecord): string {
  return `run ${lock.runId} on host ${lock.host} (pid ${lock.pid}, ${lock.command}, started ${lock.startedAt}, last renewed ${lock.renewedAt})`;
}
