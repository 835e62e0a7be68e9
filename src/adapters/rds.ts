import {
  type DBInstance,
  DeleteDBInstanceCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBSubnetGroupsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { callFailed } from '../classify/classify-error.ts';
import type { InstanceInfo, RdsPort, RestoreRequest, SnapshotInfo, SnapshotType } from '../pipeline/ports.ts';
import { ADAPTER_RETRY, type AdapterRetry, SDK_MAX_ATTEMPTS, withRetry } from '../retry.ts';

/** Where RDS is and whose credentials to use (none: the SDK's default chain). */
export interface RdsAdapterOptions {
  region: string;
  endpoint?: string | undefined;
  profile?: string | undefined;
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? '';
}

/** A failed RDS call, named (the API action and its subject) and classified (src/classify-error.ts). */
function failed(call: string): (err: unknown) => never {
  return (err) => {
    throw callFailed(err, `RDS ${call}`);
  };
}

/**
 * What every temporary instance is created with, whichever restore makes it: explicit, because
 * AWS defaults differ by VPC — private (public only when the pipeline spells out
 * network.publicAccess: true), in the configured network, no backups, easy to delete, tagged as
 * offsite's. Security groups are only named, never created or changed: offsite has no EC2 client.
 */
function privateInstanceParams(req: Omit<RestoreRequest, 'snapshotId'>) {
  return {
    DBInstanceClass: req.instanceClass,
    DBSubnetGroupName: req.subnetGroup,
    VpcSecurityGroupIds: req.securityGroupIds,
    PubliclyAccessible: req.publiclyAccessible === true,
    MultiAZ: false,
    BackupRetentionPeriod: 0,
    DeletionProtection: false,
    AutoMinorVersionUpgrade: false,
    CopyTagsToSnapshot: false,
    Tags: Object.entries(req.tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

function toInstance(i: DBInstance): InstanceInfo {
  return {
    id: i.DBInstanceIdentifier ?? '',
    arn: i.DBInstanceArn ?? '',
    status: i.DBInstanceStatus ?? 'unknown',
    endpoint:
      i.Endpoint?.Address && i.Endpoint.Port
        ? { address: i.Endpoint.Address, port: i.Endpoint.Port }
        : undefined,
    masterUsername: i.MasterUsername ?? '',
    engineVersion: i.EngineVersion ?? '',
    tags: Object.fromEntries((i.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

/** The RDS port on the AWS SDK (real RDS, or the local emulator through `endpoint`). */
export function createRdsAdapter(opts: RdsAdapterOptions, retry: AdapterRetry = ADAPTER_RETRY): RdsPort {
  const client = new RDSClient({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    // RDS throttles under load: the retry table (src/retry.ts) rides it out, bounded by time; the
    // SDK itself makes at most one quick second try per attempt.
    maxAttempts: SDK_MAX_ATTEMPTS,
  });
  /** One RDS request, retried by the table. A restore is retried only when throttled: RDS did not act on it. */
  const send = <T>(call: () => Promise<T>, signal: AbortSignal | undefined, restore = false) =>
    withRetry(call, { ...retry, signal, ...(restore ? { only: ['throttled'] as const } : {}) });
  return {
    async listSnapshots(instanceId, types, signal) {
      const out: SnapshotInfo[] = [];
      // One listing per type: without SnapshotType RDS lists automated and manual ones, never
      // those AWS Backup manages (SnapshotType awsbackup).
      for (const type of types) {
        let marker: string | undefined;
        do {
          const page = await send(
            () =>
              client.send(
                new DescribeDBSnapshotsCommand({
                  DBInstanceIdentifier: instanceId,
                  SnapshotType: type,
                  Marker: marker,
                  MaxRecords: 100,
                }),
                { abortSignal: signal },
              ),
            signal,
          ).catch(failed(`DescribeDBSnapshots (${type} snapshots of ${instanceId})`));
          for (const s of page.DBSnapshots ?? []) {
            if (!s.DBSnapshotIdentifier || !s.SnapshotCreateTime) continue;
            out.push({
              id: s.DBSnapshotIdentifier,
              instanceId: s.DBInstanceIdentifier ?? instanceId,
              status: s.Status ?? 'unknown',
              createdAt: s.SnapshotCreateTime,
              engineVersion: s.EngineVersion ?? '',
              snapshotType: (s.SnapshotType as SnapshotType | undefined) ?? type,
            });
          }
          marker = page.Marker;
        } while (marker);
      }
      return out;
    },

    async restoreFromSnapshot(req, signal) {
      await send(
        () =>
          client.send(
            new RestoreDBInstanceFromDBSnapshotCommand({
              DBInstanceIdentifier: req.instanceId,
              DBSnapshotIdentifier: req.snapshotId,
              ...privateInstanceParams(req),
            }),
            { abortSignal: signal },
          ),
        signal,
        true,
      ).catch(failed(`RestoreDBInstanceFromDBSnapshot (${req.snapshotId} to ${req.instanceId})`));
    },

    async restoreToPointInTime(req, signal) {
      const when =
        req.restoreTime === 'latest' ? 'its latest restorable time' : req.restoreTime.toISOString();
      await send(
        () =>
          client.send(
            new RestoreDBInstanceToPointInTimeCommand({
              SourceDBInstanceIdentifier: req.sourceInstanceId,
              TargetDBInstanceIdentifier: req.instanceId,
              ...(req.restoreTime === 'latest'
                ? { UseLatestRestorableTime: true }
                : { RestoreTime: req.restoreTime }),
              // The same private, backup-less, deletable instance as a snapshot restore.
              ...privateInstanceParams(req),
            }),
            { abortSignal: signal },
          ),
        signal,
        true,
      ).catch(
        failed(`RestoreDBInstanceToPointInTime (${req.sourceInstanceId} at ${when} to ${req.instanceId})`),
      );
    },

    async restoreWindow(sourceInstanceId, signal) {
      // RDS shows the latest restorable time on the instance, and the earliest nowhere but on its
      // automated backups (the oldest one's restore window).
      const [instances, backups] = await Promise.all([
        send(
          () =>
            client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: sourceInstanceId }), {
              abortSignal: signal,
            }),
          signal,
        ).catch(failed(`DescribeDBInstances (${sourceInstanceId}, its latest restorable time)`)),
        send(
          () =>
            client.send(
              new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: sourceInstanceId }),
              {
                abortSignal: signal,
              },
            ),
          signal,
        ).catch(failed(`DescribeDBInstanceAutomatedBackups (${sourceInstanceId}, its restore window)`)),
      ]);
      const earliest = (backups.DBInstanceAutomatedBackups ?? [])
        .map((b) => b.RestoreWindow?.EarliestTime)
        .filter((t): t is Date => t instanceof Date)
        .sort((a, b) => a.getTime() - b.getTime())[0];
      return { earliest: earliest ?? null, latest: instances.DBInstances?.[0]?.LatestRestorableTime ?? null };
    },

    async listInstances(signal) {
      // DescribeDBInstances filters by id, engine or cluster, not by tag: list all, page by Marker.
      const out: InstanceInfo[] = [];
      let marker: string | undefined;
      do {
        const page = await send(
          () =>
            client.send(new DescribeDBInstancesCommand({ Marker: marker, MaxRecords: 100 }), {
              abortSignal: signal,
            }),
          signal,
        ).catch(failed('DescribeDBInstances (listing instances to reap)'));
        for (const i of page.DBInstances ?? []) out.push(toInstance(i));
        marker = page.Marker;
      } while (marker);
      return out;
    },

    async describeInstance(instanceId, signal) {
      try {
        const out = await send(
          () =>
            client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }), {
              abortSignal: signal,
            }),
          signal,
        );
        const found = out.DBInstances?.[0];
        return found ? toInstance(found) : null;
      } catch (err) {
        if (errorName(err) === 'DBInstanceNotFoundFault' || errorName(err) === 'DBInstanceNotFound')
          return null;
        return failed(`DescribeDBInstances (${instanceId})`)(err);
      }
    },

    async setMasterPassword(instanceId, password, signal) {
      await send(
        () =>
          client.send(
            new ModifyDBInstanceCommand({
              DBInstanceIdentifier: instanceId,
              MasterUserPassword: password,
              ApplyImmediately: true,
            }),
            {
              abortSignal: signal,
            },
          ),
        signal,
      ).catch(failed(`ModifyDBInstance (a new master password for ${instanceId})`));
    },

    async describeSubnetGroup(name, signal) {
      try {
        const out = await send(
          () =>
            client.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name }), {
              abortSignal: signal,
            }),
          signal,
        );
        const found = out.DBSubnetGroups?.[0];
        if (!found) return null;
        return {
          name: found.DBSubnetGroupName ?? name,
          vpcId: found.VpcId ?? '',
          status: found.SubnetGroupStatus ?? 'unknown',
        };
      } catch (err) {
        if (errorName(err) === 'DBSubnetGroupNotFoundFault') return null;
        return failed(`DescribeDBSubnetGroups (${name})`)(err);
      }
    },

    async deleteInstance(instanceId, signal) {
      try {
        await send(
          () =>
            client.send(
              new DeleteDBInstanceCommand({
                DBInstanceIdentifier: instanceId,
                SkipFinalSnapshot: true,
                DeleteAutomatedBackups: true,
              }),
              { abortSignal: signal },
            ),
          signal,
        );
        return 'started';
      } catch (err) {
        const name = errorName(err);
        if (name === 'DBInstanceNotFoundFault' || name === 'DBInstanceNotFound') return 'not-found';
        if (name === 'InvalidDBInstanceStateFault' || name === 'InvalidDBInstanceState') {
          // Already deleting is as good as started; any other transitional state: try again.
          return /deleting|being deleted/i.test((err as Error).message) ? 'started' : 'busy';
        }
        return failed(`DeleteDBInstance (${instanceId})`)(err);
      }
    },
  };
}
