// The whole-pipeline benchmark of `npm run bench`: one dataset in the local world (RDS emulator,
// local S3, source cluster), three nightly snapshots (day 1; day 2 after an application-like day
// of change; a worst case with 1% of events updated uniformly), and on the same data the naive
// baseline, restic, offsite itself through its CLI, and a bare `pg_restore -j` of the day-1 dump.
import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { startLocalPostgres } from '../src/adapters/local-postgres-server.ts';
import { findPgTools } from '../src/adapters/pg-tools.ts';
import { findServerBinaries } from '../src/adapters/server-binaries.ts';
import type { PgTarget } from '../src/pipeline/ports.ts';
import type { RunReport } from '../src/report/run-report.ts';
import { applyDayOfChange, DATASET_TABLES, uniformUpdate } from '../test/support/dataset.ts';
import { type LocalWorld, startLocalWorld } from '../test/support/local-world.ts';
import { demoPipelineWith } from '../test/support/pipeline-file.ts';
import { REPO_ROOT } from '../test/support/run-cli.ts';
import { installOffsite } from './bench-installed.ts';
import { type NaiveResult, runNaive } from './bench-naive.ts';
import { RESTIC_MISSING, resticNights } from './bench-restic.ts';
import { canTime, timed, timedOk } from './bench-timed.ts';

/** Bytes of table data per dataset scale unit (measured: scale 10 gives 103 MB of heap + TOAST). */
export const BYTES_PER_SCALE = 10.33e6;

/** One offsite run as the bench saw it. */
export interface OffsiteNight {
  wallSeconds: number;
  uploadedBytes: number;
  storeGrowthBytes: number;
  /** The CLI process's own peak (its report's resources.peakRssBytes: getrusage of itself). */
  peakRssBytes: number;
  /** offsite and what it runs and waits for (pg_dump, pg_restore, the scratch server); null without GNU time. */
  cpuSeconds: number | null;
  stages: Record<string, number>;
  dumpBytes: number;
  checks: number;
}

/** Everything one bench run measured; the fields of issue 14's contract and more. */
export interface BenchResult {
  sizeBytes: number;
  scale: number;
  machine: { cpus: number; memoryBytes: number; cpuModel: string };
  generateSeconds: number;
  baseline: NaiveResult;
  restic: {
    version: string | null;
    measure: string;
    day1AddedBytes: number | null;
    day2AddedBytes: number | null;
    worstAddedBytes: number | null;
    day1Seconds: number | null;
    day2Seconds: number | null;
    worstSeconds: number | null;
  };
  offsite: { day1: OffsiteNight; day2: OffsiteNight; worst: OffsiteNight };
  pgRestoreSeconds: number;
  ratios: Record<string, number | null>;
  targets: { target: string; value: number | null; limit: number; met: boolean | null }[];
  totalSeconds: number;
  notes: string[];
}

const since = (t: number) => (performance.now() - t) / 1000;

async function sql(url: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

async function tableBytes(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const sum = DATASET_TABLES.map((t) => `pg_table_size('${t}')`).join(' + ');
    const { rows } = await c.query<{ b: string }>(`SELECT (${sum})::bigint AS b`);
    return Number(rows[0]!.b);
  } finally {
    await c.end();
  }
}

/**
 * Hard-links the dump directory of the run whose log `text` is part of into `keep` as soon as its
 * restore test starts (the dump is whole then, and the run removes it only when it ends): restic
 * and the bare pg_restore then read offsite's own dump, and nothing is dumped twice.
 */
function dumpLinker(workDir: string, keep: string) {
  let linked = false;
  let runId: string | undefined;
  let failure: Error | undefined;
  return {
    onStderr(text: string) {
      runId ??= /"runId":"([^"]+)"/.exec(text)?.[1];
      if (linked || !runId || !text.includes('"msg":"stage restore-test started"')) return;
      linked = true;
      const dump = join(workDir, 'demo', runId, 'dump');
      try {
        mkdirSync(keep, { recursive: true });
        for (const f of readdirSync(dump)) linkSync(join(dump, f), join(keep, f));
      } catch (err) {
        failure = new Error(`could not link offsite's dump ${dump} into ${keep}: ${(err as Error).message}`);
      }
    },
    check() {
      if (failure) throw failure;
      if (!linked)
        throw new Error(`offsite's run never started its restore test: no dump to keep in ${keep}`);
    },
  };
}

