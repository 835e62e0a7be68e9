import { createHash } from 'node:crypto';
import { zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { OffsiteError } from '../errors.ts';
import { ChunkEncoder, chunkId, decodeChunk } from './chunk-codec.ts';
import { OBJECT_OVERHEAD, StoreCrypto } from './store-crypto.ts';

const flip = (b: Buffer, at: number) => {
  const c = Buffer.from(b);
  c[at]! ^= 0x01;
  return c;
};
const corrupt = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OffsiteError);
    expect((err as OffsiteError).code).toBe('STORE_CORRUPT');
    return (err as OffsiteError).message;
  }
  throw new Error('expected STORE_CORRUPT');
};

describe('StoreCrypto: sealed objects', () => {
  const { crypto } = StoreCrypto.generate();
  const plain = Buffer.from('{"rows": "alice@example.com"}');

  it('round-trips, hides the plaintext and costs a constant overhead', () => {
    const sealed = crypto.sealObject(plain, 'backups/b1/restore-test.json');
    expect(sealed.length).toBe(plain.length + OBJECT_OVERHEAD);
    expect(sealed.includes(Buffer.from('alice'))).toBe(false);
    expect(crypto.openObject(sealed, 'backups/b1/restore-test.json', 'x')).toEqual(plain);
    // A fresh nonce each time: the same plaintext never seals to the same bytes.
    expect(crypto.sealObject(plain, 'a').equals(crypto.sealObject(plain, 'a'))).toBe(false);
  });

  it('refuses any altered byte, another name, another data key and a plaintext object', () => {
    const sealed = crypto.sealObject(plain, 'backups/b1/manifest.json.zst');
    for (const at of [0, 6, 20, sealed.length - 1])
      corrupt(() => crypto.openObject(flip(sealed, at), 'backups/b1/manifest.json.zst', 'here'));
    expect(corrupt(() => crypto.openObject(sealed, 'backups/b2/manifest.json.zst', 'here'))).toMatch(
      /^here: .*does not authenticate/,
    );
    corrupt(() => StoreCrypto.generate().crypto.openObject(sealed, 'backups/b1/manifest.json.zst', 'here'));
    expect(corrupt(() => crypto.openObject(plain, 'a', 'here'))).toMatch(/not a sealed object/);
  });
});

describe('StoreCrypto: chunks', () => {
  const { crypto } = StoreCrypto.generate();
  const plain = Buffer.from('1\talice@example.com\t2026-11-24\n'.repeat(50));

  it('names chunks by a keyed hash: not their sha256, the same for the same key, another for another key', () => {
    const id = chunkId(plain, crypto);
    expect(id.toString('hex')).not.toBe(createHash('sha256').update(plain).digest('hex'));
    expect(chunkId(plain, crypto)).toEqual(id);
    expect(chunkId(plain, StoreCrypto.generate().crypto)).not.toEqual(id);
    expect(chunkId(plain).toString('hex')).toBe(createHash('sha256').update(plain).digest('hex'));
  });

  it('encodes to a sealed zstd frame that decodes to the chunk, and refuses tampering or another id', async () => {
    const id = chunkId(plain, crypto);
    const encoder = new ChunkEncoder(1, crypto);
    const stored = await encoder.encode(plain, id);
    encoder.close();
    expect(stored.includes(Buffer.from('alice'))).toBe(false);
    expect(decodeChunk(stored, id.toString('hex'), 'p@0', crypto)).toEqual(plain);
    for (const at of [0, 12, stored.length - 1])
      corrupt(() => decodeChunk(flip(stored, at), id.toString('hex'), 'p@0', crypto));
    const other = chunkId(Buffer.from('other'), crypto).toString('hex');
    expect(corrupt(() => decodeChunk(stored, other, 'p@0', crypto))).toMatch(/^p@0: the sealed chunk/);
    // A plaintext store's frame is no sealed frame.
    corrupt(() => decodeChunk(zstdCompressSync(plain), id.toString('hex'), 'p@0', crypto));
  });

  it('a frame sealed for an id whose plaintext is another chunk fails the keyed id check', () => {
    const id = chunkId(plain, crypto);
    const lie = crypto.sealFrame(zstdCompressSync(Buffer.from('not the chunk')), id);
    expect(corrupt(() => decodeChunk(lie, id.toString('hex'), 'p@0', crypto))).toMatch(/keyed id/);
  });
});
