// Day over day, end to end: a table emptied between two nightly snapshots is flagged when the
// second backup is compared with the first (a warning by default, a failure that publishes
// nothing when configured), and `offsite report` lists the runs from the store alone.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/report/run-report.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let dir: string;
const runs: RunReport[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-anomalies-'));
  world = await startLocalWorld({ days: 2, scale: 0.1, runDir: join(dir, 'run') });
});

afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function keysUnder(prefix: string): Promise<string[]> {
  const out = await world.s3
    .client()
    .send(new ListObjectsV2Command({ Bucket: world.s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function emptyAuditLogAndSnapshot(): Promise<void> {
  const client = new pg.Client({ connectionString: world.source.url('app') });
  await client.connect();
  try {
    await client.query('DELETE FROM app.audit_log');
  } finally {
    await client.end();
  }
  // A later snapshot the same night: the newest one, which a nightly run picks.
  const at = new Date(world.snapshots.at(-1)!.at.getTime() + 120_000);
  await world.emulator.takeAutomatedSnapshot(world.sourceInstanceId, at);
}

describe('day-over-day anomalies (local world)', () => {
  it('the first backup has nothing to compare with: a skipped note, not a failure', async () => {
    const date = world.snapshots[0]!.at.toISOString().slice(0, 10);
    const run = await runCli(['run', 'pipelines/demo.yaml', '--json', '--date', date], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.report!;
    runs.push(report);
    expect(report.stages.find((s) => s.name === 'anomalies')?.status).toBe('skipped');
    expect(report.anomalies.map((a) => [a.name, a.status])).toEqual([['previous-backup', 'skipped']]);
    // The HTML page sits beside the JSON, locally and in the store.
    expect(report.reports.html).toMatch(/\.html$/);
    expect(readFileSync(report.reports.html!, 'utf8')).toContain('id="summary"');
    expect(await keysUnder(`offsite/demo/reports/${report.runId}`)).toEqual([
      `offsite/demo/reports/${report.runId}.json`,
    ]);
    const page = await keysUnder(`offsite/demo/reports/html/${report.runId}`);
    expect(page).toEqual([`offsite/demo/reports/html/${report.runId}.html`]);
  });

  it('a table emptied since the previous backup is a warning; the backup is still published', async () => {
    await emptyAuditLogAndSnapshot();
    const run = await runCli(['run', 'pipelines/demo.yaml', '--json'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.report!;
    runs.push(report);
    expect(report.status).toBe('succeeded');
    expect(report.backup?.published).toBe(true);
    const note = report.anomalies.find((a) => a.name === 'previous-backup');
    expect(note).toMatchObject({ status: 'passed', details: [{ runId: runs[0]!.runId }] });
    const emptied = report.anomalies.find((a) => a.name === 'table-emptied');
    expect(emptied?.status).toBe('warned');
    expect(emptied?.details).toContainEqual({
      table: 'app.audit_log',
      previous: world.snapshots[0]!.rowCounts['app.audit_log'],
      current: 0,
    });
    expect(readFileSync(report.reports.markdown, 'utf8')).toContain('table-emptied');
    expect(readFileSync(report.reports.html!, 'utf8')).toContain('app.audit_log');
  });

  it('configured as a failure, the same finding fails the run (exit 1) and publishes nothing', async () => {
    const pipeline = demoPipelineWith(dir, { anomalies: { fail: ['table-emptied', 'table-missing'] } });
    const backupsBefore = await keysUnder('offsite/demo/backups/');
    const run = await runCli(['run', pipeline, '--json'], world.env());
    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.report!;
    runs.push(report);
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ stage: 'anomalies', code: 'ANOMALY_DETECTED' });
    expect(report.error?.message).toContain('app.audit_log');
    expect(report.anomalies.find((a) => a.name === 'table-emptied')?.status).toBe('failed');
    expect(report.stages.find((s) => s.name === 'upload')?.status).toBe('not-run');
    expect(report.backup).toBeNull();
    expect(await keysUnder('offsite/demo/backups/')).toEqual(backupsBefore);
    expect(world.emulator.listInstances()).toEqual([]);
  });
});

describe('offsite report (from the store)', () => {
  it('lists every run, shows one date, and writes an index linking each run page', async () => {
    expect(runs).toHaveLength(3);
    // The local reports are gone: the history must come from the store.
    rmSync(join(dir, 'run', 'reports'), { recursive: true, force: true });

    const list = await runCli(['report', 'pipelines/demo.yaml', '--json'], world.env());
    expect(list.exitCode, list.stderr).toBe(0);
    const history = JSON.parse(list.stdout) as {
      runs: { runId: string; status: string; published: boolean }[];
    };
    expect(history.runs.map((r) => [r.runId, r.status, r.published])).toEqual([
      [runs[0]!.runId, 'succeeded', true],
      [runs[1]!.runId, 'succeeded', true],
      [runs[2]!.runId, 'failed', false],
    ]);

    const text = await runCli(['report', 'pipelines/demo.yaml'], world.env());
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout.trim().split('\n')).toHaveLength(4);
    expect(text.stdout).toContain(runs[0]!.snapshot!.id);

    const day0 = runs[0]!.snapshot!.createdAt.slice(0, 10);
    const one = await runCli(['report', 'pipelines/demo.yaml', '--json', '--date', day0], world.env());
    expect(one.exitCode, one.stderr).toBe(0);
    expect(one.report?.runId).toBe(runs[0]!.runId);

    const html = join(dir, 'html');
    const pages = await runCli(['report', 'pipelines/demo.yaml', '--html', html], world.env());
    expect(pages.exitCode, pages.stderr).toBe(0);
    const index = readFileSync(join(html, 'index.html'), 'utf8');
    for (const r of runs) {
      expect(index).toContain(`href="${r.runId}.html"`);
      expect(existsSync(join(html, `${r.runId}.html`))).toBe(true);
    }
    expect(readFileSync(join(html, `${runs[2]!.runId}.html`), 'utf8')).toContain('ANOMALY_DETECTED');

    const missing = await runCli(['report', 'pipelines/demo.yaml', '--date', '2020-01-01'], world.env());
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr).toContain(day0);
  });
});
