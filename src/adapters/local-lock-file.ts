// The local fast path of the run lock: `<workDir>/<pipeline>.lock` on this machine, created
// atomically (written to a temporary name, then hard-linked: link() fails when the name exists,
// and a reader never sees a half-written file). A file whose pid is no longer alive is taken over.

import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { LockRecord } from '../store/locks.ts';

/** The lock file this process holds. */
export interface LocalLock {
  /** Removes the file, if it is still ours. */
  release(): Promise<void>;
}

/** This machine's name, as locks record it. */
export function thisHost(): string {
  return hostname();
}

/** Whether a process with this pid exists on this machine (EPERM: it does, owned by another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock file at `path` for `record`, or returns the record of the live process that holds
 * it. A holder whose pid is dead (or an unreadable file) is taken over.
 */
export async function takeLocalLock(path: string, record: LockRecord): Promise<LocalLock | LockRecord> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${record.runId}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, path);
        return { release: () => releaseIfOurs(path, record.runId) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readHolder(path);
      if (holder && pidAlive(holder.pid)) return holder;
      // Dead holder: remove its file and try again (another taker may win that race: then we
      // see its live pid on the next attempt).
      await unlink(path).catch(() => {});
    }
    const holder = await readHolder(path);
    if (holder) return holder;
    throw new Error(`could not take the lock file ${path}`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function readHolder(path: string): Promise<LockRecord | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockRecord;
  } catch {
    return null;
  }
}

async function releaseIfOurs(path: string, runId: string): Promise<void> {
  const holder = await readHolder(path);
  if (holder?.runId === runId) await unlink(path).catch(() => {});
}
