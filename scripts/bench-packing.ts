// What packing costs and saves, part of `npm run bench`: the two nightly dumps through the real
// ChunkWriter into s3rver behind the B2 proxy with a simulated round trip, then a restore of day 2
// through the real restore code. The baseline is one object per chunk (packSize 1: every pack
// holds one chunk) with 8 uploads in flight, as offsite stored chunks before packs.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { createS3Store } from '../src/adapters/object-store-s3.ts';
import { chunkFile } from '../src/store/chunk-file.ts';
import { ChunkIndex } from '../src/store/chunk-index.ts';
import { ChunkWriter } from '../src/store/chunk-writer.ts';
import { chunkParams } from '../src/store/fastcdc.ts';
import { type Manifest, manifestSchema } from '../src/store/manifest.ts';
import { type DraftFile, encodeManifest, type ManifestDraft } from '../src/store/manifest-writer.ts';
import { restoreBackup } from '../src/store/restore-backup.ts';
import { startB2Proxy } from '../test/emulators/b2-proxy/index.ts';
import { startS3Server } from '../test/support/s3-server.ts';

const LATENCY_MS = 20;

/** Uploads day 1 then day 2 at each pack size and restores day 2; prints a table. */
export async function runPackingBench(
  day1: string,
  day2: string,
  say: (line: string) => void,
): Promise<void> {
  const s3 = await startS3Server();
  const proxy = await startB2Proxy({ upstream: s3.endpoint, latencyMs: LATENCY_MS });
  const work = mkdtempSync(join(tmpdir(), 'offsite-bench-packs-'));
  const client = s3.client(proxy.endpoint);
  const store = createS3Store(client, s3.bucket, proxy.endpoint);
  const params = chunkParams(8192);
  const requests = (method: string) => proxy.requests.filter((r) => r.method === method).length;
  try {
    say(
      `\npacking (8 KiB chunks; s3rver behind a proxy adding ${LATENCY_MS} ms per request; times relative to one object per chunk):`,
    );
    say(
      '| pack size | PUTs day 1 | PUTs day 2 | upload day 1 (time) | GETs to restore day 2 | restore (time) |',
    );
    say('|---|---|---|---|---|---|');
    let base: { up: number; restore: number } | null = null;
    for (const packSize of [1, 1 << 20, 4 << 20, 8 << 20, 32 << 20]) {
      const packs = `bench-${packSize}/packs/`;
      const index = new ChunkIndex();
      const upload = async (dir: string) => {
        const writer = new ChunkWriter({
          store,
          packs,
          index,
          concurrency: 8,
          packSize,
          packUploads: packSize === 1 ? 8 : 2,
          compressionLevel: 1,
        });
        const files: DraftFile[] = [];
        for (const name of readdirSync(dir))
          files.push({ name, ...(await chunkFile(join(dir, name), writer, params)) });
        await writer.flush();
        return files;
      };
      const puts0 = requests('PUT');
      const t0 = performance.now();
      await upload(day1);
      const upMs = performance.now() - t0;
      const puts1 = requests('PUT');
      const files = await upload(day2);
      const puts2 = requests('PUT');

      const draft = {
        formatVersion: 3,
        chunking: { packsPrefix: packs },
        dump: { files },
        fileSets: [],
      } as unknown as ManifestDraft;
      const parsed = JSON.parse(zstdDecompressSync(await encodeManifest(draft, index)).toString());
      const manifest = { ...parsed, chunking: { packsPrefix: packs } } as Manifest;
      manifestSchema.shape.packs.parse(manifest.packs);
      const gets0 = requests('GET');
      const t1 = performance.now();
      await restoreBackup(store, manifest, join(work, `restore-${packSize}`), { concurrency: 8 });
      const restoreMs = performance.now() - t1;
      base ??= { up: upMs, restore: restoreMs };
      const label = packSize === 1 ? 'none (a chunk per object)' : `${packSize >> 20} MiB`;
      say(
        `| ${label} | ${puts1 - puts0} | ${puts2 - puts1} | ${(upMs / base.up).toFixed(2)}× | ${requests('GET') - gets0} | ${(restoreMs / base.restore).toFixed(2)}× |`,
      );
    }
  } finally {
    await proxy.stop();
    await s3.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
