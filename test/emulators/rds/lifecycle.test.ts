import { existsSync } from 'node:fs';
import {
  AddTagsToResourceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ListTagsForResourceCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  waitUntilDBInstanceAvailable,
  waitUntilDBInstanceDeleted,
} from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startCluster } from '../../support/postgres-cluster.ts';
import { asSuperuser, FAST_WAIT, query, rdsClient } from './fixtures.ts';
import { type RdsEmulator, startRdsEmulator } from './index.ts';

let source: PgCluster;
let emulator: RdsEmulator;
let rds: RDSClient;
let snapshotId: string;

beforeAll(async () => {
  [source, emulator] = await Promise.all([startCluster(), startRdsEmulator({ transitionMs: 200 })]);
  await query(asSuperuser(source), 'CREATE TABLE orders (id int PRIMARY KEY, note text)');
  await query(
    asSuperuser(source),
    `INSERT INTO orders VALUES (1, 'before snapshot'), (2, 'before snapshot')`,
  );
  emulator.addSourceInstance({
    id: 'prod-db',
    cluster: source,
    masterUsername: 'postgres',
    dbName: 'postgres',
  });
  snapshotId = await emulator.takeAutomatedSnapshot('prod-db', new Date('2026-11-20T03:04:00Z'));
  // Written after the snapshot: a restored copy must never see it.
  await query(asSuperuser(source), `INSERT INTO orders VALUES (3, 'after snapshot')`);
  rds = rdsClient(emulator);
});

afterAll(async () => {
  rds?.destroy();
  await emulator?.stop();
  await source?.stop();
});

function restore(
  id: string,
  extra: Partial<ConstructorParameters<typeof RestoreDBInstanceFromDBSnapshotCommand>[0]> = {},
) {
  return rds.send(
    new RestoreDBInstanceFromDBSnapshotCommand({
      DBInstanceIdentifier: id,
      DBSnapshotIdentifier: snapshotId,
      ...extra,
    }),
  );
}

async function deleteAndWait(id: string): Promise<void> {
  await rds.send(
    new DeleteDBInstanceCommand({
      DBInstanceIdentifier: id,
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    }),
  );
  await waitUntilDBInstanceDeleted({ client: rds, ...FAST_WAIT }, { DBInstanceIdentifier: id });
}

