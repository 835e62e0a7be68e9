// End to end: an encrypted pipeline (`encryption: { keys: [ { passphraseEnv: OFFSITE_KEY } ] }`)
// runs two nights in the local world beside a plaintext pipeline over the same data. The store
// holds no row value and no plaintext sha256 of a chunk, day 2 still deduplicates, restore,
// drill and check --read-data work with the key, a wrong or missing key exits 3 having written
// nothing, and key add / key remove rotate the user key without rewriting data.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../src/adapters/object-store-s3.ts';
import type { RunReport } from '../../src/report/run-report.ts';
import { listBackups, readManifest } from '../../src/store/backups.ts';
import type { Manifest } from '../../src/store/manifest.ts';
import { openPipelineStore } from '../../src/store/open-store.ts';
import { storeKeys } from '../faults/promises.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';
import { scannable, storeObjects } from '../support/store-scan.ts';

const KEY = 'an encrypted pipeline passphrase, long enough';
const KEY2 = 'the second passphrase, after the rotation';

let world: LocalWorld;
let dir: string;
let plain: string;
let crypt: string;
const reports: { plain: RunReport[]; crypt: RunReport[] } = { plain: [], crypt: [] };
/** Distinctive values of the source's rows: users' emails and full names. */
let rowValues: string[];

const env = (extra: NodeJS.ProcessEnv = {}) => world.env({ OFFSITE_KEY: KEY, ...extra });

/** Every backup's manifest of the encrypted pipeline, opened with a passphrase as the CLI does. */
async function cryptManifests(passphrase: string): Promise<Manifest[]> {
  const raw = createS3Store(world.s3.client(), world.s3.bucket, world.s3.endpoint, {});
  const store = await openPipelineStore(
    raw,
    { name: 'crypt', store: { prefix: 'offsite' }, encryption: { keys: [{ passphraseEnv: 'K' }] } },
    { env: { K: passphrase } },
  );
  const out: Manifest[] = [];
  for (const b of await listBackups(store, 'offsite', 'crypt'))
    out.push(await readManifest(store, b.manifestKey));
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-encryption-'));
  world = await startLocalWorld({ days: 2, scale: 1, runDir: join(dir, 'run') });
  plain = demoPipelineWith(dir, { name: 'plain' }, 'plain.yaml');
  crypt = demoPipelineWith(
    dir,
    { name: 'crypt', encryption: { keys: [{ passphraseEnv: 'OFFSITE_KEY' }] } },
    'crypt.yaml',
  );
  const client = new pg.Client({ connectionString: world.source.url('app') });
  await client.connect();
  try {
    const rows = await client.query<{ email: string; name: string }>(
      'SELECT email, name FROM app.users ORDER BY id LIMIT 50',
    );
    rowValues = rows.rows.flatMap((r) => [r.email, r.name]).filter((v) => v.length >= 8);
  } finally {
    await client.end();
  }
  const [day1, day2] = world.snapshots.map((s) => s.at.toISOString().slice(0, 10));
  // Day 1 of the same data, plaintext then encrypted (one run each), then day 2 encrypted.
  for (const [name, file, date] of [
    ['plain', plain, day1],
    ['crypt', crypt, day1],
    ['crypt', crypt, day2],
  ] as const) {
    const run = await runCli(['run', file, '--json', '--date', date!], env(), 480_000);
    expect(run.exitCode, run.stderr).toBe(0);
    reports[name].push(run.report!);
  }
}, 1_500_000);

