import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileSetRecord, ManifestFile } from './manifest.ts';

/** Where a chunk's bytes are in the local files a backup was made from. */
export interface ChunkLocation {
  path: string;
  offset: number;
  size: number;
}

/** Finds a chunk in the dump files or file sets by walking their chunk lists (rarely needed: repairs). */
export function locateChunk(
  dumpDir: string,
  files: ManifestFile[],
  fileSets: FileSetRecord[],
  hash: string,
): ChunkLocation | null {
  const lists = [
    ...files.map((f) => ({ path: join(dumpDir, f.name), chunks: f.chunks })),
    ...fileSets.flatMap((s) =>
      s.entries.map((e) => ({ path: join(s.path, e.path), chunks: e.chunks ?? [] })),
    ),
  ];
  for (const { path, chunks } of lists) {
    let offset = 0;
    for (const [h, size] of chunks) {
      if (h === hash) return { path, offset, size };
      offset += size;
    }
  }
  return null;
}

/** Reads a located chunk's bytes. */
export async function readLocatedChunk(loc: ChunkLocation): Promise<Buffer> {
  const handle = await open(loc.path, 'r');
  try {
    const buf = Buffer.alloc(loc.size);
    const { bytesRead } = await handle.read(buf, 0, loc.size, loc.offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
