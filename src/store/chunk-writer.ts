import pLimit from 'p-limit';
import type { ObjectStore } from '../pipeline/ports.ts';
import { ChunkEncoder, chunkHash } from './chunk-codec.ts';
import type { ChunkIndex } from './chunk-index.ts';
import { chunkKey } from './layout.ts';
import type { ChunkRef } from './manifest.ts';

/** What a run wrote and reused. */
export interface ChunkStats {
  bytesRead: number;
  chunksNew: number;
  chunksReused: number;
  /** Plaintext bytes of the new chunks. */
  bytesNew: number;
  /** Compressed bytes of the new chunks (what went over the wire). */
  bytesStored: number;
}

/** Options of a ChunkWriter. */
export interface ChunkWriterOptions {
  store: ObjectStore;
  /** Key prefix of the chunks (layout.chunksPrefix). */
  chunks: string;
  index: ChunkIndex;
  concurrency: number;
  compressionLevel: number;
  signal?: AbortSignal;
}

/**
 * Stores chunks the store lacks, with at most `concurrency` compress+upload jobs in flight and
 * at most twice that many chunks held in memory: `add` waits when the pipe is full, which is
 * what keeps a run's memory flat whatever the dump's size.
 */
export class ChunkWriter {
  readonly stats: ChunkStats = { bytesRead: 0, chunksNew: 0, chunksReused: 0, bytesNew: 0, bytesStored: 0 };
  private readonly opts: ChunkWriterOptions;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  private readonly encoders: ChunkEncoder[] = [];

  constructor(opts: ChunkWriterOptions) {
    this.opts = opts;
    this.limit = pLimit(opts.concurrency);
  }

  /** Records a chunk, uploading it unless the store (or this run) has it already. */
  async add(plain: Buffer): Promise<ChunkRef> {
    if (this.failure) throw this.failure;
    const hash = chunkHash(plain);
    this.stats.bytesRead += plain.length;
    if (this.opts.index.has(hash)) {
      this.stats.chunksReused++;
      return [hash, plain.length];
    }
    // Claimed now (size filled in once stored), so a repeat within this run is a reuse.
    this.opts.index.set(hash, -1);
    this.stats.chunksNew++;
    this.stats.bytesNew += plain.length;
    const job = this.limit(() => this.store(hash, plain)).then(
      () => {
        this.inFlight.delete(job);
      },
      (err: unknown) => {
        this.inFlight.delete(job);
        this.failure ??= err;
      },
    );
    this.inFlight.add(job);
    while (this.inFlight.size >= this.opts.concurrency * 2) await Promise.race(this.inFlight);
    return [hash, plain.length];
  }

  /** Waits for every upload; throws the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.inFlight);
    for (const e of this.encoders.splice(0)) e.close();
    if (this.failure) throw this.failure;
  }

  /** Uploads a chunk the index believed stored but the store lacks: it counts as new after all. */
  async repair(hash: string, plain: Buffer): Promise<void> {
    const wasReused = (this.opts.index.get(hash) ?? -1) >= 0 && this.stats.chunksReused > 0;
    await this.store(hash, plain);
    if (wasReused) {
      this.stats.chunksReused--;
      this.stats.chunksNew++;
      this.stats.bytesNew += plain.length;
    }
  }

  private async store(hash: string, plain: Buffer): Promise<void> {
    // Each job borrows an encoder (at most `concurrency` exist) and returns it once compressed.
    const encoder = this.encoders.pop() ?? new ChunkEncoder(this.opts.compressionLevel);
    let body: Buffer;
    try {
      body = await encoder.encode(plain);
    } finally {
      this.encoders.push(encoder);
    }
    await this.opts.store.put(chunkKey(this.opts.chunks, hash), body, body.length, this.opts.signal);
    this.opts.index.set(hash, body.length);
    this.stats.bytesStored += body.length;
  }
}
