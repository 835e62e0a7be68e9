// npm run demo [-- --json]: the whole nightly pipeline against the local world (RDS emulator,
// local S3, embedded scratch Postgres), with `offsite run pipelines/demo.yaml` as a subprocess.
// Everything it starts, it stops; with --json, stdout holds the RunReport alone.
// npm run demo -- --scenario dedup [--json]: two nightly runs over two consecutive days (an
// application-like day of change between them) into one store; --json prints { day1, day2 }.
// npm run demo -- --scenario doctor [--json]: `offsite doctor pipelines/demo.yaml` in the local
// world; --json prints the doctor's { status, checks } object alone.
// npm run demo -- --scenario recovery [--json]: three nights, a restore of the first into a fresh
// database compared table by table with that day's source, a drill of the newest from the store
// alone (scripts/demo-recovery.ts).
// Every scenario that stores backups leaves a copy of the store in .demo/store with a pipeline file
// holding store: alone (.demo/demo-store.yaml); --keep keeps the local world running for
// pipelines/demo.yaml (. .demo/env.sh) until Ctrl-C.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { usageErrorFromParse } from '../src/cli/parse-args.ts';
import type { RunReport } from '../src/report/run-report.ts';
import { type LocalWorld, startLocalWorld } from '../test/support/local-world.ts';
import { keepStore, keepWorld } from './demo-keep.ts';
import { recoveryScenario } from './demo-recovery.ts';

const HELP = `Usage: npm run demo [-- --scenario nightly|dedup|doctor|recovery] [--json] [--scale N] [--keep]

Starts the local world (the RDS emulator with a source instance and 3 days of automated
snapshots, a local S3 server), runs \`offsite run pipelines/demo.yaml\` as a subprocess, prints
a summary and where the report is, checks no temporary instance is left, and stops everything.
The backups stay: the store is copied to .demo/store, and .demo/demo-store.yaml (store: only)
makes \`npx offsite list|report|check|restore|drill .demo/demo-store.yaml\` work afterwards.

Flags (after npm's "--"):
  --scenario nightly   one nightly run (the default)
  --scenario dedup     two nights over two days of change into one store; shows what day 2 uploaded
  --scenario doctor    offsite doctor pipelines/demo.yaml: every check a run needs, one line each
  --scenario recovery  three nights; the first restored into a fresh database and compared table by
                       table with that day's source; the newest drilled from the store alone
  --json               print the RunReport JSON alone on stdout (dedup: { day1, day2 }; doctor: its
                       { status, checks }; recovery: { restore, drill }); use npm run -s
  --scale N            size of the demo database (default 0.5; 1 is about 10 MB of table data)
  --keep               keep the local world (RDS emulator, S3, source Postgres) running afterwards:
                       in another shell \`. .demo/env.sh\` then \`npx offsite doctor pipelines/demo.yaml\`
                       (or run); Ctrl-C in the demo's shell stops it
  -h, --help           show this help

Examples:
  npm run demo
  npx offsite list .demo/demo-store.yaml
  npm run -s demo -- --scenario dedup --json | jq .day2.backup
  npm run -s demo -- --scenario doctor --json | jq .status
  npm run -s demo -- --scenario recovery --json | jq .restore.equal
  npm run demo -- --keep

Exit codes: offsite's (0 published, 1 failed, 2 bad usage, 3 precondition missing); 1 also when a
temporary instance was left behind; 130/143 when interrupted.
`;

const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

