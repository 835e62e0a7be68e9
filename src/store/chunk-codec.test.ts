import { randomBytes } from 'node:crypto';
import { zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ChunkEncoder, chunkId, decodeChunk } from './chunk-codec.ts';

describe('ChunkEncoder', () => {
  it('makes one independent zstd frame per chunk through one context, whatever the size', async () => {
    const encoder = new ChunkEncoder(1);
    // The fast path is the one runs take on the Node this project pins.
    expect(encoder.synchronous).toBe(true);
    const text = Buffer.from('42\tpaid\t{"amount": 12.5, "note": "monthly"}\t2026-11-24\n'.repeat(4000));
    const chunks = [
      Buffer.alloc(0),
      Buffer.from('x'),
      text.subarray(0, 8192),
      text,
      // Incompressible and larger than the encoder's 64 KiB output buffer: a frame in several writes.
      randomBytes(300 * 1024),
      text.subarray(100, 9000),
    ];
    const frames: Buffer[] = [];
    for (const c of chunks) frames.push(await encoder.encode(c, chunkId(c)));
    encoder.close();
    frames.forEach((frame, i) => {
      const plain = chunks[i]!;
      // Each frame alone decodes to its chunk: no frame leans on the one before.
      expect(zstdDecompressSync(frame)).toEqual(plain);
      expect(decodeChunk(frame, chunkId(plain).toString('hex'), `chunk ${i}`)).toEqual(plain);
    });
    expect(frames[3]!.length).toBeLessThan(text.length / 10);
    expect(frames[4]!.length).toBeGreaterThan(300 * 1024);
  });

  it('refuses to encode once closed, instead of returning half a frame', async () => {
    const encoder = new ChunkEncoder(1);
    encoder.close();
    await expect(encoder.encode(Buffer.from('late'), chunkId(Buffer.from('late')))).rejects.toThrow();
  });
});
