// A dump damaged on local disk between pg_dump and the restore test (a bad sector, a stray
// process): the restore test must catch it, and nothing may be published.
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { startCli, waitForLogLine } from '../support/run-cli.ts';
import { expectPromisesKept, manifests } from './promises.ts';

let world: LocalWorld;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-faults-dump-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
}, 120_000);
afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The largest table data file of the one run under this world's work directory. */
function largestDataFile(): string {
  const pipelineWork = join(dir, 'run', 'work', 'demo');
  const runs = readdirSync(pipelineWork);
  expect(runs).toHaveLength(1);
  const dumpDir = join(pipelineWork, runs[0]!, 'dump');
  const files = readdirSync(dumpDir)
    .filter((f) => /^\d+\.dat/.test(f))
    .map((f) => join(dumpDir, f));
  expect(files.length).toBeGreaterThan(0);
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

it('a table data file overwritten after the dump: the restore test fails, exit 1, nothing published', async () => {
  const before = (await manifests(world)).length;
  // The delete of the temporary instance hangs until the test has damaged the dump: the restore
  // test starts only after teardown, so it reads the damaged file whatever the machine's speed.
  world.emulator.setFaults({ deleteHangs: true });
  const child = startCli(['run', 'pipelines/demo.yaml', '--json'], world.env());
  await waitForLogLine(child, 'deleting temporary instance');
  const file = largestDataFile();
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(Math.min(4096, Math.floor(size / 2)), 0x5a), 0, undefined, Math.floor(size / 4));
  closeSync(fd);
  world.emulator.clearFaults();
  const result = await child;
  const run = { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, report: null };
  await expectPromisesKept(world, run, 1, /offsite: restore-test (VERIFY_MISMATCH|PG_RESTORE_FAILED)/);
  expect(await manifests(world)).toHaveLength(before);
}, 240_000);