async function offsiteNight(
  world: LocalWorld,
  offsite: string,
  pipeline: { path: string; workDir: string },
  date: string,
  prevStore: number,
  keepDumpIn: string,
): Promise<OffsiteNight> {
  const linker = dumpLinker(pipeline.workDir, keepDumpIn);
  // Run as installed and scheduled: the executable itself, so its shebang's Node flags apply.
  const t = await timed(
    offsite,
    ['run', pipeline.path, '--date', date, '--json'],
    {
      cwd: REPO_ROOT,
      env: world.env({ PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }),
      extendEnv: false,
      stdin: 'ignore',
      timeout: 3_600_000,
    },
    linker.onStderr,
  );
  let report: RunReport;
  try {
    report = JSON.parse(t.stdout) as RunReport;
  } catch {
    throw new Error(`offsite run printed no report (exit ${t.exitCode}):\n${t.stderr.slice(-2000)}`);
  }
  if (report.status !== 'succeeded' || !report.backup || !report.store)
    throw new Error(`offsite run ${report.status}: ${report.error?.message ?? 'no backup'}`);
  linker.check();
  return {
    wallSeconds: t.seconds,
    uploadedBytes: report.backup.bytesUploaded,
    storeGrowthBytes: report.store.totalBytes - prevStore,
    peakRssBytes: report.resources.peakRssBytes,
    cpuSeconds: t.cpuSeconds,
    stages: Object.fromEntries(report.stages.map((s) => [s.name, s.durationMs / 1000])),
    dumpBytes: report.dump?.bytes ?? 0,
    checks: report.checks.length,
  };
}

const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || !b ? null : Math.round((a / b) * 1000) / 1000;

