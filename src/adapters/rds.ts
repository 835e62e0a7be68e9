import {
  type DBInstance,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeDBSubnetGroupsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { OffsiteError } from '../errors.ts';
import type { InstanceInfo, RdsPort, SnapshotInfo } from '../pipeline/ports.ts';

/** Where RDS is and whose credentials to use (none: the SDK's default chain). */
export interface RdsAdapterOptions {
  region: string;
  endpoint?: string | undefined;
  profile?: string | undefined;
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? '';
}

/** Turns credential errors into a precondition failure; everything else passes through. */
function rethrow(err: unknown): never {
  const name = errorName(err);
  if (name === 'CredentialsProviderError' || /credential/i.test((err as Error)?.message ?? '')) {
    throw new OffsiteError('CREDENTIALS_MISSING', `AWS credentials for RDS: ${(err as Error).message}`, {
      hint: 'set source.rds.profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance role applies',
      cause: err,
    });
  }
  throw err;
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
export function createRdsAdapter(opts: RdsAdapterOptions): RdsPort {
  const client = new RDSClient({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.profile ? { profile: opts.profile } : {}),
    // RDS throttles describe calls under load; the SDK retries with jittered backoff.
    maxAttempts: 8,
  });
  return {
    async listAutomatedSnapshots(instanceId, signal) {
      const out: SnapshotInfo[] = [];
      let marker: string | undefined;
      do {
        const page = await client
          .send(
            new DescribeDBSnapshotsCommand({
              DBInstanceIdentifier: instanceId,
              SnapshotType: 'automated',
              Marker: marker,
              MaxRecords: 100,
            }),
            { abortSignal: signal },
          )
          .catch(rethrow);
        for (const s of page.DBSnapshots ?? []) {
          if (!s.DBSnapshotIdentifier || !s.SnapshotCreateTime) continue;
          out.push({
            id: s.DBSnapshotIdentifier,
            instanceId: s.DBInstanceIdentifier ?? instanceId,
            status: s.Status ?? 'unknown',
            createdAt: s.SnapshotCreateTime,
            engineVersion: s.EngineVersion ?? '',
            snapshotType: s.SnapshotType ?? 'automated',
          });
        }
        marker = page.Marker;
      } while (marker);
      return out;
    },

    async restoreFromSnapshot(req, signal) {
      await client
        .send(
          new RestoreDBInstanceFromDBSnapshotCommand({
            DBInstanceIdentifier: req.instanceId,
            DBSnapshotIdentifier: req.snapshotId,
            DBInstanceClass: req.instanceClass,
            DBSubnetGroupName: req.subnetGroup,
            VpcSecurityGroupIds: req.securityGroupIds,
            // Explicit, because AWS defaults differ by VPC: private, no backups, easy to delete.
            PubliclyAccessible: false,
            MultiAZ: false,
            BackupRetentionPeriod: 0,
            DeletionProtection: false,
            AutoMinorVersionUpgrade: false,
            CopyTagsToSnapshot: false,
            Tags: Object.entries(req.tags).map(([Key, Value]) => ({ Key, Value })),
          }),
          { abortSignal: signal },
        )
        .catch(rethrow);
    },

    async listInstances(signal) {
      // DescribeDBInstances filters by id, engine or cluster, not by tag: list all, page by Marker.
      const out: InstanceInfo[] = [];
      let marker: string | undefined;
      do {
        const page = await client
          .send(new DescribeDBInstancesCommand({ Marker: marker, MaxRecords: 100 }), { abortSignal: signal })
          .catch(rethrow);
        for (const i of page.DBInstances ?? []) out.push(toInstance(i));
        marker = page.Marker;
      } while (marker);
      return out;
    },

    async describeInstance(instanceId, signal) {
      try {
        const out = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }), {
          abortSignal: signal,
        });
        const found = out.DBInstances?.[0];
        return found ? toInstance(found) : null;
      } catch (err) {
        if (errorName(err) === 'DBInstanceNotFoundFault' || errorName(err) === 'DBInstanceNotFound')
          return null;
        return rethrow(err);
      }
    },

    async setMasterPassword(instanceId, password, signal) {
      await client
        .send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: instanceId,
            MasterUserPassword: password,
            ApplyImmediately: true,
          }),
          {
            abortSignal: signal,
          },
        )
        .catch(rethrow);
    },

    async describeSubnetGroup(name, signal) {
      try {
        const out = await client.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: name }), {
          abortSignal: signal,
        });
        const found = out.DBSubnetGroups?.[0];
        if (!found) return null;
        return {
          name: found.DBSubnetGroupName ?? name,
          vpcId: found.VpcId ?? '',
          status: found.SubnetGroupStatus ?? 'unknown',
        };
      } catch (err) {
        if (errorName(err) === 'DBSubnetGroupNotFoundFault') return null;
        return rethrow(err);
      }
    },

    async deleteInstance(instanceId, signal) {
      try {
        await client.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: instanceId,
            SkipFinalSnapshot: true,
            DeleteAutomatedBackups: true,
          }),
          { abortSignal: signal },
        );
        return 'started';
      } catch (err) {
        const name = errorName(err);
        if (name === 'DBInstanceNotFoundFault' || name === 'DBInstanceNotFound') return 'not-found';
        if (name === 'InvalidDBInstanceStateFault' || name === 'InvalidDBInstanceState') {
          // Already deleting is as good as started; any other transitional state: try again.
          return /deleting|being deleted/i.test((err as Error).message) ? 'started' : 'busy';
        }
        return rethrow(err);
      }
    },
  };
}
