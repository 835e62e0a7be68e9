import { createHash } from 'node:crypto';
import { zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ChunkIndex } from './chunk-index.ts';
import { ChunkList } from './chunk-list.ts';
import { type Manifest, manifestSchema } from './manifest.ts';
import { encodeManifest, type ManifestDraft } from './manifest-writer.ts';

const h = (n: number) => createHash('sha256').update(String(n)).digest();
const pack = (n: number) => createHash('sha256').update(`pack ${n}`).digest('hex');

function draftOf(lists: ChunkList[], mediaChunks: ChunkList): ManifestDraft {
  return {
    formatVersion: 3,
    pipeline: 'p',
    backupId: 'b',
    runId: 'r',
    createdAt: '2026-11-25T00:00:00.000Z',
    snapshot: { id: 's', instanceId: 'i', createdAt: '2026-11-25T00:00:00.000Z', engineVersion: '15.4' },
    versions: { server: '15', pgDump: '15', pgRestore: '15', offsite: '0' },
    restoreTest: {
      status: 'passed',
      checks: [],
      durationMs: 1,
      scratchServerVersion: '15',
      key: 'k',
      sha256: 'a'.repeat(64),
    },
    chunking: {
      algorithm: 'fastcdc',
      minSize: 1,
      averageSize: 2,
      maxSize: 3,
      hash: 'sha256',
      compression: 'zstd',
      packSize: 4,
      packsPrefix: 'x/',
    },
    dump: {
      files: lists.map((chunks, i) => ({ name: `${i}.dat`, size: 0, sha256: 'b'.repeat(64), chunks })),
    },
    fileSets: [
      {
        name: 'media',
        path: '/m',
        // Values that look like placeholders stay values.
        exclude: ['\u0000packs', '\u0000chunks:0', 'packs', 'chunks:0'],
        entries: [
          { path: '', type: 'dir', mode: 0o755, mtimeNs: '1', uid: 0, gid: 0 },
          {
            path: 'a "quoted" name\n',
            type: 'file',
            mode: 0o644,
            mtimeNs: '2',
            uid: 0,
            gid: 0,
            size: 0,
            sha256: 'c'.repeat(64),
            chunks: mediaChunks,
          },
        ],
      },
    ],
    totals: { bytes: 0, chunks: 0 },
    report: { key: 'r.json' },
  };
}

describe('encodeManifest', () => {
  it('writes every chunk reference in order with its place, numbering packs as they first appear', async () => {
    const index = new ChunkIndex();
    for (const p of [0, 1, 2]) index.addPack(pack(p), 100 + p);
    const big = new ChunkList();
    for (let i = 0; i < 3000; i++) {
      index.add(h(i), { pack: pack(2 - (i % 2)), offset: i * 7, length: 7 });
      big.push(h(i), 1000 + i);
    }
    const empty = new ChunkList();
    const media = new ChunkList();
    media.push(h(5), 1005);
    const bytes = await encodeManifest(draftOf([big, empty], media), index);
    const manifest: Manifest = manifestSchema.parse(JSON.parse(zstdDecompressSync(bytes).toString()));
    expect(manifest.packs).toEqual([
      { id: pack(2), size: 102 },
      { id: pack(1), size: 101 },
    ]);
    const refs = manifest.dump.files[0]!.chunks;
    expect(refs).toHaveLength(3000);
    expect(refs[0]).toEqual([h(0).toString('hex'), 1000, 0, 0, 7]);
    expect(refs[2999]).toEqual([h(2999).toString('hex'), 3999, 1, 2999 * 7, 7]);
    expect(manifest.dump.files[1]!.chunks).toEqual([]);
    expect(manifest.fileSets[0]!.entries[1]).toMatchObject({
      path: 'a "quoted" name\n',
      chunks: [[h(5).toString('hex'), 1005, 1, 35, 7]],
    });
    expect(manifest.fileSets[0]!.entries[0]!.chunks).toBeUndefined();
    expect(manifest.fileSets[0]!.exclude).toEqual(['\u0000packs', '\u0000chunks:0', 'packs', 'chunks:0']);
  });

  it('refuses a chunk the index cannot place', async () => {
    const list = new ChunkList();
    list.push(h(1), 10);
    await expect(encodeManifest(draftOf([list], new ChunkList()), new ChunkIndex())).rejects.toThrow(
      /not in the store index/,
    );
  });
});
