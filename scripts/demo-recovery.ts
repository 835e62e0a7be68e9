// npm run demo -- --scenario recovery: what a bad day looks like, in the local world. Three nightly
// runs over three days of change; then each step below, one function each, adds its part of the
// --json object: restore (the first night's backup into a fresh database, compared table by table,
// count and content, with the source as it was that day) and drill (the newest backup from the
// store alone, with no local state: fresh work and cache directories), encrypted (an encrypted
// pipeline's night, then every object it stored scanned for the source's row values, with the
// plaintext store as the scan's control) and prune (retention keepLast: 1 over the three nights,
// then check --read-data on what is left). A new step is a function and a line in STEPS.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import type { RunReport } from '../src/report/run-report.ts';
import { applyDayOfChange } from '../test/support/dataset.ts';
import { type LocalWorld, startLocalWorld } from '../test/support/local-world.ts';
import { storeObjects } from '../test/support/store-scan.ts';
import {
  compareTableFingerprints,
  readTableFingerprints,
  type TableFingerprints,
} from '../test/support/table-fingerprints.ts';

/** What the scenario needs from the demo. */
export interface RecoveryOptions {
  scale: number;
  runDir: string;
  json: boolean;
  say(line: string): void;
  /** Called with the world once it runs, so the demo can stop (or keep) it. */
  started(world: LocalWorld): void;
}

/** What every step sees: the world, the night's backups, the source as it was on day 1. */
interface Context {
  world: LocalWorld;
  backups: string[];
  firstDay: TableFingerprints;
  say(line: string): void;
}

/** A step's part of the JSON, and whether it succeeded. */
interface StepResult {
  ok: boolean;
  json: Record<string, unknown>;
}

