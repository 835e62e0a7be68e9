// What real RDS answers on a first night that the emulator now answers too: dead-end statuses,
// an endpoint this machine cannot reach, AccessDenied for an action the IAM policy lacks, and
// snapshots AWS Backup took (listed only when asked for by type).
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
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
  [source, emulator] = await Promise.all([startCluster(), startRdsEmulator({ transitionMs: 100 })]);
  emulator.addSourceInstance({
    id: 'prod-db',
    cluster: source,
    masterUsername: 'postgres',
    dbName: 'postgres',
  });
  snapshotId = await emulator.takeAutomatedSnapshot('prod-db', new Date('2026-11-20T03:04:00Z'));
  emulator.cloneSnapshot(snapshotId, {
    at: new Date('2026-11-20T05:00:00Z'),
    id: 'awsbackup:job-0a1b2c3d-4e5f-6789-abcd-ef0123456789',
    type: 'awsbackup',
  });
  rds = rdsClient(emulator, { maxAttempts: 1 });
});

afterEach(() => emulator.clearFaults());

afterAll(async () => {
  rds?.destroy();
  await emulator?.stop();
  await source?.stop();
});

async function restore(id: string) {
  await rds.send(
    new RestoreDBInstanceFromDBSnapshotCommand({
      DBInstanceIdentifier: id,
      DBSnapshotIdentifier: snapshotId,
    }),
  );
}

async function describeWhenSettled(id: string) {
  for (;;) {
    const { DBInstances } = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    const instance = DBInstances![0]!;
    if (instance.DBInstanceStatus !== 'creating') return instance;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function remove(id: string) {
  await rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true }));
  await waitUntilDBInstanceDeleted({ client: rds, ...FAST_WAIT }, { DBInstanceIdentifier: id });
}

describe('RDS emulator: first-night faults', () => {
  it('a dead-end restore outcome is the instance status, with no endpoint, and it can be deleted', async () => {
    emulator.setFaults({ restoreOutcome: 'insufficient-capacity' });
    await restore('offsite-capacity');
    const instance = await describeWhenSettled('offsite-capacity');
    expect(instance.DBInstanceStatus).toBe('insufficient-capacity');
    expect(instance.Endpoint).toBeUndefined();
    await remove('offsite-capacity');
    expect(emulator.listInstances()).toEqual([]);
  });

  it('an endpoint fault: RDS reports an address nothing answers at (refused) or that does not resolve', async () => {
    emulator.setFaults({ endpoint: 'refuses' });
    await restore('offsite-refuses');
    emulator.setFaults({ endpoint: 'unresolvable' });
    await restore('offsite-unresolvable');
    const refuses = await describeWhenSettled('offsite-refuses');
    const unresolvable = await describeWhenSettled('offsite-unresolvable');
    expect(refuses.Endpoint).toMatchObject({ Address: '127.0.0.1', Port: 1 });
    expect(unresolvable.Endpoint?.Address).toMatch(/\.invalid$/);
    // The instance itself is up: the fault is only in what this machine can reach.
    expect(emulator.listInstances().map((i) => i.port)).not.toContain(undefined);
    await Promise.all([remove('offsite-refuses'), remove('offsite-unresolvable')]);
  });

  it('denyActions answers 403 AccessDenied naming the rds: action', async () => {
    emulator.setFaults({ denyActions: ['DescribeDBSnapshots'] });
    await expect(rds.send(new DescribeDBSnapshotsCommand({}))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining('rds:DescribeDBSnapshots'),
      $metadata: { httpStatusCode: 403 },
    });
    await expect(rds.send(new DescribeDBInstancesCommand({}))).resolves.toBeDefined();
  });

  it('lists AWS Backup snapshots only for SnapshotType awsbackup, as RDS does', async () => {
    const ids = async (SnapshotType?: string) =>
      (
        (await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'prod-db', SnapshotType })))
          .DBSnapshots ?? []
      ).map((s) => [s.DBSnapshotIdentifier, s.SnapshotType]);
    expect(await ids()).toEqual([[snapshotId, 'automated']]);
    expect(await ids('automated')).toEqual([[snapshotId, 'automated']]);
    expect(await ids('awsbackup')).toEqual([
      ['awsbackup:job-0a1b2c3d-4e5f-6789-abcd-ef0123456789', 'awsbackup'],
    ]);
  });
});
