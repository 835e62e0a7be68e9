// End to end: the run lock. Two `offsite run` of one pipeline at once (one machine: the lock file
// decides), a run refused by another host's fresh lock in the store, different pipelines in
// parallel on one store, and a stale lock taken over.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-lock-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
});

afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  expect(world.emulator.listInstances().map((i) => `${i.id} ${i.status}`)).toEqual([]);
});

async function keys(prefix: string): Promise<string[]> {
  const out = await world.s3
    .client()
    .send(new ListObjectsV2Command({ Bucket: world.s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

async function putLock(pipeline: string, runId: string, renewedAt: Date, host: string): Promise<string> {
  const key = `offsite/${pipeline}/locks/${runId}.json`;
  const lock = {
    host,
    pid: 4242,
    runId,
    startedAt: new Date(renewedAt.getTime() - 60_000).toISOString(),
    renewedAt: renewedAt.toISOString(),
    command: 'offsite run',
  };
  await world.s3
    .client()
    .send(new PutObjectCommand({ Bucket: world.s3.bucket, Key: key, Body: JSON.stringify(lock) }));
  return key;
}

function restoresSince(before: number): string[] {
  return world.emulator.requests
    .slice(before)
    .filter((r) => r.action === 'RestoreDBInstanceFromDBSnapshot')
    .map((r) => r.params.DBInstanceIdentifier ?? '');
}

describe('run lock', () => {
  it('lets exactly one of two simultaneous runs of a pipeline go on; the other exits 6 naming it', async () => {
    const before = world.emulator.requests.length;
    const [a, b] = await Promise.all([
      runCli(['run', 'pipelines/demo.yaml', '--json'], world.env()),
      runCli(['run', 'pipelines/demo.yaml', '--json'], world.env()),
    ]);
    const codes = [a.exitCode, b.exitCode].sort();
    expect(codes, `${a.stderr}\n${b.stderr}`).toEqual([0, 6]);
    const [winner, loser] = a.exitCode === 0 ? [a, b] : [b, a];
    expect(loser.stderr).toContain(`pipeline demo is locked by run ${winner.report!.runId} on host `);
    expect(loser.stderr).toMatch(/\(pid \d+, offsite run, started \d{4}-/);
    // Only the winner ever asked for a temporary instance.
    expect(restoresSince(before)).toEqual([expect.stringContaining(winner.report!.runId)]);
    // Released at the end: no lock object, no lock file left.
    expect(await keys('offsite/demo/locks/')).toEqual([]);
    expect(existsSync(join(dir, 'run', 'work', 'demo.lock'))).toBe(false);
  });

  it("refuses while another host's fresh lock is in the store, creating nothing", async () => {
    const key = await putLock('demo', '20990101t000000z-aaaaaa', new Date(), 'backup-host-2');
    const before = world.emulator.requests.length;
    const run = await runCli(['run', 'pipelines/demo.yaml'], world.env());
    expect(run.exitCode, run.stderr).toBe(6);
    expect(run.stderr).toContain(
      'pipeline demo is locked by run 20990101t000000z-aaaaaa on host backup-host-2 (pid 4242, offsite run',
    );
    expect(run.stderr).toContain(key);
    expect(world.emulator.requests.slice(before)).toEqual([]);
    await world.s3.client().send(new DeleteObjectCommand({ Bucket: world.s3.bucket, Key: key }));
  });

  it('runs different pipelines on one store in parallel and takes over a stale lock', async () => {
    const stale = await putLock(
      'demo2',
      '20200101t000000z-bbbbbb',
      new Date(Date.now() - 3_600_000),
      'gone-host',
    );
    const demo2 = demoPipelineWith(dir, { name: 'demo2' }, 'demo2.yaml');
    const before = world.emulator.requests.length;
    const [a, b] = await Promise.all([
      runCli(['run', 'pipelines/demo.yaml', '--json'], world.env()),
      runCli(['run', demo2, '--json'], world.env()),
    ]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(b.report!.pipeline).toBe('demo2');
    expect(b.stderr).toContain('stale run lock removed');
    expect(b.stderr).toContain(stale);
    expect(restoresSince(before)).toHaveLength(2);
    expect(await keys('offsite/demo/locks/')).toEqual([]);
    expect(await keys('offsite/demo2/locks/')).toEqual([]);
  });
});
