// States that are the same on the source and on a faithful restored copy are the source's truth:
// the checks warn about the source and name the object, never report a mismatch. Each case is a
// real pg_dump -Fd of a source database restored with pg_restore into another, as the restore test does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import { connectPostgres } from '../../src/adapters/postgres.ts';
import type { PgTarget, PgTools } from '../../src/pipeline/ports.ts';
import { compareSchemas } from '../../src/verify/schema-compare.ts';
import { readSchemaFingerprint } from '../../src/verify/schema-fingerprint.ts';
import { checkSequences, readSequences } from '../../src/verify/sequences.ts';
import { openSessionPool, type SessionPool } from '../../src/verify/session-pool.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';

let cluster: PgCluster;
let tools: PgTools;
let dir: string;
const pools: SessionPool[] = [];

const target = (database: string): PgTarget => ({ ...cluster, database });
const open = (database: string) => {
  const pool = openSessionPool(connectPostgres, target(database), 2);
  pools.push(pool);
  return pool;
};
async function sql(database: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.url(database) });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Creates `name` from `ddl`, dumps it and restores the dump into `<name>_restored`. */
async function dumpAndRestore(name: string, ddl: string): Promise<string> {
  await sql('postgres', `CREATE DATABASE ${name}`);
  await sql(name, ddl);
  const out = join(dir, name);
  await tools.dump({ target: target(name), outDir: out, jobs: 1, excludeTableData: [] });
  await sql('postgres', `CREATE DATABASE ${name}_restored`);
  await tools.restore({ target: target(`${name}_restored`), dumpDir: out, jobs: 1 });
  return `${name}_restored`;
}

beforeAll(async () => {
  cluster = await startCluster();
  tools = await findPgTools(cluster.majorVersion, undefined);
  dir = mkdtempSync(join(tmpdir(), 'offsite-truths-'));
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the source’s own state is a warning, not a mismatch', () => {
  it('a sequence behind its column on the source warns and names the sequence and column', async () => {
    const restored = await dumpAndRestore(
      'seq_behind',
      'CREATE TABLE t(id serial PRIMARY KEY); INSERT INTO t VALUES (10);',
    );
    const source = await readSequences(open('seq_behind'));
    const check = await checkSequences(open(restored), source);
    expect(check.status).toBe('warned');
    expect(check.summary).toMatch(/behind their column on the source itself/);
    expect(check.details[0]).toMatchObject({
      sequence: 'public.t_id_seq',
      source: '1 (not called)',
      restored: '1 (not called)',
      warning: expect.stringMatching(/public\.t\.id/),
    });

    // The same sequence behind only in the copy is a failure.
    await sql(restored, 'INSERT INTO t VALUES (20)');
    await sql('seq_behind', "SELECT setval('t_id_seq', 10)");
    const fixedSource = await readSequences(open('seq_behind'));
    await sql(restored, "SELECT setval('t_id_seq', 10)");
    expect((await checkSequences(open(restored), fixedSource)).status).toBe('failed');
  });

  it('an invalid partitioned index (ON ONLY the parent) warns, and does not claim it is missing from the dump', async () => {
    const restored = await dumpAndRestore(
      'part_idx',
      `CREATE TABLE p(a int) PARTITION BY RANGE (a);
       CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
       CREATE INDEX p_a_idx ON ONLY p(a);`,
    );
    const [source, copy] = [
      await readSchemaFingerprint(open('part_idx')),
      await readSchemaFingerprint(open(restored)),
    ];
    expect(source.invalidIndexes).toEqual(['public.p_a_idx']);
    const check = compareSchemas(source, copy);
    expect(check.status).toBe('warned');
    expect(check.details).toContainEqual(
      expect.objectContaining({ object: 'public.p_a_idx', difference: expect.stringMatching(/source too/) }),
    );
    expect(JSON.stringify(check.details)).not.toMatch(/not in the dump|lacks it/);
  });
});
