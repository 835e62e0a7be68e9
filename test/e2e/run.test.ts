// End to end: `offsite run` as a subprocess against the local world (RDS emulator driven by
// the real SDK, real Postgres clusters, s3rver), judged by exit code, report, objects in the
// store and instances left in the emulator.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import { MANIFEST, packKey } from '../../src/store/layout.ts';
import type { Manifest } from '../../src/store/manifest.ts';
import { type B2Proxy, startB2Proxy } from '../emulators/b2-proxy/index.ts';
import { watchArgv } from '../support/argv-watch.ts';
import { fakePgTools } from '../support/fake-pg-tools.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let proxy: B2Proxy;
let dir: string;
let realBinDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-e2e-'));
  world = await startLocalWorld({ days: 3, scale: 0.1, runDir: join(dir, 'run') });
  // The CLI reaches S3 through the B2-strict proxy (a few 503s injected), as it would reach B2.
  proxy = await startB2Proxy({ upstream: world.s3.endpoint, slowDownRate: 0.02 });
  realBinDir = (await findPgTools(15, undefined)).binDir;
});

afterAll(async () => {
  await proxy?.stop();
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The world's environment with the store behind the B2-strict proxy. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return world.env({ OFFSITE_DEMO_S3_ENDPOINT: proxy.endpoint, ...extra });
}

afterEach(() => {
  world.emulator.clearFaults();
  // Every run, whatever happened, must leave no temporary instance behind.
  expect(world.emulator.listInstances().map((i) => `${i.id} ${i.status}`)).toEqual([]);
  // Nothing the CLI sent would have been refused by B2.
  expect(proxy.forbidden).toEqual([]);
});

async function objectKeys(prefix = ''): Promise<string[]> {
  const out = await world.s3
    .client()
    .send(new ListObjectsV2Command({ Bucket: world.s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

async function objectBytes(key: string): Promise<Buffer> {
  const out = await world.s3.client().send(new GetObjectCommand({ Bucket: world.s3.bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function readsOf(report: {
  checks: { name: string; details: Record<string, unknown>[] }[];
}): Record<string, number> {
  const check = report.checks.find((c) => c.name === 'row-counts');
  return Object.fromEntries((check?.details ?? []).map((d) => [d.table as string, d.source as number]));
}

describe('offsite run (local world)', () => {
  it('publishes a verified backup of the newest snapshot from a private, tagged, deleted instance', async () => {
    const before = world.emulator.requests.length;
    const watch = watchArgv();
    const run = await runCli(['run', 'pipelines/demo.yaml', '--json'], env());
    const argvs = watch.stop();

    expect(run.exitCode, run.stderr).toBe(0);
    // The run ends with one plain summary line: verdict, sizes for people and in bytes, the report.
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(
      /^offsite run demo: succeeded in .+; backup \S+ published: [\d.]+ [KMG]?i?B \(\d+ bytes\) read, [\d.]+ [KMG]?i?B \(\d+ bytes\) uploaded, (\d+)\/\1 checks passed; report: \/.+\.html$/,
    );
    const report = run.report!;
    expect(report).toMatchObject({ schemaVersion: 1, pipeline: 'demo', status: 'succeeded', error: null });
    const newest = world.snapshots.at(-1)!;
    expect(report.snapshot?.id).toBe(newest.id);
    expect(report.stages.map((s) => [s.name, s.status])).toEqual([
      ['locate', 'succeeded'],
      ['restore', 'succeeded'],
      ['source-facts', 'succeeded'],
      ['dump', 'succeeded'],
      ['teardown', 'succeeded'],
      ['restore-test', 'succeeded'],
      // The first backup of a pipeline has no previous one to compare with.
      ['anomalies', 'skipped'],
      ['upload', 'succeeded'],
      ['report', 'succeeded'],
    ]);
    expect(report.checks.find((c) => c.name === 'row-counts')?.status).toBe('passed');
    expect(readsOf(report)).toEqual(newest.rowCounts);
    expect(report.tempInstance).toMatchObject({ deleted: true });
    expect(report.tempInstance!.lifetimeMs).toBeGreaterThan(0);

    // The manifest exists, and every file it lists reassembles from the frames in the store's
    // packs to its hash; each pack's bytes hash to its name.
    expect(report.backup?.published).toBe(true);
    const manifest = JSON.parse(
      zstdDecompressSync(await objectBytes(report.backup!.manifestKey)).toString(),
    ) as Manifest;
    expect(manifest.formatVersion).toBe(3);
    const packs = await Promise.all(
      manifest.packs.map((p) => objectBytes(packKey(manifest.chunking.packsPrefix, p.id))),
    );
    packs.forEach((bytes, i) => {
      expect(bytes.length).toBe(manifest.packs[i]!.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.packs[i]!.id);
    });
    expect(manifest.snapshot.id).toBe(newest.id);
    expect(manifest.restoreTest.status).toBe('passed');
    expect(manifest.dump.files.map((f) => f.name)).toContain('toc.dat');
    for (const file of manifest.dump.files) {
      const parts: Buffer[] = [];
      for (const [hash, size, pack, offset, length] of file.chunks) {
        const plain = zstdDecompressSync(packs[pack]!.subarray(offset, offset + length));
        expect(plain.length).toBe(size);
        expect(createHash('sha256').update(plain).digest('hex')).toBe(hash);
        parts.push(plain);
      }
      const bytes = Buffer.concat(parts);
      expect(bytes.length).toBe(file.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
    }
    const test = manifest.restoreTest;
    if (test.status !== 'passed') throw new Error(`restoreTest ${test.status}: a nightly backup is tested`);
    const record = await objectBytes(test.key);
    expect(createHash('sha256').update(record).digest('hex')).toBe(test.sha256);
    // The record and the manifest say what the report's checks said.
    const count = (status: string) => report.checks.filter((c) => c.status === status).length;
    expect(JSON.parse(record.toString())).toMatchObject({
      status: 'passed',
      passed: count('passed'),
      warned: count('warned'),
      skipped: count('skipped'),
      checks: report.checks,
    });
    expect(test.checks).toEqual(report.checks.map((c) => ({ name: c.name, status: c.status })));
    expect(manifest.versions.offsite).toBe(report.versions.offsite);
    expect(report.backup).toMatchObject({ chunksNew: expect.any(Number), chunksReused: expect.any(Number) });
    expect(report.store?.totalBytes).toBeGreaterThan(0);
    expect(await objectKeys(`offsite/demo/reports/${report.runId}`)).toHaveLength(1);
    // The filter the failure tests rely on sees the manifest this run published.
    expect((await objectKeys()).filter((k) => k.endsWith(MANIFEST))).toContain(report.backup!.manifestKey);

    // From the emulator's request log: restored private, tagged, without backups, then deleted.
    const calls = world.emulator.requests.slice(before);
    const restore = calls.find((c) => c.action === 'RestoreDBInstanceFromDBSnapshot')!;
    expect(restore.params).toMatchObject({
      DBSnapshotIdentifier: newest.id,
      PubliclyAccessible: 'false',
      BackupRetentionPeriod: '0',
      MultiAZ: 'false',
      DeletionProtection: 'false',
      DBSubnetGroupName: 'offsite-demo-private',
    });
    expect(Object.values(restore.params)).toContain('sg-0de30000000000000');
    const tagValues = Object.values(restore.params);
    expect(tagValues).toContain('offsite:run-id');
    expect(tagValues).toContain(report.runId);
    expect(tagValues).toContain('offsite:expires-at');
    const modify = calls.find((c) => c.action === 'ModifyDBInstance')!;
    expect(modify.params).toMatchObject({ MasterUserPassword: '***', ApplyImmediately: 'true' });
    const del = calls.find((c) => c.action === 'DeleteDBInstance')!;
    expect(del.params).toMatchObject({ SkipFinalSnapshot: 'true', DeleteAutomatedBackups: 'true' });
    expect(del.params.DBInstanceIdentifier).toBe(report.tempInstance!.id);

    // The master password set for this run is in no argv, log line or report.
    const passwords = world.emulator.masterPasswordsSet();
    expect(passwords.length).toBeGreaterThan(0);
    const password = passwords.at(-1)!;
    expect(password.length).toBeGreaterThanOrEqual(20);
    // Only this run's pg_dump counts as seen (its output is under the run's work directory).
    expect(argvs.some((a) => a.includes('pg_dump') && a.includes(report.runId))).toBe(true);
    expect(argvs.filter((a) => a.includes(password))).toEqual([]);
    expect(run.stderr).not.toContain(password);
    expect(run.stdout).not.toContain(password);
    expect(readFileSync(report.reports.json, 'utf8')).not.toContain(password);
    expect(readFileSync(report.reports.markdown, 'utf8')).not.toContain(password);
  });

  it('--date backs up that day’s snapshot, whose data differs from the newest', async () => {
    const first = world.snapshots[0]!;
    const date = first.at.toISOString().slice(0, 10);
    const run = await runCli(
      ['run', 'pipelines/demo.yaml', '--json', '--date', date, '--reason', 'rerun'],
      env(),
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report?.snapshot?.id).toBe(first.id);
    expect(run.report?.reason).toBe('rerun');
    expect(readsOf(run.report!)).toEqual(first.rowCounts);
    expect(first.rowCounts).not.toEqual(world.snapshots.at(-1)!.rowCounts);
  });

  it('a date without a snapshot exits 3 and lists the dates that exist', async () => {
    // Within RDS's 35-day retention (older dates are refused before anything runs) but before the world's first snapshot.
    const before = new Date(world.snapshots[0]!.at.getTime() - 10 * 86_400_000).toISOString().slice(0, 10);
    const run = await runCli(['run', 'pipelines/demo.yaml', '--json', '--date', before], env());
    expect(run.exitCode).toBe(3);
    expect(run.report?.error).toMatchObject({ stage: 'locate', code: 'SNAPSHOT_NOT_FOUND' });
    expect(run.report?.error?.message).toContain(world.snapshots[0]!.at.toISOString().slice(0, 10));
  });
});

describe('offsite run failures: no instance left, nothing published, the failed stage named', () => {
  async function expectFailure(
    args: { pipeline?: string; env?: NodeJS.ProcessEnv },
    stage: string,
    code: string,
    exitCode = 1,
  ) {
    const manifestsBefore = (await objectKeys()).filter((k) => k.endsWith(MANIFEST));
    const run = await runCli(['run', args.pipeline ?? 'pipelines/demo.yaml', '--json'], env(args.env));
    expect(run.exitCode, run.stderr).toBe(exitCode);
    expect(run.report?.status).toBe('failed');
    expect(run.report?.error).toMatchObject({ stage, code });
    expect(run.report?.backup).toBeNull();
    expect(run.report?.stages.find((s) => s.name === stage)?.status).toBe('failed');
    expect(run.report?.stages.find((s) => s.name === 'upload')?.status).toMatch(
      stage === 'upload' ? /failed/ : /not-run/,
    );
    const manifestsAfter = (await objectKeys()).filter((k) => k.endsWith(MANIFEST));
    expect(manifestsAfter).toEqual(manifestsBefore);
    if (run.report?.tempInstance) expect(run.report.tempInstance.deleted).toBe(true);
    return run;
  }

  it('restore ends incompatible-restore', async () => {
    world.emulator.setFaults({ restoreOutcome: 'incompatible-restore' });
    const run = await expectFailure({}, 'restore', 'RESTORE_FAILED');
    expect(run.report?.error?.message).toContain('incompatible-restore');
  });

  it('pg_dump fails (a failing pg_dump first on PATH)', async () => {
    const fake = fakePgTools(realBinDir, { pg_dump: 'fail' });
    const run = await expectFailure({ env: { PATH: `${fake}:${process.env.PATH}` } }, 'dump', 'DUMP_FAILED');
    expect(run.report?.error?.message).toContain('injected failure');
    rmSync(fake, { recursive: true });
  });

  it('pg_restore fails', async () => {
    const fake = fakePgTools(realBinDir, { pg_restore: 'fail' });
    await expectFailure(
      { env: { PATH: `${fake}:${process.env.PATH}` } },
      'restore-test',
      'PG_RESTORE_FAILED',
    );
    rmSync(fake, { recursive: true });
  });

  it('the restore test finds a row-count mismatch', async () => {
    const fake = fakePgTools(realBinDir, { pg_restore: 'restore-then-delete-a-row' });
    const run = await expectFailure(
      { env: { PATH: `${fake}:${process.env.PATH}` } },
      'restore-test',
      'VERIFY_MISMATCH',
    );
    const check = run.report?.checks.find((c) => c.name === 'row-counts');
    expect(check?.status).toBe('failed');
    expect(check?.details.find((d) => d.ok === false)).toMatchObject({ table: 'app.audit_log' });
    rmSync(fake, { recursive: true });
  });

  it('the store rejects the upload (B2 refuses pack uploads past a storage cap)', async () => {
    proxy.setDenyWrites(/\/packs\//);
    try {
      // A refusal by the store is access denied (exit 5), named at the upload that met it.
      const run = await expectFailure({}, 'upload', 'ACCESS_DENIED', 5);
      expect(run.report?.error?.message).toMatch(/storage cap/);
    } finally {
      proxy.setDenyWrites(null);
    }
  });

  it('a bucket that does not exist fails before any instance is created', async () => {
    const before = world.emulator.requests.length;
    const run = await runCli(
      ['run', 'pipelines/demo.yaml', '--json'],
      env({ OFFSITE_DEMO_S3_BUCKET: 'no-such-bucket' }),
    );
    expect(run.exitCode, run.stderr).not.toBe(0);
    expect(run.stderr).toMatch(/no-such-bucket/);
    const restores = world.emulator.requests.slice(before).filter((r) => r.action.startsWith('Restore'));
    expect(restores).toEqual([]);
  });

  it('the wait times out (instance stuck in creating)', async () => {
    world.emulator.setFaults({ stuckInCreating: true });
    const pipeline = demoPipelineWith(dir, { source: { tempInstance: { waitTimeoutMinutes: 0.05 } } });
    const run = await expectFailure({ pipeline }, 'restore', 'WAIT_TIMEOUT');
    expect(run.report?.tempInstance?.deleted).toBe(true);
  });
});
