// A local world like test/support/local-world.ts (RDS emulator, source Postgres, s3rver), with
// the B2-strict proxy in front of S3 and a content checksum of every table taken at each
// snapshot, so a restored backup can be compared with exactly the data of its own day.
import pg from 'pg';
import { type B2Proxy, startB2Proxy } from '../emulators/b2-proxy/index.ts';
import { type RdsEmulator, startRdsEmulator } from '../emulators/rds/index.ts';
import { applyDayOfChange, DATASET_TABLES, seedDataset } from '../support/dataset.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { type LocalS3, startS3Server } from '../support/s3-server.ts';

/** Per table: exact row count and an order-independent checksum of every row's text. */
export type TableDigests = Record<string, { rows: number; md5: string }>;

/** The content of every dataset table. */
export async function tableDigests(url: string): Promise<TableDigests> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: TableDigests = {};
    for (const t of DATASET_TABLES) {
      const { rows } = await client.query<{ n: string; md5: string | null }>(
        `SELECT count(*) AS n, md5(string_agg(h, '' ORDER BY h)) AS md5 FROM (SELECT md5(r::text) AS h FROM ${t} r) s`,
      );
      out[t] = { rows: Number(rows[0]!.n), md5: rows[0]!.md5 ?? '' };
    }
    return out;
  } finally {
    await client.end();
  }
}

/** A running world whose S3 is reached through the B2-strict proxy. */
export interface DedupWorld {
  emulator: RdsEmulator;
  s3: LocalS3;
  proxy: B2Proxy;
  snapshots: { id: string; at: Date; date: string; digests: TableDigests }[];
  env(runDir: string): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Seeds day 0, then one application-like day of change per further snapshot. */
export async function startDedupWorld(opts: {
  days: number;
  scale: number;
  slowDownRate: number;
}): Promise<DedupWorld> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => {});
  };
  try {
    const source: PgCluster = await startCluster();
    stops.push(() => source.stop());
    const admin = new pg.Client({ connectionString: source.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE app');
    await admin.end();
    const url = source.url('app');
    const emulator = await startRdsEmulator({ transitionMs: 100 });
    stops.push(() => emulator.stop());
    emulator.addSourceInstance({ id: 'app-db', cluster: source, masterUsername: source.user, dbName: 'app' });
    const s3 = await startS3Server({ bucket: 'offsite-demo' });
    stops.push(() => s3.stop());
    const proxy = await startB2Proxy({ upstream: s3.endpoint, slowDownRate: opts.slowDownRate });
    stops.push(() => proxy.stop());

    const hour = 3_600_000;
    const newest = Date.now() - hour;
    const snapshots: DedupWorld['snapshots'] = [];
    const atOf = (day: number) => new Date(newest - (opts.days - 1 - day) * 24 * hour);
    // The data of day d ends just before snapshot d (a freshness check compares the two).
    const epoch = new Date(atOf(0).getTime() - 10 * 60_000);
    for (let day = 0; day < opts.days; day++) {
      if (day === 0) await seedDataset(url, { scale: opts.scale, seed: 7, epoch });
      else await applyDayOfChange(url, { day, seed: 7, epoch });
      const at = atOf(day);
      const id = await emulator.takeAutomatedSnapshot('app-db', at);
      snapshots.push({ id, at, date: at.toISOString().slice(0, 10), digests: await tableDigests(url) });
    }
    return {
      emulator,
      s3,
      proxy,
      snapshots,
      env: (runDir) => ({
        ...process.env,
        OFFSITE_DEMO_RDS_ENDPOINT: emulator.endpoint,
        OFFSITE_DEMO_S3_ENDPOINT: proxy.endpoint,
        OFFSITE_DEMO_S3_BUCKET: s3.bucket,
        OFFSITE_DEMO_S3_KEY_ID: s3.accessKeyId,
        OFFSITE_DEMO_S3_SECRET: s3.secretAccessKey,
        OFFSITE_DEMO_DIR: runDir,
        AWS_ACCESS_KEY_ID: 'AKIALOCALEMULATOR',
        AWS_SECRET_ACCESS_KEY: 'local-emulator-secret',
        AWS_REGION: 'us-east-1',
      }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
