// A file's chunks in order, while a run builds its manifest: 36 bytes per chunk (sha256 + size)
// in one growing buffer. A 1 GB dump is ~120,000 chunks; as JavaScript arrays of hex strings
// they took ~20 MB of heap and kept the garbage collector busy, as bytes they take 4 MB.

const HASH = 32;
const RECORD = HASH + 4;

/** An ordered list of (sha256, plaintext size) records. */
export class ChunkList {
  // Small to start: a file set can hold many one-chunk files; the buffer doubles as it fills.
  private buf = Buffer.allocUnsafe(RECORD * 2);
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(hash: Uint8Array, size: number): void {
    if ((this.count + 1) * RECORD > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.count * RECORD);
      this.buf = bigger;
    }
    const at = this.count * RECORD;
    this.buf.set(hash, at);
    this.buf.writeUInt32BE(size, at + HASH);
    this.count++;
  }

  /** The i-th chunk's hash (a view: copy it to keep it). */
  hash(i: number): Buffer {
    return this.buf.subarray(i * RECORD, i * RECORD + HASH);
  }

  size(i: number): number {
    return this.buf.readUInt32BE(i * RECORD + HASH);
  }
}
