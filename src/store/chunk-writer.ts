import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { isAbort, toOffsiteError } from '../classify/classify-error.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { ChunkEncoder, chunkId } from './chunk-codec.ts';
import type { ChunkIndex } from './chunk-index.ts';
import { ChunkList } from './chunk-list.ts';
import { packKey } from './layout.ts';

// Room a pack's buffer keeps beyond its target: one frame of a large chunk (FastCDC's max is
// 4 × the average: 32 KiB by default, 256 KiB at a 64 KiB average). A bigger frame grows it.
const MAX_FRAME = 256 * 1024 + 1024;

/** What a run wrote and reused. */
export interface ChunkStats {
  /** Plaintext bytes of every chunk reference recorded. */
  bytesRead: number;
  /** Chunk references recorded (a chunk used twice counts twice). */
  refs: number;
  /** Chunks compressed and uploaded by this run. */
  chunksNew: number;
  /** Plaintext bytes of the new chunks. */
  bytesNew: number;
  /** Bytes of the packs uploaded (what went over the wire). */
  bytesStored: number;
  packsNew: number;
}

/** Options of a ChunkWriter. */
export interface ChunkWriterOptions {
  store: ObjectStore;
  /** Key prefix of the packs (layout.packsPrefix). */
  packs: string;
  index: ChunkIndex;
  /** Chunks compressed in parallel (on libuv's thread pool). */
  concurrency: number;
  /** A pack is uploaded once it holds this many bytes. */
  packSize: number;
  /** Packs uploaded in parallel: memory is about (packUploads + 1) × packSize. */
  packUploads?: number;
  compressionLevel: number;
  signal?: AbortSignal;
}

interface Queued {
  hash: Buffer;
  /** The zstd frame, or null when compressing failed (the failure is kept). */
  frame: Promise<Buffer | null>;
}

/** The pack being filled: frames in the order their chunks were first seen, in one buffer. */
class PackBuilder {
  /** Each frame's chunk hash and length (bytes, not objects: see ChunkIndex). */
  readonly entries = new ChunkList();
  readonly digest = createHash('sha256');
  private bytes: Buffer;
  size = 0;

  /** A pack is sealed once it reaches `target`: room for that and one frame more (`spare`, if given). */
  constructor(target: number, spare?: Buffer) {
    this.bytes = spare ?? Buffer.allocUnsafe(PackBuilder.capacity(target));
  }

  static capacity(target: number): number {
    return target + 2 * MAX_FRAME;
  }

  /** The whole buffer the pack was built in (to build another pack in, once this one is stored). */
  get buffer(): Buffer {
    return this.bytes;
  }

  append(hash: Buffer, frame: Buffer): void {
    if (this.size + frame.length > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(this.size + frame.length + MAX_FRAME);
      this.bytes.copy(bigger, 0, 0, this.size);
      this.bytes = bigger;
    }
    frame.copy(this.bytes, this.size);
    this.entries.push(hash, frame.length);
    this.digest.update(frame);
    this.size += frame.length;
  }

  /** The pack's bytes (a view: the builder is done). */
  body(): Buffer {
    return this.bytes.subarray(0, this.size);
  }
}

/**
 * Stores the chunks the store lacks, packed: each chunk compressed to one zstd frame, frames
 * appended to a pack in the order chunks were first seen (so a file's chunks sit together and a
 * restore reads them with few requests), a pack uploaded once it reaches packSize. A pack is named
 * by the sha256 of its bytes. Memory stays flat whatever the dump's size: `add` waits while
 * 2 × concurrency chunks are being compressed or packUploads packs are on the wire.
 */
export class ChunkWriter {
  readonly stats: ChunkStats = {
    bytesRead: 0,
    refs: 0,
    chunksNew: 0,
    bytesNew: 0,
    bytesStored: 0,
    packsNew: 0,
  };
  /** Ids of the packs this writer stored, in order. */
  readonly packsWritten: string[] = [];
  private readonly opts: Required<ChunkWriterOptions>;
  private readonly compressing: ReturnType<typeof pLimit>;
  private readonly uploading: ReturnType<typeof pLimit>;
  private readonly queue: Queued[] = [];
  private readonly uploads = new Set<Promise<void>>();
  private readonly encoders: ChunkEncoder[] = [];
  /**
   * Buffers of stored packs, built in again. A pack's buffer lives as long as its upload, long
   * enough for V8 to move it to the old generation, which it collects only after 64 MB more of
   * such buffers: without reuse, a gigabyte's upload held that much garbage (measured: RSS 213
   * against 150 MiB at 500 MB of table data).
   */
  private readonly spareBuffers: Buffer[] = [];
  /** The pack being filled; made on the first chunk that needs one. */
  private pack: PackBuilder | null = null;
  private failure: unknown = null;