afterAll(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an encrypted pipeline', () => {
  it("costs this much of day 1's wall time (printed), and day 2 still uploads under 15% of day 1", () => {
    const ratio = reports.crypt[0]!.durationMs / reports.plain[0]!.durationMs;
    console.info(
      `day 1 wall time: encrypted ${reports.crypt[0]!.durationMs} ms, plaintext ${reports.plain[0]!.durationMs} ms: ratio ${ratio.toFixed(3)}`,
    );
    const stages = (r: RunReport) => r.stages.map((st) => `${st.name} ${st.durationMs}`).join(', ');
    console.info(`stages (ms), encrypted: ${stages(reports.crypt[0]!)}`);
    console.info(`stages (ms), plaintext: ${stages(reports.plain[0]!)}`);
    const [d1, d2] = reports.crypt.map((r) => r.backup!);
    const share = d2!.bytesUploaded / d1!.bytesUploaded;
    console.info(
      `encrypted day 2 uploaded ${(share * 100).toFixed(1)}% of day 1's bytes (${d2!.bytesUploaded} of ${d1!.bytesUploaded})`,
    );
    expect(d1!.chunksNew).toBeGreaterThan(100);
    expect(share).toBeLessThan(0.15);
  });

  it('leaves no row value in any stored object (the plaintext store, scanned the same way, has them)', async () => {
    const sealed = await storeObjects(world, 'offsite/crypt/');
    expect(sealed.some((o) => o.key.includes('/keys/'))).toBe(true);
    const leaks = sealed.flatMap((o) =>
      rowValues.filter((v) => o.text.includes(v)).map((v) => `${o.key}: ${v}`),
    );
    expect(leaks).toEqual([]);
    const open = await storeObjects(world, 'offsite/plain/');
    expect(open.filter((o) => rowValues.some((v) => o.text.includes(v))).length).toBeGreaterThan(0);
  });

  it('names no object and no chunk by the plaintext sha256 of a chunk; dedup still works by keyed ids', async () => {
    // The plaintext pipeline's chunk ids are the sha256 of the same day-1 chunks.
    const plainStore = createS3Store(world.s3.client(), world.s3.bucket, world.s3.endpoint, {});
    const [plainBackup] = await listBackups(plainStore, 'offsite', 'plain');
    const plainManifest = await readManifest(plainStore, plainBackup!.manifestKey);
    const sha256s = new Set(plainManifest.dump.files.flatMap((f) => f.chunks.map((c) => c[0])));
    expect(sha256s.size).toBeGreaterThan(100);

    const manifests = await cryptManifests(KEY);
    expect(manifests).toHaveLength(2);
    const ids = manifests.flatMap((m) => m.dump.files.flatMap((f) => f.chunks.map((c) => c[0])));
    expect(manifests[0]!.chunking.hash).toBe('hmac-sha256');
    expect(ids.filter((id) => sha256s.has(id))).toEqual([]);
    // The same data cut the same way: as many chunk references as the plaintext day 1.
    expect(manifests[0]!.dump.files.flatMap((f) => f.chunks).length).toBe(
      plainManifest.dump.files.flatMap((f) => f.chunks).length,
    );
    const names = (await storeKeys(world, 'offsite/crypt/')).flatMap((k) => k.split('/'));
    expect(names.filter((n) => sha256s.has(n.replace(/\.[a-z.]+$/, '')))).toEqual([]);
    // Day 2 reads most of its chunks from day 1's packs.
    const day1Packs = new Set(manifests[0]!.packs.map((p) => p.id));
    expect(manifests[1]!.packs.filter((p) => day1Packs.has(p.id)).length).toBeGreaterThan(0);
  });

  it('restores (files as the plaintext backup has them), drills and checks every pack with the key', async () => {
    const day1 = world.snapshots[0]!.at.toISOString().slice(0, 10);
    const to = join(dir, 'restored-crypt');
    const plainTo = join(dir, 'restored-plain');
    const restore = await runCli(['restore', crypt, '--date', day1, '--to-dir', to], env());
    expect(restore.exitCode, restore.stderr).toBe(0);
    const plainRestore = await runCli(['restore', plain, '--date', day1, '--to-dir', plainTo], env());
    expect(plainRestore.exitCode, plainRestore.stderr).toBe(0);
    const files = readdirSync(join(plainTo, 'dump'));
    expect(readdirSync(join(to, 'dump')).sort()).toEqual(files.sort());
    // The same snapshot's table data, byte for byte (toc.dat records each dump's own start time).
    const data = files.filter((f) => /^\d+\.dat$/.test(f));
    expect(data.length).toBeGreaterThan(3);
    for (const f of data)
      expect(readFileSync(join(to, 'dump', f)).equals(readFileSync(join(plainTo, 'dump', f))), f).toBe(true);
    const drill = await runCli(['drill', crypt, '--latest', '--json'], env(), 480_000);
    expect(drill.exitCode, drill.stderr).toBe(0);
    const check = await runCli(['check', crypt, '--read-data'], env());
    expect(check.exitCode, check.stderr).toBe(0);
    const list = await runCli(['list', crypt, '--json'], env());
    expect(list.exitCode, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveLength(2);
    const report = await runCli(['report', crypt, '--json'], env());
    expect(report.exitCode, report.stderr).toBe(0);
  });

  it('exports a backup encrypted, with its wrapped keys: the disk restores alone with the key, and holds no row value', async () => {
    const disk = join(dir, 'disk');
    const exported = await runCli(['export', crypt, '--latest', '--to', disk], env());
    expect(exported.exitCode, exported.stderr).toBe(0);
    const files = readdirSync(disk, { recursive: true, encoding: 'utf8' })
      .map((f) => join(disk, f))
      .filter((p) => statSync(p).isFile())
      .map((p) => ({ p, raw: readFileSync(p) }));
    const texts = await Promise.all(files.map(async ({ p, raw }) => ({ p, text: await scannable(raw) })));
    expect(texts.some((t) => t.p.includes('/keys/'))).toBe(true);
    expect(
      texts.flatMap((t) => rowValues.filter((v) => t.text.includes(v)).map((v) => `${t.p}: ${v}`)),
    ).toEqual([]);
    const offline = demoPipelineWith(
      dir,
      {
        name: 'crypt',
        store: { kind: 'dir', path: disk, prefix: 'offsite' },
        encryption: { keys: [{ passphraseEnv: 'OFFSITE_KEY' }] },
      },
      { name: 'offline.yaml', replace: ['store'] },
    );
    const restored = await runCli(
      ['restore', offline, '--latest', '--to-dir', join(dir, 'from-disk')],
      env(),
    );
    expect(restored.exitCode, restored.stderr).toBe(0);
    const wrong = await runCli(['list', offline], env({ OFFSITE_KEY: 'not the passphrase of this store' }));
    expect(wrong.exitCode).toBe(3);
  });

  it('a wrong or missing key: run, restore, drill, check --read-data and list exit 3 naming it, writing nothing', async () => {
    const before = await storeKeys(world, 'offsite/');
    const day2 = world.snapshots[1]!.at.toISOString().slice(0, 10);
    const commands = [
      ['run', crypt, '--date', day2],
      ['restore', crypt, '--latest', '--to-dir', join(dir, 'never')],
      ['drill', crypt, '--latest'],
      ['check', crypt, '--read-data'],
      ['list', crypt],
    ];
    for (const args of commands) {
      const wrong = await runCli(args, env({ OFFSITE_KEY: 'not the passphrase of this store' }));
      expect(wrong.exitCode, `${args[0]}: ${wrong.stderr}`).toBe(3);
      expect(wrong.stderr).toContain('the passphrase in OFFSITE_KEY does not open');
      expect(wrong.stderr).not.toContain('not the passphrase of this store');
      const missing = await runCli(args, env({ OFFSITE_KEY: '' }));
      expect(missing.exitCode, `${args[0]}: ${missing.stderr}`).toBe(3);
      expect(missing.stderr).toContain('OFFSITE_KEY');
    }
    expect(await storeKeys(world, 'offsite/')).toEqual(before);
    expect(() => readdirSync(join(dir, 'never'))).toThrow();
  });

  it('refuses an encrypted store without encryption: and a plaintext store with it', async () => {
    const noKeys = demoPipelineWith(dir, { name: 'crypt' }, 'crypt-plain.yaml');
    const listed = await runCli(['list', noKeys], env());
    expect(listed.exitCode).toBe(3);
    expect(listed.stderr).toMatch(/is an encrypted store .*but the pipeline has no encryption:/);
    const late = demoPipelineWith(
      dir,
      { name: 'plain', encryption: { keys: [{ passphraseEnv: 'OFFSITE_KEY' }] } },
      'plain-late.yaml',
    );
    const before = await storeKeys(world, 'offsite/');
    const run = await runCli(['run', late], env());
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/holds backups written without encryption/);
    expect(await storeKeys(world, 'offsite/')).toEqual(before);
  });

  it('key add then key remove: every backup opens with the new key and none with the removed one', async () => {
    const listed = await runCli(['key', 'list', crypt, '--json'], env());
    expect(listed.exitCode, listed.stderr).toBe(0);
    const [first] = JSON.parse(listed.stdout) as { keyId: string; source: string }[];
    expect(first!.source).toBe('OFFSITE_KEY');

    const last = await runCli(['key', 'remove', crypt, first!.keyId], env());
    expect(last.exitCode).toBe(2);
    expect(last.stderr).toContain('last key');

    const added = await runCli(
      ['key', 'add', crypt, '--passphrase-env', 'OFFSITE_KEY2'],
      env({ OFFSITE_KEY2: KEY2 }),
    );
    expect(added.exitCode, added.stderr).toBe(0);
    const rotated = demoPipelineWith(
      dir,
      { name: 'crypt', encryption: { keys: [{ passphraseEnv: 'OFFSITE_KEY2' }] } },
      'crypt-rotated.yaml',
    );
    // The old pipeline file cannot remove the key it opens with…
    const lockout = await runCli(['key', 'remove', crypt, first!.keyId], env());
    expect(lockout.exitCode).toBe(3);
    expect(lockout.stderr).toContain('would lock this pipeline out');
    // …the rotated one can.
    const removed = await runCli(['key', 'remove', rotated, first!.keyId], env({ OFFSITE_KEY2: KEY2 }));
    expect(removed.exitCode, removed.stderr).toBe(0);

    const check = await runCli(['check', rotated, '--read-data'], env({ OFFSITE_KEY2: KEY2 }));
    expect(check.exitCode, check.stderr).toBe(0);
    for (const snap of world.snapshots) {
      const date = snap.at.toISOString().slice(0, 10);
      const to = join(dir, `rotated-${date}`);
      const r = await runCli(
        ['restore', rotated, '--date', date, '--to-dir', to],
        env({ OFFSITE_KEY2: KEY2 }),
      );
      expect(r.exitCode, r.stderr).toBe(0);
      const old = await runCli(['restore', crypt, '--date', date, '--to-dir', `${to}-old`], env());
      expect(old.exitCode).toBe(3);
    }
    await expect(cryptManifests(KEY)).rejects.toMatchObject({ code: 'CREDENTIALS_INVALID' });
    expect(await cryptManifests(KEY2)).toHaveLength(2);
  });
});
