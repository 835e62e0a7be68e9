// Prune at the store level: a synthetic history of 400 daily backups in the local S3 server
// (written through the store functions, not 400 runs), pruned to exactly the GFS set an
// independent computation names, then every backup kept checked by reading all its data; a pack
// a run is still uploading (young, named by no manifest) survives; and a prune that crashes
// after any number of writes leaves every kept backup restorable, and a rerun finishes.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirStore } from '../../src/adapters/object-store-dir.ts';
import { createS3Store } from '../../src/adapters/object-store-s3.ts';
import { retentionSchema } from '../../src/config/retention-schema.ts';
import type { ObjectStore } from '../../src/pipeline/ports.ts';
import type { Log } from '../../src/pipeline/run-context.ts';
import { listBackups, readManifest } from '../../src/store/backups.ts';
import { checkStore } from '../../src/store/check-store.ts';
import { backupsPrefix, manifestKey, packKey, packsPrefix, trashPrefix } from '../../src/store/layout.ts';
import { prune } from '../../src/store/prune.ts';
import { restoreBackup } from '../../src/store/restore-backup.ts';
import { retentionPlan } from '../../src/store/retention-policy.ts';
import { startB2Proxy } from '../emulators/b2-proxy/index.ts';
import { type LocalS3, startS3Server } from '../support/s3-server.ts';
import { type SyntheticBackup, writeHistory } from '../support/synthetic-history.ts';

const DAY = 86_400_000;
const quiet: Log = { info() {}, warn() {}, error() {}, debug() {} };
let s3: LocalS3;
let s3Store: ObjectStore;
let dir: string;

