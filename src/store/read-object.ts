// Reading whole objects, or ranges of them, from the store into memory.
import { OffsiteError } from '../errors.ts';
import type { ByteRange, ObjectStore } from '../pipeline/ports.ts';

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Reads a whole small object (a manifest, a record), or a range of one. */
export async function readObject(
  store: ObjectStore,
  key: string,
  signal?: AbortSignal,
  range?: ByteRange,
): Promise<Buffer> {
  return readAll(await store.get(key, signal, range));
}

/**
 * Reads an object whose size is known (a pack) into one buffer of that size, without the
 * second copy that collecting parts and concatenating them makes; STORE_CORRUPT when the store
 * returns another number of bytes. With `into` (big enough), the bytes land in it: a caller
 * reading packs one after another reuses one buffer instead of leaving each to the collector.
 */
export async function readSizedObject(
  store: ObjectStore,
  key: string,
  size: number,
  signal?: AbortSignal,
  into?: Buffer,
): Promise<Buffer> {
  const out = into && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  let at = 0;
  for await (const part of await store.get(key, signal)) {
    const bytes = part as Buffer;
    if (at + bytes.length > size)
      throw new OffsiteError('STORE_CORRUPT', `${key}: longer than ${size} bytes`);
    bytes.copy(out, at);
    at += bytes.length;
  }
  if (at !== size) throw new OffsiteError('STORE_CORRUPT', `${key}: ${at} bytes, expected ${size}`);
  return out;
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
