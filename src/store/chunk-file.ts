import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ChunkWriter } from './chunk-writer.ts';
import { type ChunkParams, chunkStream } from './fastcdc.ts';
import type { ChunkRef } from './manifest.ts';

/** A file as the store keeps it: its size, its whole hash and its chunks in order. */
export interface ChunkedFile {
  size: number;
  sha256: string;
  chunks: ChunkRef[];
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
    for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) {
      whole.update(piece as Buffer);
      size += (piece as Buffer).length;
      yield piece as Buffer;
    }
  }
  const chunks: ChunkRef[] = [];
  for await (const chunk of chunkStream(hashed(), params)) chunks.push(await writer.add(chunk));
  return { size, sha256: whole.digest('hex'), chunks };
}
