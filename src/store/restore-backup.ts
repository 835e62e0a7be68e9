// offsite restore --to-dir: a backup's files reassembled from the store, every chunk proven by
// its hash and every file by its whole hash, ready for pg_restore (dump/) and copying (files/).
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lutimes, mkdir, readdir, rename, rm, rmdir, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import type { ChunkRef, Manifest } from './manifest.ts';
import { type FrameRef, readFrames } from './pack.ts';

/** What a restore wrote. */
export interface RestoreResult {
  files: number;
  bytes: number;
}

// One ranged GET covers at most this many stored bytes, and this many bytes once decompressed
// (held until written: a read of text that compresses 10× would otherwise take 40 MiB).
const MAX_READ = 4 * 1024 * 1024;
const MAX_PLAIN = 16 * 1024 * 1024;

/** A ranged read: frames that sit back to back in one pack. */
interface PackRead {
  pack: string;
  frames: FrameRef[];
}

/**
 * Groups a file's chunks into ranged reads: a backup's new chunks were packed in file order, so
 * consecutive chunks usually sit back to back. A chunk repeated (a run of zeros) or already
 * inside the range joins the read it is in.
 */
function* packReads(refs: ChunkRef[], packIds: string[]): Generator<PackRead> {
  let read: PackRead | null = null;
  let start = 0;
  let end = 0;
  let plain = 0;
  for (const [hash, size, pack, offset, length] of refs) {
    const id = packIds[pack]!;
    const within = offset >= start && offset + length <= end;
    const next = offset === end && end + length - start <= MAX_READ;
    if (read && read.pack === id && (within || next) && plain + size <= MAX_PLAIN) {
      read.frames.push({ hash, offset, length });
      end = Math.max(end, offset + length);
      plain += size;
    } else {
      if (read) yield read;
      read = { pack: id, frames: [{ hash, offset, length }] };
      [start, end, plain] = [offset, offset + length, size];
    }
  }
  if (read) yield read;
}

/** Writes one file from its chunks, fetching up to `concurrency` reads ahead while writing in order. */
async function writeChunks(
  store: ObjectStore,
  manifest: Manifest,
  refs: ChunkRef[],
  path: string,
  expected: { size: number; sha256: string },
  concurrency: number,
  signal?: AbortSignal,
): Promise<void> {
  const packs = manifest.chunking.packsPrefix;
  const packIds = manifest.packs.map((p) => p.id);
  const whole = createHash('sha256');
  const out = createWriteStream(path, { mode: 0o600 });
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  let size = 0;
  // A window of reads in flight; memory stays under `concurrency` × (MAX_READ + MAX_PLAIN).
  const reads = packReads(refs, packIds);
  const pending: Promise<Buffer[]>[] = [];
  const fill = () => {
    while (pending.length < concurrency) {
      const next = reads.next();
      if (next.done) return;
      const read = readFrames(store, packs, next.value.pack, next.value.frames, signal);
      read.catch(() => {}); // awaited in order below; this keeps an early failure from going unhandled
      pending.push(read);
    }
  };
  fill();
  while (pending.length > 0) {
    const plains = await pending.shift()!;
    fill();
    for (const plain of plains) {
      whole.update(plain);
      size += plain.length;
      if (!out.write(plain)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
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

const PARTIAL = '.offsite-partial-';

/**
 * Reassembles a backup into `toDir` (which must be empty or absent): dump/ and files/<set>/. The
 * files are written into a hidden staging directory inside `toDir` (so on its filesystem, even
 * when it is a mount point) and moved into place only once every file matched its hash; on
 * failure the staging directory is removed, and `toDir` too when this restore made it. A failed
 * or interrupted restore leaves nothing half-written, and a retry just works: a staging directory
 * a killed restore left behind is offsite's own and is removed first.
 */
export async function restoreBackup(
  store: ObjectStore,
  manifest: Manifest,
  toDir: string,
  opts: { concurrency: number; signal?: AbortSignal },
): Promise<RestoreResult> {
  const existing = await readdir(toDir).catch(() => null);
  const leftovers = (existing ?? []).filter((name) => name.startsWith(PARTIAL));
  if (existing && existing.length > leftovers.length) {
    throw new OffsiteError('USAGE', `${toDir} is not empty: restore into a new or empty directory`);
  }
  for (const name of leftovers) await rm(join(toDir, name), { recursive: true, force: true });
  await mkdir(toDir, { recursive: true, mode: 0o700 });
  const staging = join(toDir, `${PARTIAL}${randomBytes(4).toString('hex')}`);
  try {
    const result = await reassemble(store, manifest, staging, opts);
    for (const part of await readdir(staging)) await rename(join(staging, part), join(toDir, part));
    await rmdir(staging);
    return result;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (!existing) await rm(toDir, { recursive: true, force: true });
    throw err;
  }
}

async function reassemble(
  store: ObjectStore,
  manifest: Manifest,
  toDir: string,
  opts: { concurrency: number; signal?: AbortSignal },
): Promise<RestoreResult> {
  let files = 0;
  let bytes = 0;
  const dumpDir = join(toDir, 'dump');
  await mkdir(dumpDir, { recursive: true, mode: 0o700 });
  for (const f of manifest.dump.files) {
    await writeChunks(store, manifest, f.chunks, join(dumpDir, f.name), f, opts.concurrency, opts.signal);
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
          manifest,
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
