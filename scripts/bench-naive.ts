// The naive baseline of `npm run bench`: the reference team's nightly sequence with standard
// tools, one step after another — restore the snapshot to an instance, pg_dump -Fc from it, delete
// it, createdb + single-job pg_restore into a scratch server, exact row counts, then the dump
// uploaded whole with the SDK's plain PutObject.
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { PgTarget } from '../src/pipeline/ports.ts';
import type { LocalWorld } from '../test/support/local-world.ts';
import { restoreInstance } from './bench-instance.ts';
import { type Timed, timedOk } from './bench-timed.ts';

/** What the naive pipeline cost, stage by stage. */
export interface NaiveResult {
  wallSeconds: number;
  uploadedBytes: number;
  storeGrowthBytes: number;
  /** CPU of pg_dump, createdb and pg_restore, plus this process's own during the upload; null without GNU time. */
  cpuSeconds: number | null;
  /** The largest peak RSS of the tools it ran (the upload streams: this process's memory is not counted). */
  peakRssBytes: number | null;
  stages: Record<string, number>;
}

const since = (t: number) => (performance.now() - t) / 1000;

/** Runs the naive nightly over `snapshotId`; the scratch server is `scratch` (an admin target). */
export async function runNaive(opts: {
  world: LocalWorld;
  snapshotId: string;
  scratch: PgTarget;
  binDir: string;
  work: string;
}): Promise<NaiveResult> {
  const { world, scratch, binDir, work } = opts;
  const stages: Record<string, number> = {};
  const tools: Timed[] = [];
  const started = performance.now();

  let t = performance.now();
  const instance = await restoreInstance(world, opts.snapshotId, 'naive-restore');
  stages['restore'] = since(t);

  t = performance.now();
  const file = join(work, 'app.dump');
  const src = instance.target;
  // A throwaway benchmark password through the environment (never argv).
  const envOf = (target: PgTarget) => ({ ...process.env, PGPASSWORD: target.password });
  const conn = (target: PgTarget) => ['-h', target.host, '-p', String(target.port), '-U', target.user];
  tools.push(
    await timedOk(join(binDir, 'pg_dump'), ['-Fc', '-f', file, ...conn(src), '-d', src.database], {
      env: envOf(src),
    }),
  );
  stages['dump'] = since(t);

  t = performance.now();
  await instance.remove();
  stages['teardown'] = since(t);

  t = performance.now();
  const db = 'naive_restore';
  tools.push(await timedOk(join(binDir, 'createdb'), [...conn(scratch), db], { env: envOf(scratch) }));
  tools.push(
    await timedOk(join(binDir, 'pg_restore'), ['--exit-on-error', ...conn(scratch), '-d', db, file], {
      env: envOf(scratch),
    }),
  );
  const client = new pg.Client({ ...scratch, database: db });
  await client.connect();
  try {
    const { rows } = await client.query<{ t: string }>(
      `SELECT format('%I.%I', schemaname, relname) AS t FROM pg_stat_user_tables ORDER BY 1`,
    );
    for (const { t: table } of rows) await client.query(`SELECT count(*) FROM ${table}`);
  } finally {
    await client.end();
  }
  stages['restore-test'] = since(t);

  t = performance.now();
  const cpu = process.cpuUsage();
  const bytes = statSync(file).size;
  const s3 = world.s3.client();
  await s3.send(
    new PutObjectCommand({
      Bucket: world.s3.bucket,
      Key: 'naive/app.dump',
      Body: createReadStream(file),
      ContentLength: bytes,
    }),
  );
  const uploadCpu = process.cpuUsage(cpu);
  stages['upload'] = since(t);
  const wallSeconds = since(started);

  // Not part of the naive run's time: leave the scratch server as it was for the next restore.
  const admin = new pg.Client({ ...scratch });
  await admin.connect();
  await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
  await admin.end();

  const cpus = tools.map((x) => x.cpuSeconds);
  const rss = tools.map((x) => x.maxRssBytes);
  return {
    wallSeconds,
    uploadedBytes: bytes,
    storeGrowthBytes: bytes,
    cpuSeconds: cpus.includes(null)
      ? null
      : (cpus as number[]).reduce((a, b) => a + b, 0) + (uploadCpu.user + uploadCpu.system) / 1e6,
    peakRssBytes: rss.includes(null) ? null : Math.max(...(rss as number[])),
    stages,
  };
}
