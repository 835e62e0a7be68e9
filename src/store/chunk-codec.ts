// How a chunk is stored: one zstd frame; in an encrypted store that frame is then sealed on its
// own (so a ranged read of one frame still works, and a pack's frames can be copied byte for byte
// into another pack), and chunks are named by a keyed hash instead of their sha256.
import { hash as cryptoHash } from 'node:crypto';
import {
  constants,
  createZstdCompress,
  createZstdDecompress,
  type ZstdCompress,
  type ZstdDecompress,
  zstdDecompressSync,
} from 'node:zlib';
import { OffsiteError } from '../errors.ts';
import type { ChunkSealing } from '../pipeline/ports.ts';

/** A chunk's id: the sha256 of its plaintext, or in an encrypted store the keyed hash. */
export function chunkId(plain: Uint8Array, sealing?: ChunkSealing): Buffer {
  return sealing ? sealing.chunkId(plain) : cryptoHash('sha256', plain, 'buffer');
}

/** The native side of a zlib stream, as Node's own sync calls (zlibBufferSync) drive it. */
interface NativeHandle {
  writeSync(
    flush: number,
    input: Buffer,
    inOff: number,
    inLen: number,
    out: Buffer,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
}

/** Where the native handle reports what a write left: [output space left, input left]. */
interface ZlibInternals {
  _handle?: Partial<NativeHandle> | null;
  _writeState?: Uint32Array;
}

/**
 * A zstd compressor kept for many chunks, one frame each. A fresh context per chunk (zstdCompress)
 * leaves its native memory to the garbage collector, which V8 rarely runs for a small heap: over
 * 100,000 chunks that alone pushed a run's RSS past a gigabyte. One context per upload slot doesn't.
 *
 * The context is driven synchronously through the stream's native handle, one ZSTD_e_end write
 * per chunk, as Node's own zstdCompressSync does (and minizlib, under npm's tar): the stream
 * interface (write, then flush, each a hop through the thread pool) cost 7× the CPU of the
 * compression itself (140 MB of table data in 8 KiB chunks: 3.8 s against 0.5 s). Where the
 * handle is not there (another Node), the stream interface is used.
 */
export class ChunkEncoder {
  private readonly stream: ZstdCompress;
  private readonly native: { handle: NativeHandle; state: Uint32Array } | null;
  private outBuffer = Buffer.allocUnsafe(64 * 1024);
  private out: Buffer[] = [];
  private failure: Error | null = null;

  private readonly sealing: ChunkSealing | undefined;

  constructor(level: number, sealing?: ChunkSealing) {
    this.sealing = sealing;
    this.stream = createZstdCompress({
      params: { [constants.ZSTD_c_compressionLevel]: level, [constants.ZSTD_c_checksumFlag]: 1 },
    });
    const { _handle: handle, _writeState: state } = this.stream as unknown as ZlibInternals;
    this.native =
      typeof handle?.writeSync === 'function' && state instanceof Uint32Array && state.length === 2
        ? { handle: handle as NativeHandle, state }
        : null;
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
    const frame = this.native ? this.frameSync(this.native, plain) : await this.frameByStream(plain);
    return this.sealing ? this.sealing.sealFrame(frame, id) : frame;
  }

  /** Whether frames are made through the native handle (false: through the stream interface). */
  get synchronous(): boolean {
    return this.native !== null;
  }

