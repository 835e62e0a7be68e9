// A run killed or interrupted in the middle of any stage. SIGKILL (the OOM killer, a scheduler's
// hard stop) leaves what it leaves: the next `offsite run` must reap it, take over the dead run's
// lock and publish, and no half-written backup may ever be visible. SIGINT/SIGTERM are answered
// by the run itself: exit 130, a `cancelled` report, everything it made deleted.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/report/run-report.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { type CliResult, REPO_ROOT, runCli, waitForLogLine } from '../support/run-cli.ts';
import { expectNoInstanceLeft, expectPromisesKept, expectStoreWhole, manifests } from './promises.ts';

let world: LocalWorld;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-faults-signals-'));
  // A killed run's scratch data directory (made in TMPDIR) stays where this file removes it, not
  // in the machine's temp directory; the postgres OS user must traverse it.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'tmp'), { mode: 0o755 });
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
}, 120_000);

afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const RUN = ['run', 'pipelines/demo.yaml', '--json'];

/**
 * `offsite run` in a process group of its own, so a SIGKILL takes the CLI and whatever it started
 * (pg_dump, the scratch Postgres) at once, as a scheduler stopping the job's cgroup would.
 */
function startRunGroup() {
  return execa(process.execPath, ['bin/offsite.js', ...RUN], {
    cwd: REPO_ROOT,
    env: world.env({ TMPDIR: join(dir, 'tmp') }),
    extendEnv: false,
    reject: false,
    timeout: 240_000,
    stdin: 'ignore',
    detached: true,
    forceKillAfterDelay: false,
  });
}

function asResult(r: { exitCode?: number; stdout: unknown; stderr: unknown }): CliResult {
  const stdout = String(r.stdout ?? '');
  let report: RunReport | null = null;
  try {
    report = JSON.parse(stdout) as RunReport;
  } catch {}
  return { exitCode: r.exitCode ?? -1, stdout, stderr: String(r.stderr ?? ''), report };
}

/** After a SIGKILL: the next run reaps, takes over the lock and publishes; `offsite reap` finds nothing. */
async function expectRecoveredAfterKill(publishedBefore: number): Promise<void> {
  const next = await runCli(RUN, world.env());
  expect(next.exitCode, next.stderr.slice(-3000)).toBe(0);
  expect(next.report?.status).toBe('succeeded');
  expect(await manifests(world)).toHaveLength(publishedBefore + 1);
  expectNoInstanceLeft(world);
  await expectStoreWhole(world);
  const reap = await runCli(['reap', 'pipelines/demo.yaml'], world.env());
  expect(reap.exitCode, reap.stderr).toBe(0);
  expectNoInstanceLeft(world);
}

describe('SIGKILL, then offsite run again and offsite reap', () => {
  const cases: { stage: string; at: string; instanceLeft: boolean }[] = [
    { stage: 'restore-wait', at: 'waiting for the restore: creating', instanceLeft: true },
    { stage: 'dump', at: 'stage dump started', instanceLeft: true },
    { stage: 'restore test', at: 'stage restore-test started', instanceLeft: false },
    { stage: 'upload', at: 'stage upload started', instanceLeft: false },
    // No log line marks the manifest PUT itself: the nearest observable point is the packs being written.
    { stage: 'pack writes (the chunk index loaded)', at: 'chunk index loaded', instanceLeft: false },
  ];
  for (const c of cases) {
    it(`during ${c.stage}: no partial backup visible; the next run recovers and publishes`, async () => {
      const before = (await manifests(world)).length;
      const child = startRunGroup();
      await waitForLogLine(child, c.at, 180_000);
      process.kill(-child.pid!, 'SIGKILL');
      const killed = asResult(await child);
      expect(killed.exitCode, killed.stderr.slice(-2000)).not.toBe(0);
      // Killed before it published: whatever it uploaded is invisible, and check is clean.
      expect(await manifests(world)).toHaveLength(before);
      if (c.instanceLeft) expect(world.emulator.listInstances()).toHaveLength(1);
      await expectStoreWhole(world);
      await expectRecoveredAfterKill(before);
    }, 240_000);
  }
});

describe('SIGINT and SIGTERM in every stage', () => {
  const stages = ['restore', 'source-facts', 'dump', 'teardown', 'restore-test', 'upload'];
  stages.forEach((stage, i) => {
    const signal = i % 2 === 0 ? 'SIGTERM' : 'SIGINT';
    it(`${signal} when stage ${stage} starts: exit 130, cancelled, nothing left`, async () => {
      const before = (await manifests(world)).length;
      const child = startRunGroup();
      await waitForLogLine(child, `stage ${stage} started`, 180_000);
      // Only the CLI, as a terminal's Ctrl-C or a scheduler's stop would reach it.
      child.kill(signal);
      const run = asResult(await child);
      await expectPromisesKept(world, run, 130, /"code":"CANCELLED"/);
      expect(run.report?.status).toBe('cancelled');
      expect(run.report?.backup).toBeNull();
      expect(await manifests(world)).toHaveLength(before);
    }, 240_000);
  });
});
