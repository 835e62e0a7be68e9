// The chunk index's disk cache: one file per store and pipeline under store.cacheDir, written
// atomically, rebuilt from the newest backup's manifest when it is missing or damaged (a new
// machine, a container without state). Only a cache: every upload checks it against the store.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ObjectStore } from '../pipeline/ports.ts';
import { listBackups, readManifest } from './backups.ts';
import { ChunkIndex } from './chunk-index.ts';
import { isSafetyDumpId } from './layout.ts';
import { eachRef } from './manifest.ts';

/** Where the index of one store and pipeline lives under the cache directory. */
export function indexPath(cacheDir: string, location: string, packs: string): string {
  const id = createHash('sha256').update(`${location}\n${packs}`).digest('hex').slice(0, 16);
  return join(resolve(cacheDir), `chunks-${id}.idx`);
}

/** Reads the local index; null when there is none or it is damaged (then it is rebuilt). */
export async function readIndex(path: string): Promise<ChunkIndex | null> {
  const bytes = await readFile(path).catch(() => null);
  return bytes ? ChunkIndex.parse(bytes) : null;
}

/** Writes the index atomically (a crash leaves the old one or the new one). */
export async function writeIndex(path: string, index: ChunkIndex): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, index.serialize(), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Forgets the index, so the next run rebuilds it. */
export async function dropIndex(path: string): Promise<void> {
  await rm(path, { force: true });
}

/**
 * The local index, or one rebuilt from the newest backup's manifest when there is none (a new
 * machine, a container without state): tomorrow's dump shares its chunks with the newest
 * backup, so one manifest read is enough to make the next upload incremental again.
 */
export async function loadIndex(
  store: ObjectStore,
  path: string,
  where: { prefix: string; pipeline: string },
  signal?: AbortSignal,
): Promise<{ index: ChunkIndex; source: 'local' | 'manifest' | 'empty' }> {
  const local = await readIndex(path);
  if (local) return { index: local, source: 'local' };
  // The newest backup of the source shares the most chunks with tonight's; a safety dump (a copy
  // of a restore's target) only when there is nothing else.
  const backups = await listBackups(store, where.prefix, where.pipeline, signal);
  const newest = backups.filter((b) => !isSafetyDumpId(b.id)).at(-1) ?? backups.at(-1);
  const index = new ChunkIndex();
  if (!newest) return { index, source: 'empty' };
  const manifest = await readManifest(store, newest.manifestKey, signal);
  for (const p of manifest.packs) index.addPack(p.id, p.size);
  for (const [hash, , pack, offset, length] of eachRef(manifest)) {
    index.add(Buffer.from(hash, 'hex'), { pack: manifest.packs[pack]!.id, offset, length });
  }
  return { index, source: 'manifest' };
}
