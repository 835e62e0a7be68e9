import { randomBytes } from 'node:crypto';
import { zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { OffsiteError } from '../errors.ts';
import { ChunkEncoder, ChunkProver, chunkId, decodeChunk } from './chunk-codec.ts';

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

describe('ChunkProver', () => {
  it('proves frame after frame through one context, and a damaged or cut frame fails alone', async () => {
    const encoder = new ChunkEncoder(1);
    const text = Buffer.from('7\trefund\t{"amount": 3.25}\t2026-11-30\n'.repeat(3000));
    // The last is bigger than the prover's first output buffer (256 KiB): it grows.
    const chunks = [
      text.subarray(0, 8192),
      Buffer.from('y'),
      randomBytes(20_000),
      text,
      randomBytes(400 * 1024),
    ];
    const frames = await Promise.all(chunks.map((c) => encoder.encode(c, chunkId(c))));
    encoder.close();
    const prover = new ChunkProver();
    const id = (c: Buffer) => chunkId(c).toString('hex');
    chunks.forEach((c, i) => {
      // A view, valid until the next call: compared at once.
      expect(prover.prove(frames[i]!, id(c), `p@${i}`).equals(c)).toBe(true);
    });
    const damaged = Buffer.from(frames[3]!);
    const at = Math.floor(damaged.length / 2);
    damaged.writeUInt8(damaged.readUInt8(at) ^ 0xff, at);
    const failure = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err as OffsiteError;
      }
      throw new Error('expected a failure');
    };
    expect(failure(() => prover.prove(damaged, id(text), 'p@3')).code).toBe('STORE_CORRUPT');
    expect(prover.prove(frames[0]!, id(chunks[0]!), 'p@0').equals(chunks[0]!)).toBe(true);
    const cut = frames[3]!.subarray(0, frames[3]!.length - 40);
    expect(failure(() => prover.prove(cut, id(text), 'p@3')).message).toMatch(/^p@3: /);
    expect(prover.prove(frames[2]!, id(chunks[2]!), 'p@2').equals(chunks[2]!)).toBe(true);
    // Another chunk's id: the frame decodes, the proof fails.
    expect(failure(() => prover.prove(frames[1]!, id(chunks[0]!), 'p@1')).message).toMatch(
      /decompresses to sha256/,
    );
    prover.close();
  });
});
