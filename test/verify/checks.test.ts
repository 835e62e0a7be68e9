// The check modules against real Postgres: a seeded source database, template copies of it as
// "restored copies", each tampered with in one way. Every check must pass on a faithful copy and
// fail on the tampering it exists for.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../src/adapters/postgres.ts';
import type { PgTarget } from '../../src/pipeline/ports.ts';
import { runAmcheck } from '../../src/verify/amcheck.ts';
import {
  readRestoredChecksums,
  readSourceChecksums,
  reconcileChecksums,
  type SourceChecksums,
} from '../../src/verify/checksums.ts';
import { checkFreshness } from '../../src/verify/freshness.ts';
import { readRowCounts } from '../../src/verify/row-counts.ts';
import { compareSchemas } from '../../src/verify/schema-compare.ts';
import { readSchemaFingerprint, type SchemaFingerprint } from '../../src/verify/schema-fingerprint.ts';
import { checkSequences, readSequences, type SequenceState } from '../../src/verify/sequences.ts';
import { openSessionPool, type SessionPool } from '../../src/verify/session-pool.ts';
import { type AssertionOutcome, evaluateAssertion, judgeAssertion } from '../../src/verify/sql-assertions.ts';
import { datasetDate, seedDataset } from '../support/dataset.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';

let cluster: PgCluster;
let source: { checksums: SourceChecksums; schema: SchemaFingerprint; sequences: SequenceState[] };
let revenue: AssertionOutcome;
const pools: SessionPool[] = [];
const COPIES = ['faithful', 'changed_row', 'dropped_index', 'not_valid', 'seq_reset', 'amcheck'];
const REVENUE = `SELECT sum(amount) FROM app.payments WHERE status = 'succeeded'`;