/** Runs the whole benchmark at `scale`; `say` gets progress lines. */
export async function runPipelineBench(scale: number, say: (line: string) => void): Promise<BenchResult> {
  const begun = performance.now();
  const notes: string[] = [];
  const work = mkdtempSync(join(tmpdir(), 'offsite-bench-'));
  const runDir = join(work, 'runs');
  mkdirSync(runDir);
  let sizeBytes = 0;
  say(
    `generating the dataset at scale ${scale} (≈ ${((scale * BYTES_PER_SCALE) / 1e6).toFixed(0)} MB of table data) and 3 snapshots…`,
  );
  const t = performance.now();
  const world = await startLocalWorld({
    days: 3,
    scale,
    runDir,
    transitionMs: 200,
    // Day 1: an application-like day of change; day 2: the worst case. Each then vacuumed, as
    // autovacuum would: freed space is what scatters a table's physical order.
    async dayOfChange(url, day, epoch) {
      if (day === 1) {
        sizeBytes = await tableBytes(url);
        await applyDayOfChange(url, { day, seed: 7, epoch });
      } else await uniformUpdate(url, { table: 'events', fraction: 0.01, seed: 3 });
      await sql(url, 'VACUUM');
    },
  });
  const generateSeconds = since(t);
  say(`  ${(sizeBytes / 1e6).toFixed(0)} MB of table data in ${generateSeconds.toFixed(0)} s`);
  const scratchBinaries = await findServerBinaries({
    binDir: undefined,
    sourceMajor: world.source.majorVersion,
  });
  const scratch = await startLocalPostgres(scratchBinaries);
  try {
    const tools = await findPgTools(world.source.majorVersion, undefined);
    const [s1, s2, s3] = world.snapshots;
    const date = (s: typeof s1) => s!.at.toISOString().slice(0, 10);

    say('naive baseline (restore, pg_dump -Fc, delete, createdb + pg_restore, counts, PutObject)…');
    const naiveDir = join(work, 'naive');
    mkdirSync(naiveDir);
    const baseline = await runNaive({
      world,
      snapshotId: s1!.id,
      scratch: scratch.admin,
      binDir: tools.binDir,
      work: naiveDir,
    });
    rmSync(naiveDir, { recursive: true, force: true });
    say(`  ${baseline.wallSeconds.toFixed(1)} s`);

    say('offsite run day 1, day 2, worst case (the installed CLI as a subprocess, every check on)…');
    const offsite = await installOffsite(work);
    const dirs = { day1: join(work, 'day1'), day2: join(work, 'day2'), worst: join(work, 'worst') };
    const workDir = join(work, 'offsite-work');
    const pipelinePath = demoPipelineWith(
      work,
      {
        workDir,
        // Polled as often as the naive sequence polls the same emulator (RDS itself wants 30 s).
        source: { tempInstance: { pollIntervalSeconds: 0.2 } },
        // The worst-case night's newest row is a day older than its snapshot (only updates that day).
        verify: { freshness: { column: 'app.events.created_at', maxAgeHours: 72 } },
      },
      'bench.yaml',
    );
    const pipeline = { path: pipelinePath, workDir };
    const day1 = await offsiteNight(world, offsite, pipeline, date(s1), 0, dirs.day1);
    say(`  day 1 ${day1.wallSeconds.toFixed(1)} s`);
    const day2 = await offsiteNight(world, offsite, pipeline, date(s2), day1.storeGrowthBytes, dirs.day2);
    say(`  day 2 ${day2.wallSeconds.toFixed(1)} s`);
    const worst = await offsiteNight(
      world,
      offsite,
      pipeline,
      date(s3),
      day1.storeGrowthBytes + day2.storeGrowthBytes,
      dirs.worst,
    );
    say(`  worst ${worst.wallSeconds.toFixed(1)} s`);
    say('bare pg_restore -j 2 of offsite’s day-1 dump into the same scratch server…');
    const db = 'bare_restore';
    await sql(
      `postgres://${scratch.admin.user}:${encodeURIComponent(scratch.admin.password)}@${scratch.admin.host}:${scratch.admin.port}/postgres`,
      `CREATE DATABASE ${db}`,
    );
    const bareTarget: PgTarget = { ...scratch.admin, database: db };
    const bare = await timedOk(
      join(tools.binDir, 'pg_restore'),
      [
        '--exit-on-error',
        '--jobs=2',
        '-h',
        bareTarget.host,
        '-p',
        String(bareTarget.port),
        '-U',
        bareTarget.user,
        '-d',
        db,
        dirs.day1,
      ],
      { env: { ...process.env, PGPASSWORD: bareTarget.password } },
    );
    const pgRestoreSeconds = bare.seconds;
    await sql(
      `postgres://${scratch.admin.user}:${encodeURIComponent(scratch.admin.password)}@${scratch.admin.host}:${scratch.admin.port}/postgres`,
      `DROP DATABASE ${db} WITH (FORCE)`,
    );
    say(`  ${pgRestoreSeconds.toFixed(1)} s`);

    say('restic day 1, day 2, worst case, over offsite’s three dump directories…');
    const r = await resticNights(dirs);
    const restic =
      'missing' in r
        ? {
            version: null,
            measure: RESTIC_MISSING,
            day1AddedBytes: null,
            day2AddedBytes: null,
            worstAddedBytes: null,
            day1Seconds: null,
            day2Seconds: null,
            worstSeconds: null,
          }
        : {
            version: r.version,
            measure: r.measure,
            day1AddedBytes: r.stored(r.day1),
            day2AddedBytes: r.stored(r.day2),
            worstAddedBytes: r.stored(r.worst),
            day1Seconds: r.day1.seconds,
            day2Seconds: r.day2.seconds,
            worstSeconds: r.worst.seconds,
          };
    if ('missing' in r) notes.push(`${RESTIC_MISSING}: its figures are null.`);
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });

    if (!canTime)
      notes.push('GNU time (/usr/bin/time, Debian package `time`) is missing: CPU times are null.');

    const ratios = {
      day1WallVsNaive: ratio(day1.wallSeconds, baseline.wallSeconds),
      day2UploadVsDay1: ratio(day2.uploadedBytes, day1.uploadedBytes),
      day2UploadVsRestic: ratio(day2.uploadedBytes, restic.day2AddedBytes),
      worstUploadVsRestic: ratio(worst.uploadedBytes, restic.worstAddedBytes),
      day1UploadVsNaive: ratio(day1.uploadedBytes, baseline.uploadedBytes),
      day1UploadVsRestic: ratio(day1.uploadedBytes, restic.day1AddedBytes),
      day2WallVsRestic: ratio(day2.wallSeconds, restic.day2Seconds),
      restoreTestVsBarePgRestore: ratio(day1.stages['restore-test'], pgRestoreSeconds),
    };
    const peak = Math.max(day1.peakRssBytes, day2.peakRssBytes, worst.peakRssBytes);
    const target = (name: string, value: number | null, limit: number) => ({
      target: name,
      value,
      limit,
      met: value === null ? null : value <= limit,
    });
    const targets = [
      target('day-1 wall time / naive baseline', ratios.day1WallVsNaive, 0.5),
      target('day-2 bytes uploaded / day 1', ratios.day2UploadVsDay1, 0.12),
      target('day-2 bytes uploaded / restic day 2', ratios.day2UploadVsRestic, 1),
      target('worst-case bytes uploaded / restic worst case', ratios.worstUploadVsRestic, 1),
      target('restore-test stage / bare pg_restore -j', ratios.restoreTestVsBarePgRestore, 1.5),
      target('peak RSS (MiB)', Math.round(peak / 2 ** 20), 200),
    ];
    targets[5]!.met = peak < 200 * 2 ** 20;
    return {
      sizeBytes,
      scale,
      machine: { cpus: cpus().length, memoryBytes: totalmem(), cpuModel: cpus()[0]?.model ?? 'unknown' },
      generateSeconds,
      baseline,
      restic,
      offsite: { day1, day2, worst },
      pgRestoreSeconds,
      ratios,
      targets,
      totalSeconds: since(begun),
      notes,
    };
  } finally {
    await scratch.stop();
    await world.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
