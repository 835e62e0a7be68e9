import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChunkIndex } from './chunk-index.ts';

const h = (n: number) => createHash('sha256').update(String(n)).digest();
const pack = (n: number) => createHash('sha256').update(`pack ${n}`).digest('hex');

/** An index of `n` chunks spread over three packs. */
function indexOf(n: number): ChunkIndex {
  const index = new ChunkIndex();
  for (let p = 0; p < 3; p++) index.addPack(pack(p), 1000 + p);
  for (let i = 0; i < n; i++) index.add(h(i), { pack: pack(i % 3), offset: i * 10, length: 10 });
  return index;
}

describe('ChunkIndex', () => {
  it('finds what it was given, before and after a round trip through its bytes', () => {
    const index = indexOf(500);
    const again = ChunkIndex.parse(index.serialize())!;
    for (const ix of [index, again]) {
      expect(ix.size).toBe(500);
      for (const i of [0, 1, 250, 499])
        expect(ix.get(h(i))).toEqual({ pack: pack(i % 3), offset: i * 10, length: 10 });
      expect(ix.get(h(500))).toBeUndefined();
    }
    expect(again.packs()).toEqual(new Map([0, 1, 2].map((p) => [pack(p), 1000 + p])));
  });

  it('merges new entries into loaded ones; a chunk stored again points at its new place', () => {
    const index = ChunkIndex.parse(indexOf(100).serialize())!;
    index.addPack(pack(9), 5);
    index.add(h(7), { pack: pack(9), offset: 0, length: 5 });
    index.add(h(1000), { pack: pack(9), offset: 5, length: 5 });
    const again = ChunkIndex.parse(index.serialize())!;
    expect(again.size).toBe(101);
    expect(again.get(h(7))).toEqual({ pack: pack(9), offset: 0, length: 5 });
    expect(again.get(h(1000))).toEqual({ pack: pack(9), offset: 5, length: 5 });
    expect(again.get(h(8))).toEqual({ pack: pack(2), offset: 80, length: 10 });
  });

  it('drops the entries of packs that are missing or have another size', () => {
    const index = indexOf(90);
    const dropped = index.retain(
      new Map([
        [pack(0), 1000],
        [pack(1), 999],
      ]),
    );
    expect(dropped.sort()).toEqual([pack(1), pack(2)].sort());
    expect(index.size).toBe(30);
    expect(index.get(h(3))?.pack).toBe(pack(0));
    expect(index.get(h(4))).toBeUndefined();
    expect([...index.packs().keys()]).toEqual([pack(0)]);
  });

  it('refuses bytes that are not a whole index', () => {
    const bytes = indexOf(10).serialize();
    expect(ChunkIndex.parse(bytes.subarray(0, bytes.length - 1))).toBeNull();
    const flipped = Buffer.from(bytes);
    flipped[40]! ^= 1;
    expect(ChunkIndex.parse(flipped)).toBeNull();
    expect(ChunkIndex.parse(Buffer.from('a text file'))).toBeNull();
  });

  it('grows past its first table, and tells a claimed chunk from a stored one', () => {
    const index = indexOf(20_000);
    expect(index.size).toBe(20_000);
    for (const i of [0, 9_999, 19_999]) expect(index.get(h(i))?.offset).toBe(i * 10);
    index.claim(h(-1));
    expect(index.has(h(-1))).toBe(true);
    expect(index.get(h(-1))).toBeUndefined();
    // A claimed chunk never stored is not saved.
    expect(ChunkIndex.parse(index.serialize())!.has(h(-1))).toBe(false);
    index.claim(h(-2));
    index.add(h(-2), { pack: pack(1), offset: 3, length: 4 });
    expect(ChunkIndex.parse(index.serialize())!.get(h(-2))).toEqual({ pack: pack(1), offset: 3, length: 4 });
  });
});
