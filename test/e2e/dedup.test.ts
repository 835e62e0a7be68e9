// Two nightly runs over two consecutive snapshots (an application-like day of change between
// them), through the B2-strict proxy with 503s injected: the second run uploads a small share of
// the first, both backups restore to exactly their own day's data, and `offsite check` finds a
// deleted or corrupted chunk and names the backups that depend on it.
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import type { RunReport } from '../../src/report/run-report.ts';
import { chunkKey } from '../../src/store/layout.ts';
import type { Manifest } from '../../src/store/manifest.ts';
import { type DedupWorld, startDedupWorld, tableDigests } from '../store/dedup-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { runCli } from '../support/run-cli.ts';

let world: DedupWorld;
let dir: string;
let pipeline: string;
let media: string;
let scratch: PgCluster;
const reports: RunReport[] = [];
const manifests: Manifest[] = [];

// Names B2 and shells make hard: spaces, a newline, glob characters; a duplicate, a symlink.
const photo = randomBytes(300_000);
function makeMedia(root: string): void {
  mkdirSync(join(root, 'sub dir'), { recursive: true });
  mkdirSync(join(root, 'cache'));
  writeFileSync(join(root, 'photo one.jpg'), photo);
  writeFileSync(join(root, 'copy of photo one.jpg'), photo);
  writeFileSync(join(root, 'new\nline.txt'), 'a name with a newline\n');
  writeFileSync(join(root, '[glob]*?.png'), randomBytes(5000));
  writeFileSync(join(root, 'sub dir', 'nested.bin'), randomBytes(40_000));
  chmodSync(join(root, 'sub dir', 'nested.bin'), 0o640);
  utimesSync(
    join(root, 'sub dir', 'nested.bin'),
    new Date('2020-01-02T03:04:05Z'),
    new Date('2020-01-02T03:04:05Z'),
  );
  symlinkSync('photo one.jpg', join(root, 'link to photo'));
  writeFileSync(join(root, 'skip.tmp'), 'excluded');
  writeFileSync(join(root, 'cache', 'x'), 'excluded');
}