function parseDemoArgs() {
  try {
    return parseArgs({
      options: {
        json: { type: 'boolean', default: false },
        scale: { type: 'string', default: '0.5' },
        scenario: { type: 'string', default: 'nightly' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    const usage = usageErrorFromParse(err, 'npm run demo -- --help');
    if (!usage) throw err;
    say(`${usage.message}; ${usage.hint}`);
    process.exit(2);
  }
}
const values = parseDemoArgs();
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
// OFFSITE_DEMO_DIR (pipelines/demo.yaml's own variable) moves it, e.g. for a test.
const runDir = resolve(process.env.OFFSITE_DEMO_DIR || '.demo');

let world: LocalWorld | undefined;
let stopping = false;
/** The scenario's exit code, for a kept world stopped later by a signal. */
let exitCode: number | undefined;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping the local world');
    await world?.stop();
    // What .demo/env.sh points at is gone now.
    if (values.keep) rmSync(resolve(runDir, 'env.sh'), { force: true });
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(exitCode ?? 130));
process.on('SIGTERM', () => void shutdown(exitCode ?? 143));

if (!['nightly', 'dedup', 'doctor', 'recovery'].includes(values.scenario)) {
  say(`unknown --scenario ${values.scenario}: use nightly (the default), dedup, doctor or recovery`);
  process.exit(2);
}
if (!(Number(values.scale) > 0)) {
  say(`--scale ${values.scale}: expected a positive number, e.g. --scale 0.5`);
  process.exit(2);
}

try {
  const code =
    values.scenario === 'dedup'
      ? await dedupScenario()
      : values.scenario === 'doctor'
        ? await doctorScenario()
        : values.scenario === 'recovery'
          ? await recovery()
          : await nightlyScenario();
  // The doctor stores nothing; every other scenario's backups outlive the world.
  if (values.scenario !== 'doctor' && world) await keepStore(world, runDir, say);
  if (values.keep && world) {
    await keepWorld(world, runDir, say);
    // Until Ctrl-C or SIGTERM, which stop the world and exit with the scenario's code.
    exitCode = code;
  } else await shutdown(code);
} catch (err) {
  say(`failed: ${(err as Error).stack ?? err}`);
  await shutdown(1);
}

/** One nightly run of pipelines/demo.yaml, summarized. */
async function nightlyScenario(): Promise<number> {
  say('starting the local world: source Postgres + 3 days of automated snapshots, RDS emulator, local S3');
  world = await startLocalWorld({ days: 3, scale: Number(values.scale), runDir });
  for (const s of world.snapshots) say(`  snapshot ${s.id} (${s.at.toISOString()})`);
  say('running: offsite run pipelines/demo.yaml');
  const child = await execa(
    process.execPath,
    [
      'bin/offsite.js',
      'run',
      'pipelines/demo.yaml',
      '--reason',
      'npm run demo',
      ...(values.json ? ['--json'] : []),
    ],
    {
      env: world.env(),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      stdout: values.json ? 'pipe' : 'inherit',
      stderr: 'inherit',
    },
  );
  const left = world.emulator.listInstances();
  if (values.json) process.stdout.write(`${child.stdout}\n`);
  if (left.length > 0) {
    say(`ERROR: temporary instances left behind: ${left.map((i) => `${i.id} (${i.status})`).join(', ')}`);
    return 1;
  }
  if (!values.json) {
    const reportPath = child.exitCode === 0 || child.exitCode === 1 ? findReport() : null;
    say(`offsite exited with ${child.exitCode}; no temporary instance is left in the emulator`);
    if (reportPath) summarize(reportPath);
  }
  return child.exitCode ?? 1;
}

/** The recovery scenario (scripts/demo-recovery.ts) in a world of three days. */
async function recovery(): Promise<number> {
  const result = await recoveryScenario({
    scale: Number(values.scale),
    runDir,
    json: values.json,
    say,
    started: (w) => {
      world = w;
    },
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
  return result.ok ? 0 : 1;
}

/** offsite doctor against the local world: every check a nightly run needs. */
async function doctorScenario(): Promise<number> {
  say('starting the local world: source Postgres + 1 automated snapshot, RDS emulator, local S3');
  world = await startLocalWorld({ days: 1, scale: Number(values.scale), runDir });
  say('running: offsite doctor pipelines/demo.yaml');
  const child = await execa(
    process.execPath,
    ['bin/offsite.js', 'doctor', 'pipelines/demo.yaml', ...(values.json ? ['--json'] : [])],
    {
      env: world.env(),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      stdout: 'inherit',
      stderr: 'inherit',
    },
  );
  if (!values.json) say(`offsite doctor exited with ${child.exitCode}`);
  return child.exitCode ?? 1;
}

/** Two runs, day 1 then day 2, into one store: what the second one uploads is what changed. */
async function dedupScenario(): Promise<number> {
  say(
    'starting the local world: 2 days of automated snapshots with an application-like day of change between them',
  );
  world = await startLocalWorld({ days: 2, scale: Number(values.scale), runDir });
  const reports: RunReport[] = [];
  for (const [i, snap] of world.snapshots.entries()) {
    const date = snap.at.toISOString().slice(0, 10);
    say(`running day ${i + 1}: offsite run pipelines/demo.yaml --date ${date}`);
    const child = await execa(
      process.execPath,
      [
        'bin/offsite.js',
        'run',
        'pipelines/demo.yaml',
        '--json',
        '--date',
        date,
        '--reason',
        'npm run demo -- --scenario dedup',
      ],
      {
        env: world.env(),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        stderr: values.json ? 'inherit' : 'ignore',
      },
    );
    const report = JSON.parse(child.stdout) as RunReport;
    reports.push(report);
    const b = report.backup;
    if (child.exitCode !== 0 || !b) {
      say(`day ${i + 1} failed (exit ${child.exitCode}): ${report.error?.message ?? 'no report'}`);
      if (values.json)
        process.stdout.write(`${JSON.stringify({ day1: reports[0], day2: reports[1] ?? null }, null, 2)}\n`);
      return child.exitCode || 1;
    }
    say(
      `  day ${i + 1}: read ${b!.bytesRead} bytes in ${b!.chunksNew! + b!.chunksReused!} chunks, ${b!.chunksNew} new, uploaded ${b!.bytesUploaded} bytes (dedup ${b!.dedupRatio ?? '∞'}×, compression ${b!.compressionRatio ?? '-'}×); store now ${report.store?.totalBytes} bytes; peak RSS ${Math.round(report.resources.peakRssBytes / 2 ** 20)} MiB`,
    );
  }
  const [day1, day2] = reports as [RunReport, RunReport];
  say(
    `day 2 uploaded ${((100 * day2.backup!.bytesUploaded) / day1.backup!.bytesUploaded).toFixed(1)}% of day 1's bytes`,
  );
  if (values.json) process.stdout.write(`${JSON.stringify({ day1, day2 }, null, 2)}\n`);
  const left = world.emulator.listInstances();
  if (left.length > 0) {
    say(`ERROR: temporary instances left behind: ${left.map((i) => `${i.id} (${i.status})`).join(', ')}`);
    return 1;
  }
  return 0;
}

function findReport(): string | null {
  const dir = resolve(runDir, 'reports', 'demo');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const newest = files.sort(
    (a, b) => statSync(resolve(dir, b)).mtimeMs - statSync(resolve(dir, a)).mtimeMs,
  )[0];
  return newest ? resolve(dir, newest) : null;
}

function summarize(path: string): void {
  const report = JSON.parse(readFileSync(path, 'utf8')) as RunReport;
  say(`status: ${report.status}; snapshot ${report.snapshot?.id ?? '-'}`);
  for (const c of report.checks) say(`  check ${c.name}: ${c.status} — ${c.summary}`);
  if (report.backup)
    say(`  backup ${report.backup.id}: ${report.backup.files} files, ${report.backup.bytesUploaded} bytes`);
  say(`  temporary instance ${report.tempInstance?.id} deleted=${report.tempInstance?.deleted}`);
  say(`report: ${report.reports.markdown}`);
  if (report.reports.html) say(`report page (open in a browser): ${report.reports.html}`);
}
