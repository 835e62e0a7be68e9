// After the upload and before the manifest: what the store holds is checked against what this
// backup references. A chunk the index wrongly believed present (deleted since, or damaged) is
// re-uploaded from the local copy, so a manifest never points at a chunk that is not there.
import pLimit from 'p-limit';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { type ChunkIndex, indexFromListing } from './chunk-index.ts';
import { readChunk, sample } from './read-chunk.ts';

/** Options of verifyUploadedChunks. */
export interface VerifyUploadOptions {
  store: ObjectStore;
  /** The pipeline's key prefix (listed once: chunks for the check, everything for the total). */
  pipelinePrefix: string;
  chunks: string;
  /** Hashes this backup references. */
  referenced: string[];
  /** Stored sizes as uploaded by this run (or listed by an earlier one). */
  index: ChunkIndex;
  /** Share of the referenced chunks read back and hash-checked (100: all). */
  readPercent: number;
  concurrency: number;
  /** Re-uploads a chunk from the local copy. */
  repair(hash: string): Promise<void>;
  signal?: AbortSignal;
}

/** What the check found and did; `index` is the store's listing, to be saved as the local index. */
export interface VerifyUploadResult {
  storeBytes: number;
  repaired: string[];
  readBack: number;
  index: ChunkIndex;
}

/** Lists the store, checks sizes of every referenced chunk, reads a sample back; repairs what it can. */
export async function verifyUploadedChunks(opts: VerifyUploadOptions): Promise<VerifyUploadResult> {
  const listing = await opts.store.list(`${opts.pipelinePrefix}/`, opts.signal);
  const listed = indexFromListing(listing);
  const repaired: string[] = [];
  const limit = pLimit(opts.concurrency);
  const repair = async (hash: string) => {
    await opts.repair(hash);
    repaired.push(hash);
    listed.set(hash, opts.index.get(hash) ?? 0);
  };
  await Promise.all(
    opts.referenced.map((hash) =>
      limit(async () => {
        const stored = listed.get(hash);
        const expected = opts.index.get(hash);
        if (stored === undefined || (expected !== undefined && expected >= 0 && stored !== expected)) {
          await repair(hash);
        }
      }),
    ),
  );
  const toRead = sample(opts.referenced, opts.readPercent);
  await Promise.all(
    toRead.map((hash) =>
      limit(async () => {
        try {
          await readChunk(opts.store, opts.chunks, hash, opts.signal);
        } catch (err) {
          if ((err as OffsiteError).code !== 'STORE_CORRUPT') throw err;
          await repair(hash);
          await readChunk(opts.store, opts.chunks, hash, opts.signal).catch((again) => {
            throw new OffsiteError(
              'INTEGRITY_FAILED',
              `chunk ${hash} still reads back wrong after re-upload`,
              {
                cause: again,
              },
            );
          });
        }
      }),
    ),
  );
  const storeBytes = listing.reduce((sum, o) => sum + o.size, 0);
  return { storeBytes, repaired, readBack: toRead.length, index: listed };
}
