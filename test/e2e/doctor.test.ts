// End to end: `offsite doctor` as a subprocess against the local world (RDS emulator through the
// real SDK, s3rver, real pg_dump and scratch servers): it passes there, and each check fails with
// its fix when its one precondition is broken.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCTOR_CHECKS } from '../../src/doctor/run-doctor.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { REPO_ROOT, runCli } from '../support/run-cli.ts';

interface DoctorJson {
  status: string;
  checks: { name: string; status: string; fix: string }[];
}

let world: LocalWorld;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-doctor-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
  // A second source whose only automated snapshot is ten days old.
  world.emulator.addSourceInstance({
    id: 'stale-db',
    cluster: world.source,
    masterUsername: world.source.user,
    dbName: 'app',
  });
  world.emulator.cloneSnapshot(world.snapshots[0]!.id, {
    at: new Date(Date.now() - 10 * 86_400_000),
    sourceId: 'stale-db',
  });
});

afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function doctor(file: string, env: NodeJS.ProcessEnv = {}) {
  const run = await runCli(['doctor', file, '--json'], world.env(env));
  let json: DoctorJson | null = null;
  try {
    json = JSON.parse(run.stdout) as DoctorJson;
  } catch {}
  return { ...run, json };
}

const failedNames = (json: DoctorJson | null) =>
  (json?.checks ?? []).filter((c) => c.status === 'failed').map((c) => c.name);

