// End to end: `offsite drill` and `offsite export` as subprocesses, against the local world after
// one nightly run, on a machine that has lost every local trace of that run.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { DrillReport } from '../../src/recovery/drill-report.ts';
import { drillsPrefix, manifestKey, packKey, restoreTestKey } from '../../src/store/layout.ts';
import type { Manifest } from '../../src/store/manifest.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let dir: string;
let pipeline: string;
let backupId: string;
let passedDrill: DrillReport;

async function s3Get(key: string): Promise<Buffer> {
  const out = await world.s3.client().send(new GetObjectCommand({ Bucket: world.s3.bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function s3Keys(prefix: string): Promise<string[]> {
  const out = await world.s3
    .client()
    .send(new ListObjectsV2Command({ Bucket: world.s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

/** A store-only pipeline file (name, store, workDir): what a machine with only the store has. */
function storeOnlyFile(name: string, store: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, stringify({ name: 'demo', store, workDir: join(dir, `${name}-work`) }));
  return path;
}

/** A loopback port nothing listens on: an S3 endpoint that refuses every connection. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The pack holding the first chunk of toc.dat: every restore reads it. */
async function tocPack(): Promise<{ id: string; key: string; chunk: { offset: number; length: number } }> {
  const manifest = JSON.parse(
    zstdDecompressSync(await s3Get(manifestKey('offsite', 'demo', backupId))).toString(),
  ) as Manifest;
  const toc = manifest.dump.files.find((f) => f.name === 'toc.dat')!;
  const [, , pack, offset, length] = toc.chunks[0]!;
  const id = manifest.packs[pack]!.id;
  return { id, key: packKey(manifest.chunking.packsPrefix, id), chunk: { offset, length } };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-drill-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
  pipeline = demoPipelineWith(dir, {});
  const run = await runCli(['run', pipeline, '--json'], world.env());
  expect(run.exitCode, run.stderr).toBe(0);
  backupId = run.report!.backup!.id;
  // Nothing of the run is left on this machine: work files, cache, reports.
  rmSync(join(dir, 'run'), { recursive: true, force: true });
}, 600_000);

afterAll(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('offsite drill', () => {
  it('refuses two choices of backup (exit 2) and an empty location (exit 7)', async () => {
    const two = await runCli(['drill', pipeline, '--latest', '--random'], world.env());
    expect(two.exitCode).toBe(2);
    expect(two.stderr).toContain('at most one of --date, --backup, --latest or --random');
    const elsewhere = parse(readFileSync(pipeline, 'utf8')) as { store: Record<string, unknown> };
    const empty = storeOnlyFile('elsewhere.yaml', { ...elsewhere.store, prefix: 'elsewhere' });
    const none = await runCli(['drill', empty], world.env());
    expect(none.exitCode, none.stderr).toBe(7);
    expect(none.stderr).toContain('no backups of demo');
  });

  it('passes with no local state, stores its report, and list shows the backup as drilled', async () => {
    const before = await runCli(['list', pipeline, '--json'], world.env());
    expect(before.exitCode, before.stderr).toBe(0);
    expect((JSON.parse(before.stdout) as { lastDrill: string | null }[])[0]!.lastDrill).toBeNull();

    const drill = await runCli(['drill', pipeline, '--random', '--json'], world.env());
    expect(drill.exitCode, drill.stderr).toBe(0);
    passedDrill = JSON.parse(drill.stdout) as DrillReport;
    expect(passedDrill.status).toBe('passed');
    expect(passedDrill.backupId).toBe(backupId);
    expect(passedDrill.restoreMs).toBeGreaterThan(0);
    expect(passedDrill.scratchServer).toMatch(/^PostgreSQL /);
    const status = Object.fromEntries(passedDrill.checks.map((c) => [c.name, c.status]));
    for (const name of ['row-counts', 'checksums', 'schema', 'sequences', 'sql:revenue-equals-source'])
      expect(status[name], name).toBe('passed');

    const stored = await s3Keys(drillsPrefix('offsite', 'demo'));
    expect(stored).toEqual([`${drillsPrefix('offsite', 'demo')}${passedDrill.drillId}.json`]);
    expect(JSON.parse((await s3Get(stored[0]!)).toString())).toEqual(passedDrill);

    const list = await runCli(['list', pipeline, '--json'], world.env());
    expect(list.exitCode, list.stderr).toBe(0);
    const lines = JSON.parse(list.stdout) as { id: string; lastDrill: string | null }[];
    expect(lines).toEqual([expect.objectContaining({ id: backupId, lastDrill: passedDrill.finishedAt })]);
    const text = await runCli(['list', pipeline], world.env());
    expect(text.stdout).toMatch(new RegExp(`passed +${passedDrill.finishedAt.slice(0, 10)} `));
  });
});

describe('offsite export', () => {
  it('copies the backup into a dir store that restores and drills alone, the S3 store unreachable', async () => {
    const out = join(dir, 'offline');
    const exp = await runCli(['export', pipeline, '--latest', '--to', out], world.env());
    expect(exp.exitCode, exp.stderr).toBe(0);
    const manifestFile = join(out, manifestKey('offsite', 'demo', backupId));
    expect(existsSync(manifestFile)).toBe(true);
    // The manifest was written last: no pack is newer than it.
    const packsDir = join(out, 'offsite', 'demo', 'packs');
    const packs = readdirSync(packsDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(packs.length).toBeGreaterThan(0);
    const manifestAt = statSync(manifestFile).mtimeMs;
    for (const p of packs)
      expect(statSync(join(p.parentPath, p.name)).mtimeMs).toBeLessThanOrEqual(manifestAt);

    const again = await runCli(['export', pipeline, '--latest', '--to', out], world.env());
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain(': 0 objects copied');

    const offline = storeOnlyFile('offline.yaml', { kind: 'dir', path: out, prefix: 'offsite' });
    const unreachable = world.env({ OFFSITE_DEMO_S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    // The S3 store is gone for this machine...
    const s3List = await runCli(['list', pipeline], unreachable);
    expect(s3List.exitCode).toBe(4);
    // ...and the offline copy restores and drills alone.
    const to = join(dir, 'restored-files');
    const restore = await runCli(['restore', offline, '--latest', '--to-dir', to], unreachable);
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect(readdirSync(join(to, 'dump'))).toEqual(expect.arrayContaining(['toc.dat', 'offsite-roles.sql']));
    const drill = await runCli(['drill', offline, '--latest', '--json'], unreachable);
    expect(drill.exitCode, drill.stderr).toBe(0);
    const report = JSON.parse(drill.stdout) as DrillReport;
    expect(report).toMatchObject({ status: 'passed', backupId, store: out });
    expect(readdirSync(join(out, drillsPrefix('offsite', 'demo')))).toEqual([`${report.drillId}.json`]);
  });
});

describe('a damaged or missing pack', () => {
  it('fails the drill naming the pack, stores a failed drill, and an export of it shows no backup', async () => {
    const pack = await tocPack();
    const original = await s3Get(pack.key);
    const damaged = Buffer.from(original);
    const { offset, length } = pack.chunk;
    for (let i = offset + Math.floor(length / 2); i < offset + length - 4; i++)
      damaged[i] = damaged[i]! ^ 0xff;
    const s3 = world.s3.client();
    await s3.send(new PutObjectCommand({ Bucket: world.s3.bucket, Key: pack.key, Body: damaged }));
    try {
      const drill = await runCli(['drill', pipeline, '--backup', backupId], world.env());
      expect(drill.exitCode).toBe(1);
      expect(drill.stderr).toContain(pack.id);
      expect(drill.stdout).toMatch(/^drill failed: backup /m);
      const failed = (await s3Keys(drillsPrefix('offsite', 'demo'))).filter(
        (k) => !k.endsWith(`${passedDrill.drillId}.json`),
      );
      expect(failed).toHaveLength(1);
      const record = JSON.parse((await s3Get(failed[0]!)).toString()) as DrillReport;
      expect(record.status).toBe('failed');
      expect(record.error?.message).toContain(pack.id);
      // A failed drill does not move "last proven restorable".
      const list = await runCli(['list', pipeline, '--json'], world.env());
      expect((JSON.parse(list.stdout) as { lastDrill: string }[])[0]!.lastDrill).toBe(passedDrill.finishedAt);

      const out = join(dir, 'offline-damaged');
      const exp = await runCli(['export', pipeline, '--backup', backupId, '--to', out], world.env());
      expect(exp.exitCode).toBe(1);
      expect(exp.stderr).toContain(pack.id);
      expect(existsSync(join(out, manifestKey('offsite', 'demo', backupId)))).toBe(false);

      await s3.send(new DeleteObjectCommand({ Bucket: world.s3.bucket, Key: pack.key }));
      const missing = await runCli(['drill', pipeline, '--latest'], world.env());
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toContain(`pack ${pack.id} is missing`);
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: world.s3.bucket, Key: pack.key, Body: original }));
    }
  });

  it('an export interrupted after the packs (a damaged record) leaves the packs but no manifest', async () => {
    const key = restoreTestKey('offsite', 'demo', backupId);
    const original = await s3Get(key);
    const s3 = world.s3.client();
    await s3.send(new PutObjectCommand({ Bucket: world.s3.bucket, Key: key, Body: Buffer.from('{}') }));
    try {
      const out = join(dir, 'offline-partial');
      const exp = await runCli(['export', pipeline, '--latest', '--to', out], world.env());
      expect(exp.exitCode).toBe(1);
      expect(exp.stderr).toContain('restore-test.json');
      const packs = readdirSync(join(out, 'offsite', 'demo', 'packs'), {
        recursive: true,
        withFileTypes: true,
      });
      expect(packs.filter((e) => e.isFile()).length).toBeGreaterThan(0);
      expect(existsSync(join(out, manifestKey('offsite', 'demo', backupId)))).toBe(false);
      const list = await runCli(
        ['list', storeOnlyFile('partial.yaml', { kind: 'dir', path: out, prefix: 'offsite' })],
        world.env(),
      );
      expect(list.exitCode).toBe(7);
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: world.s3.bucket, Key: key, Body: original }));
    }
  });
});