  private frameSync({ handle, state }: { handle: NativeHandle; state: Uint32Array }, plain: Buffer): Buffer {
    // A closed context must never reach native code again (it aborts the process there).
    if (this.stream.destroyed) throw new Error('zstd compression failed: the compressor was closed');
    const parts: Buffer[] = [];
    let inOff = 0;
    let inLeft = plain.length;
    for (;;) {
      const out = this.outBuffer;
      handle.writeSync(constants.ZSTD_e_end, plain, inOff, inLeft, out, 0, out.length);
      // A failed write destroys the stream (zlib's onerror), never returning half a frame.
      if (this.stream.destroyed || this.failure) {
        throw this.failure ?? new Error('zstd compression failed (the compressor was closed)');
      }
      const [outLeft = 0, inAfter = 0] = state;
      parts.push(Buffer.from(out.subarray(0, out.length - outLeft)));
      inOff += inLeft - inAfter;
      inLeft = inAfter;
      // With ZSTD_e_end, room left in the output means the frame was flushed whole.
      if (outLeft > 0 && inLeft === 0) break;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private async frameByStream(plain: Buffer): Promise<Buffer> {
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
 * Opens (in an encrypted store) and decompresses a stored chunk and proves it is the chunk `hash`
 * names, or throws STORE_CORRUPT. Synchronous on purpose: a frame of a few KB decodes in
 * microseconds, and the sync call frees its native context at once instead of leaving it to the
 * garbage collector.
 */
export function decodeChunk(stored: Buffer, hash: string, key: string, sealing?: ChunkSealing): Buffer {
  return proveChunk(
    decompressed(key, () => zstdDecompressSync(openedFrame(stored, hash, key, sealing))),
    hash,
    key,
    sealing,
  );
}

function openedFrame(stored: Buffer, hash: string, key: string, sealing?: ChunkSealing): Buffer {
  return sealing ? sealing.openFrame(stored, hash, key) : stored;
}

function decompressed(key: string, run: () => Buffer): Buffer {
  try {
    return run();
  } catch (err) {
    if (err instanceof OffsiteError) throw err;
    throw new OffsiteError('STORE_CORRUPT', `${key}: not a readable zstd frame (${(err as Error).message})`, {
      cause: err,
    });
  }
}

function proveChunk(plain: Buffer, hash: string, key: string, sealing?: ChunkSealing): Buffer {
  const actual = chunkId(plain, sealing).toString('hex');
  if (actual !== hash) {
    const what = sealing ? 'a chunk whose keyed id is' : 'sha256';
    throw new OffsiteError('STORE_CORRUPT', `${key}: decompresses to ${what} ${actual}, not ${hash}`);
  }
  return plain;
}

/**
 * Proves many chunks one after another (a pack read back) through one zstd context and one output
 * buffer. decodeChunk allocates each chunk's plaintext anew: a pack's worth is ~25 MB of buffers
 * V8 keeps outside its heap and collects only after 64 MB more, with so little JavaScript
 * allocation beside them that nothing triggers a collection sooner; reading back the upload's
 * sample that way raised a run's peak RSS by ~50 MB. The result is a view, valid until the next
 * call. Where the stream's native handle is missing (another Node), decodeChunk's way is used.
 */
export class ChunkProver {
  private stream = ChunkProver.newStream();
  private out = Buffer.allocUnsafe(256 * 1024);

  prove(stored: Buffer, hash: string, key: string, sealing?: ChunkSealing): Buffer {
    const frame = openedFrame(stored, hash, key, sealing);
    return proveChunk(
      decompressed(key, () => this.decompress(frame)),
      hash,
      key,
      sealing,
    );
  }

  private decompress(frame: Buffer): Buffer {
    const { _handle: handle, _writeState: state } = this.stream as unknown as ZlibInternals;
    if (
      typeof handle?.writeSync !== 'function' ||
      typeof handle.reset !== 'function' ||
      !(state instanceof Uint32Array)
    ) {
      return zstdDecompressSync(frame);
    }
    // A frame cut short leaves the context mid-frame: every chunk starts from a clean one.
    handle.reset();
    let produced = 0;
    let inOff = 0;
    let inLeft = frame.length;
    for (;;) {
      const room = this.out.length - produced;
      (handle as NativeHandle).writeSync(
        constants.ZSTD_e_continue,
        frame,
        inOff,
        inLeft,
        this.out,
        produced,
        room,
      );
      if (this.stream.destroyed) {
        // A damaged frame: zlib destroyed the stream with the reason; the next chunk gets a new one.
        const failed = this.stream;
        this.stream = ChunkProver.newStream();
        throw new Error(
          `zstd: ${(failed.errored as Error | null)?.message ?? 'the frame could not be decoded'}`,
        );
      }
      const [outLeft = 0, inAfter = 0] = state;
      produced += room - outLeft;
      inOff += inLeft - inAfter;
      inLeft = inAfter;
      if (outLeft > 0 && inLeft === 0) return this.out.subarray(0, produced);
      if (outLeft === 0) {
        const bigger = Buffer.allocUnsafe(this.out.length * 2);
        this.out.copy(bigger, 0, 0, produced);
        this.out = bigger;
      }
    }
  }

  /** Frees the native context. */
  close(): void {
    this.stream.destroy();
  }

  /** A decompressor whose failures are read from it (destroyed, errored), never thrown as events. */
  private static newStream(): ZstdDecompress {
    const stream = createZstdDecompress();
    stream.on('error', () => {});
    return stream;
  }
}
