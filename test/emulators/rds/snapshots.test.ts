import {
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  paginateDescribeDBSnapshots,
  type RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startCluster } from '../../support/postgres-cluster.ts';
import { rdsClient } from './fixtures.ts';
import { type RdsEmulator, startRdsEmulator } from './index.ts';

let source: PgCluster;
let emulator: RdsEmulator;
let rds: RDSClient;
let firstSnapshot: string;

const day = (n: number) => new Date(Date.UTC(2026, 10, n, 3, 4));

beforeAll(async () => {
  [source, emulator] = await Promise.all([startCluster(), startRdsEmulator({ transitionMs: 200 })]);
  emulator.addSourceInstance({ id: 'prod-db', cluster: source, masterUsername: 'postgres', dbName: 'app' });
  emulator.addSourceInstance({ id: 'other-db', cluster: source, masterUsername: 'postgres', dbName: 'app' });
  firstSnapshot = await emulator.takeAutomatedSnapshot('prod-db', day(1));
  // 25 automated days of prod-db (enough to page at 20), 3 of other-db, 2 manual: records sharing one copy.
  for (let n = 2; n <= 25; n++) emulator.cloneSnapshot(firstSnapshot, { at: day(n) });
  for (let n = 1; n <= 3; n++) emulator.cloneSnapshot(firstSnapshot, { at: day(n), sourceId: 'other-db' });
  emulator.cloneSnapshot(firstSnapshot, { at: day(10), id: 'before-upgrade', type: 'manual' });
  emulator.cloneSnapshot(firstSnapshot, { at: day(26), id: 'rds:prod-db-in-progress', status: 'creating' });
  rds = rdsClient(emulator, { maxAttempts: 1 });
});

afterAll(async () => {
  rds?.destroy();
  await emulator?.stop();
  await source?.stop();
});

async function describeAll(input: DescribeDBSnapshotsCommandInput) {
  const ids: string[] = [];
  for await (const page of paginateDescribeDBSnapshots({ client: rds, pageSize: 20 }, input)) {
    ids.push(...(page.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier!));
  }
  return ids;
}

describe('RDS emulator DescribeDBSnapshots', () => {
  it('describes a snapshot with the fields RDS gives', async () => {
    const { DBSnapshots } = await rds.send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: firstSnapshot }),
    );
    expect(firstSnapshot).toBe('rds:prod-db-2026-11-01-03-04');
    expect(DBSnapshots).toEqual([
      expect.objectContaining({
        DBSnapshotIdentifier: firstSnapshot,
        DBInstanceIdentifier: 'prod-db',
        SnapshotCreateTime: day(1),
        Engine: 'postgres',
        EngineVersion: expect.stringMatching(new RegExp(`^${source.majorVersion}`)),
        Status: 'available',
        Port: source.port,
        SnapshotType: 'automated',
        DBSnapshotArn: `arn:aws:rds:us-east-1:123456789012:snapshot:${firstSnapshot}`,
        AllocatedStorage: 20,
        MasterUsername: 'postgres',
      }),
    ]);
  });

  it('filters by instance, type and Filters, and pages with Marker', async () => {
    const prodAutomated = await describeAll({ DBInstanceIdentifier: 'prod-db', SnapshotType: 'automated' });
    expect(prodAutomated).toHaveLength(26); // 25 days + the one still creating
    expect(new Set(prodAutomated).size).toBe(26);

    const firstPage = await rds.send(
      new DescribeDBSnapshotsCommand({ SnapshotType: 'automated', MaxRecords: 20 }),
    );
    expect(firstPage.DBSnapshots).toHaveLength(20);
    expect(firstPage.Marker).toBeTruthy();
    const secondPage = await rds.send(
      new DescribeDBSnapshotsCommand({ SnapshotType: 'automated', MaxRecords: 20, Marker: firstPage.Marker }),
    );
    expect(secondPage.DBSnapshots).toHaveLength(9); // 26 + 3 automated in all
    expect(secondPage.Marker).toBeUndefined();

    const viaFilters = await describeAll({
      Filters: [
        { Name: 'db-instance-id', Values: ['other-db'] },
        { Name: 'snapshot-type', Values: ['automated'] },
      ],
    });
    expect(viaFilters).toEqual([
      'rds:other-db-2026-11-01-03-04',
      'rds:other-db-2026-11-02-03-04',
      'rds:other-db-2026-11-03-03-04',
    ]);
    expect(await describeAll({ SnapshotType: 'manual' })).toEqual(['before-upgrade']);
    expect(
      await describeAll({ Filters: [{ Name: 'db-snapshot-id', Values: ['before-upgrade', firstSnapshot] }] }),
    ).toEqual([firstSnapshot, 'before-upgrade']);

    const creating = await rds.send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'rds:prod-db-in-progress' }),
    );
    expect(creating.DBSnapshots?.[0]).toMatchObject({ Status: 'creating', PercentProgress: 0 });
    expect(creating.DBSnapshots?.[0]?.SnapshotCreateTime).toBeUndefined();
  });

  it('validates like RDS: MaxRecords 20..100, known filters, existing snapshots', async () => {
    const errorOf = (input: DescribeDBSnapshotsCommandInput) =>
      rds.send(new DescribeDBSnapshotsCommand(input)).then(
        () => undefined,
        (e: Error) => e.name,
      );
    expect(await errorOf({ MaxRecords: 10 })).toBe('InvalidParameterValue');
    expect(await errorOf({ MaxRecords: 101 })).toBe('InvalidParameterValue');
    expect(await errorOf({ Marker: 'not-a-marker' })).toBe('InvalidParameterValue');
    expect(await errorOf({ Filters: [{ Name: 'color', Values: ['blue'] }] })).toBe('InvalidParameterValue');
    expect(await errorOf({ DBSnapshotIdentifier: 'rds:prod-db-1999-01-01-00-00' })).toBe(
      'DBSnapshotNotFoundFault',
    );
    const restore = (snapshot: string) =>
      rds.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: 'tmp',
          DBSnapshotIdentifier: snapshot,
        }),
      );
    await expect(restore('rds:prod-db-in-progress')).rejects.toMatchObject({
      name: 'InvalidDBSnapshotStateFault',
    });
    expect(emulator.listInstances()).toEqual([]);
  });

  it('answers an unknown action with InvalidAction in RDS error XML', async () => {
    const response = await fetch(emulator.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeEverything&Version=2014-10-31',
    });
    expect(response.status).toBe(400);
    const xml = await response.text();
    expect(xml).toContain('<Code>InvalidAction</Code>');
    expect(xml).toMatch(/<ErrorResponse[^>]*><Error><Type>Sender<\/Type>/);
    expect(emulator.requests.at(-1)).toMatchObject({
      action: 'DescribeEverything',
      status: 400,
      errorCode: 'InvalidAction',
    });
  });
});