async function s3Bytes(key: string): Promise<Buffer> {
  const out = await world.s3.client().send(new GetObjectCommand({ Bucket: world.s3.bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-dedup-'));
  media = join(dir, 'media');
  makeMedia(media);
  world = await startDedupWorld({ days: 2, scale: 1, slowDownRate: 0.02 });
  pipeline = demoPipelineWith(dir, { files: [{ name: 'media', path: media, exclude: ['*.tmp', 'cache'] }] });
  for (const snap of world.snapshots) {
    const run = await runCli(['run', pipeline, '--json', '--date', snap.date], world.env(join(dir, 'run')));
    expect(run.exitCode, run.stderr).toBe(0);
    reports.push(run.report!);
    manifests.push(JSON.parse((await s3Bytes(run.report!.backup!.manifestKey)).toString()) as Manifest);
  }
  scratch = await startCluster();
});

afterAll(async () => {
  await scratch?.stop();
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('deduplicated store (two days, B2-strict proxy with 503s)', () => {
  it('uploads less than 15% of day 1 on day 2, and reports what it did', () => {
    const [day1, day2] = reports.map((r) => r.backup!);
    expect(day1!.chunksNew).toBeGreaterThan(100);
    expect(day2!.chunksReused).toBeGreaterThan(day2!.chunksNew!);
    const share = day2!.bytesUploaded / day1!.bytesUploaded;
    expect(share).toBeLessThan(0.15);
    expect(day2!.bytesRead).toBeGreaterThan(day1!.bytesRead * 0.95);
    expect(day2!.dedupRatio).toBeGreaterThan(5);
    expect(day1!.compressionRatio).toBeGreaterThan(1.5);
    expect(reports[1]!.store!.totalBytes).toBeGreaterThan(reports[0]!.store!.totalBytes);
    expect(reports[1]!.resources.peakRssBytes).toBeGreaterThan(0);
  });

  it('went through the proxy, which injected 503s and saw no header B2 refuses', () => {
    expect(world.proxy.slowDowns()).toBeGreaterThan(0);
    expect(world.proxy.forbidden).toEqual([]);
    expect(world.proxy.requests.filter((r) => r.method === 'PUT').length).toBeGreaterThan(100);
  });

  it('stores identical and unchanged files once: the file set costs nothing on day 2', () => {
    const [m1, m2] = manifests;
    const entry = (m: Manifest, path: string) => m.fileSets[0]!.entries.find((e) => e.path === path)!;
    expect(entry(m1!, 'photo one.jpg').chunks).toEqual(entry(m1!, 'copy of photo one.jpg').chunks);
    expect(entry(m2!, 'photo one.jpg').chunks).toEqual(entry(m1!, 'photo one.jpg').chunks);
    expect(m1!.fileSets[0]!.entries.map((e) => e.path)).not.toContain('skip.tmp');
    expect(m1!.fileSets[0]!.entries.map((e) => e.path)).not.toContain('cache/x');
  });

  it('restores each backup to exactly its own snapshot’s data', async () => {
    const tools = await findPgTools(15, undefined);
    const admin = new pg.Client({ connectionString: scratch.url() });
    await admin.connect();
    for (const [i, snap] of world.snapshots.entries()) {
      const to = join(dir, `restore-${i}`);
      const run = await runCli(
        ['restore', pipeline, '--date', snap.date, '--to-dir', to],
        world.env(join(dir, 'run')),
      );
      expect(run.exitCode, run.stderr).toBe(0);
      await admin.query(`CREATE DATABASE day${i}`);
      await tools.restore({
        target: {
          host: scratch.host,
          port: scratch.port,
          user: scratch.user,
          password: scratch.password,
          database: `day${i}`,
        },
        dumpDir: join(to, 'dump'),
        jobs: 2,
      });
      expect(await tableDigests(scratch.url(`day${i}`))).toEqual(snap.digests);
    }
    await admin.end();
    expect(world.snapshots[0]!.digests).not.toEqual(world.snapshots[1]!.digests);
  });

  it('restores the file set with odd names, modes, times and symlinks', () => {
    const root = join(dir, 'restore-1', 'files', 'media');
    expect(readdirSync(root).sort()).toEqual(
      [
        '[glob]*?.png',
        'copy of photo one.jpg',
        'link to photo',
        'new\nline.txt',
        'photo one.jpg',
        'sub dir',
      ].sort(),
    );
    expect(readFileSync(join(root, 'photo one.jpg')).equals(photo)).toBe(true);
    expect(readFileSync(join(root, '[glob]*?.png'))).toEqual(readFileSync(join(media, '[glob]*?.png')));
    expect(readFileSync(join(root, 'new\nline.txt'), 'utf8')).toBe('a name with a newline\n');
    expect(readlinkSync(join(root, 'link to photo'))).toBe('photo one.jpg');
    const nested = lstatSync(join(root, 'sub dir', 'nested.bin'));
    expect(nested.mode & 0o777).toBe(0o640);
    expect(nested.mtime.toISOString()).toBe('2020-01-02T03:04:05.000Z');
  });

  it('check --read-data passes on a whole store, and names the backups hit by a deleted or corrupted chunk', async () => {
    const env = world.env(join(dir, 'run'));
    const ok = await runCli(['check', pipeline, '--read-data'], env);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('ok: every backup is whole');

    // A chunk both backups use (the start of the biggest table) and one only day 2 uses.
    const ids = (m: Manifest) => new Set(m.dump.files.flatMap((f) => f.chunks.map(([h]) => h)));
    const [first, second] = manifests.map(ids);
    const shared = [...first!].find((h) => second!.has(h))!;
    const onlyDay2 = [...second!].find((h) => !first!.has(h))!;
    const prefix = manifests[0]!.chunking.prefix;
    const client = world.s3.client();
    await client.send(new DeleteObjectCommand({ Bucket: world.s3.bucket, Key: chunkKey(prefix, shared) }));
    const missing = await runCli(['check', pipeline], env);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toContain(`missing-chunk ${chunkKey(prefix, shared)}`);
    expect(missing.stdout).toContain(`${reports[0]!.backup!.id}, ${reports[1]!.backup!.id}`);

    await client.send(
      new PutObjectCommand({
        Bucket: world.s3.bucket,
        Key: chunkKey(prefix, shared),
        Body: await s3Bytes(chunkKey(prefix, onlyDay2)),
      }),
    );
    const stored = await s3Bytes(chunkKey(prefix, onlyDay2));
    stored[Math.floor(stored.length / 2)]! ^= 0xff;
    await client.send(
      new PutObjectCommand({ Bucket: world.s3.bucket, Key: chunkKey(prefix, onlyDay2), Body: stored }),
    );
    const existsOnly = await runCli(['check', pipeline], env);
    expect(existsOnly.exitCode).toBe(0); // sizes and existence alone cannot see it
    const corrupt = await runCli(['check', pipeline, '--read-data'], env);
    expect(corrupt.exitCode).toBe(1);
    expect(corrupt.stdout).toMatch(
      new RegExp(
        `corrupt-chunk ${chunkKey(prefix, shared)}[^\\n]*\\n  backups depending on it: ${reports[0]!.backup!.id}, ${reports[1]!.backup!.id}`,
      ),
    );
    expect(corrupt.stdout).toMatch(
      new RegExp(
        `corrupt-chunk ${chunkKey(prefix, onlyDay2)}[^\\n]*\\n  backups depending on it: ${reports[1]!.backup!.id}\\n`,
      ),
    );
    expect(corrupt.stderr).toContain('backups at risk');
    expect(createHash('sha256').update(stored).digest('hex')).not.toBe(onlyDay2);
  });
});
