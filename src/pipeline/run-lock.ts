// The run lock of a pipeline: at most one `offsite run` of a pipeline at a time, on this machine
// and on every machine sharing its store. Taken before anything is created (instance, work
// directory), held for the whole run, released after the report is written.
//
// Order: the lock file on this machine first (fast, no network), then the store: list the
// pipeline's locks, refuse on a fresh one, remove stale ones, write ours, list again. Two runs
// that wrote at nearly the same time both see both locks; the later (startedAt, runId) deletes
// its own and refuses, so exactly one goes on. The window left (restic has the same): a put so
// slow that the other run wrote, listed and went on before it landed, with a startedAt stamped
// earlier; the lock file closes it on one machine, a shared store across machines keeps it.
import { join, resolve } from 'node:path';
import { pidAlive, takeLocalLock, thisHost } from '../adapters/local-lock-file.ts';
import { OffsiteError } from '../errors.ts';
import {
  comesFirst,
  describeHolder,
  isFresh,
  type LockRecord,
  listLocks,
  lockKey,
  type StoredLock,
  writeLock,
} from '../store/locks.ts';
import type { ObjectStore } from './ports.ts';
import type { Log } from './run-context.ts';

/** How often a held lock is renewed. */
export const LOCK_RENEW_MS = 5 * 60_000;
/** A lock not renewed for this long is stale: its holder is gone (three missed renewals). */
export const LOCK_LEASE_MS = 3 * LOCK_RENEW_MS;

/** What taking a run lock needs. */
export interface RunLockOptions {
  store: ObjectStore;
  /** The store's key prefix (store.prefix). */
  prefix: string;
  pipeline: string;
  runId: string;
  /** The pipeline's workDir: the local lock file is `<workDir>/<pipeline>.lock`. */
  workDir: string;
  /** What the holder runs, recorded in the lock ("offsite run"). */
  command: string;
  now(): Date;
  log: Log;
  signal?: AbortSignal;
}

/** A held run lock. */
export interface RunLock {
  /** The lock object's key in the store. */
  key: string;
  /** Locks of gone holders this run removed before taking its own. */
  staleRemoved: LockRecord[];
  /** Stops renewing and deletes the lock object and the lock file; never throws (logs). */
  release(): Promise<void>;
}

/** The local lock file of a pipeline. */
export function localLockPath(workDir: string, pipeline: string): string {
  return join(resolve(workDir), `${pipeline}.lock`);
}

/** Takes the pipeline's run lock, or throws RUN_LOCKED naming the holder. */
export async function acquireRunLock(opts: RunLockOptions): Promise<RunLock> {
  const startedAt = opts.now().toISOString();
  const mine: LockRecord = {
    host: thisHost(),
    pid: process.pid,
    runId: opts.runId,
    startedAt,
    renewedAt: startedAt,
    command: opts.command,
  };
  const localPath = localLockPath(opts.workDir, opts.pipeline);
  const local = await takeLocalLock(localPath, mine);
  if (!('release' in local)) throw lockedError(opts.pipeline, local, `the lock file ${localPath}`);
  try {
    return await takeStoreLock(opts, mine, local.release);
  } catch (err) {
    await local.release();
    if (err instanceof OffsiteError || opts.signal?.aborted) throw err;
    throw new OffsiteError(
      'PREFLIGHT_FAILED',
      `could not take the run lock in ${opts.store.location}: ${(err as Error).message}`,
      {
        stage: 'lock',
        hint: 'check that the store is reachable and its key may list, write and delete under <prefix>/<pipeline>/locks/',
        cause: err,
      },
    );
  }
}

async function takeStoreLock(
  opts: RunLockOptions,
  mine: LockRecord,
  releaseLocal: () => Promise<void>,
): Promise<RunLock> {
  const { store, prefix, pipeline, log, signal } = opts;
  const key = lockKey(prefix, pipeline, opts.runId);
  // A busy store (B2's 503s) must not turn into a refused run: every store call is retried by
  // the retry table inside the store adapter (src/retry.ts), not a second time here.
  const staleRemoved: LockRecord[] = [];
  for (const found of await listLocks(store, prefix, pipeline, signal)) {
    if (found.key === key) continue;
    if (counts(found, opts.now()))
      throw lockedError(pipeline, found.lock, `${found.key} in ${store.location}`);
    log.warn({ lock: found.key, holder: describeHolder(found.lock) }, 'stale run lock removed');
    await store.delete(found.key, signal);
    staleRemoved.push(found.lock);
  }

  // Stamped right before the write, so the order of startedAt is as close to the order of
  // writes as clocks allow.
  mine.startedAt = opts.now().toISOString();
  mine.renewedAt = mine.startedAt;
  await writeLock(store, key, mine, signal);
  const rival = (await listLocks(store, prefix, pipeline, signal)).find(
    (other) => other.key !== key && counts(other, opts.now()) && comesFirst(other.lock, mine),
  );
  if (rival) {
    await store.delete(key).catch(() => {});
    throw lockedError(pipeline, rival.lock, `${rival.key} in ${store.location}`);
  }

  const timer = setInterval(() => {
    mine.renewedAt = opts.now().toISOString();
    writeLock(store, key, mine, AbortSignal.timeout(60_000)).catch((err: unknown) =>
      log.warn({ lock: key, err: (err as Error).message }, 'could not renew the run lock'),
    );
  }, LOCK_RENEW_MS);
  timer.unref();
  log.info({ lock: key }, 'run lock taken');

  let released: Promise<void> | undefined;
  return {
    key,
    staleRemoved,
    release: () => {
      released ??= (async () => {
        clearInterval(timer);
        // A run that was interrupted still removes its lock: its own signal is aborted by now.
        await store
          .delete(key, AbortSignal.timeout(60_000))
          .catch((err: unknown) =>
            log.warn(
              { lock: key, err: (err as Error).message },
              'could not delete the run lock; it expires by itself',
            ),
          );
        await releaseLocal();
      })();
      return released;
    },
  };
}

/** Whether a lock found in the store still holds: fresh, and not of a dead process on this host. */
function counts(found: StoredLock, now: Date): boolean {
  if (!isFresh(found.lock, now, LOCK_LEASE_MS)) return false;
  if (found.lock.host === thisHost() && found.lock.pid !== process.pid && !pidAlive(found.lock.pid))
    return false;
  return true;
}

function lockedError(pipeline: string, holder: LockRecord, where: string): OffsiteError {
  return new OffsiteError('RUN_LOCKED', `pipeline ${pipeline} is locked by ${describeHolder(holder)}`, {
    stage: 'lock',
    hint: `wait for that run to end; if its process is gone, its lock (${where}) expires ${LOCK_LEASE_MS / 60_000} minutes after its last renewal, or delete it by hand`,
  });
}

/** Whether a lock record is held by a live run, as `offsite reap` judges it. */
export function lockIsLive(found: StoredLock, now: Date): boolean {
  return counts(found, now);
}
