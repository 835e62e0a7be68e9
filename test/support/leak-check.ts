/**
 * vitest setupFile (every test file): fails the file if it left a Postgres cluster, an RDS
 * emulator or a helper temp dir behind, then cleans them up so one leak doesn't outlive its file.
 * Registered before the file's own hooks, so it runs after them (vitest runs after-hooks as a stack).
 */
import { afterAll } from 'vitest';
import { runningEmulators } from '../emulators/rds/registry.ts';
import { liveTempDirs, removeTempDir, runningClusters } from './postgres-cluster.ts';

afterAll(async () => {
  const emulators = runningEmulators();
  const clusters = runningClusters();
  const dirs = liveTempDirs().filter((dir) => !clusters.some((c) => c.dataDir === dir));
  if (emulators.length + clusters.length + dirs.length === 0) return;
  const leaks = [
    ...emulators.map((e) => `RDS emulator ${e.endpoint} (call emulator.stop())`),
    ...clusters.map((c) => `Postgres cluster on port ${c.port}, data ${c.dataDir} (call cluster.stop())`),
    ...dirs.map((dir) => `temp dir ${dir}`),
  ];
  await Promise.allSettled(emulators.map((e) => e.stop()));
  await Promise.allSettled(runningClusters().map((c) => c.stop()));
  await Promise.allSettled(liveTempDirs().map((dir) => removeTempDir(dir)));
  throw new Error(`This test file leaked (now cleaned up):\n  ${leaks.join('\n  ')}`);
});
