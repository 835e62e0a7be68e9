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
  `the work directory's disk full during the dump: exit 3 naming the directory and the fix, the instance deleted${mounted ? '' : ' (skipped: mount -t tmpfs refused here)'}`,
  async () => {
    const before = (await manifests(world)).length;
    const file = demoPipelineWith(dir, { workDir: join(mountPoint, 'work') }, 'disk-full.yaml');
    const run = await runCli(['run', file, '--json'], world.env());
    // Exit 3 (a precondition of this machine), naming the directory that filled up and the fix.
    const workDir = join(mountPoint, 'work');
    await expectPromisesKept(world, run, 3, /offsite: dump DISK_FULL[^\n]*out of disk space/);
    expect(run.report?.error?.code).toBe('DISK_FULL');
    expect(run.report?.error?.message).toContain(workDir);
    expect(run.report?.error?.hint).toMatch(/free space[^\n]*point workDir at one with room/);
    expect(run.stderr).toMatch(/point workDir at one with room for a whole uncompressed dump/);
    expect(await manifests(world)).toHaveLength(before);
  },
  240_000,
);