describe('offsite doctor (local world)', () => {
  it('passes in the local world: exit 0, one { name, status, fix } per check, not-built parts skipped', async () => {
    const run = await doctor('pipelines/demo.yaml');
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const json = run.json!;
    expect(Object.keys(json).sort()).toEqual(['checks', 'status']);
    expect(json.status).toBe('passed');
    expect(json.checks.map((c) => c.name)).toEqual([...DOCTOR_CHECKS]);
    for (const c of json.checks) expect(Object.keys(c).sort()).toEqual(['fix', 'name', 'status']);
    const byStatus = (s: string) => json.checks.filter((c) => c.status === s).map((c) => c.name);
    expect(byStatus('skipped')).toEqual(['security-groups', 'encryption', 'notifiers']);
    expect(json.checks.find((c) => c.name === 'security-groups')?.fix).toBe('checked at restore time by RDS');
    expect(json.checks.find((c) => c.name === 'encryption')?.fix).toBe('not configured');
    // The subnet group was asked for by name, and the store probe was removed again.
    expect(
      world.emulator.requests.some(
        (r) => r.action === 'DescribeDBSubnetGroups' && r.params.DBSubnetGroupName === 'offsite-demo-private',
      ),
    ).toBe(true);
    const left = await world.s3
      .client()
      .send(new ListObjectsV2Command({ Bucket: world.s3.bucket, Prefix: 'offsite/demo/doctor/' }));
    expect(left.Contents ?? []).toEqual([]);
  });

  it('prints one line per check and a verdict without --json', async () => {
    const run = await runCli(['doctor', 'demo'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(DOCTOR_CHECKS.length + 1);
    expect(lines.at(-1)).toMatch(/^passed: /);
    expect(lines[0]).toMatch(/^ok\s+pipeline-file\s+pipelines\/demo\.yaml is valid/);
  });

  it("checks an encrypted pipeline's key: passed on an empty store, failed naming the variable when it is unset", async () => {
    const file = demoPipelineWith(
      dir,
      { name: 'sealed', encryption: { keys: [{ passphraseEnv: 'OFFSITE_KEY' }] } },
      'sealed.yaml',
    );
    const run = await doctor(file, { OFFSITE_KEY: 'a passphrase long enough for a store' });
    expect(run.exitCode, run.stdout).toBe(0);
    const check = (
      await runCli(['doctor', file], world.env({ OFFSITE_KEY: 'a passphrase long enough for a store' }))
    ).stdout;
    expect(check).toMatch(
      /^ok\s+encryption\s+no data key yet: the first run makes it, wrapped by the passphrase in OFFSITE_KEY/m,
    );
    const unset = await doctor(file, { OFFSITE_KEY: '' });
    expect(unset.exitCode).toBe(3);
    expect(failedNames(unset.json)).toEqual(['machine', 'encryption']);
    expect(unset.json!.checks.find((c) => c.name === 'encryption')?.fix).toContain('OFFSITE_KEY is not set');
  });

  const emptyDir = () => {
    const d = mkdtempSync(join(dir, 'empty-'));
    return d;
  };
  const notPostgres = () => {
    const d = mkdtempSync(join(dir, 'fake-bin-'));
    for (const name of ['postgres', 'initdb']) {
      writeFileSync(join(d, name), '#!/bin/sh\necho "this is not PostgreSQL"\n');
      chmodSync(join(d, name), 0o755);
    }
    return d;
  };

  const cases: {
    title: string;
    check: string;
    pipeline?: () => Record<string, unknown>;
    env?: NodeJS.ProcessEnv;
    fix: RegExp;
  }[] = [
    {
      title: 'an unknown source instance',
      check: 'source-instance',
      pipeline: () => ({ source: { instanceId: 'no-such-db' } }),
      fix: /source\.instanceId no-such-db: no such DB instance .* fix source\.instanceId/,
    },
    {
      title: 'a stale newest snapshot',
      check: 'snapshots',
      pipeline: () => ({ source: { instanceId: 'stale-db' } }),
      fix: /is 2\d\d\.\d h old, more than source\.snapshot\.maxSnapshotAgeHours \(36\) — check that RDS automated backups still run/,
    },
    {
      title: 'an unknown subnet group',
      check: 'subnet-group',
      pipeline: () => ({ source: { tempInstance: { subnetGroup: 'no-such-group' } } }),
      fix: /subnetGroup no-such-group: no such DB subnet group .* name an existing DB subnet group/,
    },
    {
      title: 'no pg_dump of the source version',
      check: 'pg-tools',
      pipeline: () => ({ dump: { pgBinDir: emptyDir() } }),
      fix: /no pg_dump\/pg_restore of version 1\d or newer .* install postgresql-client-1\d/,
    },
    {
      title: 'a scratch binDir that is not PostgreSQL',
      check: 'scratch-server',
      pipeline: () => ({ scratch: { kind: 'embedded', binDir: notPostgres() } }),
      fix: /scratch\.binDir .* has no initdb and postgres that run: point it at the bin dir of a PostgreSQL/,
    },
    {
      title: 'a store whose bucket does not exist',
      check: 'store',
      env: { OFFSITE_DEMO_S3_BUCKET: 'no-such-bucket' },
      fix: /could not write a probe object at s3:\/\/no-such-bucket.*(NoSuchBucket|does not exist).* check store\.bucket/,
    },
    {
      title: 'a store whose credentials are wrong',
      check: 'store',
      env: { OFFSITE_DEMO_S3_KEY_ID: 'AKIAWRONGKEY' },
      fix: /could not write a probe object .*InvalidAccessKeyId.* check store\.bucket/,
    },
  ];

  it.each(cases)('fails only $check, with its fix, for $title', async (c) => {
    const file = c.pipeline
      ? demoPipelineWith(dir, c.pipeline(), `${c.check}-${Math.random().toString(36).slice(2)}.yaml`)
      : 'pipelines/demo.yaml';
    const run = await doctor(file, c.env);
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(3);
    expect(run.json?.status).toBe('failed');
    expect(failedNames(run.json)).toEqual([c.check]);
    const check = run.json!.checks.find((x) => x.name === c.check)!;
    expect(check.fix).toMatch(c.fix);
    // Plain words: no stack trace in what it prints.
    expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/\n\s+at .+:\d+:\d+/);
    // Whatever failed, no probe object is left behind.
    const left = await world.s3
      .client()
      .send(new ListObjectsV2Command({ Bucket: world.s3.bucket, Prefix: 'offsite/' }));
    expect((left.Contents ?? []).map((o) => o.Key)).toEqual([]);
  });

  it('fails the pipeline-file check (exit 2) for an invalid file, and skips the rest', async () => {
    mkdirSync(join(dir, 'bad'), { recursive: true });
    const file = join(dir, 'bad', 'broken.yaml');
    writeFileSync(file, 'source: 5\nstore: { kind: tape }\n');
    const run = await doctor(file);
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.json?.status).toBe('failed');
    expect(failedNames(run.json)).toEqual(['pipeline-file']);
    expect(run.json!.checks[0]!.fix).toMatch(/broken\.yaml is invalid: source: .* fix the fields named/);
    expect(run.json!.checks.slice(1).every((c) => c.status === 'skipped')).toBe(true);
  });

  it('npm run demo -- --scenario doctor --json prints the contract object, status passed', async () => {
    const child = await execa(
      'npm',
      ['run', '-s', 'demo', '--', '--scenario', 'doctor', '--json', '--scale', '0.05'],
      {
        cwd: REPO_ROOT,
        reject: false,
        stdin: 'ignore',
        timeout: 240_000,
      },
    );
    expect(child.exitCode, String(child.stderr)).toBe(0);
    const json = JSON.parse(String(child.stdout)) as DoctorJson;
    expect(json.status).toBe('passed');
    expect(json.checks.map((c) => c.name)).toEqual([...DOCTOR_CHECKS]);
  });
});
