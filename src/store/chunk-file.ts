import { createHash } from 'node:crypto';
import { readPieces } from '../adapters/read-pieces.ts';
import { ChunkList } from './chunk-list.ts';
import type { ChunkWriter } from './chunk-writer.ts';
import { type ChunkParams, chunkStream } from './fastcdc.ts';

/** A file as the store keeps it: its size, its whole hash and its chunks in order. */
export interface ChunkedFile {
  size: number;
  sha256: string;
  chunks: ChunkList;
}

/** Streams a local file through FastCDC into the store (memory: a few chunks, whatever its size). */
export async function chunkFile(
  path: string,
  writer: ChunkWriter,
  params: ChunkParams,
): Promise<ChunkedFile> {
  const whole = createHash('sha256');
  let size = 0;
  async function* hashed() {
    // chunkStream copies each piece into its own buffer before asking for the next, so one read
    // buffer serves all.
    for await (const piece of readPieces(path)) {
      whole.update(piece);
      size += piece.length;
      yield piece;
    }
  }
  const chunks = new ChunkList();
  for await (const chunk of chunkStream(hashed(), params)) await writer.add(chunk, chunks);
  return { size, sha256: whole.digest('hex'), chunks };
}