const target = (database: string): PgTarget => ({ ...cluster, database });
const open = (database: string) => {
  const pool = openSessionPool(connectPostgres, target(database), 3);
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

beforeAll(async () => {
  cluster = await startCluster();
  await sql('postgres', 'CREATE DATABASE src');
  await seedDataset(cluster.url('src'), { scale: 0.05, seed: 3 });
  // Template copies need the source idle: copy first, then read its facts.
  for (const name of COPIES) await sql('postgres', `CREATE DATABASE ${name} TEMPLATE src`);
  const pool = open('src');
  const sel = { tables: 'all' as const, excludeTableData: [] };
  const [checksums, schema, sequences] = await Promise.all([
    readSourceChecksums(pool, sel),
    readSchemaFingerprint(pool),
    readSequences(pool),
  ]);
  source = { checksums, schema, sequences };
  revenue = await evaluateAssertion(pool, REVENUE);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await cluster?.stop();
});

async function checksumsOf(database: string) {
  return reconcileChecksums(source.checksums, await readRestoredChecksums(open(database), source.checksums));
}
const schemaOf = async (database: string) =>
  compareSchemas(source.schema, await readSchemaFingerprint(open(database)));

describe('a faithful copy passes every check', () => {
  it('checksums, schema, sequences, amcheck, freshness and SQL assertions', async () => {
    expect(Object.keys(source.checksums.tables)).toHaveLength(5);
    expect(source.schema.objects).toHaveProperty(['index app.events_user_created_idx']);
    expect(source.schema.objects).toHaveProperty(['extension pg_trgm']);
    expect(source.schema.objects['function app.touch_updated_at()']).toMatch(/CREATE OR REPLACE FUNCTION/);
    expect(source.sequences.find((s) => s.sequence === 'app.users_id_seq')?.feeds).toEqual([
      { table: 'app.users', column: 'id' },
    ]);
    const pool = open('faithful');
    expect(await checksumsOf('faithful')).toMatchObject({ name: 'checksums', status: 'passed' });
    expect(await schemaOf('faithful')).toMatchObject({ name: 'schema', status: 'passed' });
    expect(await checkSequences(pool, source.sequences)).toMatchObject({ status: 'passed' });
    const fresh = await checkFreshness(
      pool,
      { column: 'app.events.created_at', maxAgeHours: 24 },
      new Date(datasetDate(0).getTime() + 600_000),
    );
    expect(fresh).toMatchObject({ name: 'freshness', status: 'passed' });
    const amcheck = await runAmcheck(pool);
    expect(amcheck.failures).toEqual([]);
    expect(amcheck.indexes).toBe(6); // 4 primary keys (audit_log has none), users.email, events_user_created_idx
    // amcheck dropped the extension it created: the schema is unchanged.
    expect(await schemaOf('faithful')).toMatchObject({ status: 'passed' });
    const a = { name: 'revenue', query: REVENUE, expect: { equalsSource: true, min: 1 } };
    expect(judgeAssertion(a, await evaluateAssertion(pool, REVENUE), revenue)).toMatchObject({
      name: 'sql:revenue',
      status: 'passed',
    });
  });
});

describe("row counts share the checksums' pass", () => {
  it('a table the checksums counted is not counted again; the others are', async () => {
    const restored = await readRestoredChecksums(open('faithful'), source.checksums);
    const session = await connectPostgres(target('faithful'));
    try {
      const exact = await readRowCounts(session);
      // The checksum pass counts exactly what count(*) counts.
      for (const [table, c] of restored) expect(c.rows, table).toBe(exact.get(table));
      // A count handed in is taken as it is (a made-up one shows it was not read again).
      const shared = await readRowCounts(session, new Map([['app.users', 123_456]]));
      expect(shared.get('app.users')).toBe(123_456);
      expect(shared.get('app.events')).toBe(exact.get('app.events'));
      expect(shared.size).toBe(exact.size);
    } finally {
      await session.close();
    }
  });
});

describe('each check catches what it exists for', () => {
  it('a changed row (same count, other content) fails checksums', async () => {
    await sql(
      'changed_row',
      `UPDATE app.users SET name = name || '.' WHERE id = (SELECT min(id) FROM app.users)`,
    );
    const check = await checksumsOf('changed_row');
    expect(check.status).toBe('failed');
    expect(check.summary).toMatch(/1 of 5 tables differ/);
    const bad = check.details.filter((d) => d.ok === false);
    expect(bad).toEqual([
      expect.objectContaining({ table: 'app.users', rows: source.checksums.tables['app.users']?.rows }),
    ]);
  });

  it('a dropped index fails schema', async () => {
    await sql('dropped_index', 'DROP INDEX app.events_user_created_idx');
    const check = await schemaOf('dropped_index');
    expect(check.status).toBe('failed');
    expect(check.details[0]).toMatchObject({
      kind: 'index',
      object: 'app.events_user_created_idx',
      difference: 'missing',
    });
  });

  it('a NOT VALID constraint fails schema', async () => {
    await sql(
      'not_valid',
      'ALTER TABLE app.payments ADD CONSTRAINT amount_positive CHECK (amount > 0) NOT VALID',
    );
    const check = await schemaOf('not_valid');
    expect(check.status).toBe('failed');
    expect(check.details).toContainEqual(
      expect.objectContaining({
        kind: 'constraint',
        object: 'app.payments.amount_positive',
        difference: 'not valid',
      }),
    );
    // The same constraint NOT VALID on the source too is faithful: a warning, not a failure.
    const both = await readSchemaFingerprint(open('not_valid'));
    expect(compareSchemas(both, both)).toMatchObject({ status: 'warned' });
  });

  it('a sequence reset fails sequences', async () => {
    await sql('seq_reset', `SELECT setval('app.events_id_seq', 1)`);
    const check = await checkSequences(open('seq_reset'), source.sequences);
    expect(check.status).toBe('failed');
    const bad = check.details.find((d) => d.ok === false);
    expect(bad).toMatchObject({ sequence: 'app.events_id_seq', restored: '1' });
    expect(bad?.behind).toEqual([expect.objectContaining({ column: 'app.events.id', next: '2' })]);
  });

  it('a stale snapshot fails freshness, and future-dated data warns', async () => {
    const pool = open('faithful');
    const config = { column: 'app.events.created_at', maxAgeHours: 24 };
    const stale = await checkFreshness(pool, config, new Date(datasetDate(3).getTime()));
    expect(stale.status).toBe('failed');
    expect(stale.summary).toMatch(/stale or wrong database/);
    const future = await checkFreshness(pool, config, new Date(datasetDate(-1).getTime()));
    expect(future.status).toBe('warned');
    const missing = await checkFreshness(pool, { column: 'app.nope.created_at', maxAgeHours: 1 }, new Date());
    expect(missing).toMatchObject({ status: 'failed', summary: expect.stringMatching(/does not exist/) });
  });

  it('a failing SQL assertion names its query and value', async () => {
    const pool = open('changed_row');
    const query = `SELECT count(*) FROM app.payments WHERE status = 'pending'`;
    const outcome = await evaluateAssertion(pool, query);
    const check = judgeAssertion({ name: 'no-pending', query, expect: { max: 0 } }, outcome, undefined);
    expect(check.status).toBe('failed');
    expect(check.summary).toContain(query);
    expect(check.summary).toMatch(/value \d+ is above max 0/);
    expect(check.details[0]).toMatchObject({ query, value: expect.stringMatching(/^[1-9]\d*$/) });

    await sql(
      'changed_row',
      `UPDATE app.payments SET amount = amount + 1 WHERE id = (SELECT min(id) FROM app.payments WHERE status = 'succeeded')`,
    );
    const sourced = judgeAssertion(
      { name: 'revenue', query: REVENUE, expect: { equalsSource: true } },
      await evaluateAssertion(pool, REVENUE),
      revenue,
    );
    expect(sourced).toMatchObject({
      status: 'failed',
      summary: expect.stringMatching(/not equal to the source's/),
    });
    const broken = judgeAssertion(
      { name: 'x', query: 'SELECT nope', expect: { min: 0 } },
      await evaluateAssertion(pool, 'SELECT nope'),
      undefined,
    );
    expect(broken).toMatchObject({ status: 'failed', summary: expect.stringMatching(/query failed.*nope/) });
  });

  it('amcheck finds an index that no longer matches its heap', async () => {
    // An expression index over a function declared IMMUTABLE that then changes: the classic way
    // an index silently stops matching its table. heapallindexed finds the missing entries.
    await sql(
      'amcheck',
      `CREATE FUNCTION app.bucket(bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS 'SELECT $1 % 10';
       CREATE INDEX users_bucket_idx ON app.users (app.bucket(id));
       CREATE OR REPLACE FUNCTION app.bucket(bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS 'SELECT $1 % 10 + 1';`,
    );
    const result = await runAmcheck(open('amcheck'));
    expect(result.failures).toEqual([
      expect.objectContaining({
        index: 'app.users_bucket_idx',
        error: expect.stringMatching(/lacks matching index tuple/),
      }),
    ]);
  });
});
