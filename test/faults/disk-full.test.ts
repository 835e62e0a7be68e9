// The work directory's disk fills up during the dump: a small tmpfs as the work directory. The run
// fails naming the cause, deletes its temporary instance, and publishes nothing. Mounting needs
// root (CAP_SYS_ADMIN); where it is refused the case is skipped, saying so.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';
import { expectPromisesKept, manifests } from './promises.ts';

const dir = mkdtempSync(join(tmpdir(), 'offsite-faults-disk-'));
const mountPoint = join(dir, 'small-disk');
mkdirSync(mountPoint);

/** Mounts a 256 KiB tmpfs (smaller than any dump of the dataset); false when this machine refuses. */
function mountSmallDisk(): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', mountPoint], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}
const mounted = mountSmallDisk();

let world: LocalWorld;

beforeAll(async () => {
  if (mounted) world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
}, 120_000);
afterAll(async () => {
  await world?.stop();
  if (mounted) execFileSync('umount', [mountPoint]);
  rmSync(dir, { recursive: true, force: true });
});

it.skipIf(!mounted)(
  `the work directory's disk full during the dump: exit 1 naming it, the instance deleted${mounted ? '' : ' (skipped: mount -t tmpfs refused here)'}`,
  async () => {
    const before = (await manifests(world)).length;
    const file = demoPipelineWith(dir, { workDir: join(mountPoint, 'work') }, 'disk-full.yaml');
    const run = await runCli(['run', file, '--json'], world.env());
    await expectPromisesKept(world, run, 1, /offsite: dump DUMP_FAILED[\s\S]*No space left on device/);
    expect(run.report?.error?.code).toBe('DUMP_FAILED');
    expect(await manifests(world)).toHaveLength(before);
  },
  240_000,
);
