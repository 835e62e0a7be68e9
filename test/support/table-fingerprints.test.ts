// The recovery scenario's judge: equal only when every table has the same rows, and a table that
// differs in its count, its content (same count) or its existence is named.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startCluster } from './postgres-cluster.ts';
import { compareTableFingerprints, readTableFingerprints } from './table-fingerprints.ts';

let cluster: PgCluster;

async function sql(db: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.url(db) });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const SCHEMA = `
  CREATE SCHEMA app;
  CREATE TABLE app.users (id int PRIMARY KEY, name text, at timestamptz);
  CREATE TABLE app.notes (id int PRIMARY KEY, body text);
  INSERT INTO app.users SELECT g, 'user ' || g, '2026-11-24 03:00+00'::timestamptz + g * interval '1 minute' FROM generate_series(1, 500) g;
  INSERT INTO app.notes SELECT g, 'note ' || g FROM generate_series(1, 300) g;`;

beforeAll(async () => {
  cluster = await startCluster();
  for (const db of ['a', 'b']) {
    await sql('postgres', `CREATE DATABASE ${db}`);
    await sql(db, SCHEMA);
  }
});

afterAll(async () => {
  await cluster?.stop();
});

describe('table fingerprints', () => {
  it('are equal for the same rows inserted in another physical order', async () => {
    await sql(
      'b',
      'CREATE TABLE app.tmp AS SELECT * FROM app.notes; TRUNCATE app.notes; INSERT INTO app.notes SELECT * FROM app.tmp ORDER BY id DESC; DROP TABLE app.tmp',
    );
    const [a, b] = await Promise.all([
      readTableFingerprints(cluster.url('a')),
      readTableFingerprints(cluster.url('b')),
    ]);
    expect(Object.keys(a).sort()).toEqual(['app.notes', 'app.users']);
    expect(a['app.users']!.rows).toBe(500);
    expect(compareTableFingerprints(a, b)).toEqual([]);
  });

  it('name a table whose content differs with the same row count, and one whose count differs', async () => {
    await sql(
      'b',
      "UPDATE app.users SET name = 'changed' WHERE id = 250; DELETE FROM app.notes WHERE id = 7",
    );
    const [a, b] = await Promise.all([
      readTableFingerprints(cluster.url('a')),
      readTableFingerprints(cluster.url('b')),
    ]);
    expect(compareTableFingerprints(a, b)).toEqual([
      { table: 'app.notes', what: 'row count', expected: a['app.notes'], actual: b['app.notes'] },
      { table: 'app.users', what: 'content', expected: a['app.users'], actual: b['app.users'] },
    ]);
  });

  it('name a table present on one side only', async () => {
    await sql('b', 'CREATE TABLE app.extra (id int)');
    const [a, b] = await Promise.all([
      readTableFingerprints(cluster.url('a')),
      readTableFingerprints(cluster.url('b')),
    ]);
    expect(compareTableFingerprints(a, b).map((d) => [d.table, d.what])).toContainEqual([
      'app.extra',
      'only in actual',
    ]);
    expect(compareTableFingerprints(b, a).map((d) => [d.table, d.what])).toContainEqual([
      'app.extra',
      'only in expected',
    ]);
  });
});
