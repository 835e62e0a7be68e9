// RestoreDBInstanceToPointInTime through the real SDK: WAL archived by a real source, a base
// backup, and recovery to recovery_target_time, so a restore holds exactly the rows committed
// before the requested time.
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
  RestoreDBInstanceToPointInTimeCommand,
  waitUntilDBInstanceAvailable,
} from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startCluster } from '../../support/postgres-cluster.ts';
import { asSuperuser, query, rdsClient } from './fixtures.ts';
import { type RdsEmulator, startRdsEmulator } from './index.ts';

let source: PgCluster;
let emulator: RdsEmulator;
let rds: RDSClient;
let instant: Date;

const WAIT = { minDelay: 0.2, maxDelay: 0.2, maxWaitTime: 120 } as const;

/** A time strictly after every commit so far, by the server's clock; then waits until it has passed. */
async function instantAfterCommits(cluster: PgCluster): Promise<Date> {
  const [row] = await query<{ ms: string }>(
    asSuperuser(cluster),
    'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms',
  );
  const at = new Date(Number(row!.ms) + 1);
  while (Date.now() <= at.getTime()) await new Promise((r) => setTimeout(r, 5));
  return at;
}

async function rowsOf(id: string): Promise<string[]> {
  const { DBInstances } = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  const endpoint = DBInstances?.[0]?.Endpoint;
  const rows = await query<{ label: string }>(
    {
      host: endpoint?.Address,
      port: endpoint?.Port,
      user: source.user,
      password: source.password,
      database: 'postgres',
    },
    'SELECT label FROM marks ORDER BY label',
  );
  return rows.map((r) => r.label);
}

beforeAll(async () => {
  emulator = await startRdsEmulator({ transitionMs: 200 });
  source = await startCluster({ settings: emulator.walArchiveSettings('prod-db') });
  emulator.addSourceInstance({
    id: 'prod-db',
    cluster: source,
    masterUsername: 'postgres',
    dbName: 'postgres',
  });
  await query(asSuperuser(source), 'CREATE TABLE marks (label text)');
  await emulator.enablePointInTimeRestore('prod-db');
  await query(asSuperuser(source), "INSERT INTO marks VALUES ('a1'), ('a2')");
  instant = await instantAfterCommits(source);
  await query(asSuperuser(source), "INSERT INTO marks VALUES ('b1')");
  rds = rdsClient(emulator, { maxAttempts: 1 });
});

afterAll(async () => {
  rds?.destroy();
  await source?.stop();
  await emulator?.stop();
});

describe('RDS emulator point-in-time restore', () => {
  it('shows the restore window: earliest from the automated backups, latest on the instance', async () => {
    const { DBInstanceAutomatedBackups } = await rds.send(
      new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: 'prod-db' }),
    );
    const window = DBInstanceAutomatedBackups?.[0]?.RestoreWindow;
    expect(window?.EarliestTime?.getTime()).toBeLessThan(instant.getTime());
    const { DBInstances } = await rds.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'prod-db' }),
    );
    expect(DBInstances?.[0]?.LatestRestorableTime?.getTime()).toBeGreaterThan(instant.getTime());
  });

  it('restores exactly the rows committed before RestoreTime', async () => {
    await rds.send(
      new RestoreDBInstanceToPointInTimeCommand({
        SourceDBInstanceIdentifier: 'prod-db',
        TargetDBInstanceIdentifier: 'at-instant',
        RestoreTime: instant,
      }),
    );
    await waitUntilDBInstanceAvailable({ client: rds, ...WAIT }, { DBInstanceIdentifier: 'at-instant' });
    expect(await rowsOf('at-instant')).toEqual(['a1', 'a2']);
    const restored = emulator.listInstances().find((i) => i.id === 'at-instant');
    expect(restored?.restoreTime).toEqual(instant);
  });

  it('restores everything committed before the request with UseLatestRestorableTime', async () => {
    await rds.send(
      new RestoreDBInstanceToPointInTimeCommand({
        SourceDBInstanceIdentifier: 'prod-db',
        TargetDBInstanceIdentifier: 'at-latest',
        UseLatestRestorableTime: true,
      }),
    );
    await waitUntilDBInstanceAvailable({ client: rds, ...WAIT }, { DBInstanceIdentifier: 'at-latest' });
    expect(await rowsOf('at-latest')).toEqual(['a1', 'a2', 'b1']);
  });

  it('refuses a time outside the window', async () => {
    const restore = rds.send(
      new RestoreDBInstanceToPointInTimeCommand({
        SourceDBInstanceIdentifier: 'prod-db',
        TargetDBInstanceIdentifier: 'too-early',
        RestoreTime: new Date(Date.now() - 365 * 86_400_000),
      }),
    );
    await expect(restore).rejects.toThrow(/not within the restorable window/);
    expect(emulator.listInstances().map((i) => i.id)).not.toContain('too-early');
  });
});
