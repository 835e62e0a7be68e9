import { existsSync } from 'node:fs';
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
import { type PgCluster, runningClusters, startCluster } from '../../support/postgres-cluster.ts';
import { FAST_WAIT, query, rdsClient } from './fixtures.ts';
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

async function restoreAvailable(id: string, client = rds): Promise<void> {
  await client.send(
    new RestoreDBInstanceFromDBSnapshotCommand({
      DBInstanceIdentifier: id,
      DBSnapshotIdentifier: snapshotId,
    }),
  );
  await waitUntilDBInstanceAvailable({ client, ...FAST_WAIT }, { DBInstanceIdentifier: id });
}

/** The restored copy's Postgres answers (it has the source's superuser and password). */
async function postgresAnswers(emulatorOf: RdsEmulator, id: string): Promise<boolean> {
  const instance = emulatorOf.listInstances().find((i) => i.id === id);
  if (!instance?.port) return false;
  const target = { host: instance.host, port: instance.port, user: source.user, password: source.password };
  return query(target, 'SELECT 1').then(
    () => true,
    () => false,
  );
}

const deleteCommand = (id: string) =>
  new DeleteDBInstanceCommand({
    DBInstanceIdentifier: id,
    SkipFinalSnapshot: true,
    DeleteAutomatedBackups: true,
  });

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

  it('deleteFails: DeleteDBInstance is denied (403 AccessDenied, not retried), the instance stays available', async () => {
    await restoreAvailable('offsite-undeletable');
    emulator.setFaults({ deleteFails: true });
    const before = emulator.requests.length;
    await expect(rds.send(deleteCommand('offsite-undeletable'))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining(
        'not authorized to perform: rds:DeleteDBInstance on resource: arn:aws:rds:us-east-1:123456789012:db:offsite-undeletable',
      ),
      $metadata: { httpStatusCode: 403 },
    });
    // One request: the SDK does not retry a denial (it would a 500).
    expect(emulator.requests.slice(before).map((r) => [r.action, r.status, r.errorCode])).toEqual([
      ['DeleteDBInstance', 403, 'AccessDenied'],
    ]);
    expect(emulator.listInstances().map((i) => i.status)).toEqual(['available']);
    expect(await postgresAnswers(emulator, 'offsite-undeletable')).toBe(true);

    emulator.clearFaults();
    await rds.send(deleteCommand('offsite-undeletable'));
    await waitUntilDBInstanceDeleted(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-undeletable' },
    );
    expect(emulator.listInstances()).toEqual([]);
  });

  it('deleteHangs: the delete is accepted, the instance stays deleting with Postgres up until the fault clears', async () => {
    await restoreAvailable('offsite-hung-delete');
    emulator.setFaults({ deleteHangs: true });
    const { DBInstance } = await rds.send(deleteCommand('offsite-hung-delete'));
    expect(DBInstance?.DBInstanceStatus).toBe('deleting');
    // Ten transitions (200 ms each) would have deleted it three times over.
    const waiting = waitUntilDBInstanceDeleted(
      { client: rds, minDelay: 0.2, maxDelay: 0.2, maxWaitTime: 2 },
      { DBInstanceIdentifier: 'offsite-hung-delete' },
    );
    await expect(waiting).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(emulator.listInstances().map((i) => i.status)).toEqual(['deleting']);
    expect(await postgresAnswers(emulator, 'offsite-hung-delete')).toBe(true);
    // A second delete is refused as on RDS ("already being deleted").
    await expect(rds.send(deleteCommand('offsite-hung-delete'))).rejects.toMatchObject({
      name: 'InvalidDBInstanceStateFault',
    });

    emulator.clearFaults();
    await waitUntilDBInstanceDeleted(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-hung-delete' },
    );
    expect(emulator.listInstances()).toEqual([]);
  });

  it('stop() ends a hung delete: its Postgres stopped, its data dir removed', async () => {
    const own = await startRdsEmulator({ transitionMs: 200 });
    let stopped = false;
    try {
      own.addSourceInstance({
        id: 'prod-db',
        cluster: source,
        masterUsername: 'postgres',
        dbName: 'postgres',
      });
      await own.takeAutomatedSnapshot('prod-db', new Date('2026-11-20T03:04:00Z'));
      const client = rdsClient(own);
      try {
        await restoreAvailable('offsite-hung-at-stop', client);
        own.setFaults({ deleteHangs: true });
        await client.send(deleteCommand('offsite-hung-at-stop'));
      } finally {
        client.destroy();
      }
      const [instance] = own.listInstances();
      expect(instance?.status).toBe('deleting');
      expect(await postgresAnswers(own, 'offsite-hung-at-stop')).toBe(true);

      await own.stop();
      stopped = true;
      expect(runningClusters().map((c) => c.port)).not.toContain(instance?.port);
      expect(existsSync(instance!.dataDir!)).toBe(false);
      expect(await postgresAnswers(own, 'offsite-hung-at-stop')).toBe(false);
    } finally {
      if (!stopped) await own.stop();
    }
  });
});
