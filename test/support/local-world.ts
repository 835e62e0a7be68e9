// The local world the pipeline runs against in end-to-end tests and the demo: a source
// "production" Postgres registered in the RDS emulator with a few days of automated snapshots,
// and a local S3 server. Everything it starts, stop() stops.
import pg from 'pg';
import { type RdsEmulator, startRdsEmulator } from '../emulators/rds/index.ts';
import { applyDayOfChange, seedDataset } from './dataset.ts';
import { type PgCluster, startCluster } from './postgres-cluster.ts';
import { type LocalS3, startS3Server } from './s3-server.ts';

/** One automated snapshot of the world and the exact row counts its data had. */
export interface WorldSnapshot {
  id: string;
  day: number;
  at: Date;
  rowCounts: Record<string, number>;
}

/** A running local world. */
export interface LocalWorld {
  emulator: RdsEmulator;
  s3: LocalS3;
  source: PgCluster;
  sourceInstanceId: string;
  snapshots: WorldSnapshot[];
  /** Day 0 of the dataset's calendar (datasetDate(d, epoch) is just before snapshot d). */
  epoch: Date;
  /** Environment for an `offsite run pipelines/demo.yaml` subprocess against this world. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Options of startLocalWorld. */
export interface LocalWorldOptions {
  /** Number of daily automated snapshots (the newest taken about an hour ago). */
  days: number;
  /** Dataset size (1 ≈ 10 MB); unused with `database`. */
  scale: number;
  transitionMs?: number;
  /** Directory for reports and work files of CLI runs (OFFSITE_DEMO_DIR). */
  runDir: string;
  now?: Date;
  /**
   * The source database, made by `create` (given the cluster's superuser URL) instead of the app
   * dataset; it does not change between snapshots. Omitted: database `app` with the dataset.
   */
  database?: { name: string; create(adminUrl: string, name: string): Promise<void> };
  /** SQL run on the source's app database after day 0's data is seeded, before the first snapshot. */
  extraSql?: string;
  /**
   * The source archives its WAL into the emulator and has a base backup taken before the first
   * snapshot, so RestoreDBInstanceToPointInTime works from then on.
   */
  pitr?: boolean;
  /** Replaces applyDayOfChange for days ≥ 1 (a benchmark's own day, e.g. a change then VACUUM). */
  dayOfChange?: (appUrl: string, day: number, epoch: Date) => Promise<void>;
}

const DAY_MS = 86_400_000;
const DATA_LEAD_MS = 10 * 60_000;

async function exactRowCounts(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // A materialized view created WITH NO DATA cannot be counted: it has no rows to count.
    const tables = await client.query<{ t: string }>(
      `SELECT format('%I.%I', s.schemaname, s.relname) AS t FROM pg_stat_user_tables s
       JOIN pg_class c ON c.oid = s.relid WHERE c.relkind <> 'm' OR c.relispopulated ORDER BY 1`,
    );
    const counts: Record<string, number> = {};
    for (const { t } of tables.rows) {
      const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`);
      counts[t.replaceAll('"', '')] = Number(r.rows[0]?.n);
    }
    return counts;
  } finally {
    await client.end();
  }
}

async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Starts the world: source cluster seeded with day 0, then one day of change per snapshot. */
export async function startLocalWorld(opts: LocalWorldOptions): Promise<LocalWorld> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => {});
  };
  try {
    const emulator = await startRdsEmulator({ transitionMs: opts.transitionMs ?? 200 });
    stops.push(() => emulator.stop());
    const sourceInstanceId = 'app-db';
    // Archiving must be on from the source's start: archive_mode cannot change without a restart.
    const source = await startCluster(
      opts.pitr ? { settings: emulator.walArchiveSettings(sourceInstanceId) } : {},
    );
    stops.push(() => source.stop());
    const dbName = opts.database?.name ?? 'app';
    if (opts.database) await opts.database.create(source.url(), dbName);
    else {
      const admin = new pg.Client({ connectionString: source.url() });
      await admin.connect();
      await admin.query('CREATE DATABASE app');
      await admin.end();
    }
    const appUrl = source.url(dbName);

    emulator.addSourceInstance({
      id: sourceInstanceId,
      cluster: source,
      masterUsername: source.user,
      dbName,
    });
    if (opts.pitr) await emulator.enablePointInTimeRestore(sourceInstanceId);

    const s3 = await startS3Server({ bucket: 'offsite-demo' });
    stops.push(() => s3.stop());

    // Snapshot times: 03:10 UTC on consecutive days, the newest in the last 24 h.
    const now = opts.now ?? new Date();
    let newest = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 3, 10);
    if (newest > now.getTime()) newest -= DAY_MS;
    const snapshots: WorldSnapshot[] = [];
    const atOf = (day: number) => new Date(newest - (opts.days - 1 - day) * DAY_MS);
    // The data of day d ends DATA_LEAD_MS before snapshot d, as an app's writes end just before
    // its nightly snapshot: so a freshness check sees real-looking ages at any real "now".
    const epoch = new Date(atOf(0).getTime() - DATA_LEAD_MS);
    for (let day = 0; day < opts.days; day++) {
      // A database made by the caller stays as it was made.
      if (!opts.database) {
        if (day === 0) {
          await seedDataset(appUrl, { scale: opts.scale, seed: 7, epoch });
          if (opts.extraSql) await runSql(appUrl, opts.extraSql);
        } else if (opts.dayOfChange) await opts.dayOfChange(appUrl, day, epoch);
        else await applyDayOfChange(appUrl, { day, seed: 7, epoch });
      }
      const at = atOf(day);
      const id = await emulator.takeAutomatedSnapshot(sourceInstanceId, at);
      snapshots.push({ id, day, at, rowCounts: await exactRowCounts(appUrl) });
    }

    return {
      emulator,
      s3,
      source,
      sourceInstanceId,
      snapshots,
      epoch,
      env: (extra = {}) => ({
        ...process.env,
        OFFSITE_DEMO_RDS_ENDPOINT: emulator.endpoint,
        OFFSITE_DEMO_S3_ENDPOINT: s3.endpoint,
        OFFSITE_DEMO_S3_BUCKET: s3.bucket,
        OFFSITE_DEMO_S3_KEY_ID: s3.accessKeyId,
        OFFSITE_DEMO_S3_SECRET: s3.secretAccessKey,
        OFFSITE_DEMO_DIR: opts.runDir,
        // The emulator accepts any signature; the SDK still wants credentials to sign with.
        AWS_ACCESS_KEY_ID: 'AKIALOCALEMULATOR',
        AWS_SECRET_ACCESS_KEY: 'local-emulator-secret',
        AWS_REGION: 'us-east-1',
        ...extra,
      }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
