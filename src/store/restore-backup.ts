// offsite restore --to-dir: a backup's files reassembled from the store, every chunk proven by
// its hash and every file by its whole hash, ready for pg_restore (dump/) and copying (files/).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lutimes, mkdir, readdir, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import type { ChunkRef, Manifest } from './manifest.ts';
import { readChunk } from './read-chunk.ts';

/** What a restore wrote. */
export interface RestoreResult {
  files: number;
  bytes: number;
}

/** Writes one file from its chunks, fetching up to `concurrency` ahead while writing in order. */
async function writeChunks(
  store: ObjectStore,
  chunks: string,
  refs: ChunkRef[],
  path: string,
  expected: { size: number; sha256: string },
  concurrency: number,
  signal?: AbortSignal,
): Promise<void> {
  const limit = pLimit(concurrency);
  const whole = createHash('sha256');
  const out = createWriteStream(path, { mode: 0o600 });
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  let size = 0;
  // A window of fetches in flight; memory stays at about `2 × concurrency` chunks.
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  const fill = () => {
    while (next < refs.length && pending.length < concurrency * 2) {
      const [hash] = refs[next++]!;
      pending.push(limit(() => readChunk(store, chunks, hash, signal)));
    }
  };
  fill();
  while (pending.length > 0) {
    const plain = await pending.shift()!;
    fill();
    whole.update(plain);
    size += plain.length;
    if (!out.write(plain)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await done;
  const sha256 = whole.digest('hex');
  if (size !== expected.size || sha256 !== expected.sha256) {
    throw new OffsiteError(
      'STORE_CORRUPT',
      `${path}: reassembled ${size} bytes with sha256 ${sha256}, expected ${expected.size} bytes ${expected.sha256}`,
    );
  }
}

/** Reassembles a backup into `toDir` (which must be empty or absent): dump/ and files/<set>/. */
export async function restoreBackup(
  store: ObjectStore,
  manifest: Manifest,
  toDir: string,
  opts: { concurrency: number; signal?: AbortSignal },
): Promise<RestoreResult> {
  const existing = await readdir(toDir).catch(() => []);
  if (existing.length > 0) {
    throw new OffsiteError('USAGE', `${toDir} is not empty: restore into a new or empty directory`);
  }
  const chunks = manifest.chunking.prefix;
  let files = 0;
  let bytes = 0;
  const dumpDir = join(toDir, 'dump');
  await mkdir(dumpDir, { recursive: true, mode: 0o700 });
  for (const f of manifest.dump.files) {
    await writeChunks(store, chunks, f.chunks, join(dumpDir, f.name), f, opts.concurrency, opts.signal);
    files++;
    bytes += f.size;
  }
  for (const set of manifest.fileSets) {
    const root = join(toDir, 'files', set.name);
    await mkdir(root, { recursive: true, mode: 0o700 });
    for (const e of set.entries) {
      const path = e.path ? join(root, e.path) : root;
      if (e.type === 'dir') await mkdir(path, { recursive: true, mode: 0o700 });
      else if (e.type === 'symlink') await symlink(e.target ?? '', path);
      else {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        await writeChunks(
          store,
          chunks,
          e.chunks ?? [],
          path,
          { size: e.size ?? 0, sha256: e.sha256 ?? '' },
          opts.concurrency,
          opts.signal,
        );
        files++;
        bytes += e.size ?? 0;
      }
    }
    // Modes and times last, deepest first: writing into a directory changes its mtime.
    for (const e of [...set.entries].reverse()) {
      const path = e.path ? join(root, e.path) : root;
      const t = Number(BigInt(e.mtimeNs) / 1000n) / 1e6; // seconds, with microseconds
      if (e.type === 'symlink') await lutimes(path, t, t);
      else {
        await chmod(path, e.mode);
        await utimes(path, t, t);
      }
    }
  }
  return { files, bytes };
}
