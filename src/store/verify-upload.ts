// After the upload and before the manifest: what the store holds is checked against what this
// backup references. Packs are listed (every pack the backup reads from must be there, with the
// size it was written with) and a sample is downloaded and proven by its hash and its chunks'
// hashes. A chunk whose pack is missing or damaged (the index believed it stored, but it was
// deleted since, or rotted) is uploaded again from the local files, so a manifest never points
// at bytes that are not there.
import { open } from 'node:fs/promises';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { ChunkProver } from './chunk-codec.ts';
import type { ChunkIndex } from './chunk-index.ts';
import type { ChunkList } from './chunk-list.ts';
import type { ChunkWriter } from './chunk-writer.ts';
import { idOfPackKey, packKey } from './layout.ts';
import { type FrameRef, packIsIntact } from './pack.ts';
import { readSizedObject, sample } from './read-object.ts';

/** A local file of the backup and its chunks. */
export interface BackupSource {
  path: string;
  chunks: ChunkList;
}

/** Options of verifyUpload. */
export interface VerifyUploadOptions {
  store: ObjectStore;
  /** The pipeline's key prefix (listed once per round: packs for the check, everything for the total). */
  pipelinePrefix: string;
  packs: string;
  index: ChunkIndex;
  sources: BackupSource[];
  /** Uploads chunks again (flushed here). */
  writer: ChunkWriter;
  /** Share of the backup's packs downloaded and hash-checked (100: all). */
  readPercent: number;
  signal?: AbortSignal;
}

/** What the check found and did. */
export interface VerifyUploadResult {
  /** Bytes of everything under the pipeline's prefix. */
  storeBytes: number;
  /** Chunks uploaded again because their pack was missing or damaged. */
  repaired: number;
  packsRead: number;
  chunksRead: number;
  /** Every pack the backup reads from. */
  packs: Set<string>;
}

// Round 1 checks; if it finds missing or damaged packs, their chunks are uploaded again and the
// next round checks the new packs. More than one repair means the store keeps losing data.
const MAX_ROUNDS = 3;

/** Lists the store, checks every pack the backup uses, reads a sample back; repairs what it can. */
export async function verifyUpload(opts: VerifyUploadOptions): Promise<VerifyUploadResult> {
  const { store, index, writer, signal } = opts;
  let repaired = 0;
  let packsRead = 0;
  let chunksRead = 0;
  let fresh: string[] = []; // packs the last repair wrote
  for (let round = 1; ; round++) {
    const listing = await store.list(`${opts.pipelinePrefix}/`, signal);
    const present = new Map<string, number>();
    for (const o of listing) {
      const id = idOfPackKey(o.key);
      if (id) present.set(id, o.size);
    }
    index.retain(present); // entries of missing or resized packs leave the index
    const { used, unplaced } = packsUsed(index, opts.sources);
    // A sample of every pack the backup reads from first; then each pack a repair wrote.
    const toRead = round === 1 ? sample([...used], opts.readPercent) : fresh.filter((id) => used.has(id));
    const damaged: string[] = [];
    // One pack at a time, read into one buffer: a whole pack (and its chunks' refs) is held while
    // it is checked. A fresh 8 MiB buffer per pack lived long enough for V8 to promote it, and the
    // sample's packs then stayed resident as garbage (57 MB at 500 MB of table data).
    let buffer: Buffer | undefined;
    const prover = new ChunkProver();
    try {
      for (const id of toRead) {
        const frames = framesIn(index, opts.sources, id);
        const size = present.get(id)!;
        if (!buffer || buffer.length < size) buffer = Buffer.allocUnsafe(size);
        const ok = await packReadsBack(store, opts.packs, id, size, frames, { buffer, prover }, signal);
        packsRead++;
        chunksRead += frames.length;
        if (!ok) damaged.push(id);
      }
    } finally {
      prover.close();
    }
    for (const id of damaged) present.delete(id);
    index.retain(present);
    if (unplaced === 0 && damaged.length === 0) {
      const storeBytes = listing.reduce((n, o) => n + o.size, 0);
      return { storeBytes, repaired, packsRead, chunksRead, packs: used };
    }
    if (round === MAX_ROUNDS) {
      const keys = damaged.map((id) => packKey(opts.packs, id));
      throw new OffsiteError(
        'INTEGRITY_FAILED',
        `after uploading them again ${round - 1} times, ${unplaced} chunk references still have no pack in the store${keys.length ? ` and these packs read back wrong: ${keys.join(', ')}` : ''}`,
      );
    }
    const [chunksBefore, packsBefore] = [writer.stats.chunksNew, writer.packsWritten.length];
    await reupload(opts.sources, index, writer);
    await writer.flush();
    repaired += writer.stats.chunksNew - chunksBefore;
    fresh = writer.packsWritten.slice(packsBefore);
  }
}

