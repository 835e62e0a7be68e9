// End to end: `offsite restore --to` and `offsite list` as subprocesses, against the local world.
// Two nightly runs fill the store; backups are restored into databases on another cluster and
// judged with test/support/independent-facts.ts (other queries than offsite's own checks).
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { manifestKey, packKey } from '../../src/store/layout.ts';
import type { Manifest } from '../../src/store/manifest.ts';
import { readDatabaseFacts } from '../support/independent-facts.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { runCli, startCli } from '../support/run-cli.ts';

let world: LocalWorld;
let target: PgCluster;
let dir: string;
let pipeline: string;
const ids: string[] = [];

const env = () => world.env({ PGPASSWORD: target.password });
const urlOf = (db: string) => `postgres://${target.user}@${target.host}:${target.port}/${db}`;
const dayOf = (i: number) => world.snapshots[i]!.at.toISOString().slice(0, 10);

async function databases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: target.url() });
  await client.connect();
  try {
    return (await client.query<{ d: string }>('SELECT datname AS d FROM pg_database')).rows.map((r) => r.d);
  } finally {
    await client.end();
  }
}

/** Databases a restore is writing (or left behind): `<db>_offsite_restoring_<hex>`. */
async function restoring(): Promise<string[]> {
  return (await databases()).filter((d) => d.includes('_offsite_restoring_'));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-restore-to-'));
  world = await startLocalWorld({ days: 2, scale: 0.05, runDir: join(dir, 'run') });
  pipeline = demoPipelineWith(dir, {});
  for (const i of [0, 1]) {
    const run = await runCli(['run', pipeline, '--json', '--date', dayOf(i)], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    ids.push(run.report!.backup!.id);
  }
  target = await startCluster();
}, 600_000);