  constructor(opts: ChunkWriterOptions) {
    this.opts = { ...opts, packUploads: opts.packUploads ?? 2, signal: opts.signal as AbortSignal };
    this.compressing = pLimit(opts.concurrency);
    this.uploading = pLimit(this.opts.packUploads);
  }

  /** Chunk references recorded that needed no upload. */
  get chunksReused(): number {
    return Math.max(0, this.stats.refs - this.stats.chunksNew);
  }

  /**
   * Records a chunk at the end of `list` and stores it unless the store (or this run) has it.
   * Without a list, it only stores it (a repair of a chunk whose pack went missing). `view` is
   * read only until the returned promise settles (it may be a view into a reused buffer): a
   * chunk to store is copied.
   */
  async add(view: Buffer, list?: ChunkList): Promise<void> {
    if (this.failure) throw this.failure;
    const hash = this.chunkId(view);
    if (list) {
      list.push(hash, view.length);
      this.stats.refs++;
      this.stats.bytesRead += view.length;
    }
    // Claimed in the index at once, so a repeat within this run is a reuse; placed once stored.
    if (this.opts.index.has(hash)) return;
    this.opts.index.claim(hash);
    // Compressed later, once a slot is free: by then the caller may have reused the view's buffer.
    const plain = Buffer.from(view);
    this.stats.chunksNew++;
    this.stats.bytesNew += plain.length;
    const frame = this.compressing(() => this.encode(plain, hash)).catch((err: unknown) => {
      this.failure ??= err;
      return null;
    });
    this.queue.push({ hash, frame });
    while (this.queue.length >= this.opts.concurrency * 2) await this.packNext();
    if (this.failure) throw this.failure;
  }

  /** Packs and uploads everything still held; throws the first failure. */
  async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.packNext();
      if (this.pack) await this.seal();
      await Promise.all(this.uploads);
    } finally {
      for (const e of this.encoders.splice(0)) e.close();
    }
    if (this.failure) throw this.failure;
  }

  /** The id a chunk has in this writer's store (sha256, or a keyed hash in an encrypted store). */
  chunkId(plain: Buffer): Buffer {
    return chunkId(plain, this.opts.store.sealing);
  }

  private async encode(plain: Buffer, id: Buffer): Promise<Buffer> {
    // Each job borrows an encoder (at most `concurrency` exist) and returns it once compressed.
    const encoder =
      this.encoders.pop() ?? new ChunkEncoder(this.opts.compressionLevel, this.opts.store.sealing);
    try {
      return await encoder.encode(plain, id);
    } finally {
      this.encoders.push(encoder);
    }
  }

  /** Appends the oldest compressed chunk to the pack (in order: compression runs ahead). */
  private async packNext(): Promise<void> {
    const { hash, frame } = this.queue.shift()!;
    const bytes = await frame;
    if (!bytes) return;
    this.pack ??= new PackBuilder(this.opts.packSize, this.spareBuffers.pop());
    this.pack.append(hash, bytes);
    if (this.pack.size >= this.opts.packSize) await this.seal();
  }

  /** Uploads the current pack; its chunks enter the index once the store has it. */
  private async seal(): Promise<void> {
    const { entries, digest, buffer } = this.pack!;
    const body = this.pack!.body();
    this.pack = null;
    const id = digest.digest('hex');
    const { store, index, packs, signal } = this.opts;
    const key = packKey(packs, id);
    const job = this.uploading(async () => {
      await store.put(key, body, body.length, signal).catch((err: unknown) => {
        // An interrupted run's aborted request is its cancellation, not a failed upload; the
        // store's other errors name the object and say why (unreachable, denied, no bucket…).
        throw signal?.aborted || isAbort(err) ? err : toOffsiteError(err, 'UPLOAD_FAILED');
      });
      index.addPack(id, body.length);
      let offset = 0;
      for (let i = 0; i < entries.length; i++) {
        index.add(entries.hash(i), { pack: id, offset, length: entries.size(i) });
        offset += entries.size(i);
      }
      this.stats.bytesStored += body.length;
      this.stats.packsNew++;
      this.packsWritten.push(id);
      // Only after a store that succeeded: an aborted request must not be read from a reused buffer.
      // A buffer grown past the usual size (an oversized frame) is left to the collector.
      if (buffer.length === PackBuilder.capacity(this.opts.packSize)) this.spareBuffers.push(buffer);
    }).then(
      () => {
        this.uploads.delete(job);
      },
      (err: unknown) => {
        this.uploads.delete(job);
        this.failure ??= err;
      },
    );
    this.uploads.add(job);
    while (this.uploads.size >= this.opts.packUploads) await Promise.race(this.uploads);
  }
}