/** The packs the backup's chunks are in, and how many chunks are in none (their pack is gone). */
function packsUsed(index: ChunkIndex, sources: BackupSource[]): { used: Set<string>; unplaced: number } {
  const used = new Set<string>();
  let unplaced = 0;
  for (const { chunks } of sources) {
    for (let i = 0; i < chunks.length; i++) {
      const loc = index.get(chunks.hash(i));
      if (loc) used.add(loc.pack);
      else unplaced++;
    }
  }
  return { used, unplaced };
}

/** The backup's chunks in one pack (each once). */
function framesIn(index: ChunkIndex, sources: BackupSource[], pack: string): FrameRef[] {
  const frames = new Map<number, FrameRef>();
  for (const { chunks } of sources) {
    for (let i = 0; i < chunks.length; i++) {
      const loc = index.get(chunks.hash(i));
      if (loc?.pack !== pack) continue;
      frames.set(loc.offset, {
        hash: chunks.hash(i).toString('hex'),
        offset: loc.offset,
        length: loc.length,
      });
    }
  }
  return [...frames.values()];
}

/** Downloads a pack: its bytes must hash to its id and each of `frames` to its chunk. */
async function packReadsBack(
  store: ObjectStore,
  packs: string,
  id: string,
  size: number,
  frames: FrameRef[],
  reuse: { buffer: Buffer; prover: ChunkProver },
  signal?: AbortSignal,
): Promise<boolean> {
  const key = packKey(packs, id);
  try {
    const bytes = await readSizedObject(store, key, size, signal, reuse.buffer);
    if (!packIsIntact(bytes, id)) return false;
    for (const f of frames)
      reuse.prover.prove(bytes.subarray(f.offset, f.offset + f.length), f.hash, key, store.sealing);
  } catch (err) {
    // Unreadable (gone since the listing, or failing after retries) is as good as damaged: its
    // chunks are uploaded again. Only a cancelled run stops here.
    if (signal?.aborted) throw err;
    return false;
  }
  return true;
}

/** Uploads again every chunk of the backup the index no longer places, from the local files. */
async function reupload(sources: BackupSource[], index: ChunkIndex, writer: ChunkWriter): Promise<void> {
  for (const { path, chunks } of sources) {
    let offset = 0;
    let file: Awaited<ReturnType<typeof open>> | null = null;
    try {
      for (let i = 0; i < chunks.length; offset += chunks.size(i), i++) {
        if (index.has(chunks.hash(i))) continue;
        file ??= await open(path, 'r');
        const plain = Buffer.alloc(chunks.size(i));
        await file.read(plain, 0, plain.length, offset);
        if (!writer.chunkId(plain).equals(chunks.hash(i))) {
          throw new OffsiteError(
            'INTEGRITY_FAILED',
            `${path} changed since it was read: chunk ${chunks.hash(i).toString('hex')} is missing in the store and cannot be uploaded again`,
          );
        }
        await writer.add(plain);
      }
    } finally {
      await file?.close();
    }
  }
}
