// FastCDC content-defined chunking (Xia et al., USENIX ATC 2016): a gear rolling hash, cut-point
// skipping below the minimum size, and normalized chunking (a harder mask before the average
// size, an easier one after), which narrows the size distribution around the average.
import { createHash } from 'node:crypto';

/** Chunk size bounds; all boundaries depend only on the content and these numbers. */
export interface ChunkParams {
  minSize: number;
  averageSize: number;
  maxSize: number;
}

/** Bounds derived from an average (a power of two): min = avg/4, max = avg*4, as FastCDC suggests. */
export function chunkParams(averageSize: number): ChunkParams {
  if (!Number.isInteger(Math.log2(averageSize)) || averageSize < 1024 || averageSize > 2 ** 26) {
    throw new Error(`chunk average size must be a power of two between 1 KiB and 64 MiB, got ${averageSize}`);
  }
  return { minSize: averageSize / 4, averageSize, maxSize: averageSize * 4 };
}

// 256 pseudo-random 32-bit values, derived (not stored) so the table is reproducible from this line:
// changing it would change every boundary, and so every chunk, of every existing store.
const GEAR = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  GEAR[i] = createHash('sha256').update(`offsite fastcdc gear ${i}`).digest().readInt32BE(0);
}

// The mask tests the hash's top bits: with a shift-left rolling hash those mix the most input bytes.
function topBitsMask(bits: number): number {
  return bits >= 32 ? -1 : ((2 ** bits - 1) * 2 ** (32 - bits)) | 0;
}

interface Masks {
  hard: number;
  easy: number;
}
const masksCache = new Map<number, Masks>();
function masksFor(averageSize: number): Masks {
  let masks = masksCache.get(averageSize);
  if (!masks) {
    const bits = Math.round(Math.log2(averageSize));
    // Normalization level 2: two bits harder before the average, two bits easier after it.
    masks = { hard: topBitsMask(bits + 2), easy: topBitsMask(bits - 2) };
    masksCache.set(averageSize, masks);
  }
  return masks;
}

/**
 * The length of the chunk that starts at `start` in buf[start, end). When fewer than maxSize bytes
 * are available the caller must either have reached the end of the input or supply more first,
 * otherwise the boundary would depend on how the input was split into reads.
 */
export function cutPoint(buf: Uint8Array, start: number, end: number, p: ChunkParams): number {
  const available = end - start;
  if (available <= p.minSize) return available;
  const limit = Math.min(available, p.maxSize);
  const normal = Math.min(limit, p.averageSize);
  const { hard, easy } = masksFor(p.averageSize);
  let h = 0;
  let i = start + p.minSize;
  const normalEnd = start + normal;
  const limitEnd = start + limit;
  for (; i < normalEnd; i++) {
    h = ((h << 1) + GEAR[buf[i]!]!) | 0;
    if ((h & hard) === 0) return i - start + 1;
  }
  for (; i < limitEnd; i++) {
    h = ((h << 1) + GEAR[buf[i]!]!) | 0;
    if ((h & easy) === 0) return i - start + 1;
  }
  return limit;
}

/**
 * Splits a byte stream into content-defined chunks. Memory stays bounded by one buffer of
 * 2 × maxSize, whatever the input's size: each chunk is a view into it, valid until the next
 * is asked for (copy one to keep it; most chunks of a nightly dump are only hashed, being
 * stored already).
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  p: ChunkParams,
): AsyncGenerator<Buffer> {
  const buf = Buffer.allocUnsafe(p.maxSize * 2);
  let start = 0;
  let end = 0;
  const drain = function* (final: boolean): Generator<Buffer> {
    while (end - start >= p.maxSize || (final && end > start)) {
      const len = cutPoint(buf, start, end, p);
      yield buf.subarray(start, start + len);
      start += len;
    }
  };
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.length) {
      if (start > 0 && end + (piece.length - offset) > buf.length) {
        buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      const n = Math.min(piece.length - offset, buf.length - end);
      buf.set(piece.subarray(offset, offset + n), end);
      end += n;
      offset += n;
      yield* drain(false);
    }
  }
  yield* drain(true);
}
