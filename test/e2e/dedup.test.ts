// Two nightly runs over two consecutive snapshots (an application-like day of change between
// them), through the B2-strict proxy with 503s injected: the second run uploads a small share of
// the first, both backups restore to exactly their own day's data, and `offsite check` finds a
// deleted pack or a corrupted chunk and names the backups that depend on it.
import { randomBytes } from 'node:crypto';
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
import { zstdDecompressSync } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import type { RunReport } from '../../src/report/run-report.ts';
import { packKey } from '../../src/store/layout.ts';
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
  pipeline = demoPipelineWith(dir, {
    files: [{ name: 'media', path: media, exclude: ['*.tmp', 'cache'] }],
    // The proxy keeps Object Lock retention as B2 does (s3rver has none).
    store: { objectLock: { mode: 'compliance', days: 30 } },
  });
  for (const snap of world.snapshots) {
    const run = await runCli(['run', pipeline, '--json', '--date', snap.date], world.env(join(dir, 'run')));
    expect(run.exitCode, run.stderr).toBe(0);
    reports.push(run.report!);
    const stored = await s3Bytes(run.report!.backup!.manifestKey);
    manifests.push(JSON.parse(zstdDecompressSync(stored).toString()) as Manifest);
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
    console.info(
      `day 2 uploaded ${(share * 100).toFixed(1)}% of day 1's bytes (${day2!.bytesUploaded} of ${day1!.bytesUploaded})`,
    );
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
    // Chunks travel in packs: one PUT per pack, not per chunk (Object Lock ?retention calls aside).
    const packPuts = world.proxy.requests.filter(
      (r) =>
        r.method === 'PUT' && r.status === 200 && r.url.includes('/packs/') && !r.url.includes('retention'),
    );
    const [day1, day2] = reports.map((r) => r.backup!);
    expect(packPuts.length).toBe(day1!.packsUploaded! + day2!.packsUploaded!);
    expect(day1!.packsUploaded).toBeGreaterThan(0);
    expect(day1!.chunksNew).toBeGreaterThan(50 * day1!.packsUploaded!);
  });

  it('keeps the day-1 packs that day 2 reuses locked as long as day 2’s own objects', () => {
    const [m1, m2] = manifests;
    const day1Packs = new Set(m1!.packs.map((p) => p.id));
    const reused = m2!.packs.filter((p) => day1Packs.has(p.id));
    const fresh = m2!.packs.filter((p) => !day1Packs.has(p.id));
    expect(reused.length).toBeGreaterThan(0);
    expect(fresh.length).toBeGreaterThan(0);
    const lockOf = (id: string) =>
      world.proxy.retention.get(`/${world.s3.bucket}/${m2!.chunking.packsPrefix}${id.slice(0, 2)}/${id}`)!;
    const day2Written = Date.parse(m2!.createdAt);
    for (const p of [...reused, ...fresh]) {
      expect(lockOf(p.id).mode).toBe('COMPLIANCE');
      // At least 30 days from day 2's run (a minute of slack for the run itself).
      expect(lockOf(p.id).until.getTime()).toBeGreaterThan(day2Written + 30 * 86_400_000 - 60_000);
    }
    // Extended with one PutObjectRetention per reused pack, none for the packs day 2 wrote.
    const extended = world.proxy.requests.filter(
      (r) => r.method === 'PUT' && r.url.includes('?retention') && r.status === 200,
    );
    expect(extended.length).toBe(reused.length);
    expect(world.proxy.forbidden).toEqual([]);
  });

  it('stores identical and unchanged files once: the file set costs nothing on day 2', () => {
    const [m1, m2] = manifests;
    // Each chunk as what and where it is: pack numbers are per manifest, pack ids are not.
    const chunks = (m: Manifest, path: string) =>
      m.fileSets[0]!.entries.find((e) => e.path === path)!.chunks!.map(([hash, size, pack, offset]) => [
        hash,
        size,
        m.packs[pack]!.id,
        offset,
      ]);
    expect(chunks(m1!, 'photo one.jpg').length).toBeGreaterThan(10);
    expect(chunks(m1!, 'photo one.jpg')).toEqual(chunks(m1!, 'copy of photo one.jpg'));
    expect(chunks(m2!, 'photo one.jpg')).toEqual(chunks(m1!, 'photo one.jpg'));
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

  it('check --read-data passes on a whole store, and names the backups hit by a deleted pack or a corrupted chunk', async () => {
    const env = world.env(join(dir, 'run'));
    const ok = await runCli(['check', pipeline, '--read-data'], env);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('ok: every backup is whole');

    // Frames (pack id, offset) each backup reads; a pack and a chunk both use, a chunk only day 2 uses.
    const frames = (m: Manifest) =>
      new Map(
        m.dump.files.flatMap((f) =>
          f.chunks.map(
            ([hash, , p, offset, length]) =>
              [`${m.packs[p]!.id}@${offset}`, { pack: m.packs[p]!.id, offset, length, hash }] as const,
          ),
        ),
      );
    const [first, second] = manifests.map(frames);
    const shared = [...first!.values()].find((f) => second!.has(`${f.pack}@${f.offset}`))!;
    const onlyDay2 = [...second!.values()].find((f) => !first!.has(`${f.pack}@${f.offset}`))!;
    const prefix = manifests[0]!.chunking.packsPrefix;
    const sharedKey = packKey(prefix, shared.pack);
    const day2Key = packKey(prefix, onlyDay2.pack);
    const [id1, id2] = reports.map((r) => r.backup!.id);
    const client = world.s3.client();
    const put = (key: string, body: Buffer) =>
      client.send(new PutObjectCommand({ Bucket: world.s3.bucket, Key: key, Body: body }));

    const sharedPack = await s3Bytes(sharedKey);
    await client.send(new DeleteObjectCommand({ Bucket: world.s3.bucket, Key: sharedKey }));
    const missing = await runCli(['check', pipeline], env);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toContain(
      `missing-pack ${sharedKey}: not in the store\n  backups depending on it: ${id1}, ${id2}\n`,
    );

    // One byte flipped in the middle of each chosen chunk's frame: sizes stay, contents do not.
    const flip = (bytes: Buffer, f: { offset: number; length: number }) => {
      const copy = Buffer.from(bytes);
      copy[f.offset + Math.floor(f.length / 2)]! ^= 0xff;
      return copy;
    };
    await put(sharedKey, flip(sharedPack, shared));
    await put(day2Key, flip(await s3Bytes(day2Key), onlyDay2));
    const existsOnly = await runCli(['check', pipeline], env);
    expect(existsOnly.exitCode).toBe(0); // sizes and existence alone cannot see it
    const corrupt = await runCli(['check', pipeline, '--read-data'], env);
    expect(corrupt.exitCode).toBe(1);
    expect(corrupt.stdout).toContain(`corrupt-chunk ${sharedKey}@${shared.offset}: chunk ${shared.hash}`);
    expect(corrupt.stdout).toMatch(
      new RegExp(`${sharedKey}@${shared.offset}[^\\n]*\\n  backups depending on it: ${id1}, ${id2}\\n`),
    );
    expect(corrupt.stdout).toMatch(
      new RegExp(`corrupt-chunk ${day2Key}@${onlyDay2.offset}[^\\n]*\\n  backups depending on it: ${id2}\\n`),
    );
    expect(corrupt.stdout).toContain('FAILED: 2 problems');
    expect(corrupt.stderr).toContain('backups at risk');
    await put(sharedKey, sharedPack);
  });
});
