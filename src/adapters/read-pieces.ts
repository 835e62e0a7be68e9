import { open } from 'node:fs/promises';

/**
 * Reads a file (or bytes [start, end) of it) in pieces of one reused buffer. Each piece is only
 * valid until the next is requested: for consumers that hash or copy it at once. A stream would
 * allocate a fresh buffer per read: over a gigabyte that churn cost tens of MB of resident
 * memory that the allocator kept.
 */
export async function* readPieces(
  path: string,
  range: { start?: number; end?: number } = {},
  pieceSize = 1 << 20,
): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(pieceSize);
    let position = range.start ?? 0;
    const end = range.end ?? Number.POSITIVE_INFINITY;
    while (position < end) {
      const want = Math.min(buf.length, end - position);
      const { bytesRead } = await handle.read(buf, 0, want, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
