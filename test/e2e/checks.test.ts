// End to end: the restore-test checks through `offsite run` (subprocess) against the local world.
// A fake pg_restore restores for real and then tampers with the restored copy; the run must exit
// 1 with the right check failed, publish nothing and leave no temporary instance.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import type { RunReport } from '../../src/report/run-report.ts';
import { MANIFEST } from '../../src/store/layout.ts';
import { fakePgTools } from '../support/fake-pg-tools.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let dir: string;
let realBinDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-checks-'));
  world = await startLocalWorld({ days: 1, scale: 0.1, runDir: join(dir, 'run') });
  realBinDir = (await findPgTools(15, undefined)).binDir;
});

afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  expect(world.emulator.listInstances().map((i) => `${i.id} ${i.status}`)).toEqual([]);
});

async function manifests(): Promise<string[]> {
  const out = await world.s3.client().send(new ListObjectsV2Command({ Bucket: world.s3.bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.endsWith(MANIFEST));
}

const statuses = (report: RunReport) => Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
const check = (report: RunReport, name: string) => report.checks.find((c) => c.name === name);

/** Runs the CLI; expects a VERIFY_MISMATCH failure of the restore test with nothing published. */
async function expectVerifyFailure(opts: { tamperSql?: string; pipeline?: string }): Promise<RunReport> {
  const before = await manifests();
  const fake = opts.tamperSql
    ? fakePgTools(realBinDir, { pg_restore: { restoreThenSql: opts.tamperSql } })
    : null;
  try {
    const env = fake ? world.env({ PATH: `${fake}:${process.env.PATH}` }) : world.env();
    const run = await runCli(['run', opts.pipeline ?? 'pipelines/demo.yaml', '--json'], env);
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.report!;
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ stage: 'restore-test', code: 'VERIFY_MISMATCH' });
    expect(report.backup).toBeNull();
    expect(report.stages.find((s) => s.name === 'upload')?.status).toBe('not-run');
    expect(report.tempInstance?.deleted).toBe(true);
    expect(await manifests()).toEqual(before);
    return report;
  } finally {
    if (fake) rmSync(fake, { recursive: true });
  }
}

describe('restore-test checks through offsite run', () => {
  it('a faithful restore passes every check the demo pipeline enables', async () => {
    const run = await runCli(['run', 'pipelines/demo.yaml', '--json'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.report!;
    expect(statuses(report)).toEqual({
      'row-counts': 'passed',
      checksums: 'passed',
      schema: 'passed',
      sequences: 'passed',
      amcheck: 'passed',
      freshness: 'passed',
      'sql:every-payment-has-a-user': 'passed',
      'sql:users-exist': 'passed',
      'sql:revenue-equals-source': 'passed',
    });
    expect(check(report, 'checksums')?.summary).toMatch(/^5 tables, [\d,]+ rows: every row hash equal$/);
    // amcheck ran on both sides (verify.amcheck.onSource) and left nothing in the dump.
    expect(check(report, 'amcheck')?.summary).toMatch(
      /on the restored copy and \d+ B-tree indexes on the temporary instance/,
    );
    expect(check(report, 'freshness')?.details[0]).toMatchObject({ column: 'app.events.created_at' });
    expect(check(report, 'freshness')?.details[0]?.ageHours).toBeLessThan(1);
    // The filter the failure tests rely on sees the manifest this run published.
    expect(await manifests()).toContain(report.backup?.manifestKey);
  });

  it('a changed row in the restored copy fails checksums (row counts still equal)', async () => {
    const report = await expectVerifyFailure({
      tamperSql: `UPDATE app.users SET name = name || '.' WHERE id = (SELECT min(id) FROM app.users)`,
    });
    expect(statuses(report)).toMatchObject({ 'row-counts': 'passed', checksums: 'failed', schema: 'passed' });
    expect(check(report, 'checksums')?.details.filter((d) => d.ok === false)).toEqual([
      expect.objectContaining({ table: 'app.users' }),
    ]);
    expect(report.error?.message).toMatch(/checksums: 1 of 5 tables differ/);
  });

  it('a dropped index and a reset sequence fail schema and sequences', async () => {
    const report = await expectVerifyFailure({
      tamperSql: `DROP INDEX app.events_user_created_idx; SELECT setval('app.events_id_seq', 1)`,
    });
    expect(statuses(report)).toMatchObject({ checksums: 'passed', schema: 'failed', sequences: 'failed' });
    expect(check(report, 'schema')?.summary).toContain('index app.events_user_created_idx missing');
    expect(check(report, 'sequences')?.details[0]).toMatchObject({
      sequence: 'app.events_id_seq',
      ok: false,
    });
  });

  it('a failing SQL assertion and stale data fail the run, the query and value in the report', async () => {
    const query = `SELECT count(*) FROM app.payments WHERE status = 'pending'`;
    const pipeline = demoPipelineWith(dir, {
      verify: {
        // The world's data ends 10 minutes before each snapshot: 3 minutes is "stale".
        freshness: { maxAgeHours: 0.05 },
        assertions: [{ name: 'no-pending-payments', query, expect: { max: 0 } }],
      },
    });
    const report = await expectVerifyFailure({ pipeline });
    expect(statuses(report)).toMatchObject({ freshness: 'failed', 'sql:no-pending-payments': 'failed' });
    expect(check(report, 'freshness')?.summary).toMatch(/stale or wrong database/);
    const failed = check(report, 'sql:no-pending-payments')!;
    expect(failed.summary).toContain(query);
    expect(failed.details[0]).toMatchObject({ query, value: expect.stringMatching(/^[1-9]\d*$/) });
    const saved = readFileSync(report.reports.json, 'utf8');
    expect(saved).toContain('no-pending-payments');
    expect(saved).toContain(`"value": "${failed.details[0]?.value}"`);
  });
});