describe('RDS emulator instance lifecycle', () => {
  it('restores the snapshot (not later data), resets the password for real, and deletes', async () => {
    const restored = await restore('offsite-tmp-1', {
      PubliclyAccessible: false,
      DBSubnetGroupName: 'private-subnets',
      VpcSecurityGroupIds: ['sg-0abc'],
      BackupRetentionPeriod: 0,
      DeletionProtection: false,
      MultiAZ: false,
      Tags: [{ Key: 'offsite:run-id', Value: 'run-42' }],
    });
    expect(restored.DBInstance?.DBInstanceStatus).toBe('creating');
    expect(restored.DBInstance?.Endpoint).toBeUndefined(); // no endpoint until created, as on RDS

    await waitUntilDBInstanceAvailable(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-tmp-1' },
    );
    const [instance] = (
      await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'offsite-tmp-1' }))
    ).DBInstances!;
    expect(instance).toMatchObject({
      DBInstanceStatus: 'available',
      Engine: 'postgres',
      EngineVersion: source.majorVersion === 15 ? expect.stringMatching(/^15\./) : expect.any(String),
      PubliclyAccessible: false,
      BackupRetentionPeriod: 0,
      MultiAZ: false,
      DBSubnetGroup: { DBSubnetGroupName: 'private-subnets' },
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0abc', Status: 'active' }],
      TagList: [{ Key: 'offsite:run-id', Value: 'run-42' }],
      DBInstanceArn: 'arn:aws:rds:us-east-1:123456789012:db:offsite-tmp-1',
      MasterUsername: 'postgres',
    });
    const endpoint = {
      host: instance!.Endpoint!.Address!,
      port: instance!.Endpoint!.Port!,
      user: 'postgres',
      database: 'postgres',
    };
    expect(endpoint.port).not.toBe(source.port);
    const rows = await query(
      { ...endpoint, password: source.password },
      'SELECT id, note FROM orders ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 1, note: 'before snapshot' },
      { id: 2, note: 'before snapshot' },
    ]);
    expect(emulator.listInstances()).toMatchObject([
      {
        id: 'offsite-tmp-1',
        isSource: false,
        snapshotId,
        port: endpoint.port,
        tags: { 'offsite:run-id': 'run-42' },
      },
    ]);

    const modified = await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: 'offsite-tmp-1',
        MasterUserPassword: 'n3w-Secret-pw',
        ApplyImmediately: true,
      }),
    );
    expect(modified.DBInstance?.DBInstanceStatus).toBe('resetting-master-credentials');
    expect(modified.DBInstance?.PendingModifiedValues?.MasterUserPassword).toBe('****');
    await waitUntilDBInstanceAvailable(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-tmp-1' },
    );
    await expect(query({ ...endpoint, password: 'n3w-Secret-pw' }, 'SELECT 1 AS ok')).resolves.toEqual([
      { ok: 1 },
    ]);
    await expect(query({ ...endpoint, password: source.password }, 'SELECT 1')).rejects.toThrow(
      /password authentication failed/,
    );
    // The source keeps its own password.
    await expect(query(asSuperuser(source), 'SELECT count(*)::int AS n FROM orders')).resolves.toEqual([
      { n: 3 },
    ]);

    const dataDir = emulator.listInstances()[0]?.dataDir;
    expect(dataDir && existsSync(dataDir)).toBe(true);
    const deleting = await rds.send(
      new DeleteDBInstanceCommand({
        DBInstanceIdentifier: 'offsite-tmp-1',
        SkipFinalSnapshot: true,
        DeleteAutomatedBackups: true,
      }),
    );
    expect(deleting.DBInstance?.DBInstanceStatus).toBe('deleting');
    await waitUntilDBInstanceDeleted(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-tmp-1' },
    );
    expect(emulator.listInstances()).toEqual([]);
    expect(existsSync(dataDir!)).toBe(false);
    await expect(query({ ...endpoint, password: 'n3w-Secret-pw' }, 'SELECT 1')).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });

  it('keeps AWS defaults when a restore omits the safety settings, and can delete while creating', async () => {
    const { DBInstance } = await restore('Offsite-Defaults'); // RDS lowercases identifiers
    expect(DBInstance).toMatchObject({
      DBInstanceIdentifier: 'offsite-defaults',
      PubliclyAccessible: true,
      BackupRetentionPeriod: 7,
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-default' }],
      DBSubnetGroup: { DBSubnetGroupName: 'default' },
    });
    await deleteAndWait('OFFSITE-DEFAULTS');
    expect(emulator.listInstances()).toEqual([]);
  });

  it('answers the errors RDS answers', async () => {
    const errorOf = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (e: Error) => e.name,
      );
    await restore('offsite-errors');
    expect(await errorOf(restore('prod-db'))).toBe('DBInstanceAlreadyExistsFault');
    expect(await errorOf(restore('x1', { DBSnapshotIdentifier: 'rds:nope-2026-01-01-00-00' }))).toBe(
      'DBSnapshotNotFoundFault',
    );
    expect(await errorOf(restore('bad_name'))).toBe('InvalidParameterValue');
    expect(await errorOf(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nope' })))).toBe(
      'DBInstanceNotFoundFault',
    );
    const modify = (password: string) =>
      rds.send(
        new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'offsite-errors', MasterUserPassword: password }),
      );
    expect(await errorOf(modify('good-password'))).toBe('InvalidDBInstanceStateFault'); // still creating
    await waitUntilDBInstanceAvailable(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-errors' },
    );
    expect(await errorOf(modify('has/slash'))).toBe('InvalidParameterValue');
    expect(await errorOf(modify('short'))).toBe('InvalidParameterValue');
    const del = (input: Partial<ConstructorParameters<typeof DeleteDBInstanceCommand>[0]>) =>
      rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: 'offsite-errors', ...input }));
    expect(await errorOf(del({}))).toBe('InvalidParameterCombination'); // no final snapshot id
    await del({ SkipFinalSnapshot: true });
    expect(await errorOf(del({ SkipFinalSnapshot: true }))).toBe('InvalidDBInstanceStateFault'); // already deleting
    await waitUntilDBInstanceDeleted(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-errors' },
    );
  });

  it('tags by ARN and redacts every password it records', async () => {
    await restore('offsite-tags', { Tags: [{ Key: 'a', Value: '1' }] });
    const arn = 'arn:aws:rds:us-east-1:123456789012:db:offsite-tags';
    await rds.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: [{ Key: 'b', Value: '2' }] }));
    const { TagList } = await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }));
    expect(TagList).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: '2' },
    ]);
    await expect(
      rds.send(
        new ListTagsForResourceCommand({ ResourceName: 'arn:aws:rds:us-east-1:123456789012:db:nope' }),
      ),
    ).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });

    await waitUntilDBInstanceAvailable(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-tags' },
    );
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: 'offsite-tags',
        MasterUserPassword: 'Sup3r-s3cret-value',
      }),
    );
    const recorded = emulator.requests.filter((r) => r.action === 'ModifyDBInstance').at(-1);
    expect(recorded?.params['MasterUserPassword']).toBe('***');
    expect(JSON.stringify(emulator.requests)).not.toContain('Sup3r-s3cret-value');
    expect(emulator.masterPasswordsSet().at(-1)).toBe('Sup3r-s3cret-value');
    await waitUntilDBInstanceAvailable(
      { client: rds, ...FAST_WAIT },
      { DBInstanceIdentifier: 'offsite-tags' },
    );

    // Another process (e.g. the CLI under test) can list state over HTTP.
    const state = (await (await fetch(`${emulator.endpoint}/_emulator/state`)).json()) as {
      instances: { id: string; isSource: boolean; tags: Record<string, string> }[];
      snapshots: { id: string }[];
    };
    expect(state.instances).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'prod-db', isSource: true }),
        expect.objectContaining({ id: 'offsite-tags', isSource: false, tags: { a: '1', b: '2' } }),
      ]),
    );
    expect(state.snapshots.map((s) => s.id)).toContain(snapshotId);

    // A final snapshot on delete is a real manual snapshot of the instance.
    await rds.send(
      new DeleteDBInstanceCommand({
        DBInstanceIdentifier: 'offsite-tags',
        FinalDBSnapshotIdentifier: 'final-tags',
      }),
    );
    await waitUntilDBInstanceDeleted({ client: rds, ...FAST_WAIT }, { DBInstanceIdentifier: 'offsite-tags' });
    const final = emulator.listSnapshots().find((s) => s.id === 'final-tags');
    expect(final).toMatchObject({ type: 'manual', status: 'available', sourceId: 'offsite-tags' });
    expect(existsSync(final!.dataDir)).toBe(true);
  });

  it('deletes a source for real, like RDS would (a tool must never ask)', async () => {
    const legacy = await startCluster();
    try {
      emulator.addSourceInstance({
        id: 'legacy-db',
        cluster: legacy,
        masterUsername: 'postgres',
        dbName: 'postgres',
      });
      await emulator.takeAutomatedSnapshot('legacy-db', new Date('2026-11-21T03:04:00Z'));
      expect(
        emulator.listInstances({ includeSources: true }).find((i) => i.id === 'legacy-db')?.isSource,
      ).toBe(true);
      expect(emulator.listInstances().some((i) => i.id === 'legacy-db')).toBe(false);
      await deleteAndWait('legacy-db');
      expect(emulator.listInstances({ includeSources: true }).map((i) => i.id)).toEqual(['prod-db']);
      expect(emulator.listSnapshots().some((s) => s.sourceId === 'legacy-db')).toBe(false); // DeleteAutomatedBackups
      await expect(query(asSuperuser(legacy), 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await legacy.stop();
    }
  });
});
