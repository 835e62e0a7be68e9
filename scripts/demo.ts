// npm run demo [-- --json]: the whole nightly pipeline against the local world (RDS emulator,
// local S3, embedded scratch Postgres), with `offsite run pipelines/demo.yaml` as a subprocess.
// Everything it starts, it stops; with --json, stdout holds the RunReport alone.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import type { RunReport } from '../src/report/run-report.ts';
import { type LocalWorld, startLocalWorld } from '../test/support/local-world.ts';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, scale: { type: 'string', default: '0.5' } },
});
const say = (line: string) => process.stderr.write(`demo: ${line}\n`);
const runDir = resolve('.demo');

let world: LocalWorld | undefined;
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping the local world');
    await world?.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));

try {
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
    await shutdown(1);
  }
  if (!values.json) {
    const reportPath = child.exitCode === 0 || child.exitCode === 1 ? findReport() : null;
    say(`offsite exited with ${child.exitCode}; no temporary instance is left in the emulator`);
    if (reportPath) summarize(reportPath);
  }
  await shutdown(child.exitCode ?? 1);
} catch (err) {
  say(`failed: ${(err as Error).stack ?? err}`);
  await shutdown(1);
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
}
