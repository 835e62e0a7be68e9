// offsite check: does the store still hold every backup? Every manifest's chunks must be listed
// in the store; with read-data, (a share of) them are downloaded, decompressed and hashed.
// A problem names the backups that depend on the damaged chunk: those are the ones at risk.
import pLimit from 'p-limit';
import type { ObjectStore } from '../pipeline/ports.ts';
import { type BackupRef, listBackups, readManifest } from './backups.ts';
import { indexFromListing } from './chunk-index.ts';
import { chunkKey, chunksPrefix } from './layout.ts';
import { chunksOf } from './manifest.ts';
import { readChunk, sample } from './read-chunk.ts';

/** One problem: a chunk (or manifest) and the backups it breaks. */
export interface StoreProblem {
  kind: 'missing-chunk' | 'corrupt-chunk' | 'unreadable-manifest';
  key: string;
  detail: string;
  backups: string[];
}

/** What a check looked at and found. */
export interface StoreCheckResult {
  backups: string[];
  chunksReferenced: number;
  chunksRead: number;
  problems: StoreProblem[];
}

/** Checks every published backup of a pipeline; `readPercent` 0 checks existence only. */
export async function checkStore(
  store: ObjectStore,
  opts: { prefix: string; pipeline: string; readPercent: number; concurrency: number; signal?: AbortSignal },
): Promise<StoreCheckResult> {
  const chunks = chunksPrefix(opts.prefix, opts.pipeline);
  const backups: BackupRef[] = await listBackups(store, opts.prefix, opts.pipeline, opts.signal);
  const problems: StoreProblem[] = [];
  const dependents = new Map<string, string[]>();
  for (const backup of backups) {
    try {
      const manifest = await readManifest(store, backup.manifestKey, opts.signal);
      for (const hash of chunksOf(manifest).keys()) {
        const list = dependents.get(hash);
        if (list) list.push(backup.id);
        else dependents.set(hash, [backup.id]);
      }
    } catch (err) {
      problems.push({
        kind: 'unreadable-manifest',
        key: backup.manifestKey,
        detail: (err as Error).message,
        backups: [backup.id],
      });
    }
  }
  const listed = indexFromListing(await store.list(chunks, opts.signal));
  const present: string[] = [];
  for (const [hash, backupIds] of dependents) {
    const size = listed.get(hash);
    if (size === undefined) {
      problems.push({
        kind: 'missing-chunk',
        key: chunkKey(chunks, hash),
        detail: 'not in the store',
        backups: backupIds,
      });
    } else present.push(hash);
  }
  const toRead = sample(present, opts.readPercent);
  const limit = pLimit(opts.concurrency);
  await Promise.all(
    toRead.map((hash) =>
      limit(async () => {
        try {
          await readChunk(store, chunks, hash, opts.signal);
        } catch (err) {
          problems.push({
            kind: 'corrupt-chunk',
            key: chunkKey(chunks, hash),
            detail: (err as Error).message,
            backups: dependents.get(hash) ?? [],
          });
        }
      }),
    ),
  );
  return {
    backups: backups.map((b) => b.id),
    chunksReferenced: dependents.size,
    chunksRead: toRead.length,
    problems,
  };
}
