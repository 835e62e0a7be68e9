// A pack: new chunks' frames (zstd, sealed one by one in an encrypted store) back to back, named
// by the sha256 of its bytes, so `sha256sum` of the object prints its name and nothing else is
// needed to prove it whole. Chunks are read out of it by range, several adjacent ones per GET.
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../pipeline/ports.ts';
import { decodeChunk } from './chunk-codec.ts';
import { packKey } from './layout.ts';
import { readObject } from './read-object.ts';

/** A chunk's frame in a pack, as a manifest or the index names it. */
export interface FrameRef {
  hash: string;
  offset: number;
  length: number;
}

/**
 * Reads frames that sit together in one pack with a single ranged GET and returns their
 * plaintexts in the order given, each proven by its hash (STORE_CORRUPT otherwise).
 */
export async function readFrames(
  store: ObjectStore,
  packs: string,
  pack: string,
  frames: FrameRef[],
  signal?: AbortSignal,
): Promise<Buffer[]> {
  const first = frames[0]!.offset;
  const last = frames.at(-1)!;
  const key = packKey(packs, pack);
  const bytes = await readObject(store, key, signal, {
    offset: first,
    length: last.offset + last.length - first,
  });
  return frames.map((f) =>
    decodeChunk(
      bytes.subarray(f.offset - first, f.offset - first + f.length),
      f.hash,
      `${key}@${f.offset}`,
      store.sealing,
    ),
  );
}

/** Whether a pack's bytes are the ones it was named after. */
export function packIsIntact(bytes: Buffer, id: string): boolean {
  return createHash('sha256').update(bytes).digest('hex') === id;
}
