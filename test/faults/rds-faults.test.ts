// RDS misbehaving under a run: throttling bursts, restores that end in a dead-end status or never
// leave `creating`, the temporary instance deleted by someone else, a delete that is refused.
// Dead-end statuses covered here are the emulator's `failed` and `incompatible-restore`; more
// (incompatible-parameters, storage-full, …) are being added to the emulator separately and
// belong in this table once it has them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli, startCli, waitForLogLine } from '../support/run-cli.ts';
import { expectNoInstanceLeft, expectPromisesKept, manifests } from './promises.ts';

let world: LocalWorld;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-faults-rds-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
}, 120_000);
afterEach(() => world.emulator.clearFaults());
afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const RUN = ['run', 'pipelines/demo.yaml', '--json'];

/** Waits (bounded) until the emulator lists no temporary instance: deletes finish in the background. */
async function untilNoInstance(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (world.emulator.listInstances().length > 0 && Date.now() < deadline) await sleep(100);
}

it('a burst of throttling on every RDS call: the run rides it out and publishes', async () => {
  const before = (await manifests(world)).length;
  world.emulator.setFaults({ throttle: { actions: ['*'], times: 6 } });
  const run = await runCli(RUN, world.env());
  await expectPromisesKept(world, run, 0);
  expect(world.emulator.requests.some((r) => r.action === 'RestoreDBInstanceFromDBSnapshot')).toBe(true);
  expect(await manifests(world)).toHaveLength(before + 1);
}, 240_000);

for (const outcome of ['failed', 'incompatible-restore'] as const) {
  it(`a restore ending in '${outcome}': exit 1 naming the status, the instance deleted`, async () => {
    const before = (await manifests(world)).length;
    world.emulator.setFaults({ restoreOutcome: outcome });
    const run = await runCli(RUN, world.env());
    await expectPromisesKept(world, run, 1, new RegExp(`RESTORE_FAILED[^\\n]*${outcome}`));
    expect(await manifests(world)).toHaveLength(before);
  }, 240_000);
}

it("an instance stuck in 'creating': the wait times out, exit 1, the instance deleted", async () => {
  const before = (await manifests(world)).length;
  // 3 s instead of the demo's 5 min: the timeout is what is under test, not its length.
  const file = demoPipelineWith(
    dir,
    { source: { tempInstance: { waitTimeoutMinutes: 0.05 } } },
    'stuck.yaml',
  );
  world.emulator.setFaults({ stuckInCreating: true });
  const run = await runCli(['run', file, '--json'], world.env());
  await expectPromisesKept(world, run, 1, /WAIT_TIMEOUT[^\n]*creating/);
  expect(await manifests(world)).toHaveLength(before);
}, 240_000);

it('the temporary instance deleted by someone else while the run waits for it: exit 1, nothing left', async () => {
  const before = (await manifests(world)).length;
  world.emulator.setFaults({ transitionMs: 3_000 });
  const child = startCli(RUN, world.env());
  await waitForLogLine(child, 'waiting for the restore: creating');
  const [temp] = world.emulator.listInstances();
  const rds = new RDSClient({
    endpoint: world.emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIALOCALEMULATOR', secretAccessKey: 'local-emulator-secret' },
  });
  await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: temp!.id, SkipFinalSnapshot: true }));
  rds.destroy();
  const result = await child;
  await untilNoInstance();
  const run = { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, report: null };
  await expectPromisesKept(world, run, 1, new RegExp(temp!.id));
  expect(await manifests(world)).toHaveLength(before);
}, 240_000);

it('a delete RDS refuses: exit 1 naming the instance left; offsite reap deletes it once allowed', async () => {
  const before = (await manifests(world)).length;
  world.emulator.setFaults({ deleteFails: true });
  const run = await runCli(RUN, world.env());
  expect(run.exitCode, run.stderr.slice(-3000)).toBe(1);
  const [left] = world.emulator.listInstances();
  expect(left).toBeDefined();
  expect(run.stderr).toMatch(/TEARDOWN_FAILED/);
  expect(run.stderr).toContain(left!.id);
  expect(await manifests(world)).toHaveLength(before);
  world.emulator.clearFaults();
  const reap = await runCli(['reap', 'pipelines/demo.yaml'], world.env());
  expect(reap.exitCode, reap.stderr).toBe(0);
  await untilNoInstance();
  expectNoInstanceLeft(world);
}, 240_000);
