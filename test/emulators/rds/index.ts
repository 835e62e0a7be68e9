/**
 * A local stand-in for the RDS API subset offsite uses, driven by the real @aws-sdk/client-rds:
 * snapshots are physical copies of real clusters, restored instances are real Postgres servers on
 * loopback ports, with RDS's status lifecycle and injectable faults. Test and demo infrastructure.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeTempDir, serverBinaries } from '../../support/postgres-cluster.ts';
import { takeBaseBackup, walArchiveSettings } from './point-in-time.ts';
import { registerEmulator, unregisterEmulator } from './registry.ts';
import { startServer } from './server.ts';
import { automatedSnapshotId, cloneSnapshot, takeSnapshot } from './snapshots.ts';
import { EmulatorState, normalizeId } from './state.ts';
import { DEFAULT_SUBNET_GROUPS } from './subnet-groups.ts';
import type { RdsEmulator, RdsEmulatorOptions } from './types.ts';

export { runningEmulators } from './registry.ts';
export type * from './types.ts';

/** Starts an emulator on a free loopback port; stop() it when done (leak-check fails the file otherwise). */
export async function startRdsEmulator(opts: RdsEmulatorOptions = {}): Promise<RdsEmulator> {
  const ownsWorkDir = opts.workDir === undefined;
  const workDir = opts.workDir ? path.resolve(opts.workDir) : makeTempDir('rds');
  // The postgres OS user must traverse it to reach snapshot and instance data dirs.
  if (ownsWorkDir) chmodSync(workDir, 0o755);
  else mkdirSync(workDir, { recursive: true });
  const region = opts.region ?? 'us-east-1';
  const state = new EmulatorState({
    region,
    workDir,
    transitionMs: opts.transitionMs ?? 300,
    subnetGroups: opts.subnetGroups ?? DEFAULT_SUBNET_GROUPS,
  });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(state);
  } catch (error) {
    if (ownsWorkDir) await removeTempDir(workDir);
    throw error;
  }
  let stopping: Promise<void> | undefined;

  const emulator: RdsEmulator = {
    endpoint: server.endpoint,
    region,
    requests: state.requests,
    masterPasswordsSet: () => [...state.masterPasswords],
    addSourceInstance({ id, cluster, masterUsername, dbName, engineVersion }) {
      const key = normalizeId(id);
      if (state.instances.has(key)) throw new Error(`Instance ${key} already exists`);
      const binaries = serverBinaries();
      state.instances.set(key, {
        id: key,
        isSource: true,
        status: 'available',
        cluster,
        masterUsername,
        dbName,
        engineVersion:
          engineVersion ??
          (cluster.majorVersion === binaries.majorVersion ? binaries.version : `${cluster.majorVersion}`),
        dbInstanceClass: 'db.m6g.large',
        createdAt: new Date(),
        snapshotId: undefined,
        publiclyAccessible: false,
        backupRetentionPeriod: 7,
        multiAZ: false,
        deletionProtection: false,
        dbSubnetGroupName: 'default',
        vpcSecurityGroupIds: ['sg-default'],
        tags: new Map(),
        pendingPassword: false,
        startup: Promise.resolve(),
      });
    },
    walArchiveSettings: (sourceId) => walArchiveSettings(state, sourceId),
    enablePointInTimeRestore: (sourceId) => takeBaseBackup(state, sourceId),
    addBareInstance({ id, tags }) {
      const key = normalizeId(id);
      if (state.instances.has(key)) throw new Error(`Instance ${key} already exists`);
      state.instances.set(key, {
        id: key,
        isSource: false,
        status: 'available',
        cluster: undefined,
        masterUsername: 'postgres',
        dbName: 'app',
        engineVersion: '16.4',
        dbInstanceClass: 'db.t4g.micro',
        createdAt: new Date(),
        snapshotId: undefined,
        publiclyAccessible: false,
        backupRetentionPeriod: 0,
        multiAZ: false,
        deletionProtection: false,
        dbSubnetGroupName: 'default',
        vpcSecurityGroupIds: ['sg-default'],
        tags: new Map(Object.entries(tags)),
        pendingPassword: false,
        startup: Promise.resolve(),
      });
    },
    takeAutomatedSnapshot(sourceId, at, opts) {
      const id = automatedSnapshotId(sourceId, at);
      return takeSnapshot(state, sourceId, {
        id,
        at,
        type: 'automated',
        status: opts?.status ?? 'available',
      });
    },
    cloneSnapshot: (fromId, opts) => cloneSnapshot(state, fromId, opts),
    setSnapshotStatus(id, status) {
      state.snapshot(id).status = status;
    },
    listSnapshots: () => [...state.snapshots.values()].map((s) => state.snapshotSummary(s)),
    setFaults(faults) {
      // Copy: the throttle counter is decremented in place.
      state.faults = {
        ...state.faults,
        ...faults,
        ...(faults.throttle && { throttle: { ...faults.throttle } }),
      };
    },
    clearFaults() {
      state.faults = {};
    },
    listInstances(listOpts) {
      return [...state.instances.values()]
        .filter((r) => listOpts?.includeSources || !r.isSource)
        .map((r) => state.instanceSummary(r));
    },
    stop() {
      stopping ??= (async () => {
        await state.quiesce();
        await server.close();
        // Sources belong to the test that added them; restored copies are ours.
        const restored = [...state.instances.values()].filter((r) => !r.isSource);
        await Promise.all(restored.map((r) => r.cluster?.stop()));
        state.instances.clear();
        if (ownsWorkDir) await removeTempDir(workDir);
        unregisterEmulator(emulator);
      })();
      return stopping;
    },
  };
  registerEmulator(emulator);
  return emulator;
}
