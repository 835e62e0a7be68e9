// End to end: offsite prune and offsite undelete as subprocesses, against the local world after
// three nightly runs: refusals change nothing, a dry run changes nothing, prune keeps what the
// policy says and check --read-data still passes, undelete brings a backup back whole, and a
// prune with no trash time frees packs while the kept backup still restores.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../src/adapters/object-store-s3.ts';
import { lockKey, writeLock } from '../../src/store/locks.ts';
import type { PruneResult } from '../../src/store/prune.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let dir: string;
const ids: string[] = [];

/** Every key (and size) in the bucket: what "nothing changed" is compared on. */
async function storeKeys(): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await world.s3
      .client()
      .send(new ListObjectsCommand({ Bucket: world.s3.bucket, Marker: marker }));
    for (const o of page.Contents ?? []) keys.push(`${o.Key} ${o.Size}`);
    if (!page.IsTruncated) return keys.filter((k) => !k.includes('/locks/')).sort();
    marker = page.Contents!.at(-1)!.Key;
  }
}

function pipelineWith(name: string, retention: Record<string, unknown> | null): string {
  return demoPipelineWith(dir, retention ? { retention } : {}, { name });
}

async function listed(pipeline: string): Promise<string[]> {
  const list = await runCli(['list', pipeline, '--json'], world.env());
  expect(list.exitCode, list.stderr).toBe(0);
  return (JSON.parse(list.stdout) as { id: string }[]).map((b) => b.id).sort();
}

async function checkReadData(pipeline: string): Promise<void> {
  const check = await runCli(['check', pipeline, '--read-data'], world.env());
  expect(check.exitCode, `${check.stdout}\n${check.stderr}`).toBe(0);
  expect(check.stdout).toContain('ok: every backup is whole');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-prune-e2e-'));
  world = await startLocalWorld({ days: 3, scale: 0.05, runDir: join(dir, 'run') });
  for (const snapshot of world.snapshots) {
    const date = snapshot.at.toISOString().slice(0, 10);
    const run = await runCli(['run', 'pipelines/demo.yaml', '--json', '--date', date], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    ids.push(run.report!.backup!.id);
  }
}, 900_000);