afterAll(async () => {
  await target?.stop();
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('offsite restore --to', () => {
  it('restores a chosen date into a new database equal to that snapshot, and its checks pass', async () => {
    const run = await runCli(
      ['restore', pipeline, '--date', dayOf(1), '--to', urlOf('restored'), '--json'],
      env(),
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain(`plan: restore backup ${ids[1]}`);
    const out = JSON.parse(run.stdout) as {
      backup: string;
      was: string;
      checks: { name: string; status: string }[];
    };
    expect(out.backup).toBe(ids[1]);
    expect(out.was).toBe('absent');
    const status = Object.fromEntries(out.checks.map((c) => [c.name, c.status]));
    for (const name of [
      'row-counts',
      'checksums',
      'schema',
      'sequences',
      'amcheck',
      'sql:revenue-equals-source',
    ])
      expect(status[name], name).toBe('passed');
    // The source has not changed since snapshot 1: compare independently, row by row.
    const [restored, source] = await Promise.all([
      readDatabaseFacts(target, 'restored'),
      readDatabaseFacts(world.source, 'app'),
    ]);
    expect(Object.keys(restored.rows).length).toBeGreaterThanOrEqual(5);
    expect(restored.rows).toEqual(source.rows);
    expect(restored.sequences).toEqual(source.sequences);
  });

  it('restores an older backup to exactly its own day’s row counts', async () => {
    const run = await runCli(['restore', pipeline, '--backup', ids[0]!, '--to', urlOf('day0')], env());
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/passed +row-counts: /);
    const facts = await readDatabaseFacts(target, 'day0');
    const counts = Object.fromEntries(Object.entries(facts.rows).map(([t, r]) => [t, r.rows]));
    expect(counts).toEqual(world.snapshots[0]!.rowCounts);
    expect(counts).not.toEqual(world.snapshots[1]!.rowCounts);
  });

  it('--table restores only those tables, with their rows, and checks only them', async () => {
    const run = await runCli(
      [
        'restore',
        pipeline,
        '--latest',
        '--to',
        urlOf('partial'),
        '--table',
        'app.users',
        '--table',
        'app.payments',
        '--json',
      ],
      env(),
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as {
      checks: { name: string; status: string; details: { table?: string }[] }[];
    };
    const rowCounts = out.checks.find((c) => c.name === 'row-counts')!;
    expect(rowCounts.status).toBe('passed');
    expect(rowCounts.details.map((d) => d.table).sort()).toEqual(['app.payments', 'app.users']);
    expect(out.checks.find((c) => c.name === 'schema')?.status).toBe('skipped');
    const [partial, source] = await Promise.all([
      readDatabaseFacts(target, 'partial'),
      readDatabaseFacts(world.source, 'app'),
    ]);
    expect(Object.keys(partial.rows).sort()).toEqual(['app.payments', 'app.users']);
    expect(partial.rows['app.users']).toEqual(source.rows['app.users']);
    expect(partial.rows['app.payments']).toEqual(source.rows['app.payments']);
  });

  it('refuses a database that is not empty without --force, and replaces it with --force', async () => {
    const refused = await runCli(['restore', pipeline, '--latest', '--to', urlOf('restored')], env());
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toMatch(
      /the target database restored is not empty \(function app\.touch_updated_at\(\), relation app\./,
    );
    expect(refused.stderr).toContain('--force');
    const forced = await runCli(
      ['restore', pipeline, '--latest', '--to', urlOf('restored'), '--force', '--json'],
      env(),
    );
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).was).toBe('replaced');
    expect(forced.stderr).toContain('--force: an existing database of that name is replaced');
    expect(await restoring()).toEqual([]);
  });

  it('an interrupted restore leaves the target as it was and no temporary database; a retry just works', async () => {
    const before = await readDatabaseFacts(target, 'restored');
    const child = startCli(
      ['restore', pipeline, '--backup', ids[0]!, '--to', urlOf('restored'), '--force'],
      env(),
    );
    // Interrupted while the restore writes its temporary database (observed, not timed).
    let ended = false;
    void child.finally(() => {
      ended = true;
    });
    let seen: string[] = [];
    while (seen.length === 0 && !ended) {
      seen = await restoring();
      if (seen.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen[0]).toMatch(/^restored_offsite_restoring_[0-9a-f]{8}$/);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(130);
    expect(await restoring()).toEqual([]);
    expect(await readDatabaseFacts(target, 'restored')).toEqual(before);
    const retry = await runCli(
      ['restore', pipeline, '--backup', ids[0]!, '--to', urlOf('restored'), '--force'],
      env(),
    );
    expect(retry.exitCode, retry.stderr).toBe(0);
    const counts = Object.fromEntries(
      Object.entries((await readDatabaseFacts(target, 'restored')).rows).map(([t, r]) => [t, r.rows]),
    );
    expect(counts).toEqual(world.snapshots[0]!.rowCounts);
    expect(await restoring()).toEqual([]);
  });

  it('refuses to replace a database other sessions use, naming them and the fix, and changes nothing', async () => {
    const before = await readDatabaseFacts(target, 'restored');
    const app = new pg.Client({
      connectionString: target.url('restored'),
      application_name: 'the-app',
    });
    await app.connect();
    try {
      const run = await runCli(
        ['restore', pipeline, '--latest', '--to', urlOf('restored'), '--force'],
        env(),
      );
      expect(run.exitCode).toBe(3);
      expect(run.stderr).toMatch(
        /the target database restored has 1 other session connected \([^)]*the-app\)/,
      );
      expect(run.stderr).toContain('pg_terminate_backend');
    } finally {
      await app.end();
    }
    expect(await restoring()).toEqual([]);
    expect(await readDatabaseFacts(target, 'restored')).toEqual(before);
  });

  it('names a temporary database a killed restore left, with the fix, and leaves it alone', async () => {
    const leftover = 'restored_offsite_restoring_deadbeef';
    const admin = new pg.Client({ connectionString: target.url() });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${leftover}`);
      const run = await runCli(
        ['restore', pipeline, '--latest', '--to', urlOf('restored'), '--force'],
        env(),
      );
      expect(run.exitCode, run.stderr).toBe(0);
      // stderr is JSON lines here: the message's quotes are escaped.
      expect(run.stderr).toContain(
        `left by an earlier restore into restored that was killed: ${leftover}; once`,
      );
      expect(run.stderr).toContain(`drop them: DROP DATABASE \\"${leftover}\\";`);
      expect(await restoring()).toEqual([leftover]);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${leftover}`);
      await admin.end();
    }
  });

  it('refuses a password in the URL, naming no password', async () => {
    const run = await runCli(
      [
        'restore',
        pipeline,
        '--latest',
        '--to',
        `postgres://${target.user}:s3cret@${target.host}:${target.port}/x`,
      ],
      env(),
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('the URL holds a password');
    expect(run.stderr).not.toContain('s3cret');
  });
});

describe('offsite list', () => {
  it('shows the backups with date, snapshot, reason, verdict, size and new bytes (text and --json)', async () => {
    const json = await runCli(['list', pipeline, '--json'], env());
    expect(json.exitCode, json.stderr).toBe(0);
    const lines = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(lines.map((l) => l.id)).toEqual(ids);
    for (const [i, l] of lines.entries()) {
      expect(l.date).toBe(dayOf(i));
      expect((l.snapshot as { id: string }).id).toBe(world.snapshots[i]!.id);
      expect(l.restoreTest).toBe('passed');
      expect(l.bytes).toBeGreaterThan(100_000);
      expect(l.newBytes).toBeGreaterThan(0);
      expect(l.lastDrill).toBeNull();
    }
    // Day 2 reuses most of day 1's chunks.
    expect(lines[1]!.newBytes as number).toBeLessThan(lines[0]!.newBytes as number);
    const text = await runCli(['list', pipeline], env());
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(
      /^DATE +SNAPSHOT +TAKEN +REASON +RESTORE TEST +LAST DRILL +SIZE +NEW BYTES +BACKUP$/m,
    );
    for (const [i, l] of lines.entries())
      expect(text.stdout).toMatch(
        new RegExp(
          `^${dayOf(i)} +${world.snapshots[i]!.id} +\\d\\d:\\d\\d +nightly +passed +never +[\\d.]+ [KMG]?i?B \\(${l.bytes}\\) +[\\d.]+ [KMG]?i?B \\(${l.newBytes}\\) +${ids[i]}$`,
          'm',
        ),
      );
  });
});

describe('a machine that has only the store', () => {
  it('lists and restores with a pipeline file holding store: alone (no RDS access, no source:)', async () => {
    const demo = parse(readFileSync(pipeline, 'utf8')) as Record<string, unknown>;
    const storeOnly = join(dir, 'store-only.yaml');
    writeFileSync(
      storeOnly,
      stringify({ name: demo.name, store: demo.store, workDir: join(dir, 'store-only-work') }),
    );
    const list = await runCli(['list', storeOnly, '--json'], env());
    expect(list.exitCode, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((b) => b.id)).toEqual(ids);
    const to = join(dir, 'store-only-restore');
    const restore = await runCli(['restore', storeOnly, '--latest', '--to-dir', to], env());
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect(readdirSync(join(to, 'dump'))).toEqual(expect.arrayContaining(['toc.dat', 'offsite-roles.sql']));
    // A run still needs source: the same file is refused for it, naming the field.
    const run = await runCli(['run', storeOnly], env());
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/source/);
  });
});

