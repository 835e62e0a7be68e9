import { createHash } from 'node:crypto';
import { constants, createZstdCompress, type ZstdCompress, zstdDecompressSync } from 'node:zlib';
import { OffsiteError } from '../errors.ts';

/** sha256 of a chunk's plaintext: its name in the store. */
export function chunkHash(plain: Uint8Array): string {
  return createHash('sha256').update(plain).digest('hex');
}

/**
 * A zstd compressor kept for many chunks, one frame each. A fresh context per chunk (zstdCompress)
 * leaves its native memory to the garbage collector, which V8 rarely runs for a small heap: over
 * 100,000 chunks that alone pushed a run's RSS past a gigabyte. One context per upload slot doesn't.
 */
export class ChunkEncoder {
  private readonly stream: ZstdCompress;
  private out: Buffer[] = [];
  private failure: Error | null = null;

  constructor(level: number) {
    this.stream = createZstdCompress({
      params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: 1 },
    });
    this.stream.on('data', (d: Buffer) => this.out.push(d));
    this.stream.on('error', (err) => {
      this.failure = err;
    });
  }

  /** One complete zstd frame of `plain` (callers must not overlap calls on one encoder). */
  async encode(plain: Buffer): Promise<Buffer> {
    this.stream.write(plain);
    await new Promise<void>((resolve) => this.stream.flush(constants.ZSTD_e_end, () => resolve()));
    if (this.failure) throw this.failure;
    const frame = Buffer.concat(this.out);
    this.out = [];
    return frame;
  }

  /** Frees the native context. */
  close(): void {
    this.stream.destroy();
  }
}

/**
 * Decompresses a stored chunk and proves it is the chunk `hash` names, or throws STORE_CORRUPT.
 * Synchronous on purpose: a frame of a few KB decodes in microseconds, and the sync call frees its
 * native context at once instead of leaving it to the garbage collector.
 */
export function decodeChunk(stored: Buffer, hash: string, key: string): Buffer {
  let plain: Buffer;
  try {
    plain = zstdDecompressSync(stored);
  } catch (err) {
    throw new OffsiteError('STORE_CORRUPT', `${key}: not a readable zstd frame (${(err as Error).message})`, {
      cause: err,
    });
  }
  const actual = chunkHash(plain);
  if (actual !== hash) {
    throw new OffsiteError('STORE_CORRUPT', `${key}: decompresses to sha256 ${actual}, not ${hash}`);
  }
  return plain;
}
