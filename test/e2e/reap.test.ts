// End to end: `offsite reap` against the RDS emulator (driven by the real SDK) and the store.
// Only leftovers of the pipeline are deleted: a copy whose run holds no live lock, and one whose
// expires-at has passed. Decoys stay: untagged, tagged by another tool, another pipeline's, the
// source, a live run's, an instance with offsite's tags but not named as a run's copy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAGS, temporaryInstanceId } from '../../src/stages/restore-instance.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let dir: string;

const HOUR = 3_600_000;
const LIVE = '20990101t000000z-11aa11';
const GONE = '20200101t000000z-22bb22';
const EXPIRED = '20990101t000000z-33cc33';
const leftoverGone = temporaryInstanceId('demo', GONE);
const leftoverExpired = temporaryInstanceId('demo', EXPIRED);

function offsiteTags(pipeline: string, runId: string, expiresInMs: number): Record<string, string> {
  return {
    [TAGS.tool]: 'offsite',
    [TAGS.pipeline]: pipeline,
    [TAGS.runId]: runId,
    [TAGS.snapshot]: 'rds:app-db-2026-01-01-03-10',
    [TAGS.expiresAt]: new Date(Date.now() + expiresInMs).toISOString(),
  };
}

async function putLiveLock(runId: string): Promise<void> {
  const now = new Date().toISOString();
  const lock = {
    host: 'backup-host-2',
    pid: 4242,
    runId,
    startedAt: now,
    renewedAt: now,
    command: 'offsite run',
  };
  await world.s3.client().send(
    new PutObjectCommand({
      Bucket: world.s3.bucket,
      Key: `offsite/demo/locks/${runId}.json`,
      Body: Buffer.from(JSON.stringify(lock)),
    }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-reap-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
  const em = world.emulator;
  // More than one page of DescribeDBInstances (100 a page): the leftovers come after them.
  for (let i = 0; i < 105; i++) em.addBareInstance({ id: `untagged-${i}`, tags: {} });
  em.addBareInstance({ id: 'terraform-db', tags: { 'managed-by': 'terraform', [TAGS.pipeline]: 'demo' } });
  em.addBareInstance({
    id: temporaryInstanceId('demo', '20200101t000000z-44dd44'),
    tags: { ...offsiteTags('demo', '20200101t000000z-44dd44', -HOUR), [TAGS.tool]: 'other-tool' },
  });
  em.addBareInstance({ id: temporaryInstanceId('other', GONE), tags: offsiteTags('other', GONE, -HOUR) });
  em.addBareInstance({ id: 'prod-copy', tags: offsiteTags('demo', GONE, -HOUR) });
  em.addBareInstance({ id: temporaryInstanceId('demo', LIVE), tags: offsiteTags('demo', LIVE, HOUR) });
  em.addBareInstance({ id: leftoverGone, tags: offsiteTags('demo', GONE, HOUR) });
  em.addBareInstance({ id: leftoverExpired, tags: offsiteTags('demo', EXPIRED, -HOUR) });
  await putLiveLock(LIVE);
  await putLiveLock(EXPIRED);
});

afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function deletesSince(before: number): string[] {
  return world.emulator.requests
    .slice(before)
    .filter((r) => r.action === 'DeleteDBInstance')
    .map((r) => r.params.DBInstanceIdentifier ?? '');
}

function instanceIds(): string[] {
  return world.emulator
    .listInstances({ includeSources: true })
    .filter((i) => i.status !== 'deleting')
    .map((i) => i.id);
}

describe('offsite reap', () => {
  it('--dry-run lists the leftovers and deletes nothing', async () => {
    const before = world.emulator.requests.length;
    const run = await runCli(['reap', 'demo', '--dry-run', '--json'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as {
      dryRun: boolean;
      pipelines: { pipeline: string; reaped: unknown[] }[];
    };
    expect(out).toEqual({
      dryRun: true,
      pipelines: [
        {
          pipeline: 'demo',
          reaped: [
            { id: leftoverGone, runId: GONE, reason: 'run-over', result: 'would-delete' },
            { id: leftoverExpired, runId: EXPIRED, reason: 'expired', result: 'would-delete' },
          ],
        },
      ],
    });
    expect(deletesSince(before)).toEqual([]);
    expect(instanceIds()).toContain(leftoverGone);
    expect(instanceIds()).toContain(leftoverExpired);
  });

  it('deletes only the leftovers of the pipeline; every decoy stays', async () => {
    const decoys = instanceIds().filter((id) => id !== leftoverGone && id !== leftoverExpired);
    expect(decoys).toHaveLength(105 + 6);
    const before = world.emulator.requests.length;
    const run = await runCli(['reap', 'demo'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain(`demo: ${leftoverGone} (run ${GONE}, run-over): deleting`);
    expect(run.stdout).toContain(`demo: ${leftoverExpired} (run ${EXPIRED}, expired): deleting`);
    expect(deletesSince(before).sort()).toEqual([leftoverExpired, leftoverGone].sort());
    expect(instanceIds().sort()).toEqual(decoys.sort());
  });

  it('--json after reaping finds nothing left', async () => {
    const run = await runCli(['reap', 'demo', '--json'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ dryRun: false, pipelines: [{ pipeline: 'demo', reaped: [] }] });
  });
});