const STEPS: [string, (ctx: Context) => Promise<StepResult>][] = [
  ['restore', restoreFirstNight],
  ['drill', drillFromStoreAlone],
  ['encrypted', encryptedNight],
  ['prune', pruneToNewest],
];

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** offsite as a subprocess in the world (stdout captured, stderr shown only with --debug). */
function offsite(world: LocalWorld, args: string[], env: NodeJS.ProcessEnv = {}) {
  return execa(process.execPath, ['bin/offsite.js', ...args], {
    env: world.env(env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
}

/** Runs the scenario; `json` is the object --json prints. */
export async function recoveryScenario(
  opts: RecoveryOptions,
): Promise<{ ok: boolean; json: Record<string, unknown> }> {
  const { say } = opts;
  say('starting the local world: 3 days of automated snapshots with a day of change between each');
  let firstDay: TableFingerprints | undefined;
  const world = await startLocalWorld({
    days: 3,
    scale: opts.scale,
    runDir: opts.runDir,
    // Before day 1's change the source holds exactly what snapshot 0 holds: read it then.
    dayOfChange: async (appUrl, day, epoch) => {
      if (day === 1) firstDay = await readTableFingerprints(appUrl);
      await applyDayOfChange(appUrl, { day, seed: 7, epoch });
    },
  });
  opts.started(world);
  const backups: string[] = [];
  for (const [i, snap] of world.snapshots.entries()) {
    const date = snap.at.toISOString().slice(0, 10);
    say(`night ${i + 1}: offsite run pipelines/demo.yaml --date ${date}`);
    const run = await offsite(world, [
      'run',
      'pipelines/demo.yaml',
      '--json',
      '--date',
      date,
      '--reason',
      'npm run demo -- --scenario recovery',
    ]);
    const report = JSON.parse(run.stdout || 'null') as RunReport | null;
    if (run.exitCode !== 0 || !report?.backup) {
      say(
        `night ${i + 1} failed (exit ${run.exitCode}): ${report?.error?.message ?? run.stderr.slice(-2000)}`,
      );
      return { ok: false, json: { error: `night ${i + 1} failed` } };
    }
    backups.push(report.backup.id);
    say(`  backup ${report.backup.id}: ${report.backup.bytesUploaded} bytes uploaded`);
  }
  const ctx: Context = { world, backups, firstDay: firstDay!, say };
  const json: Record<string, unknown> = {};
  let ok = true;
  for (const [name, step] of STEPS) {
    const result = await step(ctx);
    json[name] = result.json;
    ok &&= result.ok;
  }
  return { ok, json };
}

/** The first night's backup into a fresh database on the source's server, compared with day 1's source. */
async function restoreFirstNight(ctx: Context): Promise<StepResult> {
  const { world, say } = ctx;
  const database = 'recovered_day1';
  const to = `postgres://${world.source.user}@${world.source.host}:${world.source.port}/${database}`;
  say(`restore: offsite restore pipelines/demo.yaml --backup ${ctx.backups[0]} --to ${to}`);
  const started = Date.now();
  const run = await offsite(
    world,
    ['restore', 'pipelines/demo.yaml', '--backup', ctx.backups[0]!, '--to', to, '--json'],
    {
      PGPASSWORD: world.source.password,
    },
  );
  const took = seconds(Date.now() - started);
  if (run.exitCode !== 0) {
    say(`restore failed (exit ${run.exitCode}): ${run.stderr.slice(-2000)}`);
    return {
      ok: false,
      json: { equal: false, seconds: took, error: `offsite restore exited ${run.exitCode}` },
    };
  }
  const restored = await readTableFingerprints(world.source.url(database));
  const differences = compareTableFingerprints(ctx.firstDay, restored);
  const tables = Object.keys(ctx.firstDay).length;
  if (differences.length === 0)
    say(`  equal: all ${tables} tables hold day 1's rows (count and md5 of the sorted rows); ${took} s`);
  else for (const d of differences) say(`  DIFFERENT ${d.table}: ${d.what}`);
  return {
    ok: differences.length === 0,
    json: {
      equal: differences.length === 0,
      seconds: took,
      tables,
      ...(differences.length > 0 && { differences }),
    },
  };
}

/** The newest backup drilled with a pipeline file of store: alone and no local state. */
async function drillFromStoreAlone(ctx: Context): Promise<StepResult> {
  const { world, say } = ctx;
  const dir = await mkdtemp(join(tmpdir(), 'offsite-demo-drill-'));
  try {
    const demo = parse(await readFile('pipelines/demo.yaml', 'utf8')) as { name: string; store: unknown };
    const file = join(dir, 'store-only.yaml');
    // Fresh work and cache directories (the cache defaults beside workDir): nothing of the runs'.
    await writeFile(file, stringify({ name: demo.name, store: demo.store, workDir: join(dir, 'work') }));
    say('drill: offsite drill <store: only> --latest, with fresh work and cache directories');
    const started = Date.now();
    const run = await offsite(world, ['drill', file, '--latest', '--json']);
    const took = seconds(Date.now() - started);
    const report = JSON.parse(run.stdout || 'null') as { status?: string; backupId?: string } | null;
    const status = report?.status ?? 'error';
    say(`  ${status}: backup ${report?.backupId ?? '-'}; ${took} s`);
    if (!report) say(run.stderr.slice(-2000));
    return { ok: status === 'passed', json: { status, seconds: took, backup: report?.backupId } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Distinctive values of the source's rows (users' emails and names): what must never be readable. */
async function knownRowValues(world: LocalWorld): Promise<string[]> {
  const client = new pg.Client({ connectionString: world.source.url('app') });
  await client.connect();
  try {
    const rows = await client.query<{ email: string; name: string }>(
      'SELECT email, name FROM app.users ORDER BY id LIMIT 50',
    );
    return rows.rows.flatMap((r) => [r.email, r.name]).filter((v) => v.length >= 8);
  } finally {
    await client.end();
  }
}

/** One night of an encrypted copy of the demo pipeline, then its store scanned for row values. */
async function encryptedNight(ctx: Context): Promise<StepResult> {
  const { world, say } = ctx;
  const dir = await mkdtemp(join(tmpdir(), 'offsite-demo-encrypted-'));
  try {
    const demo = parse(await readFile('pipelines/demo.yaml', 'utf8')) as Record<string, unknown> & {
      store: Record<string, unknown>;
    };
    const prefix = 'offsite-encrypted';
    const file = join(dir, 'demo-encrypted.yaml');
    await writeFile(
      file,
      stringify({
        ...demo,
        store: { ...demo.store, prefix },
        encryption: { keys: [{ passphraseEnv: 'OFFSITE_DEMO_KEY' }] },
        workDir: join(dir, 'work'),
        reportDir: join(dir, 'reports'),
      }),
    );
    say(
      `encrypted: offsite run <demo.yaml with encryption:, store.prefix ${prefix}>, then every stored object scanned`,
    );
    const started = Date.now();
    const run = await offsite(world, ['run', file, '--json'], {
      OFFSITE_DEMO_KEY: randomBytes(24).toString('base64url'),
    });
    const took = seconds(Date.now() - started);
    if (run.exitCode !== 0) {
      say(`  the encrypted run failed (exit ${run.exitCode}): ${run.stderr.slice(-2000)}`);
      return { ok: false, json: { error: `offsite run exited ${run.exitCode}`, seconds: took } };
    }
    const values = await knownRowValues(world);
    const found = (objects: { key: string; text: string }[]) =>
      objects.flatMap(({ key, text }) => values.filter((v) => text.includes(v)).map((v) => ({ key, v })));
    const sealed = await storeObjects(world, `${prefix}/`);
    const leaks = found(sealed);
    // The control: the same scan finds the rows in the plaintext store, so a clean result means something.
    const controlFound = found(await storeObjects(world, 'offsite/')).length > 0;
    say(
      `  ${sealed.length} objects scanned for ${values.length} row values: ${leaks.length === 0 ? 'none found' : `FOUND in ${leaks[0]!.key}`}` +
        ` (the plaintext store, scanned the same way: ${controlFound ? 'found' : 'NOT found: the scan proves nothing'}); ${took} s`,
    );
    return {
      ok: leaks.length === 0 && controlFound && sealed.length > 0,
      json: {
        plaintextFound: leaks.length > 0,
        objects: sealed.length,
        valuesSought: values.length,
        controlFound,
        seconds: took,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** offsite prune with `retention: { keepLast: 1 }` over the three nights, then the store checked. */
async function pruneToNewest(ctx: Context): Promise<StepResult> {
  const { world, say } = ctx;
  const dir = await mkdtemp(join(tmpdir(), 'offsite-demo-prune-'));
  try {
    const demo = parse(await readFile('pipelines/demo.yaml', 'utf8')) as Record<string, unknown>;
    const file = join(dir, 'demo-retention.yaml');
    await writeFile(file, stringify({ ...demo, retention: { keepLast: 1 }, workDir: join(dir, 'work') }));
    say('prune: offsite prune <demo.yaml with retention: { keepLast: 1 }>, then offsite check --read-data');
    const started = Date.now();
    const run = await offsite(world, ['prune', file, '--json']);
    const took = seconds(Date.now() - started);
    const result = JSON.parse(run.stdout || 'null') as { kept?: string[]; deleted?: string[] } | null;
    if (run.exitCode !== 0 || !result?.kept || !result.deleted) {
      say(`  prune failed (exit ${run.exitCode}): ${run.stderr.slice(-2000)}`);
      return { ok: false, json: { error: `offsite prune exited ${run.exitCode}`, seconds: took } };
    }
    const check = await offsite(world, ['check', file, '--read-data']);
    const checked = check.exitCode === 0 ? 'passed' : 'failed';
    say(
      `  kept ${result.kept.join(', ')}; moved to the trash: ${result.deleted.join(', ') || 'none'}; check --read-data ${checked}; ${took} s`,
    );
    return {
      ok:
        checked === 'passed' && result.kept.length === 1 && result.deleted.length === ctx.backups.length - 1,
      json: {
        kept: result.kept.length,
        deleted: result.deleted.length,
        keptIds: result.kept,
        deletedIds: result.deleted,
        check: checked,
        seconds: took,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
