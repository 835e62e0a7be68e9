import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkParams, chunkStream, cutPoint } from './fastcdc.ts';

// Deterministic pseudo-random bytes (tests must not depend on luck).
function bytes(n: number, seed: string): Buffer {
  const out = Buffer.alloc(n);
  for (let off = 0, i = 0; off < n; i++, off += 32) {
    createHash('sha256').update(`${seed}/${i}`).digest().copy(out, off);
  }
  return out;
}

async function chunksOf(data: Buffer, avg: number, readSize = 65_536): Promise<Buffer[]> {
  async function* reads() {
    for (let i = 0; i < data.length; i += readSize) yield data.subarray(i, i + readSize);
  }
  const out: Buffer[] = [];
  // Each chunk is a view valid until the next one: kept, it is copied.
  for await (const c of chunkStream(reads(), chunkParams(avg))) out.push(Buffer.from(c));
  return out;
}

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('FastCDC', () => {
  const data = bytes(4 << 20, 'a');

  it('reassembles to the input, with every chunk within the bounds', async () => {
    const p = chunkParams(16_384);
    const chunks = await chunksOf(data, 16_384);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    for (const c of chunks.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(p.minSize);
      expect(c.length).toBeLessThanOrEqual(p.maxSize);
    }
    // Normalized chunking keeps the mean near the target (within 25% on random data).
    const mean = data.length / chunks.length;
    expect(mean).toBeGreaterThan(16_384 * 0.75);
    expect(mean).toBeLessThan(16_384 * 1.25);
  });

  it('cuts at the same places whatever the read sizes', async () => {
    const a = (await chunksOf(data, 8192, 1000)).map(digest);
    const b = (await chunksOf(data, 8192, 300_001)).map(digest);
    expect(a).toEqual(b);
  });

  it('an insertion changes only the chunks around it', async () => {
    const edited = Buffer.concat([
      data.subarray(0, 2_000_000),
      Buffer.from('inserted row\n'),
      data.subarray(2_000_000),
    ]);
    const before = (await chunksOf(data, 16_384)).map(digest);
    const after = (await chunksOf(edited, 16_384)).map(digest);
    const kept = new Set(before);
    const changed = after.filter((h) => !kept.has(h));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(3);
    expect(after.length - changed.length).toBeGreaterThan(before.length - 4);
  });

  it('a deletion changes only the chunks around it', async () => {
    const edited = Buffer.concat([data.subarray(0, 1_000_000), data.subarray(1_000_100)]);
    const kept = new Set((await chunksOf(data, 16_384)).map(digest));
    const changed = (await chunksOf(edited, 16_384)).filter((c) => !kept.has(digest(c)));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(3);
  });

  it('gives small inputs one chunk and empty input none', async () => {
    expect(await chunksOf(Buffer.alloc(0), 4096)).toHaveLength(0);
    expect(await chunksOf(Buffer.from('tiny'), 4096)).toHaveLength(1);
  });

  it('cuts repetitive data at the maximum size', () => {
    const p = chunkParams(4096);
    const zeros = Buffer.alloc(p.maxSize * 3);
    expect(cutPoint(zeros, 0, zeros.length, p)).toBe(p.maxSize);
  });

  it('rejects an average that is not a power of two', () => {
    expect(() => chunkParams(1000 * 1000)).toThrow(/power of two/);
    expect(chunkParams(1 << 20)).toEqual({ minSize: 1 << 18, averageSize: 1 << 20, maxSize: 1 << 22 });
  });
});
