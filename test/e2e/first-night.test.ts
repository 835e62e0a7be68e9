// The first night on a real account: every likely mistake ends within seconds, with one line
// naming the cause, a hint and a documented exit code, no stack trace, no temporary instance
// left, and nothing written to the store by a run that never got as far as an instance. The CLI
// runs as a subprocess against the local world; the RDS emulator and the store are made to fail
// the way the real services do.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeadEndStatus } from '../emulators/rds/index.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { type CliResult, runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-first-night-'));
  world = await startLocalWorld({ days: 2, scale: 0.05, runDir: join(dir, 'run'), transitionMs: 100 });
});

afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  world.emulator.clearFaults();
  // Whatever failed, no temporary instance is left billing.
  expect(world.emulator.listInstances().map((i) => `${i.id} ${i.status}`)).toEqual([]);
});

/** A pipeline file: the demo's, with these fields changed. */
let files = 0;
function pipeline(overrides: Record<string, unknown>): string {
  return demoPipelineWith(dir, overrides, `pipeline-${++files}.yaml`);
}

async function keys(prefix: string, bucket = world.s3.bucket): Promise<string[]> {
  const out = await world.s3.client().send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

/** The pino JSON lines a run logged on stderr (it is not a terminal). */
function logLines(run: CliResult): { msg: string; time: number }[] {
  return run.stderr
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as { msg: string; time: number }];
      } catch {
        return [];
      }
    })
    .filter((r) => typeof r.msg === 'string');
}

/** What a person reads: stderr without the JSON log lines. */
function said(run: CliResult): string {
  return run.stderr
    .split('\n')
    .filter((line) => !line.startsWith('{'))
    .join('\n');
}

/** No stack trace reached the person (only --debug or a bug prints one). */
function expectNoStack(run: CliResult): void {
  expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
}

describe('connecting to the temporary instance', () => {
  it('a wrong database: fails within 30 s of the instance being available, naming the databases it has', async () => {
    const file = pipeline({ source: { database: 'ap', tempInstance: { waitTimeoutMinutes: 2 } } });
    const reportsBefore = await keys('offsite/demo/reports/');
    const run = await runCli(['run', file, '--json'], world.env());

    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.report?.error).toMatchObject({ stage: 'restore', code: 'DATABASE_NOT_FOUND' });
    expect(run.report?.error?.message).toContain('"ap"');
    expect(run.report?.error?.message).toMatch(/the databases of the temporary instance \S+: app, postgres$/);
    expect(said(run)).toMatch(/offsite: restore DATABASE_NOT_FOUND: .*"ap".*\n {2}→ set source\.database/);
    const lines = logLines(run);
    const available = lines.find((l) => l.msg === 'waiting for the restore: available')!.time;
    const failed = lines.find((l) => l.msg === 'stage restore failed')!.time;
    expect(failed - available).toBeLessThan(30_000);
    expect(run.report?.tempInstance?.deleted).toBe(true);
    // It got as far as an instance: its report is in the store.
    expect((await keys('offsite/demo/reports/')).length).toBeGreaterThan(reportsBefore.length);
  });

  it.each([
    [
      'refuses',
      /cannot reach the temporary instance .* at 127\.0\.0\.1:1: the connection to 127\.0\.0\.1:1 was refused/,
    ],
    ['unresolvable', /cannot reach the temporary instance .*: the name .*\.invalid does not resolve/],
  ] as const)(
    'an endpoint this machine cannot reach (%s) fails at once, exit 4, naming the security group and route',
    async (fault, message) => {
      world.emulator.setFaults({ endpoint: fault });
      const file = pipeline({ source: { tempInstance: { waitTimeoutMinutes: 3 } } });
      const run = await runCli(['run', file, '--json'], world.env());

      expect(run.exitCode, run.stderr).toBe(4);
      expect(run.report?.error).toMatchObject({ stage: 'restore', code: 'UNREACHABLE' });
      expect(run.report?.error?.message).toMatch(message);
      expect(run.report?.errors[0]?.hint).toMatch(
        /security groups \(source\.tempInstance\.securityGroupIds\) must admit this machine on port/,
      );
      expect(run.report?.errors[0]?.hint).toContain('source.tempInstance.subnetGroup');
      expect(run.report?.tempInstance?.deleted).toBe(true);
    },
  );
});

describe('dead-end statuses fail at once, each with its own hint', () => {
  const cases: [DeadEndStatus, number, RegExp][] = [
    ['restore-error', 1, /restoring the snapshot/],
    ['insufficient-capacity', 1, /no capacity .*source\.tempInstance\.instanceClass/],
    ['inaccessible-encryption-credentials', 5, /KMS key .*kms:CreateGrant/],
    ['inaccessible-encryption-credentials-recoverable', 5, /KMS key .*RDS recovers the instance/],
    ['incompatible-credentials', 5, /credentials the instance needs/],
    ['incompatible-network', 1, /free IP addresses/],
    ['storage-full', 1, /ran out of storage/],
  ];
  it.each(cases)('%s: exit %i', async (status, exitCode, hint) => {
    world.emulator.setFaults({ restoreOutcome: status });
    // A wait that would outlast the test: only failing at once can pass.
    const file = pipeline({ source: { tempInstance: { waitTimeoutMinutes: 60 } } });
    const run = await runCli(['run', file, '--json'], world.env(), 60_000);

    expect(run.exitCode, run.stderr).toBe(exitCode);
    expect(run.report?.error?.stage).toBe('restore');
    expect(run.report?.error?.message).toContain(`is ${status} while waiting for the restore`);
    expect(run.report?.errors[0]?.hint).toMatch(hint);
    expect(run.report?.tempInstance?.deleted).toBe(true);
  });
});

