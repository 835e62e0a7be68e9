// No secret leaks, across the three commands that touch data: a nightly `offsite run`, `offsite
// restore --to` and `offsite drill`. While each runs, every process's argv on the machine is
// sampled (what `ps` shows any local user); afterwards their stdout, stderr, the local reports and
// every object in the store (decompressed where it is zstd) are scanned for the temporary
// instance's master password, the store key pair and the restore target's password. Known row
// values of the source must be in no log or report either; in the store only packs may hold
// them (compressed chunks of the dump: that is the backup), no report, record or manifest.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createS3Client } from '../../src/adapters/s3-client.ts';
import { idOfPackKey } from '../../src/store/layout.ts';
import { storeKeys } from '../faults/promises.ts';
import { watchArgv } from '../support/argv-watch.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { type CliResult, runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let target: PgCluster;
let dir: string;
let pipeline: string;
/** Distinctive values of the source's rows: users' emails and full names. */
let rowValues: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-secret-sweep-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
  pipeline = demoPipelineWith(dir, { reportDir: join(dir, 'reports') }, 'sweep.yaml');
  target = await startCluster();
  const client = new pg.Client({ connectionString: world.source.url('app') });
  await client.connect();
  try {
    const rows = await client.query<{ email: string; name: string }>(
      'SELECT email, name FROM app.users ORDER BY id LIMIT 20',
    );
    rowValues = rows.rows.flatMap((r) => [r.email, r.name]).filter((v) => v.length >= 8);
  } finally {
    await client.end();
  }
}, 300_000);

afterAll(async () => {
  await target?.stop();
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI while sampling every process's argv. */
async function watched(args: string[], env: NodeJS.ProcessEnv): Promise<{ run: CliResult; argvs: string[] }> {
  const watch = watchArgv();
  try {
    const run = await runCli(args, env);
    return { run, argvs: watch.stop() };
  } catch (err) {
    watch.stop();
    throw err;
  }
}

/** Every file under `root`, as text. */
function filesUnder(root: string): { path: string; text: string }[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((f) => join(root, f))
    .filter((p) => statSync(p).isFile())
    .map((path) => ({ path, text: readFileSync(path, 'latin1') }));
}

/** Every object of the store, its bytes decompressed when they are zstd frames. */
async function storeObjects(): Promise<{ key: string; text: string }[]> {
  const client = createS3Client({
    endpoint: world.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    accessKeyId: world.s3.accessKeyId,
    secretAccessKey: world.s3.secretAccessKey,
  });
  try {
    const out: { key: string; text: string }[] = [];
    for (const key of await storeKeys(world)) {
      const got = await client.send(new GetObjectCommand({ Bucket: world.s3.bucket, Key: key }));
      const raw = Buffer.from(await got.Body!.transformToByteArray());
      let text = raw.toString('latin1');
      try {
        text += `\n${zstdDecompressSync(raw).toString('latin1')}`;
      } catch {
        // not (only) zstd: the raw bytes are scanned
      }
      out.push({ key, text });
    }
    return out;
  } finally {
    client.destroy();
  }
}

/** Where each needle appears among the named texts (empty: nowhere). */
function found(needles: string[], texts: { where: string; text: string }[]): string[] {
  return texts.flatMap(({ where, text }) =>
    needles.filter((n) => text.includes(n)).map((n) => `${where} holds ${JSON.stringify(n.slice(0, 4))}…`),
  );
}

it('run, restore --to and drill: no password or key in any argv, log, report or stored object; no row value in a log or report', async () => {
  const env = world.env({ PGPASSWORD: target.password });
  const nightly = await watched(['run', pipeline, '--json'], env);
  expect(nightly.run.exitCode, nightly.run.stderr.slice(-2000)).toBe(0);
  const to = `postgres://${target.user}@${target.host}:${target.port}/swept`;
  const restore = await watched(['restore', pipeline, '--latest', '--to', to, '--json'], env);
  expect(restore.run.exitCode, restore.run.stderr.slice(-2000)).toBe(0);
  const drill = await watched(['drill', pipeline, '--latest', '--json'], env);
  expect(drill.run.exitCode, drill.run.stderr.slice(-2000)).toBe(0);

  // The sweep looks where the secrets would be: it sees each command's children and outputs.
  expect(nightly.argvs.some((a) => a.includes('pg_dump') && a.includes(nightly.run.report!.runId))).toBe(
    true,
  );
  expect(restore.argvs.some((a) => a.includes('pg_restore') && a.includes(String(target.port)))).toBe(true);
  expect(drill.argvs.some((a) => a.includes('pg_restore'))).toBe(true);
  const masterPasswords = world.emulator.masterPasswordsSet();
  expect(masterPasswords.length).toBeGreaterThan(0);
  const secrets = [...masterPasswords, world.s3.accessKeyId, world.s3.secretAccessKey, target.password];
  for (const s of secrets) expect(s.length, 'a secret too short to search for').toBeGreaterThanOrEqual(6);
  expect(rowValues.length).toBeGreaterThan(10);

  const runs = { run: nightly, 'restore --to': restore, drill };
  const outputs = Object.entries(runs).flatMap(([name, { run }]) => [
    { where: `${name} stdout`, text: run.stdout },
    { where: `${name} stderr`, text: run.stderr },
  ]);
  const argvs = Object.entries(runs).flatMap(([name, { argvs: list }]) =>
    list.map((a) => ({ where: `an argv during ${name}: ${a.slice(0, 60)}`, text: a })),
  );
  const reports = filesUnder(join(dir, 'reports')).map((f) => ({ where: f.path, text: f.text }));
  expect(reports.length).toBeGreaterThan(0);
  const objects = (await storeObjects()).map((o) => ({ where: o.key, text: o.text }));
  expect(objects.some((o) => o.where.includes('/drills/') || o.where.includes('drill'))).toBe(true);

  expect(found(secrets, [...argvs, ...outputs, ...reports, ...objects])).toEqual([]);
  const notData = objects.filter((o) => idOfPackKey(o.where) === null);
  expect(found(rowValues, [...outputs, ...reports, ...notData])).toEqual([]);
  // …while the packs do hold the data (the scan can see a row value where one is).
  const packs = objects.filter((o) => idOfPackKey(o.where) !== null);
  expect(found(rowValues, packs).length).toBeGreaterThan(0);
}, 900_000);
