// restore --to-dir leaves nothing half-written: a backup whose pack is damaged fails with
// STORE_CORRUPT and leaves the target directory as it was (absent, or empty), and the retry after
// the store is whole again just works, even over the staging directory a killed restore left.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDirStore } from '../../src/adapters/object-store-dir.ts';
import type { ObjectStore } from '../../src/pipeline/ports.ts';
import { listBackups, readManifest } from '../../src/store/backups.ts';
import type { Manifest } from '../../src/store/manifest.ts';
import { restoreBackup } from '../../src/store/restore-backup.ts';
import { writeHistory } from '../support/synthetic-history.ts';

let dir: string;
let store: ObjectStore;
let manifest: Manifest;
/** The file of the backup's first pack in the directory store, and its good bytes. */
let packFile: string;
let packBytes: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-restore-dir-'));
  store = createDirStore(join(dir, 'store'));
  await writeHistory(store, { prefix: 'offsite', pipeline: 'p', times: [new Date('2026-11-24T03:10:00Z')] });
  const [backup] = await listBackups(store, 'offsite', 'p');
  manifest = await readManifest(store, backup!.manifestKey);
  const pack = manifest.packs.at(-1)!.id;
  packFile = join(dir, 'store', manifest.chunking.packsPrefix, pack.slice(0, 2), pack);
  packBytes = readFileSync(packFile);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const damaged = () => {
  const bad = Buffer.from(packBytes);
  bad[bad.length >> 1]! ^= 0xff;
  writeFileSync(packFile, bad);
};
const repaired = () => writeFileSync(packFile, packBytes);

it('a damaged pack: STORE_CORRUPT, and a target that did not exist still does not', async () => {
  damaged();
  const to = join(dir, 'absent');
  await expect(restoreBackup(store, manifest, to, { concurrency: 2 })).rejects.toMatchObject({
    code: 'STORE_CORRUPT',
  });
  expect(readdirSync(dir)).not.toContain('absent');
  repaired();
});

it('an empty target (a mount point, say) stays empty; the retry over a killed restore’s leftovers works', async () => {
  const to = join(dir, 'mounted');
  mkdirSync(to);
  damaged();
  await expect(restoreBackup(store, manifest, to, { concurrency: 2 })).rejects.toMatchObject({
    code: 'STORE_CORRUPT',
  });
  expect(readdirSync(to)).toEqual([]);
  repaired();
  // What a SIGKILL mid-restore leaves: the staging directory, half full.
  mkdirSync(join(to, '.offsite-partial-deadbeef', 'dump'), { recursive: true });
  writeFileSync(join(to, '.offsite-partial-deadbeef', 'dump', 'data.dat'), 'half');
  const result = await restoreBackup(store, manifest, to, { concurrency: 2 });
  expect(readdirSync(to).sort()).toEqual(['dump']);
  expect(readdirSync(join(to, 'dump'))).toEqual(manifest.dump.files.map((f) => f.name));
  expect(result.bytes).toBe(manifest.dump.files.reduce((n, f) => n + f.size, 0));
});

it('refuses a target holding anything else, and leaves it alone', async () => {
  const to = join(dir, 'busy');
  mkdirSync(to);
  writeFileSync(join(to, 'keep.txt'), 'mine');
  await expect(restoreBackup(store, manifest, to, { concurrency: 2 })).rejects.toMatchObject({
    code: 'USAGE',
  });
  expect(readdirSync(to)).toEqual(['keep.txt']);
});