describe('a run that fails before its instance exists', () => {
  it('keeps its report locally only (a date without a snapshot)', async () => {
    const date = new Date(world.snapshots[0]!.at.getTime() - 5 * 86_400_000).toISOString().slice(0, 10);
    const before = await keys('offsite/demo/');
    const run = await runCli(['run', 'pipelines/demo.yaml', '--json', '--date', date], world.env());

    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.report?.error).toMatchObject({ stage: 'locate', code: 'SNAPSHOT_NOT_FOUND' });
    expect(existsSync(run.report!.reports.json)).toBe(true);
    expect(await keys('offsite/demo/')).toEqual(before);
    expect(await keys(`offsite/demo/reports/${run.report!.runId}`)).toEqual([]);
  });

  it('AWS that cannot be reached (DNS) is exit 4 naming the call, not SNAPSHOT_NOT_FOUND', async () => {
    const run = await runCli(
      ['run', 'pipelines/demo.yaml', '--json'],
      world.env({ OFFSITE_DEMO_RDS_ENDPOINT: 'http://rds.first-night.invalid' }),
    );
    expect(run.exitCode, run.stderr).toBe(4);
    expect(run.report?.error).toMatchObject({ stage: 'locate', code: 'UNREACHABLE' });
    expect(run.report?.error?.message).toMatch(
      /^RDS DescribeDBSnapshots \(automated snapshots of app-db\): the name rds\.first-night\.invalid does not resolve/,
    );
    expect(await keys(`offsite/demo/reports/${run.report!.runId}`)).toEqual([]);
  });

  it('an IAM policy without rds:DescribeDBSnapshots is exit 5, pointing at infra/iam-policy.json', async () => {
    world.emulator.setFaults({ denyActions: ['DescribeDBSnapshots'] });
    const run = await runCli(['run', 'pipelines/demo.yaml', '--json'], world.env());
    expect(run.exitCode, run.stderr).toBe(5);
    expect(run.report?.error).toMatchObject({ stage: 'locate', code: 'ACCESS_DENIED' });
    expect(run.report?.error?.message).toContain('not authorized to perform: rds:DescribeDBSnapshots');
    expect(run.report?.errors[0]?.hint).toContain('infra/iam-policy.json');
  });

  it('a scratch server that cannot be reached is exit 4 at once, naming it', async () => {
    const file = demoPipelineWith(
      dir,
      { scratch: { kind: 'url', urlEnv: 'OFFSITE_TEST_SCRATCH_URL' } },
      { name: `pipeline-${++files}.yaml`, replace: ['scratch'] },
    );
    const run = await runCli(
      ['run', file, '--json'],
      world.env({ OFFSITE_TEST_SCRATCH_URL: 'postgres://offsite:secret-pw@127.0.0.1:1/postgres' }),
    );
    expect(run.exitCode, run.stderr).toBe(4);
    expect(run.report?.error).toMatchObject({ stage: 'locate', code: 'UNREACHABLE' });
    expect(run.report?.error?.message).toMatch(
      /^connecting to PostgreSQL at 127\.0\.0\.1:1 \(database postgres, user offsite\): the connection to 127\.0\.0\.1:1 was refused/,
    );
    expect(run.stderr).not.toContain('secret-pw');
  });

  it('an unwritable workDir is one line and exit 3, without a stack', async () => {
    const file = pipeline({ workDir: '/sys/offsite-first-night-work' });
    const run = await runCli(['run', file], world.env());
    expect(run.exitCode, run.stderr).toBe(3);
    expect(said(run)).toMatch(
      /offsite: .*\/sys\/offsite-first-night-work.*: (permission denied|operation not permitted)/i,
    );
    expectNoStack(run);
  });
});

describe('AWS Backup snapshots', () => {
  it('are backed up when source.snapshot.types lists awsbackup, and not by default', async () => {
    const awsbackup = world.emulator.cloneSnapshot(world.snapshots.at(-1)!.id, {
      at: new Date(Date.now() - 60_000),
      id: 'awsbackup:job-first-night-0001',
      type: 'awsbackup',
    });
    // Each run stops right after the restore (an unreachable endpoint): which snapshot it
    // restored is what is asked here.
    const restored = async (file: string) => {
      world.emulator.setFaults({ endpoint: 'refuses' });
      const before = world.emulator.requests.length;
      const run = await runCli(['run', file, '--json'], world.env());
      expect(run.report?.error?.code, run.stderr).toBe('UNREACHABLE');
      return world.emulator.requests.slice(before).find((r) => r.action === 'RestoreDBInstanceFromDBSnapshot')
        ?.params.DBSnapshotIdentifier;
    };
    expect(await restored(pipeline({ source: { snapshot: { types: ['automated', 'awsbackup'] } } }))).toBe(
      awsbackup,
    );
    world.emulator.clearFaults();
    expect(await restored('pipelines/demo.yaml')).toBe(world.snapshots.at(-1)!.id);
  });
});

