// End to end: `offsite run --at` as a subprocess against a local world whose source archives its
// WAL. A nightly backup first; then rows A, an instant T, rows B: the backup at T holds A and not
// B, verifies, and shares nearly all its chunks with the nightly one. `--at now` holds B too and
// states its time; a time outside the restore window fails before any restore request.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/report/run-report.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let target: PgCluster;
let dir: string;
let pipeline: string;
let nightly: RunReport;
let instant: Date;

async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

const mark = (labels: string[]) =>
  `INSERT INTO app.audit_log (at, actor, action, detail) VALUES ${labels
    .map((l) => `(now(), 'pitr-test', '${l}', '{}')`)
    .join(', ')}`;

/** A time strictly after every commit so far by the server's clock; returns once it has passed. */
async function instantAfterCommits(): Promise<Date> {
  const [row] = await sql<{ ms: string }>(
    world.source.url(),
    'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms',
  );
  const at = new Date(Number(row!.ms) + 1);
  while (Date.now() <= at.getTime()) await new Promise((r) => setTimeout(r, 5));
  return at;
}

/** The marks a backup holds, restored with `offsite restore --to` into a new database. */
async function marksOf(backupId: string, db: string): Promise<string[]> {
  const url = `postgres://${target.user}@${target.host}:${target.port}/${db}`;
  const run = await runCli(
    ['restore', pipeline, '--backup', backupId, '--to', url, '--json'],
    world.env({ PGPASSWORD: target.password }),
  );
  expect(run.exitCode, run.stderr).toBe(0);
  const rows = await sql<{ action: string }>(
    target.url(db),
    "SELECT action FROM app.audit_log WHERE actor = 'pitr-test' ORDER BY action",
  );
  return rows.map((r) => r.action);
}

const restoreRequests = () =>
  world.emulator.requests.filter((r) => r.action.startsWith('RestoreDBInstance')).length;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-pitr-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run'), pitr: true });
  pipeline = demoPipelineWith(dir, {});
  const run = await runCli(['run', pipeline, '--json'], world.env());
  expect(run.exitCode, run.stderr).toBe(0);
  nightly = run.report!;
  await sql(world.source.url('app'), mark(['a1', 'a2']));
  instant = await instantAfterCommits();
  await sql(world.source.url('app'), mark(['b1']));
  target = await startCluster();
}, 600_000);

afterAll(async () => {
  await target?.stop();
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('offsite run --at', () => {
  it('backs up the source as it was at T: the rows before T, not those after, sharing chunks with the nightly', async () => {
    const run = await runCli(
      ['run', pipeline, '--at', instant.toISOString(), '--reason', 'before release 4.2', '--json'],
      world.env(),
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.report!;
    expect(report.snapshot?.pointInTime).toEqual({ restoreTime: instant.toISOString(), latest: false });
    expect(report.reason).toBe('before release 4.2');
    const restore = world.emulator.requests.filter((r) => r.action === 'RestoreDBInstanceToPointInTime');
    expect(restore.at(-1)?.params).toMatchObject({
      SourceDBInstanceIdentifier: world.sourceInstanceId,
      RestoreTime: instant.toISOString(),
      PubliclyAccessible: 'false',
      BackupRetentionPeriod: '0',
    });
    expect(report.checks.filter((c) => c.status === 'failed')).toEqual([]);
    expect(report.tempInstance?.deleted).toBe(true);
    // Sorted after the nightly one: backup ids start with the restore time.
    expect(report.backup!.id > nightly.backup!.id).toBe(true);
    // Deduplicated against the nightly backup: a day's worth of unchanged data is not uploaded again.
    expect(report.backup!.bytesUploaded).toBeLessThan(nightly.backup!.bytesUploaded * 0.25);
    expect(await marksOf(report.backup!.id, 'at_instant')).toEqual(['a1', 'a2']);
    // list, the Markdown summary and the HTML page say it is a moment, with its reason.
    const list = await runCli(['list', pipeline, '--json'], world.env());
    const line = (JSON.parse(list.stdout) as { id: string; pointInTime: unknown }[]).find(
      (b) => b.id === report.backup!.id,
    );
    expect(line?.pointInTime).toEqual({
      restoreTime: instant.toISOString(),
      latest: false,
      reason: 'before release 4.2',
    });
    expect(readFileSync(report.reports.markdown, 'utf8')).toContain(
      `Point in time: the source as it was at ${instant.toISOString()}`,
    );
    expect(readFileSync(report.reports.html!, 'utf8')).toMatch(
      /the source as it was at .*a point in time, before release 4\.2/,
    );
  });

  it('--at now backs up the latest restorable time, stated in the report, with the later rows', async () => {
    const before = Date.now();
    const run = await runCli(['run', pipeline, '--at', 'now', '--json'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    const point = run.report!.snapshot?.pointInTime;
    expect(point?.latest).toBe(true);
    expect(new Date(point!.restoreTime).getTime()).toBeGreaterThanOrEqual(before);
    const restore = world.emulator.requests.filter((r) => r.action === 'RestoreDBInstanceToPointInTime');
    expect(restore.at(-1)?.params['UseLatestRestorableTime']).toBe('true');
    expect(await marksOf(run.report!.backup!.id, 'at_now')).toEqual(['a1', 'a2', 'b1']);
  });

  it('a time outside the restore window fails with exit 3 before any restore, naming the window', async () => {
    for (const at of [
      new Date(Date.now() - 365 * 86_400_000).toISOString(),
      new Date(Date.now() + 86_400_000).toISOString(),
    ]) {
      const restoresBefore = restoreRequests();
      const run = await runCli(['run', pipeline, '--at', at, '--json'], world.env());
      expect(run.exitCode, run.stderr).toBe(3);
      expect(run.report?.error).toMatchObject({ stage: 'locate', code: 'POINT_IN_TIME_OUTSIDE_WINDOW' });
      expect(run.report?.error?.message).toMatch(
        new RegExp(`--at ${at} is outside the restore window of app-db: \\S+Z to \\S+Z`),
      );
      expect(restoreRequests()).toBe(restoresBefore);
    }
  });

  it('--at with --date, or without a zone, is a usage error', async () => {
    const both = await runCli(['run', pipeline, '--at', 'now', '--date', '2026-01-01'], world.env());
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--at and --date exclude each other');
    const noZone = await runCli(['run', pipeline, '--at', '2026-01-01T10:00:00'], world.env());
    expect(noZone.exitCode).toBe(2);
    expect(noZone.stderr).toContain('expected now or an ISO 8601 time with a zone');
  });
});
