import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  waitUntilDBInstanceAvailable,
  waitUntilDBInstanceDeleted,
} from '@aws-sdk/client-rds';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startCluster } from '../../support/postgres-cluster.ts';
import { FAST_WAIT, rdsClient } from './fixtures.ts';
import { type RdsEmulator, startRdsEmulator } from './index.ts';

let source: PgCluster;
let emulator: RdsEmulator;
let rds: RDSClient;
let snapshotId: string;

beforeAll(async () => {
  [source, emulator] = await Promise.all([startCluster(), startRdsEmulator({ transitionMs: 200 })]);
  emulator.addSourceInstance({
    id: 'prod-db',
    cluster: source,
    masterUsername: 'postgres',
    dbName: 'postgres',
  });
  snapshotId = await emulator.takeAutomatedSnapshot('prod-db', new Date('2026-11-20T03:04:00Z'));
  rds = rdsClient(emulator);
});

afterEach(() => emulator.clearFaults());

afterAll(async () => {
  rds?.destroy();
  await emulator?.stop();
  await source?.stop();
});

async function restoreAndDeleteLater(id: string): Promise<() => Promise<void>> {
  await rds.send(
    new RestoreDBInstanceFromDBSnapshotCommand({
      DBInstanceIdentifier: id,
      DBSnapshotIdentifier: snapshotId,
    }),
  );
  return async () => {
    await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true }));
    await waitUntilDBInstanceDeleted({ client: rds, ...FAST_WAIT }, { DBInstanceIdentifier: id });
  };
}

describe('RDS emulator faults', () => {
  it('throttles: the SDK error with retries off, a success after retries otherwise', async () => {
    emulator.setFaults({ throttle: { actions: ['DescribeDBSnapshots'], times: 1 } });
    const noRetries = rdsClient(emulator, { maxAttempts: 1 });
    await expect(noRetries.send(new DescribeDBSnapshotsCommand({}))).rejects.toMatchObject({
      name: 'Throttling',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    noRetries.destroy();
    // Other actions are not affected, and the fault is used up.
    await expect(rds.send(new DescribeDBInstancesCommand({}))).resolves.toBeDefined();

    emulator.setFaults({ throttle: { actions: ['DescribeDBSnapshots'], times: 2 } });
    const before = emulator.requests.length;
    const { DBSnapshots } = await rds.send(new DescribeDBSnapshotsCommand({})); // default: 3 attempts
    expect(DBSnapshots?.map((s) => s.DBSnapshotIdentifier)).toEqual([snapshotId]);
    expect(emulator.requests.slice(before).map((r) => r.errorCode ?? r.status)).toEqual([
      'Throttling',
      'Throttling',
      200,
    ]);
  });

  it('incompatible-restore makes waitUntilDBInstanceAvailable fail', async () => {
    emulator.setFaults({ restoreOutcome: 'incompatible-restore' });
    const cleanup = await restoreAndDeleteLater('offsite-incompatible');
    const waiting = waitUntilDBInstanceAvailable(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-incompatible' },
    );
    await expect(waiting).rejects.toThrow(/"state":"FAILURE"/);
    expect(emulator.listInstances()[0]?.status).toBe('incompatible-restore');
    await cleanup();
  });

  it('a failed restore also fails the waiter', async () => {
    emulator.setFaults({ restoreOutcome: 'failed' });
    const cleanup = await restoreAndDeleteLater('offsite-failed');
    const waiting = waitUntilDBInstanceAvailable(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-failed' },
    );
    await expect(waiting).rejects.toThrow(/"state":"FAILURE"/);
    await cleanup();
  });

  it('stuck in creating makes a short waiter time out, and the instance can still be deleted', async () => {
    emulator.setFaults({ stuckInCreating: true });
    const cleanup = await restoreAndDeleteLater('offsite-stuck');
    const waiting = waitUntilDBInstanceAvailable(
      { client: rds, minDelay: 0.2, maxDelay: 0.2, maxWaitTime: 1.5 },
      { DBInstanceIdentifier: 'offsite-stuck' },
    );
    await expect(waiting).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(emulator.listInstances()[0]?.status).toBe('creating');
    await cleanup();
    expect(emulator.listInstances()).toEqual([]);
  });

  it('slow transitions keep an instance creating for longer', async () => {
    emulator.setFaults({ transitionMs: 1500 });
    const cleanup = await restoreAndDeleteLater('offsite-slow');
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(emulator.listInstances()[0]?.status).toBe('creating'); // would be available after 200 ms otherwise
    emulator.clearFaults();
    await waitUntilDBInstanceAvailable(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-slow' },
    );
    await cleanup();
  });
});
