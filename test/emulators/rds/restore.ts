/**
 * RestoreDBInstanceFromDBSnapshot: a new real Postgres started from a copy of the snapshot's data
 * dir, so it holds the snapshot's data and never the source's later writes.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startCluster } from '../../support/postgres-cluster.ts';
import { planRestore, unreachableEndpoint } from './faults.ts';
import { instanceFields } from './instances.ts';
import {
  boolParam,
  intParam,
  listParam,
  type Params,
  RdsError,
  requireParam,
  stringList,
  type XmlFields,
} from './query-protocol.ts';
import { type EmulatorState, type InstanceRecord, normalizeId, type SnapshotRecord } from './state.ts';

const run = promisify(execFile);

/** RDS's identifier rule: a run id with '_' or '--' must fail here as it would on AWS. */
export function validInstanceId(id: string): string {
  if (id.length > 63 || !/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/i.test(id)) {
    throw new RdsError(
      'InvalidParameterValue',
      'The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; ' +
        'must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.',
    );
  }
  return normalizeId(id);
}

export function restoreDBInstanceFromDBSnapshot(state: EmulatorState, params: Params): XmlFields {
  const id = validInstanceId(requireParam(params, 'DBInstanceIdentifier'));
  const snapshot = state.snapshot(requireParam(params, 'DBSnapshotIdentifier'));
  if (state.instances.has(id)) throw new RdsError('DBInstanceAlreadyExists', 'DB instance already exists');
  if (snapshot.status !== 'available') {
    throw new RdsError(
      'InvalidDBSnapshotState',
      `DBSnapshot must have state available but actually has ${snapshot.status}`,
    );
  }
  const securityGroups = stringList(params, 'VpcSecurityGroupIds');
  const record: InstanceRecord = {
    id,
    isSource: false,
    status: 'creating',
    cluster: undefined,
    masterUsername: snapshot.masterUsername,
    dbName: snapshot.dbName,
    engineVersion: snapshot.engineVersion,
    dbInstanceClass: params['DBInstanceClass'] ?? snapshot.dbInstanceClass,
    createdAt: new Date(),
    snapshotId: snapshot.id,
    // AWS defaults, deliberately: a tool that forgets to set these gets an exposed, backed-up copy.
    publiclyAccessible: boolParam(params, 'PubliclyAccessible') ?? true,
    backupRetentionPeriod: intParam(params, 'BackupRetentionPeriod') ?? 7,
    multiAZ: boolParam(params, 'MultiAZ') ?? false,
    deletionProtection: boolParam(params, 'DeletionProtection') ?? false,
    dbSubnetGroupName: params['DBSubnetGroupName'] ?? 'default',
    vpcSecurityGroupIds: securityGroups.length > 0 ? securityGroups : ['sg-default'],
    tags: new Map(listParam(params, 'Tags').map((tag) => [tag['Key'] ?? '', tag['Value'] ?? ''])),
    pendingPassword: false,
    startup: Promise.resolve(),
  };
  state.instances.set(id, record);
  const plan = planRestore(state.faults);
  if (plan.endpoint) record.unreachableAt = unreachableEndpoint(plan.endpoint, id);
  // An instance that ends in a dead-end status never serves: RDS shows it without an endpoint.
  if (plan.outcome === 'available')
    record.startup = state.background(() => startCopy(state, record, snapshot));
  void state.background(async () => {
    await Promise.all([record.startup, state.transition()]);
    if (record.status !== 'creating' || plan.stuck) return; // e.g. deleted meanwhile
    record.status = record.startupError ? 'failed' : plan.outcome;
  });
  return { DBInstance: instanceFields(state, record) };
}

async function startCopy(
  state: EmulatorState,
  record: InstanceRecord,
  snapshot: SnapshotRecord,
): Promise<void> {
  const parent = path.join(state.workDir, 'instances');
  const dataDir = path.join(parent, `${record.id}-${randomUUID().slice(0, 8)}`);
  try {
    mkdirSync(parent, { recursive: true });
    await run('cp', ['-a', snapshot.dataDir, dataDir]); // -a keeps the postgres ownership and 0700 mode
    // The copy's superuser and password are the source's, as RDS keeps the master password.
    record.cluster = await startCluster({
      dataDir,
      user: snapshot.superuser,
      password: snapshot.superuserPassword,
    });
  } catch (error) {
    record.startupError = String(error);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
