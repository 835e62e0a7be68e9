// The local index of the chunks a store holds (hash → stored size): it lets a run skip a HEAD
// per chunk. It is never trusted blindly: after every upload the store is listed, each chunk the
// new backup references is checked against that listing, and the index is rewritten from it.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ObjectStore, StoredObject } from '../pipeline/ports.ts';
import { hashOfChunkKey } from './layout.ts';

/** Chunk hash → size of the stored (compressed) object. */
export type ChunkIndex = Map<string, number>;

/** Where the index of one store and pipeline lives under the cache directory. */
export function indexPath(cacheDir: string, location: string, chunks: string): string {
  const id = createHash('sha256').update(`${location}\n${chunks}`).digest('hex').slice(0, 16);
  return join(resolve(cacheDir), `chunks-${id}.idx`);
}

/** The chunks in a store listing. */
export function indexFromListing(objects: StoredObject[]): ChunkIndex {
  const index: ChunkIndex = new Map();
  for (const o of objects) {
    const hash = hashOfChunkKey(o.key);
    if (hash) index.set(hash, o.size);
  }
  return index;
}

/** Reads the local index; null when there is none (or it is unreadable: rebuilt from a listing). */
export async function readIndex(path: string): Promise<ChunkIndex | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  const index: ChunkIndex = new Map();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [hash, size] = line.split(' ');
    if (!hash || !/^[0-9a-f]{64}$/.test(hash) || !size) return null;
    index.set(hash, Number(size));
  }
  return index;
}

/** Writes the index atomically (a crash leaves the old one or the new one). */
export async function writeIndex(path: string, index: ChunkIndex): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const lines: string[] = [];
  for (const [hash, size] of index) lines.push(`${hash} ${size}\n`);
  await writeFile(`${path}.tmp`, lines.join(''), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Forgets the index, so the next run rebuilds it from a listing. */
export async function dropIndex(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The local index, or one built from listing the store's chunks when there is none. */
export async function loadIndex(
  store: ObjectStore,
  path: string,
  chunks: string,
  signal?: AbortSignal,
): Promise<{ index: ChunkIndex; source: 'local' | 'listing' }> {
  const local = await readIndex(path);
  if (local) return { index: local, source: 'local' };
  return { index: indexFromListing(await store.list(chunks, signal)), source: 'listing' };
}