describe('check, report and restore on a wrong or empty store location', () => {
  const bucket = 'first-night-store';
  beforeAll(async () => {
    const client = world.s3.client();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    // Another pipeline's run report: the bucket is right, the prefix is right, the name is not.
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'offsite/other-app/reports/r1.json', Body: '{}' }),
    );
  });
  const env = (extra: NodeJS.ProcessEnv = {}) => world.env({ OFFSITE_DEMO_S3_BUCKET: bucket, ...extra });

  it('check: no backups is exit 7 with the full location, what was expected and the likely cause', async () => {
    const run = await runCli(['check', 'pipelines/demo.yaml'], env());
    expect(run.exitCode, run.stderr).toBe(7);
    expect(said(run)).toContain(
      `offsite: no backups of demo at s3://${bucket}/offsite/demo/ at ${world.s3.endpoint}: `,
    );
    expect(said(run)).toContain('holds other pipelines (other-app)');
    expect(said(run)).toMatch(/→ expected there: backups\/<backup-id>\/manifest\.json\.zst/);
    expect(run.stdout).not.toContain('ok');
  });

  it('report: a wrong prefix is exit 7, naming what the bucket holds', async () => {
    const file = pipeline({ store: { prefix: 'offsite-typo' } });
    const run = await runCli(['report', file], env());
    expect(run.exitCode, run.stderr).toBe(7);
    expect(said(run)).toContain(
      `offsite: no runs of demo at s3://${bucket}/offsite-typo/demo/ at ${world.s3.endpoint}`,
    );
    expect(said(run)).toContain('the store holds offsite/: is store.prefix right?');
  });

  it('restore: exit 7, nothing written', async () => {
    const to = join(dir, 'restore-empty');
    const run = await runCli(
      ['restore', 'pipelines/demo.yaml', '--date', '2026-01-01', '--to-dir', to],
      env(),
    );
    expect(run.exitCode, run.stderr).toBe(7);
    expect(existsSync(to)).toBe(false);
  });

  it('a bucket that does not exist is exit 7 saying so, without a stack', async () => {
    const run = await runCli(
      ['check', 'pipelines/demo.yaml'],
      world.env({ OFFSITE_DEMO_S3_BUCKET: 'no-such-bucket' }),
    );
    expect(run.exitCode, run.stderr).toBe(7);
    expect(said(run)).toContain('the bucket no-such-bucket does not exist');
    expect(said(run)).toContain('store.bucket');
    expectNoStack(run);
  });

  it('a store that cannot be reached (DNS) is exit 4 for check, not damage; --debug adds the stack', async () => {
    const unreachable = world.env({ OFFSITE_DEMO_S3_ENDPOINT: 'http://s3.first-night.invalid' });
    const run = await runCli(['check', 'pipelines/demo.yaml'], unreachable);
    expect(run.exitCode, run.stderr).toBe(4);
    expect(said(run)).toMatch(
      /^offsite: listing s3:\/\/offsite-demo\/offsite\/demo\/backups\/ at http:\/\/s3\.first-night\.invalid: the name s3\.first-night\.invalid does not resolve/m,
    );
    expectNoStack(run);
    expect(run.stderr).not.toContain('GetAddrInfoReqWrap');

    const debug = await runCli(['--debug', 'report', 'pipelines/demo.yaml'], unreachable);
    expect(debug.exitCode).toBe(4);
    expect(debug.stderr).toContain('GetAddrInfoReqWrap');
  });

  it('refused store credentials are exit 3 naming the problem, not a stack', async () => {
    const run = await runCli(['report', 'pipelines/demo.yaml'], env({ OFFSITE_DEMO_S3_KEY_ID: 'NOT-A-KEY' }));
    expect(run.exitCode, run.stderr).toBe(3);
    expect(said(run)).toMatch(
      /offsite: listing s3:\/\/.*: the credentials were refused \(InvalidAccessKeyId/,
    );
    expectNoStack(run);
  });
});

describe('offsite --help', () => {
  it('documents exit codes 4, 5, 6 and 7 and --debug', async () => {
    const run = await runCli(['--help'], process.env);
    expect(run.stdout).toMatch(/^ {2}4 {4}unreachable/m);
    expect(run.stdout).toMatch(/^ {2}5 {4}access denied/m);
    expect(run.stdout).toMatch(/^ {2}6 {4}another run of the pipeline holds its lock/m);
    expect(run.stdout).toMatch(/^ {2}7 {4}check, report, restore, list, drill, export: no backups/m);
    expect(run.stdout).toContain('--debug');
  });
});
