// How a chunk is stored: one zstd frame; in an encrypted store that frame is then sealed on its
// own (so a ranged read of one frame still works, and a pack's frames can be copied byte for byte
// into another pack), and chunks are named by a keyed hash instead of their sha256.
import { hash as cryptoHash } from 'node:crypto';
import { constants, createZstdCompress, type ZstdCompress, zstdDecompressSync } from 'node:zlib';
import { OffsiteError } from '../errors.ts';
import type { ChunkSealing } from '../pipeline/ports.ts';

/** A chunk's id: the sha256 of its plaintext, or in an encrypted store the keyed hash. */
export function chunkId(plain: Uint8Array, sealing?: ChunkSealing): Buffer {
  return sealing ? sealing.chunkId(plain) : cryptoHash('sha256', plain, 'buffer');
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

  private readonly sealing: ChunkSealing | undefined;

  constructor(level: number, sealing?: ChunkSealing) {
    this.sealing = sealing;
    this.stream = createZstdCompress({
      params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: 1 },
    });
    this.stream.on('data', (d: Buffer) => this.out.push(d));
    this.stream.on('error', (err) => {
      this.failure = err;
    });
  }

  /**
   * One complete zstd frame of `plain`, sealed for chunk `id` in an encrypted store (callers
   * must not overlap calls on one encoder).
   */
  async encode(plain: Buffer, id: Buffer): Promise<Buffer> {
    this.stream.write(plain);
    await new Promise<void>((resolve) => this.stream.flush(constants.ZSTD_e_end, () => resolve()));
    if (this.failure) throw this.failure;
    const frame = Buffer.concat(this.out);
    this.out = [];
    return this.sealing ? this.sealing.sealFrame(frame, id) : frame;
  }

  /** Frees the native context. */
  close(): void {
    this.stream.destroy();
  }
}

/**
 * Opens (in an encrypted store) and decompresses a stored chunk and proves it is the chunk `hash`
 * names, or throws STORE_CORRUPT. Synchronous on purpose: a frame of a few KB decodes in
 * microseconds, and the sync call frees its native context at once instead of leaving it to the
 * garbage collector.
 */
export function decodeChunk(stored: Buffer, hash: string, key: string, sealing?: ChunkSealing): Buffer {
  const frame = sealing ? sealing.openFrame(stored, hash, key) : stored;
  let plain: Buffer;
  try {
    plain = zstdDecompressSync(frame);
  } catch (err) {
    throw new OffsiteError('STORE_CORRUPT', `${key}: not a readable zstd frame (${(err as Error).message})`, {
      cause: err,
    });
  }
  const actual = chunkId(plain, sealing).toString('hex');
  if (actual !== hash) {
    const what = sealing ? 'a chunk whose keyed id is' : 'sha256';
    throw new OffsiteError('STORE_CORRUPT', `${key}: decompresses to ${what} ${actual}, not ${hash}`);
  }
  return plain;
}
