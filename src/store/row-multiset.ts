// An order-independent digest of the lines of a COPY text file: two files get the same digest
// when they hold the same rows in any order. It proves a re-ordered table data file lost or
// changed no row, at the cost of one pass over the bytes (no per-row allocation).

/** Lines, bytes and a 64-bit sum of per-line hashes. */
export interface RowMultisetDigest {
  lines: number;
  bytes: number;
  sum: string;
}

/** Digests the newline-terminated lines of a stream, regardless of their order. */
export async function rowMultisetDigest(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<RowMultisetDigest> {
  // Two independent 32-bit FNV-1a-style hashes per line, summed mod 2^32 each.
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x01000193 | 0;
  let sum1 = 0;
  let sum2 = 0;
  let lines = 0;
  let bytes = 0;
  for await (const piece of source) {
    bytes += piece.length;
    for (let i = 0; i < piece.length; i++) {
      const b = piece[i]!;
      h1 = Math.imul(h1 ^ b, 0x01000193);
      h2 = Math.imul(h2 ^ b, 0x5bd1e995) ^ (h2 >>> 13);
      if (b === 10) {
        sum1 = (sum1 + (Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b) >>> 0)) >>> 0;
        sum2 = (sum2 + (h2 >>> 0)) >>> 0;
        lines++;
        h1 = 0x811c9dc5 | 0;
        h2 = 0x01000193 | 0;
      }
    }
  }
  // A last line without a newline still counts.
  if (h1 !== (0x811c9dc5 | 0) || h2 !== (0x01000193 | 0)) {
    sum1 = (sum1 + (h1 >>> 0)) >>> 0;
    sum2 = (sum2 + (h2 >>> 0)) >>> 0;
    lines++;
  }
  return { lines, bytes, sum: sum1.toString(16).padStart(8, '0') + sum2.toString(16).padStart(8, '0') };
}
