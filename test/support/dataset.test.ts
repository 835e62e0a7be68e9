import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyDayOfChange,
  DATASET_TABLES,
  type DatasetSummary,
  datasetDate,
  seedDataset,
  uniformUpdate,
} from './dataset.ts';
import { type PgCluster, startCluster } from './postgres-cluster.ts';

const SCALE = 0.2; // ~8,000 rows, ~2 MB: big enough for the proportions to hold, seeds in well under a second

describe('demo dataset', () => {
  let cluster: PgCluster;
  let summary: DatasetSummary;
  let tiny: DatasetSummary;

  const query = async <T extends pg.QueryResultRow>(db: string, sql: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: cluster.url(db) });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const one = async (db: string, sql: string) => Object.values((await query(db, sql))[0]!)[0];
  const counts = async (db: string): Promise<Record<string, number>> =>
    Object.fromEntries(
      await Promise.all(
        DATASET_TABLES.map(async (t) => [t, Number(await one(db, `SELECT count(*) FROM ${t}`))]),
      ),
    );
  // Order-independent, so it also covers audit_log, which has no key.
  const checksum = (db: string, table: string) =>
    one(db, `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM ${table} t`);

  beforeAll(async () => {
    cluster = await startCluster();
    for (const db of ['a', 'b', 'c', 'tiny']) await query('postgres', `CREATE DATABASE ${db}`);
    [summary] = await Promise.all([
      seedDataset(cluster.url('a'), { scale: SCALE, seed: 7 }),
      seedDataset(cluster.url('b'), { scale: SCALE, seed: 7 }),
      seedDataset(cluster.url('c'), { scale: SCALE, seed: 8 }),
    ]);
    tiny = await seedDataset(cluster.url('tiny'), { scale: 0.05 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('reports exact row counts and a size that scales linearly from ~10 MB at scale 1', async () => {
    expect(summary.tables).toEqual(await counts('a'));
    expect(summary.tables['app.events']).toBe(Math.max(...Object.values(summary.tables)));
    expect(summary.bytes).toBeGreaterThan(SCALE * 6e6);
    expect(summary.bytes).toBeLessThan(SCALE * 15e6);
    expect(tiny.tables).toEqual(await counts('tiny'));
    expect(tiny.tables['app.events']).toBe(Math.round(summary.tables['app.events']! / 4));
  });

  it('creates an application-like schema with valid foreign keys', async () => {
    expect(await one('a', `SELECT count(*)::int FROM pg_extension WHERE extname = 'pg_trgm'`)).toBe(1);
    expect(await one('a', `SELECT count(*)::int FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%'`)).toBe(
      1,
    );
    expect(await one('a', `SELECT count(*)::int FROM pg_views WHERE schemaname = 'app'`)).toBe(1);
    expect(
      await one('a', `SELECT count(*)::int FROM pg_trigger WHERE tgname = 'users_touch_updated_at'`),
    ).toBe(1);
    expect(
      await one(
        'a',
        `SELECT count(*)::int FROM pg_constraint WHERE conrelid = 'app.audit_log'::regclass AND contype = 'p'`,
      ),
    ).toBe(0);
    expect(
      await one(
        'a',
        `SELECT count(*)::int FROM pg_constraint WHERE contype = 'f' AND connamespace = 'app'::regnamespace AND convalidated`,
      ),
    ).toBe(3);
    for (const t of ['app.events', 'app.payments', 'app.notes']) {
      expect(
        await one(
          'a',
          `SELECT count(*)::int FROM ${t} x WHERE NOT EXISTS (SELECT FROM app.users u WHERE u.id = x.user_id)`,
        ),
      ).toBe(0);
    }
    // The newest event is just before the simulated day 0, which a freshness check relies on.
    const newest = (await one('a', 'SELECT max(created_at) FROM app.events')) as Date;
    expect(datasetDate(0).toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(datasetDate(0).getTime() - newest.getTime()).toBeGreaterThanOrEqual(0);
    expect(datasetDate(0).getTime() - newest.getTime()).toBeLessThan(3_600_000);
  });

  it('is deterministic: same seed, same content; another seed, other content', async () => {
    for (const t of DATASET_TABLES) expect(await checksum('b', t)).toBe(await checksum('a', t));
    expect(await checksum('c', 'app.events')).not.toBe(await checksum('a', 'app.events'));
  });

  it('compresses like real data: gzip ratio of COPY events between 2 and 5', async () => {
    const { stdout } = await promisify(execFile)(
      join(cluster.binDir, 'psql'),
      [
        '-X',
        '-h',
        cluster.host,
        '-p',
        String(cluster.port),
        '-U',
        cluster.user,
        '-d',
        'a',
        '-c',
        'COPY app.events TO STDOUT',
      ],
      { env: { ...process.env, PGPASSWORD: cluster.password }, encoding: 'buffer', maxBuffer: 1 << 28 },
    );
    const ratio = stdout.length / gzipSync(stdout).length;
    expect(stdout.length).toBeGreaterThan(SCALE * 4e6);
    expect(ratio).toBeGreaterThan(2);
    expect(ratio).toBeLessThan(5);
  });

  it('applies a day of app-like change: about the fraction asked, deterministic per (day, seed)', async () => {
    const before = await counts('a');
    const sums = Object.fromEntries(
      await Promise.all(DATASET_TABLES.map(async (t) => [t, await checksum('a', t)])),
    );
    const total = Object.values(before).reduce((x, y) => x + y, 0);
    const change = await applyDayOfChange(cluster.url('a'), { day: 1, seed: 7 });
    await applyDayOfChange(cluster.url('b'), { day: 1, seed: 7 });

    const after = await counts('a');
    for (const t of DATASET_TABLES) {
      expect(after[t], t).toBe(before[t]! + (change.inserted[t] ?? 0) - (change.deleted[t] ?? 0));
      expect(await checksum('a', t), t).not.toBe(sums[t]);
      expect(await checksum('b', t), t).toBe(await checksum('a', t));
    }
    const touched = [change.inserted, change.updated, change.deleted]
      .flatMap(Object.values)
      .reduce((x, y) => x + y, 0);
    expect(touched / total).toBeGreaterThan(0.007);
    expect(touched / total).toBeLessThan(0.013);
    for (const t of ['app.events', 'app.payments', 'app.audit_log'])
      expect(change.inserted[t]).toBeGreaterThan(0);
    for (const t of ['app.users', 'app.events', 'app.payments', 'app.notes'])
      expect(change.updated[t]).toBeGreaterThan(0);
    expect(change.deleted['app.users']).toBeGreaterThan(0);

    // New rows fall on the simulated day; updates hit recent events and only the hot set of users.
    const [dayStart, dayEnd] = [datasetDate(0).toISOString(), datasetDate(1).toISOString()];
    expect(
      await one(
        'a',
        `SELECT count(*)::int FROM app.events WHERE created_at >= '${dayStart}' AND created_at < '${dayEnd}'`,
      ),
    ).toBe(change.inserted['app.events']);
    expect(await one('a', `SELECT max(created_at) < '${dayEnd}' FROM app.events`)).toBe(true);
    expect(
      await one(
        'a',
        `SELECT min(id) > 0.9 * (SELECT max(id) FROM app.events) FROM app.events WHERE payload ? 'processed'`,
      ),
    ).toBe(true);
    expect(
      await one('a', `SELECT count(*)::int FROM app.users WHERE updated_at > created_at AND id % 50 <> 7`),
    ).toBe(0);
  });

  it('spreads a uniform update over the whole table', async () => {
    const n = await uniformUpdate(cluster.url('c'), { table: 'events', fraction: 0.1, seed: 3 });
    const rows = await query<{ n: number; lo: number; hi: number; max: number }>(
      'c',
      `SELECT count(*)::int n, min(id)::int lo, max(id)::int hi, (SELECT max(id)::int FROM app.events) max FROM app.events WHERE payload ? 'rev'`,
    );
    const { lo, hi, max } = rows[0]!;
    expect(rows[0]!.n).toBe(n);
    expect(n / summary.tables['app.events']!).toBeGreaterThan(0.07);
    expect(n / summary.tables['app.events']!).toBeLessThan(0.13);
    expect(lo).toBeLessThan(0.05 * max);
    expect(hi).toBeGreaterThan(0.95 * max);
  });

  it('moves its calendar to a given epoch: the newest rows end just before each day', async () => {
    const epoch = new Date(Date.UTC(2031, 0, 5, 2, 50));
    await query('postgres', 'CREATE DATABASE epoch');
    await seedDataset(cluster.url('epoch'), { scale: 0.05, seed: 7, epoch });
    const newestMs = async () =>
      ((await one('epoch', 'SELECT max(created_at) FROM app.events')) as Date).getTime();
    expect(datasetDate(0, epoch)).toEqual(epoch);
    expect(epoch.getTime() - (await newestMs())).toBeGreaterThanOrEqual(0);
    expect(epoch.getTime() - (await newestMs())).toBeLessThan(3_600_000);
    await applyDayOfChange(cluster.url('epoch'), { day: 1, seed: 7, epoch });
    const dayOne = datasetDate(1, epoch).getTime();
    expect(dayOne - (await newestMs())).toBeGreaterThanOrEqual(0);
    expect(dayOne - (await newestMs())).toBeLessThan(3_600_000);
  });

  it('rejects what it cannot simulate', async () => {
    await expect(applyDayOfChange(cluster.url('c'), { day: 0 })).rejects.toThrow(/day must be/);
    await expect(uniformUpdate(cluster.url('c'), { table: 'audit_log', fraction: 0.1 })).rejects.toThrow(
      /not one of/,
    );
  });
});
