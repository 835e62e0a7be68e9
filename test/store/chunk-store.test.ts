// The pack store against s3rver through the B2-strict proxy (503s injected): what is written,
// with which headers (Object Lock retention + Content-MD5, no checksum/tagging/ACL headers),
// what a second write of the same data costs, and how a pack the local index wrongly believes
// stored (deleted, or damaged) is found and its chunks put back before any manifest points at it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../src/adapters/object-store-s3.ts';
import type { ObjectStore } from '../../src/pipeline/ports.ts';
import { chunkFile } from '../../src/store/chunk-file.ts';
import { ChunkIndex } from '../../src/store/chunk-index.ts';
import { ChunkWriter } from '../../src/store/chunk-writer.ts';
import { chunkParams } from '../../src/store/fastcdc.ts';
import { packKey } from '../../src/store/layout.ts';
import { packIsIntact, readFrames } from '../../src/store/pack.ts';
import { readObject } from '../../src/store/read-object.ts';
import { extendPackRetention } from '../../src/store/retention.ts';
import { verifyUpload } from '../../src/store/verify-upload.ts';
import { type B2Proxy, startB2Proxy } from '../emulators/b2-proxy/index.ts';
import { type LocalS3, startS3Server } from '../support/s3-server.ts';

let s3: LocalS3;
let proxy: B2Proxy;
let store: ObjectStore;
let dir: string;
let file: string;
const PACKS = 'offsite/test/packs/';
const params = chunkParams(8192);
// Random data (incompressible) around a run of one byte (compresses to nothing): ~5 packs of 128 KiB.
const data = Buffer.concat([randomBytes(300_000), Buffer.alloc(100_000, 'a'), randomBytes(300_000)]);
const index = new ChunkIndex();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-packs-'));
  file = join(dir, 'data.bin');
  writeFileSync(file, data);
  s3 = await startS3Server();
  proxy = await startB2Proxy({ upstream: s3.endpoint, slowDownRate: 0.2, seed: 11 });
  const client = s3.client(proxy.endpoint);
  store = createS3Store(client, s3.bucket, proxy.endpoint, { objectLock: { mode: 'compliance', days: 30 } });
});
afterAll(async () => {
  await proxy?.stop();
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function writeAll() {
  const writer = new ChunkWriter({
    store,
    packs: PACKS,
    index,
    concurrency: 4,
    packSize: 128 * 1024,
    compressionLevel: 1,
  });
  const chunked = await chunkFile(file, writer, params);
  await writer.flush();
  return { writer, chunks: chunked.chunks };
}

const verify = (writer: ChunkWriter, chunks: Awaited<ReturnType<typeof writeAll>>['chunks']) =>
  verifyUpload({
    store,
    pipelinePrefix: 'offsite/test',
    packs: PACKS,
    index,
    sources: [{ path: file, chunks }],
    writer,
    readPercent: 100,
  });

describe('pack store through the B2-strict proxy', () => {
  it('uploads each distinct chunk once, compressed into packs, with Object Lock retention and Content-MD5', async () => {
    const { writer, chunks } = await writeAll();
    const hashes = Array.from({ length: chunks.length }, (_, i) => chunks.hash(i).toString('hex'));
    expect(writer.stats.chunksNew).toBe(new Set(hashes).size);
    expect(writer.chunksReused).toBe(chunks.length - writer.stats.chunksNew); // the run of 'a' repeats
    expect(writer.chunksReused).toBeGreaterThan(0);
    expect(writer.stats.bytesRead).toBe(data.length);
    expect(writer.stats.bytesStored).toBeLessThan(writer.stats.bytesNew);
    const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.status === 200);
    expect(writer.stats.packsNew).toBeGreaterThanOrEqual(4);
    expect(puts.length).toBe(writer.stats.packsNew);
    for (const put of puts) {
      expect(put.url).toContain('/offsite/test/packs/');
      expect(put.headers['x-amz-object-lock-mode']).toBe('COMPLIANCE');
      const until = Date.parse(put.headers['x-amz-object-lock-retain-until-date']!);
      expect(until - Date.now()).toBeGreaterThan(29 * 86_400_000);
      expect(put.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    }
    expect(proxy.forbidden).toEqual([]);

    // Every chunk is placed; each pack hashes to its name; adjacent frames read back with one GET.
    for (const [id, size] of index.packs()) {
      const bytes = await readObject(store, packKey(PACKS, id));
      expect(bytes.length).toBe(size);
      expect(packIsIntact(bytes, id)).toBe(true);
    }
    const first = [0, 1, 2].map((i) => ({
      hash: chunks.hash(i).toString('hex'),
      ...index.get(chunks.hash(i))!,
    }));
    expect(first[1]!.offset).toBe(first[0]!.offset + first[0]!.length); // packed in file order
    const plains = await readFrames(store, PACKS, first[0]!.pack, first);
    const sizes = [0, 1, 2].map((i) => chunks.size(i));
    expect(Buffer.concat(plains).equals(data.subarray(0, sizes[0]! + sizes[1]! + sizes[2]!))).toBe(true);
  });

  it('writes nothing the second time', async () => {
    const before = proxy.requests.filter((r) => r.method === 'PUT').length;
    const { writer, chunks } = await writeAll();
    expect(writer.stats.chunksNew).toBe(0);
    expect(writer.chunksReused).toBe(chunks.length);
    expect(proxy.requests.filter((r) => r.method === 'PUT').length).toBe(before);
  });

  it('finds a pack the index wrongly believes stored, and puts its chunks back', async () => {
    const { writer, chunks } = await writeAll();
    const lost = index.get(chunks.hash(0))!.pack;
    const lostChunks = Array.from({ length: chunks.length }, (_, i) => i).filter(
      (i) => index.get(chunks.hash(i))!.pack === lost,
    );
    await store.delete(packKey(PACKS, lost));
    const result = await verify(writer, chunks);
    expect(result.repaired).toBe(new Set(lostChunks.map((i) => chunks.hash(i).toString('hex'))).size);
    expect(result.packsRead).toBe(index.packs().size);
    // Repacked in the same order, the chunks make the same pack again, under the same name.
    expect(index.get(chunks.hash(0))!.pack).toBe(lost);
    expect(packIsIntact(await readObject(store, packKey(PACKS, lost)), lost)).toBe(true);
    expect(proxy.forbidden).toEqual([]);
  });

  it('finds a damaged pack (same size, one byte changed) by reading it back, and replaces it', async () => {
    const { writer, chunks } = await writeAll();
    const { pack } = index.get(chunks.hash(chunks.length - 1))!;
    const bytes = await readObject(store, packKey(PACKS, pack));
    bytes[bytes.length >> 1]! ^= 0x01;
    await store.put(packKey(PACKS, pack), bytes, bytes.length);
    const result = await verify(writer, chunks);
    expect(result.repaired).toBeGreaterThan(0);
    expect(packIsIntact(await readObject(store, packKey(PACKS, pack)), pack)).toBe(true);
  });

  it('repairs a deleted pack and a damaged one found in the same check', async () => {
    const { writer, chunks } = await writeAll();
    const [lost, damaged] = [
      ...new Set(Array.from({ length: chunks.length }, (_, i) => index.get(chunks.hash(i))!.pack)),
    ];
    await store.delete(packKey(PACKS, lost!));
    const bytes = await readObject(store, packKey(PACKS, damaged!));
    bytes[0]! ^= 0x01;
    await store.put(packKey(PACKS, damaged!), bytes, bytes.length);
    const result = await verify(writer, chunks);
    expect(result.repaired).toBeGreaterThan(0);
    for (const id of [lost!, damaged!]) {
      expect(packIsIntact(await readObject(store, packKey(PACKS, id)), id)).toBe(true);
    }
  });

  it('keeps the packs a later backup reads from locked as long as that backup (Object Lock)', async () => {
    const ids = [...index.packs().keys()];
    const keyPath = (id: string) => `/${s3.bucket}/${packKey(PACKS, id)}`;
    const written = proxy.retention.get(keyPath(ids[0]!))!;
    expect(written.mode).toBe('COMPLIANCE');
    // Forty days on, a new backup still reads these packs: their locks must reach its own.
    const until = new Date(Date.now() + 70 * 86_400_000);
    const first = await extendPackRetention(store, PACKS, ids, until, 4);
    expect(first).toEqual({ extended: ids.length, already: 0 });
    for (const id of ids) expect(proxy.retention.get(keyPath(id))).toEqual({ mode: 'COMPLIANCE', until });
    const puts = proxy.requests.filter(
      (r) => r.method === 'PUT' && r.url.includes('?retention') && r.status === 200,
    );
    expect(puts).toHaveLength(ids.length);
    for (const put of puts) expect(put.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    // Never shortened, never written twice.
    expect(await extendPackRetention(store, PACKS, ids, new Date(Date.now() + 86_400_000), 4)).toEqual({
      extended: 0,
      already: ids.length,
    });
    expect(await extendPackRetention(store, PACKS, ids, until, 4)).toEqual({
      extended: 0,
      already: ids.length,
    });
    expect(proxy.forbidden).toEqual([]);
  });

  it('got 503 SlowDown on some requests, retried them, and sent no header B2 refuses', () => {
    expect(proxy.slowDowns()).toBeGreaterThan(0);
    expect(proxy.requests.filter((r) => r.status === 200).length).toBeGreaterThan(proxy.slowDowns());
    expect(proxy.forbidden).toEqual([]);
  });
});