describe('restore --force --safety-dump', () => {
  it('backs the replaced database up first; restoring that safety dump brings back the rows written between', async () => {
    const a = await runCli(['restore', pipeline, '--backup', ids[0]!, '--to', urlOf('undo')], env());
    expect(a.exitCode, a.stderr).toBe(0);
    // Rows written into the restored database after restore A: only the safety dump has them.
    const app = new pg.Client({ connectionString: target.url('undo') });
    await app.connect();
    try {
      await app.query('CREATE TABLE app.written_between (id int PRIMARY KEY, note text NOT NULL)');
      await app.query(
        "INSERT INTO app.written_between SELECT g, 'note ' || g FROM generate_series(1, 250) g",
      );
      await app.query(
        'DELETE FROM app.payments WHERE id IN (SELECT id FROM app.payments ORDER BY id LIMIT 3)',
      );
    } finally {
      await app.end();
    }
    const between = await readDatabaseFacts(target, 'undo');

    const b = await runCli(
      ['restore', pipeline, '--backup', ids[1]!, '--to', urlOf('undo'), '--force', '--safety-dump', '--json'],
      env(),
    );
    expect(b.exitCode, b.stderr).toBe(0);
    const out = JSON.parse(b.stdout) as { was: string; safetyDump: { backup: string } | null };
    expect(out.was).toBe('replaced');
    const safetyId = out.safetyDump!.backup;
    expect(safetyId).toMatch(/^\d{4}-\d\d-\d\dT\d{4}Z-safety-/);
    expect(b.stderr).toContain(
      `offsite restore ${pipeline} --backup ${safetyId} --to ${urlOf('undo')} --force`,
    );
    expect((await readDatabaseFacts(target, 'undo')).rows['app.written_between']).toBeUndefined();

    // list shows it with its reason; --latest still means the newest backup of the source.
    const list = await runCli(['list', pipeline, '--json'], env());
    expect(list.exitCode, list.stderr).toBe(0);
    const lines = JSON.parse(list.stdout) as { id: string; reason: string | null; restoreTest: string }[];
    expect(lines.find((l) => l.id === safetyId)).toMatchObject({
      reason: `before restore ${ids[1]}`,
      restoreTest: 'not-run',
    });
    const text = await runCli(['list', pipeline], env());
    expect(text.stdout).toMatch(new RegExp(`before restore ${ids[1]} +not-run .*${safetyId}$`, 'm'));
    const latest = await runCli(
      ['restore', pipeline, '--latest', '--to-dir', join(dir, 'latest-dir')],
      env(),
    );
    expect(latest.exitCode, latest.stderr).toBe(0);
    expect(latest.stdout).toContain(`restored backup ${ids[1]} `);

    // The safety dump restores, proves itself against the facts read from the target, and holds
    // exactly what was there between the two restores.
    const back = await runCli(
      ['restore', pipeline, '--backup', safetyId, '--to', urlOf('undone'), '--json'],
      env(),
    );
    expect(back.exitCode, back.stderr).toBe(0);
    const checks = (JSON.parse(back.stdout) as { checks: { name: string; status: string }[] }).checks;
    const status = Object.fromEntries(checks.map((c) => [c.name, c.status]));
    for (const name of ['row-counts', 'checksums', 'schema', 'sequences'])
      expect(status[name], name).toBe('passed');
    const undone = await readDatabaseFacts(target, 'undone');
    expect(undone.rows['app.written_between']?.rows).toBe(250);
    expect(undone.rows).toEqual(between.rows);
  });

  it('--safety-dump without --force is a usage error, and nothing is changed', async () => {
    const run = await runCli(
      ['restore', pipeline, '--latest', '--to', urlOf('undo'), '--safety-dump'],
      env(),
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--safety-dump goes with --force');
  });
});

describe('a restore whose checks fail', () => {
  it('is not put in place: the target stays as it was, the restored copy is dropped, and the mismatch is named', async () => {
    // The backup's recorded facts say app.users had one row more than it holds: the row-counts
    // check of any restore of it fails. The manifest is rewritten with the record's new hash.
    const s3 = world.s3.client();
    const get = async (key: string) => {
      const out = await s3.send(new GetObjectCommand({ Bucket: world.s3.bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    };
    const put = (key: string, body: Buffer) =>
      s3.send(new PutObjectCommand({ Bucket: world.s3.bucket, Key: key, Body: body }));
    const mKey = manifestKey('offsite', 'demo', ids[0]!);
    const manifest = JSON.parse(zstdDecompressSync(await get(mKey)).toString()) as Manifest;
    const factsKey = manifest.sourceFacts!.key;
    const facts = JSON.parse((await get(factsKey)).toString()) as { rowCounts: Record<string, number> };
    facts.rowCounts['app.users']! += 1;
    const body = Buffer.from(JSON.stringify(facts));
    await put(factsKey, body);
    manifest.sourceFacts!.sha256 = createHash('sha256').update(body).digest('hex');
    await put(mKey, zstdCompressSync(Buffer.from(JSON.stringify(manifest))));

    const before = await readDatabaseFacts(target, 'restored');
    const run = await runCli(
      ['restore', pipeline, '--backup', ids[0]!, '--to', urlOf('restored'), '--force'],
      env(),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/failed +row-counts: 1 of \d+ tables differ/);
    expect(run.stderr).toContain(`the restored copy of backup ${ids[0]} does not match the backup's source`);
    expect(run.stderr).toContain('restored was left as it was (the restored copy was dropped)');
    expect(await restoring()).toEqual([]);
    expect(await readDatabaseFacts(target, 'restored')).toEqual(before);
  });
});

describe('a damaged pack', () => {
  it('fails the restore naming the pack, leaves no database behind and suggests the previous backup', async () => {
    const s3 = world.s3.client();
    const get = async (key: string) => {
      const out = await s3.send(new GetObjectCommand({ Bucket: world.s3.bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    };
    const manifest = JSON.parse(
      zstdDecompressSync(await get(manifestKey('offsite', 'demo', ids[1]!))).toString(),
    ) as Manifest;
    const toc = manifest.dump.files.find((f) => f.name === 'toc.dat')!;
    const [, , pack, offset, length] = toc.chunks[0]!;
    const packId = manifest.packs[pack]!.id;
    const key = packKey(manifest.chunking.packsPrefix, packId);
    const bytes = await get(key);
    for (let i = offset + Math.floor(length / 2); i < offset + length - 4; i++) bytes[i] = bytes[i]! ^ 0xff;
    await s3.send(new PutObjectCommand({ Bucket: world.s3.bucket, Key: key, Body: bytes }));

    const run = await runCli(['restore', pipeline, '--backup', ids[1]!, '--to', urlOf('broken')], env());
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(packId);
    expect(run.stderr).toContain(`--backup ${ids[0]}`);
    expect(await databases()).not.toContain('broken');
    expect(await restoring()).toEqual([]);
  });
});
