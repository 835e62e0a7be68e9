/**
 * vitest setupFile (every test file): fails the file if it left a Postgres cluster, an RDS
 * emulator, a local S3 server or a helper temp dir behind, then cleans them up so one leak doesn't outlive its file.
 * Registered before the file's own hooks, so it runs after them (vitest runs after-hooks as a stack).
 */
import { afterAll } from 'vitest';
import { runningEmulators } from '../emulators/rds/registry.ts';
import { liveTempDirs, removeTempDir, runningClusters } from './postgres-cluster.ts';
import { runningS3Servers } from './s3-server.ts';

afterAll(async () => {
  const emulators = runningEmulators();
  const clusters = runningClusters();
  const s3 = runningS3Servers();
  const dirs = liveTempDirs().filter((dir) => !clusters.some((c) => c.dataDir === dir));
  if (emulators.length + clusters.length + s3.length + dirs.length === 0) return;
  const leaks = [
    ...emulators.map((e) => `RDS emulator ${e.endpoint} (call emulator.stop())`),
    ...clusters.map((c) => `Postgres cluster on port ${c.port}, data ${c.dataDir} (call cluster.stop())`),
    ...s3.map((server) => `S3 server ${server.endpoint} (call s3.stop())`),
    ...dirs.map((dir) => `temp dir ${dir}`),
  ];
  await Promise.allSettled(s3.map((server) => server.stop()));
  await Promise.allSettled(emulators.map((e) => e.stop()));
  await Promise.allSettled(runningClusters().map((c) => c.stop()));
  await Promise.allSettled(liveTempDirs().map((dir) => removeTempDir(dir)));
  throw new Error(`This test file leaked (now cleaned up):\n  ${leaks.join('\n  ')}`);
});
