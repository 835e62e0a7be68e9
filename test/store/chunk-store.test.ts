// The chunk store against s3rver through the B2-strict proxy (503s injected): what is written,
// with which headers (Object Lock retention + Content-MD5, no checksum/tagging/ACL headers),
// what a second write of the same data costs, and how a chunk the local index wrongly believes
// stored is found and put back before any manifest could point at it.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../src/adapters/object-store-s3.ts';
import { createS3Client } from '../../src/adapters/s3-client.ts';
import type { ObjectStore } from '../../src/pipeline/ports.ts';
import { ChunkWriter } from '../../src/store/chunk-writer.ts';
import { chunkParams, chunkStream } from '../../src/store/fastcdc.ts';
import { chunkKey } from '../../src/store/layout.ts';
import type { ChunkRef } from '../../src/store/manifest.ts';
import { readChunk } from '../../src/store/read-chunk.ts';
import { verifyUploadedChunks } from '../../src/store/verify-upload.ts';
import { type B2Proxy, startB2Proxy } from '../emulators/b2-proxy/index.ts';
import { type LocalS3, startS3Server } from '../support/s3-server.ts';

let s3: LocalS3;
let proxy: B2Proxy;
let store: ObjectStore;
const CHUNKS = 'offsite/test/chunks/';
const params = chunkParams(8192);

beforeAll(async () => {
  s3 = await startS3Server();
  proxy = await startB2Proxy({ upstream: s3.endpoint, slowDownRate: 0.15, seed: 11 });
  const client = createS3Client({
    endpoint: proxy.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
  });
  store = createS3Store(client, s3.bucket, proxy.endpoint, { objectLock: { mode: 'compliance', days: 30 } });
});
afterAll(async () => {
  await proxy?.stop();
  await s3?.stop();
});

async function writeAll(data: Buffer, index: Map<string, number>) {
  const writer = new ChunkWriter({ store, chunks: CHUNKS, index, concurrency: 4, compressionLevel: 3 });
  const refs: ChunkRef[] = [];
  for await (const c of chunkStream([data], params)) refs.push(await writer.add(c));
  await writer.flush();
  return { writer, refs };
}

describe('chunk store through the B2-strict proxy', () => {
  const data = Buffer.concat([randomBytes(200_000), Buffer.alloc(100_000, 'a'), randomBytes(200_000)]);
  const index = new Map<string, number>();

  it('uploads each distinct chunk once, compressed, with Object Lock retention and Content-MD5', async () => {
    const { writer, refs } = await writeAll(data, index);
    expect(writer.stats.chunksNew).toBe(new Set(refs.map(([h]) => h)).size);
    expect(writer.stats.bytesRead).toBe(data.length);
    expect(writer.stats.bytesStored).toBeLessThan(writer.stats.bytesNew); // the run of 'a' compresses
    const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.status === 200);
    expect(puts.length).toBe(writer.stats.chunksNew);
    for (const put of puts) {
      expect(put.headers['x-amz-object-lock-mode']).toBe('COMPLIANCE');
      const until = Date.parse(put.headers['x-amz-object-lock-retain-until-date']!);
      expect(until - Date.now()).toBeGreaterThan(29 * 86_400_000);
      expect(put.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    }
    expect(proxy.slowDowns()).toBeGreaterThan(0);
    expect(proxy.forbidden).toEqual([]);
    const [hash] = refs[0]!;
    expect((await readChunk(store, CHUNKS, hash)).equals(data.subarray(0, refs[0]![1]))).toBe(true);
  });

  it('writes nothing the second time', async () => {
    const before = proxy.requests.filter((r) => r.method === 'PUT').length;
    const { writer } = await writeAll(data, index);
    expect(writer.stats.chunksNew).toBe(0);
    expect(writer.stats.chunksReused).toBeGreaterThan(0);
    expect(proxy.requests.filter((r) => r.method === 'PUT').length).toBe(before);
  });

  it('finds a chunk the index wrongly believes stored, and puts it back', async () => {
    const { refs } = await writeAll(data, index);
    const [lost] = refs[1]!;
    await store.delete(chunkKey(CHUNKS, lost));
    const repaired: string[] = [];
    const result = await verifyUploadedChunks({
      store,
      pipelinePrefix: 'offsite/test',
      chunks: CHUNKS,
      referenced: refs.map(([h]) => h),
      index,
      readPercent: 100,
      concurrency: 4,
      async repair(hash) {
        repaired.push(hash);
        const offset = refs
          .slice(
            0,
            refs.findIndex(([h]) => h === hash),
          )
          .reduce((n, [, s]) => n + s, 0);
        const size = refs.find(([h]) => h === hash)![1];
        const writer = new ChunkWriter({ store, chunks: CHUNKS, index, concurrency: 1, compressionLevel: 3 });
        await writer.repair(hash, data.subarray(offset, offset + size));
      },
    });
    expect(repaired).toEqual([lost]);
    expect(result.readBack).toBe(refs.length);
    expect(result.index.has(lost)).toBe(true);
    expect(await store.head(chunkKey(CHUNKS, lost))).not.toBeNull();
    expect(proxy.forbidden).toEqual([]);
  });
});