beforeAll(async () => {
  s3 = await startS3Server();
  s3Store = createS3Store(s3.client(), s3.bucket, s3.endpoint);
  dir = mkdtempSync(join(tmpdir(), 'offsite-prune-'));
});
afterAll(async () => {
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `n` nightly snapshot times at 03:10 UTC, the last one before `end`. */
function nightly(n: number, end: Date): Date[] {
  let last = Math.floor(end.getTime() / DAY) * DAY + (3 * 60 + 10) * 60_000;
  if (last >= end.getTime()) last -= DAY;
  return Array.from({ length: n }, (_, i) => new Date(last - (n - 1 - i) * DAY));
}

// The GFS set of one backup a night, computed without retentionPlan: per bucket the newest, the
// newest N buckets. A week is named by its Monday, which groups days as ISO weeks do.
function gfs(
  backups: SyntheticBackup[],
  n: { daily: number; weekly: number; monthly: number; yearly: number },
) {
  const keep = new Set<string>();
  const take = (bucket: (t: Date) => string, count: number) => {
    const newest = new Map<string, SyntheticBackup>();
    for (const b of backups) {
      const k = bucket(b.time);
      if (!newest.has(k) || newest.get(k)!.time < b.time) newest.set(k, b);
    }
    const newestFirst = [...newest.values()].sort((a, b) => +b.time - +a.time);
    for (const b of newestFirst.slice(0, count)) keep.add(b.id);
  };
  take((t) => t.toISOString().slice(0, 10), n.daily);
  take(
    (t) =>
      new Date(Math.floor(t.getTime() / DAY) * DAY - ((t.getUTCDay() + 6) % 7) * DAY)
        .toISOString()
        .slice(0, 10),
    n.weekly,
  );
  take((t) => t.toISOString().slice(0, 7), n.monthly);
  take((t) => t.toISOString().slice(0, 4), n.yearly);
  return keep;
}

async function restoreEach(
  store: ObjectStore,
  prefix: string,
  pipeline: string,
  ids: string[],
  label: string,
) {
  const all = await listBackups(store, prefix, pipeline);
  for (const id of ids) {
    const ref = all.find((b) => b.id === id);
    expect(ref, `${label}: kept backup ${id} is listed`).toBeDefined();
    const manifest = await readManifest(store, ref!.manifestKey);
    const to = mkdtempSync(join(dir, 'restore-'));
    rmSync(to, { recursive: true });
    await restoreBackup(store, manifest, to, { concurrency: 4 }); // every chunk and the whole file by hash
    rmSync(to, { recursive: true, force: true });
  }
}

async function wholeStore(store: ObjectStore, prefix: string, pipeline: string) {
  return checkStore(store, { prefix, pipeline, readPercent: 100, concurrency: 8 });
}

describe('prune against the local S3 server', () => {
  it('400 daily backups: exactly the GFS set is kept, trashed ones purged after trashDays, check --read-data passes', async () => {
    const pipeline = 'history';
    const now = new Date(Date.now() + 2 * DAY); // the history's packs are older than graceHours by then
    const written = Date.now();
    const backups = await writeHistory(s3Store, { prefix: 'offsite', pipeline, times: nightly(400, now) });
    const writeSeconds = (Date.now() - written) / 1000;
    const counts = { daily: 7, weekly: 4, monthly: 12, yearly: 2 };
    const retention = retentionSchema.parse({
      keepDaily: counts.daily,
      keepWeekly: counts.weekly,
      keepMonthly: counts.monthly,
      keepYearly: counts.yearly,
    });
    const expected = gfs(backups, counts);
    const packsBefore = (await s3Store.list(packsPrefix('offsite', pipeline))).length;

    const opts = {
      where: { prefix: 'offsite', pipeline },
      retention,
      dryRun: false,
      packSize: 64 * 1024,
      concurrency: 8,
      log: quiet,
    };
    const dry = await prune(s3Store, { ...opts, now, dryRun: true });
    expect(new Set(dry.kept)).toEqual(expected);
    expect((await listBackups(s3Store, 'offsite', pipeline)).length).toBe(400); // a dry run changes nothing

    let started = Date.now();
    const first = await prune(s3Store, { ...opts, now });
    const firstSeconds = (Date.now() - started) / 1000;
    expect(new Set(first.kept)).toEqual(expected);
    expect(first.deleted.length).toBe(400 - expected.size);
    expect(new Set((await listBackups(s3Store, 'offsite', pipeline)).map((b) => b.id))).toEqual(expected);
    // Within trashDays the removed backups' packs all stay (undelete needs them).
    expect(first.packs.deleted).toEqual([]);
    expect(first.packs.repacked).toEqual([]);
    expect((await wholeStore(s3Store, 'offsite', pipeline)).problems).toEqual([]);

    started = Date.now();
    const later = new Date(now.getTime() + 8 * DAY);
    const second = await prune(s3Store, { ...opts, now: later });
    const secondSeconds = (Date.now() - started) / 1000;
    expect(new Set(second.kept)).toEqual(expected);
    expect(second.trashPurged.length).toBe(400 - expected.size);
    expect(await s3Store.list(trashPrefix('offsite', pipeline))).toEqual([]);
    expect(second.packs.deleted.length).toBeGreaterThan(300);
    expect(second.packs.repacked.length).toBeGreaterThan(0); // a kept day's neighbour's pack, half dead
    expect(second.bytesFreed).toBeGreaterThan(0);
    const check = await wholeStore(s3Store, 'offsite', pipeline);
    expect(check.problems).toEqual([]);
    expect(check.backups.length).toBe(expected.size);
    const packsAfter = (await s3Store.list(packsPrefix('offsite', pipeline))).length;
    expect(packsAfter).toBe(check.packsReferenced); // nothing unreferenced is left
    await restoreEach(s3Store, 'offsite', pipeline, [...expected], '400 backups');

    // Quoted figures: printed, never asserted on (the machine is shared).
    console.log(
      `400-backup prune: history written in ${writeSeconds.toFixed(1)} s; ` +
        `first prune (${first.deleted.length} to trash) ${firstSeconds.toFixed(2)} s, ${first.requests} requests; ` +
        `second prune (trash purged, ${second.packs.deleted.length} packs deleted, ${second.packs.repacked.length} repacked into ${second.packs.written.length}) ` +
        `${secondSeconds.toFixed(2)} s, ${second.requests} requests; packs ${packsBefore} → ${packsAfter}, ${second.bytesFreed} bytes freed`,
    );
  });

  it('never deletes a young pack no manifest names (a run uploading now); graceHours 0 does', async () => {
    const pipeline = 'young';
    const now = new Date();
    await writeHistory(s3Store, { prefix: 'offsite', pipeline, times: nightly(3, now) });
    const bytes = randomBytes(5000);
    const id = createHash('sha256').update(bytes).digest('hex');
    const key = packKey(packsPrefix('offsite', pipeline), id);
    await s3Store.put(key, bytes, bytes.length);
    const retention = retentionSchema.parse({ keepLast: 3 });
    const opts = {
      where: { prefix: 'offsite', pipeline },
      dryRun: false,
      packSize: 64 * 1024,
      concurrency: 4,
      log: quiet,
    };
    const result = await prune(s3Store, { ...opts, retention, now: new Date() });
    expect(result.packs.young).toBeGreaterThan(0);
    expect(result.packs.deleted).toEqual([]);
    expect(await s3Store.head(key)).not.toBeNull();
    const old = await prune(s3Store, {
      ...opts,
      retention: { ...retention, graceHours: 0 },
      now: new Date(Date.now() + 1000),
    });
    expect(old.packs.deleted).toEqual([id]);
    expect(await s3Store.head(key)).toBeNull();
  });
});

describe('prune on a bucket with Object Lock (through the B2-strict proxy)', () => {
  it('leaves locked backups and packs where they are and lists them; once the locks ran out it removes them', async () => {
    const proxy = await startB2Proxy({ upstream: s3.endpoint });
    try {
      const objectLock = { mode: 'governance' as const, days: 30 };
      const locked = createS3Store(s3.client(proxy.endpoint), s3.bucket, proxy.endpoint, { objectLock });
      const pipeline = 'locked';
      const now = new Date(Date.now() + 2 * DAY);
      const backups = await writeHistory(locked, { prefix: 'offsite', pipeline, times: nightly(4, now) });
      const stray = randomBytes(4000);
      const strayId = createHash('sha256').update(stray).digest('hex');
      await locked.put(packKey(packsPrefix('offsite', pipeline), strayId), stray, stray.length);
      const opts = {
        where: { prefix: 'offsite', pipeline },
        retention: retentionSchema.parse({ keepLast: 1, trashDays: 0 }),
        dryRun: false,
        packSize: 64 * 1024,
        concurrency: 4,
        log: quiet,
      };
      const held = await prune(locked, { ...opts, now });
      expect(held.kept).toEqual([backups[3]!.id]);
      expect(held.deleted).toEqual([]);
      expect(new Set(held.lockedBackups)).toEqual(new Set(backups.slice(0, 3).map((b) => b.id)));
      expect(held.packs.skippedLocked).toEqual([strayId]);
      expect(held.packs.deleted).toEqual([]);
      expect((await listBackups(locked, 'offsite', pipeline)).length).toBe(4);

      // The same bucket 31 days later: every lock has run out.
      const expired = createS3Store(s3.client(proxy.endpoint), s3.bucket, proxy.endpoint, {
        objectLock,
        now: () => new Date(Date.now() + 31 * DAY),
      });
      const moved = await prune(expired, { ...opts, now: new Date(Date.now() + 31 * DAY) });
      expect(moved.lockedBackups).toEqual([]);
      expect(new Set(moved.deleted)).toEqual(new Set(backups.slice(0, 3).map((b) => b.id)));
      expect(moved.packs.deleted).toContain(strayId);
      // Their copies in the trash were written with a lock of their own: they wait for it.
      expect(moved.trashPurged).toEqual([]);
      const later = createS3Store(s3.client(proxy.endpoint), s3.bucket, proxy.endpoint, {
        objectLock,
        now: () => new Date(Date.now() + 62 * DAY),
      });
      const purged = await prune(later, { ...opts, now: new Date(Date.now() + 62 * DAY) });
      expect(new Set(purged.trashPurged)).toEqual(new Set(backups.slice(0, 3).map((b) => b.id)));
      expect(purged.packs.deleted.length + purged.packs.repacked.length).toBeGreaterThan(0);
      expect((await wholeStore(later, 'offsite', pipeline)).problems).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });
});

/** The store, failing every write after the first `n`: a crash at that point of a prune. */
function crashingAfter(store: ObjectStore, n: number): ObjectStore {
  let writes = 0;
  const write = () => {
    if (writes++ >= n) throw new Error(`crash injected after ${n} writes`);
  };
  return {
    location: store.location,
    urlOf: (k) => store.urlOf(k),
    listFolders: (p, s) => store.listFolders(p, s),
    head: (k, s) => store.head(k, s),
    get: (k, s, r) => store.get(k, s, r),
    list: (p, s) => store.list(p, s),
    async put(k, b, size, s, o) {
      write();
      return store.put(k, b, size, s, o);
    },
    async delete(k, s) {
      write();
      return store.delete(k, s);
    },
  };
}

describe('an interrupted prune', () => {
  it('after any number of writes leaves every kept backup restorable, and a rerun finishes', async () => {
    const retention = retentionSchema.parse({ keepLast: 2, keepWeekly: 2, trashDays: 0, graceHours: 0 });
    const pipeline = 'crash';
    let completedAt = -1;
    for (let n = 0; completedAt < 0; n++) {
      const root = mkdtempSync(join(dir, `crash-${n}-`));
      const store = createDirStore(root);
      const backups = await writeHistory(store, {
        prefix: 'offsite',
        pipeline,
        times: nightly(12, new Date()),
      });
      const now = new Date(Date.now() + 1000);
      const kept = retentionPlan(
        backups.map((b) => ({ ...b, verified: true })),
        retention,
        now,
      ).keep.map((k) => k.id);
      const opts = {
        where: { prefix: 'offsite', pipeline },
        retention,
        dryRun: false,
        packSize: 8 * 1024,
        concurrency: 2,
        log: quiet,
      };
      try {
        await prune(crashingAfter(store, n), { ...opts, now });
        completedAt = n;
      } catch (err) {
        expect((err as Error).message).toContain('crash injected');
      }
      await restoreEach(store, 'offsite', pipeline, kept, `crash after ${n} writes`);
      expect((await wholeStore(store, 'offsite', pipeline)).problems, `crash after ${n} writes`).toEqual([]);

      const rerun = await prune(store, { ...opts, now: new Date(Date.now() + 1000) });
      expect(new Set(rerun.kept), `rerun after ${n} writes`).toEqual(new Set(kept));
      expect(new Set((await listBackups(store, 'offsite', pipeline)).map((b) => b.id))).toEqual(
        new Set(kept),
      );
      expect(await store.list(trashPrefix('offsite', pipeline))).toEqual([]);
      // No record of a removed backup is left under backups/ (a move cut short leaves some).
      const folders = new Set(
        (await store.list(backupsPrefix('offsite', pipeline))).map((o) => o.key.split('/')[3]),
      );
      expect(folders).toEqual(new Set(kept));
      const check = await wholeStore(store, 'offsite', pipeline);
      expect(check.problems).toEqual([]);
      expect((await store.list(packsPrefix('offsite', pipeline))).length).toBe(check.packsReferenced);
      rmSync(root, { recursive: true, force: true });
    }
    // The full prune made that many writes: moves, purges, pack deletes, repacks, manifest rewrites.
    expect(completedAt).toBeGreaterThan(40);
  });
});

describe('a damaged manifest', () => {
  it('stops prune before anything is removed: the packs it needs are unknown', async () => {
    const root = mkdtempSync(join(dir, 'damaged-'));
    const store = createDirStore(root);
    const pipeline = 'damaged';
    const backups = await writeHistory(store, { prefix: 'offsite', pipeline, times: nightly(4, new Date()) });
    const garbage = Buffer.from('not a manifest');
    await store.put(manifestKey('offsite', pipeline, backups[1]!.id), garbage, garbage.length);
    const before = (await store.list('offsite/')).map((o) => o.key);
    const opts = {
      where: { prefix: 'offsite', pipeline },
      retention: retentionSchema.parse({ keepLast: 1, trashDays: 0, graceHours: 0 }),
      dryRun: false,
      packSize: 64 * 1024,
      concurrency: 2,
      log: quiet,
    };
    await expect(prune(store, { ...opts, now: new Date(Date.now() + 1000) })).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringContaining('nothing was pruned'),
    });
    expect((await store.list('offsite/')).map((o) => o.key)).toEqual(before);
  });
});
