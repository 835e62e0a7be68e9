// The torture database (test/support/torture-db.ts) through the local world: `offsite run` must
// publish it with every check passed or warned for the source's own oddities, and the backup,
// restored by hand with the roles first and owners kept, must equal the snapshot it came from —
// judged by queries and a schema dump that are not the product's own.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/report/run-report.ts';
import {
  type DatabaseFacts,
  readDatabaseFacts,
  rolesSql,
  runPgTool,
  schemaText,
} from '../support/independent-facts.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { chownToServer, makeTempDir, type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { runCli } from '../support/run-cli.ts';
import { createTortureDatabase, TORTURE_TRUTHS, torturePipeline } from '../support/torture-db.ts';

const DB = 'torture';
let world: LocalWorld;
let dir: string;
let pipeline: string;
let report: RunReport | null = null;
const clusters: PgCluster[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-torture-'));
  world = await startLocalWorld({
    days: 1,
    scale: 0,
    runDir: join(dir, 'run'),
    database: { name: DB, create: createTortureDatabase },
  });
  pipeline = torturePipeline(dir, DB);
}, 120_000);

afterAll(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const tail = (text: string) => text.split('\n').slice(-8).join('\n');
const statuses = (r: RunReport) => Object.fromEntries(r.checks.map((c) => [c.name, c.status]));
const check = (r: RunReport, name: string) => r.checks.find((c) => c.name === name);

/** A Postgres started from a copy of the snapshot's data dir: the truth a backup must equal. */
async function startSnapshotCopy(): Promise<PgCluster> {
  const [snapshot] = world.emulator.listSnapshots();
  const dataDir = makeTempDir('pg');
  chownToServer(dataDir);
  await promisify(execFile)('cp', ['-a', `${snapshot!.dataDir}/.`, dataDir]);
  const cluster = await startCluster({ dataDir, user: world.source.user, password: world.source.password });
  clusters.push(cluster);
  return cluster;
}

/** Lines in one text and not the other (as multisets): a readable account of a schema difference. */
function lineDifference(expected: string, actual: string): { missing: string[]; extra: string[] } {
  const count = (text: string) => {
    const m = new Map<string, number>();
    for (const line of text.split('\n')) m.set(line, (m.get(line) ?? 0) + 1);
    return m;
  };
  const [e, a] = [count(expected), count(actual)];
  const less = (x: Map<string, number>, y: Map<string, number>) =>
    [...x].flatMap(([line, n]) => Array<string>(Math.max(0, n - (y.get(line) ?? 0))).fill(line));
  return { missing: less(e, a), extra: less(a, e) };
}

describe('the torture database through the local world', () => {
  it('offsite run publishes it: every check passed, or warned for exactly what the source itself holds', async () => {
    const run = await runCli(['run', pipeline, '--json'], world.env(), 300_000);
    report = run.report;
    expect(run.report?.error ?? null, tail(run.stderr)).toBeNull();
    expect(run.exitCode, tail(run.stderr)).toBe(0);
    const r = run.report!;
    expect(statuses(r)).toEqual({
      'row-counts': 'passed',
      checksums: 'passed',
      schema: 'warned',
      sequences: 'warned',
      amcheck: 'passed',
      freshness: 'skipped',
    });
    // The schema warns about the invalid partitioned index and the NOT VALID constraint, and nothing else.
    const schemaWarnings = check(r, 'schema')!.details.filter((d) => d.kind !== 'fingerprint');
    expect(schemaWarnings.map((d) => d.object).sort()).toEqual(
      [TORTURE_TRUTHS.invalidIndex, TORTURE_TRUTHS.notValidConstraint].sort(),
    );
    // The sequence behind its column on the source is behind in the backup too (faithful), and named.
    const sequences = check(r, 'sequences')!.details.filter((d) => d.ok === false || 'behind' in d);
    expect(sequences.map((d) => d.sequence)).toEqual([TORTURE_TRUTHS.sequenceBehind]);
    // The snapshot's unlogged table is empty (crash recovery truncates it): both sides agree on 0.
    const unlogged = check(r, 'row-counts')!.details.find((d) => d.table === TORTURE_TRUTHS.unloggedTable);
    expect(unlogged).toMatchObject({ source: 0, restored: 0, ok: true });
    expect(r.backup?.published).toBe(true);
    expect(world.emulator.listInstances()).toEqual([]);
  }, 320_000);

  it('the backup, restored with its roles and owners, equals the snapshot it was made from', async () => {
    expect(report?.backup?.published, 'the run above published no backup').toBe(true);
    const date = world.snapshots[0]!.at.toISOString().slice(0, 10);
    const out = join(dir, 'restored');
    const restore = await runCli(['restore', pipeline, '--date', date, '--to-dir', out], world.env());
    expect(restore.exitCode, tail(restore.stderr)).toBe(0);

    const truth = await startSnapshotCopy();
    const fresh = await startCluster();
    clusters.push(fresh);
    // Roles first (cluster objects no database dump holds), then the dump with owners and grants;
    // --create makes the database from the dump's own record of its locale, settings and comment.
    await runPgTool(
      fresh,
      'psql',
      ['--set=ON_ERROR_STOP=1', '--quiet', '--dbname', 'postgres'],
      await rolesSql(world.source),
    );
    await runPgTool(fresh, 'pg_restore', [
      '--create',
      '--exit-on-error',
      '--jobs=2',
      '--dbname',
      'postgres',
      join(out, 'dump'),
    ]);

    const [want, got] = await Promise.all([schemaText(truth, DB), schemaText(fresh, DB)]);
    expect(lineDifference(want, got)).toEqual({ missing: [], extra: [] });
    expect(got).toBe(want); // and in the same order

    const [snapshotFacts, restoredFacts, sourceFacts] = await Promise.all([
      readDatabaseFacts(truth, DB),
      readDatabaseFacts(fresh, DB),
      readDatabaseFacts(world.source, DB),
    ]);
    // The unlogged table: rows on the source, none in the snapshot, none in the backup.
    expect(sourceFacts.rows[TORTURE_TRUTHS.unloggedTable]?.rows).toBe(2);
    expect(snapshotFacts.rows[TORTURE_TRUTHS.unloggedTable]?.rows).toBe(0);
    expectSameFacts(restoredFacts, snapshotFacts);
  }, 300_000);
});

function expectSameFacts(got: DatabaseFacts, want: DatabaseFacts): void {
  expect(Object.keys(want.rows).length).toBeGreaterThan(25);
  const differing = Object.keys({ ...want.rows, ...got.rows }).filter(
    (t) => JSON.stringify(want.rows[t]) !== JSON.stringify(got.rows[t]),
  );
  expect(
    differing.map((t) => ({ table: t, snapshot: want.rows[t] ?? null, restored: got.rows[t] ?? null })),
  ).toEqual([]);
  expect(got.matviews).toEqual(want.matviews);
  expect(want.matviews[TORTURE_TRUTHS.unpopulatedMatview]).toBe(false);
  expect(got.sequences).toEqual(want.sequences);
  expect(want.largeObjects).toHaveLength(3);
  expect(got.largeObjects).toEqual(want.largeObjects);
  expect(want.database).toMatchObject({ comment: TORTURE_TRUTHS.comment, datlocprovider: 'i' });
  expect(got.database).toEqual(want.database);
}
