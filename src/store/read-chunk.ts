import type { ObjectStore } from '../pipeline/ports.ts';
import { decodeChunk } from './chunk-codec.ts';
import { chunkKey } from './layout.ts';

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Fetches a chunk and returns its plaintext, proven by its hash (STORE_CORRUPT otherwise). */
export async function readChunk(
  store: ObjectStore,
  chunks: string,
  hash: string,
  signal?: AbortSignal,
): Promise<Buffer> {
  const key = chunkKey(chunks, hash);
  return decodeChunk(await readAll(await store.get(key, signal)), hash, key);
}

/** Reads a whole small object (a manifest, a record). */
export async function readObject(store: ObjectStore, key: string, signal?: AbortSignal): Promise<Buffer> {
  return readAll(await store.get(key, signal));
}

/** Picks about `percent`% of the items (at least one when percent > 0), at random. */
export function sample<T>(items: T[], percent: number): T[] {
  if (percent >= 100) return items;
  if (percent <= 0 || items.length === 0) return [];
  const n = Math.max(1, Math.ceil((items.length * percent) / 100));
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}