afterAll(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('offsite prune and undelete (local world)', () => {
  it('refuses a pipeline without retention: and rules that keep no backup (exit 2), changing nothing', async () => {
    const before = await storeKeys();
    const none = await runCli(['prune', pipelineWith('none.yaml', null)], world.env());
    expect(none.exitCode, none.stderr).toBe(2);
    expect(none.stderr).toContain('has no retention: section');
    expect(none.stderr).toContain('keepDaily');
    // Every snapshot is more than an hour old: this policy keeps nothing, so nothing is removed.
    const nothing = await runCli(['prune', pipelineWith('nothing.yaml', { keepWithin: '1h' })], world.env());
    expect(nothing.exitCode, nothing.stderr).toBe(2);
    expect(nothing.stderr).toContain('keep none of the 3 backups');
    const bad = await runCli(['prune', pipelineWith('bad.yaml', { keepWithin: 'a month' })], world.env());
    expect(bad.exitCode, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('retention.keepWithin');
    expect(await storeKeys()).toEqual(before);
  });

  it('waits for no one: a run holding the lock makes prune and undelete exit 6, changing nothing', async () => {
    const store = createS3Store(world.s3.client(), world.s3.bucket, world.s3.endpoint);
    const now = new Date().toISOString();
    const key = lockKey('offsite', 'demo', '20991231t000000z-000000');
    await writeLock(store, key, {
      host: 'another-host',
      pid: 1,
      runId: '20991231t000000z-000000',
      startedAt: now,
      renewedAt: now,
      command: 'offsite run',
    });
    try {
      const before = await storeKeys();
      const pipeline = pipelineWith('locked.yaml', { keepLast: 1, graceHours: 0 });
      const pruned = await runCli(['prune', pipeline], world.env());
      expect(pruned.exitCode, pruned.stderr).toBe(6);
      expect(pruned.stderr).toContain('another-host');
      const undeleted = await runCli(['undelete', pipeline, ids[0]!], world.env());
      expect(undeleted.exitCode, undeleted.stderr).toBe(6);
      expect(await storeKeys()).toEqual(before);
    } finally {
      await store.delete(key);
    }
  });

  it('--dry-run says what it would do and changes nothing; prune then does it; check --read-data passes', async () => {
    const pipeline = pipelineWith('keep-last.yaml', { keepLast: 1, graceHours: 0 });
    const before = await storeKeys();
    const dry = await runCli(['prune', pipeline, '--dry-run', '--json'], world.env());
    expect(dry.exitCode, dry.stderr).toBe(0);
    const planned = JSON.parse(dry.stdout) as PruneResult;
    expect(planned).toMatchObject({ dryRun: true, kept: [ids[2]], deleted: [ids[1], ids[0]] });
    expect(await storeKeys()).toEqual(before);

    const done = await runCli(['prune', pipeline, '--json'], world.env());
    expect(done.exitCode, done.stderr).toBe(0);
    const result = JSON.parse(done.stdout) as PruneResult;
    expect(result).toMatchObject({
      dryRun: false,
      kept: [ids[2]],
      deleted: [ids[1], ids[0]],
      trashPurged: [],
    });
    expect(result.packs.deleted).toEqual([]); // the trashed backups' packs stay for trashDays
    expect(result.requests).toBeGreaterThan(0);
    expect(await listed(pipeline)).toEqual([ids[2]]);
    const trash = (await storeKeys()).filter((k) => k.startsWith('offsite/demo/trash/'));
    expect(trash.some((k) => k.startsWith(`offsite/demo/trash/${ids[0]}/manifest.json.zst `))).toBe(true);
    await checkReadData(pipeline);

    const text = await runCli(['prune', pipeline], world.env());
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain('1 backup kept, 0 backups moved to the trash');
  });

  it('undelete brings a trashed backup back whole; an unknown id is exit 3 naming the trash', async () => {
    const pipeline = pipelineWith('keep-last.yaml', { keepLast: 1, graceHours: 0 });
    const unknown = await runCli(['undelete', pipeline, '2020-01-01T0000Z-nope'], world.env());
    expect(unknown.exitCode).toBe(3);
    expect(unknown.stderr).toContain(ids[0]);

    const back = await runCli(['undelete', pipeline, ids[0]!], world.env());
    expect(back.exitCode, back.stderr).toBe(0);
    expect(await listed(pipeline)).toEqual([ids[0], ids[2]]);
    await checkReadData(pipeline);
    const to = join(dir, 'undeleted');
    const restore = await runCli(['restore', pipeline, '--backup', ids[0]!, '--to-dir', to], world.env());
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect(readdirSync(join(to, 'dump'))).toContain('toc.dat');
  });

  it('with trashDays 0 the trash is emptied and packs freed; the kept backup restores and check passes', async () => {
    const pipeline = pipelineWith('no-trash.yaml', {
      keepLast: 1,
      trashDays: 0,
      graceHours: 0,
      repackThreshold: 0.01,
    });
    // The runs left a local chunk index (store.cacheDir: cache beside workDir); it names packs prune deletes.
    const cache = join(dir, 'run', 'cache');
    const indexes = () => readdirSync(cache).filter((f) => f.endsWith('.idx'));
    expect(indexes().length).toBeGreaterThan(0);
    const done = await runCli(['prune', pipeline, '--json'], world.env());
    expect(done.exitCode, done.stderr).toBe(0);
    const result = JSON.parse(done.stdout) as PruneResult;
    expect(result.kept).toEqual([ids[2]]);
    expect(result.deleted).toEqual([ids[0]]);
    expect(new Set(result.trashPurged)).toEqual(new Set([ids[0], ids[1]]));
    expect(result.packs.deleted.length + result.packs.repacked.length).toBeGreaterThan(0);
    expect(result.bytesFreed).toBeGreaterThan(0);
    expect(indexes()).toEqual([]); // dropped: the next run rebuilds it from the newest manifest
    expect((await storeKeys()).filter((k) => k.startsWith('offsite/demo/trash/'))).toEqual([]);
    await checkReadData(pipeline);
    const to = join(dir, 'kept');
    const restore = await runCli(['restore', pipeline, '--latest', '--to-dir', to], world.env());
    expect(restore.exitCode, restore.stderr).toBe(0);
    const undelete = await runCli(['undelete', pipeline, ids[0]!], world.env());
    expect(undelete.exitCode).toBe(3); // purged: gone for good
  });
});

describe('retention.pruneAfterRun (local world)', () => {
  it('a nightly run prunes after publishing; a failed prune is a warning in a succeeded run (exit 0)', async () => {
    const failing = pipelineWith('after-failing.yaml', {
      keepTagged: ['^no such reason$'],
      pruneAfterRun: true,
    });
    const failed = await runCli(['run', failing, '--json'], world.env());
    expect(failed.exitCode, failed.stderr).toBe(0);
    expect(failed.report!.status).toBe('succeeded');
    expect(failed.report!.prune).toMatchObject({
      status: 'failed',
      error: { stage: 'prune', code: 'CONFIG_INVALID' },
    });
    expect(failed.report!.warnings!.join('\n')).toContain('the prune after this run failed');
    const published = failed.report!.backup!.id;

    const pruning = pipelineWith('after.yaml', {
      keepLast: 1,
      trashDays: 0,
      graceHours: 0,
      pruneAfterRun: true,
    });
    const run = await runCli(['run', pruning, '--json'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    const own = run.report!.backup!.id;
    expect(run.report!.prune).toMatchObject({ status: 'succeeded', kept: 1, error: null });
    expect(run.report!.prune!.deleted).toContain(published);
    expect(await listed(pruning)).toEqual([own]);
    await checkReadData(pruning);
  });
});
