/** DB instances: DescribeDBInstances, ModifyDBInstance, DeleteDBInstance, and the DBInstance XML. */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { denyDeleteIfInjected } from './faults.ts';
import {
  boolParam,
  intParam,
  listParam,
  type Params,
  RdsError,
  requireParam,
  stringList,
  type XmlFields,
  xmlList,
} from './query-protocol.ts';
import { takeSnapshot } from './snapshots.ts';
import { type EmulatorState, type InstanceRecord, normalizeId, paginate } from './state.ts';

export function instanceFields(state: EmulatorState, r: InstanceRecord): XmlFields {
  // RDS has no endpoint (nor create time) to show until the instance has been created.
  const created = r.status !== 'creating';
  return {
    DBInstanceIdentifier: r.id,
    DBInstanceClass: r.dbInstanceClass,
    Engine: 'postgres',
    DBInstanceStatus: r.status,
    MasterUsername: r.masterUsername,
    DBName: r.dbName,
    Endpoint:
      created && r.cluster
        ? {
            Address: r.unreachableAt?.host ?? r.cluster.host,
            Port: r.unreachableAt?.port ?? r.cluster.port,
            HostedZoneId: 'Z2R2ITUGPM61AM',
          }
        : undefined,
    AllocatedStorage: 20,
    InstanceCreateTime: created ? r.createdAt : undefined,
    // The emulator archives WAL on demand when a restore asks, so the latest restorable time is now.
    LatestRestorableTime: r.pitr ? new Date() : undefined,
    PreferredBackupWindow: '03:00-03:30',
    BackupRetentionPeriod: r.backupRetentionPeriod,
    VpcSecurityGroups: xmlList(
      'VpcSecurityGroupMembership',
      r.vpcSecurityGroupIds.map((id) => ({ VpcSecurityGroupId: id, Status: 'active' })),
    ),
    DBSubnetGroup: {
      DBSubnetGroupName: r.dbSubnetGroupName,
      DBSubnetGroupDescription: `emulated subnet group ${r.dbSubnetGroupName}`,
      VpcId: 'vpc-emulated',
      SubnetGroupStatus: 'Complete',
    },
    PendingModifiedValues: r.pendingPassword ? { MasterUserPassword: '****' } : {},
    MultiAZ: r.multiAZ,
    EngineVersion: r.engineVersion,
    AutoMinorVersionUpgrade: true,
    PubliclyAccessible: r.publiclyAccessible,
    StorageType: 'gp3',
    StorageEncrypted: false,
    DbiResourceId: `db-${createHash('sha256').update(r.id).digest('hex').slice(0, 26).toUpperCase()}`,
    DeletionProtection: r.deletionProtection,
    DBInstanceArn: state.instanceArn(r.id),
    TagList: xmlList(
      'Tag',
      [...r.tags].map(([Key, Value]) => ({ Key, Value })),
    ),
  };
}

export function describeDBInstances(state: EmulatorState, params: Params): XmlFields {
  const id = params['DBInstanceIdentifier'];
  let records = id ? [state.instance(id)] : [...state.instances.values()];
  for (const filter of listParam(params, 'Filters')) {
    const values = stringList(filter, 'Values');
    if (filter['Name'] === 'db-instance-id') {
      records = records.filter((r) =>
        values.some((v) => normalizeId(v) === r.id || v === state.instanceArn(r.id)),
      );
    } else if (filter['Name'] === 'engine') {
      records = records.filter(() => values.includes('postgres'));
    } else {
      throw new RdsError('InvalidParameterValue', `Unrecognized filter name: ${filter['Name']}.`);
    }
  }
  const { page, marker } = paginate(records, params);
  return {
    Marker: marker,
    DBInstances: xmlList(
      'DBInstance',
      page.map((r) => instanceFields(state, r)),
    ),
  };
}

/** RDS's rule for master passwords: a tool generating '/' or '@' must find out here, not in production. */
function validatePassword(password: string): void {
  if (password.length < 8 || password.length > 128) {
    throw new RdsError(
      'InvalidParameterValue',
      'The parameter MasterUserPassword is not a valid password: it must contain from 8 to 128 characters.',
    );
  }
  if (!/^[\x21-\x7e]+$/.test(password) || /[/@"]/.test(password)) {
    throw new RdsError(
      'InvalidParameterValue',
      `The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '"', ' ' may be used.`,
    );
  }
}

export function modifyDBInstance(state: EmulatorState, params: Params): XmlFields {
  const r = state.instance(requireParam(params, 'DBInstanceIdentifier'));
  if (r.status !== 'available')
    throw new RdsError('InvalidDBInstanceState', 'Database instance is not in available state.');
  const password = params['MasterUserPassword'];
  if (password !== undefined) {
    validatePassword(password);
    state.masterPasswords.push(password);
  }
  r.backupRetentionPeriod = intParam(params, 'BackupRetentionPeriod') ?? r.backupRetentionPeriod;
  r.deletionProtection = boolParam(params, 'DeletionProtection') ?? r.deletionProtection;
  r.publiclyAccessible = boolParam(params, 'PubliclyAccessible') ?? r.publiclyAccessible;
  if (password !== undefined) {
    // Password changes apply as soon as possible whatever ApplyImmediately says, as on RDS.
    r.status = 'resetting-master-credentials';
    r.pendingPassword = true;
    void state.background(async () => {
      await state.transition();
      try {
        if (r.status === 'resetting-master-credentials') await setMasterPassword(r, password);
        if (r.status === 'resetting-master-credentials') r.status = 'available';
      } catch (error) {
        if (r.status === 'resetting-master-credentials') r.status = 'failed';
        throw error;
      } finally {
        r.pendingPassword = false;
      }
    });
  }
  return { DBInstance: instanceFields(state, r) };
}

/** Really changes the password on the instance's Postgres, so the old one stops working. */
async function setMasterPassword(r: InstanceRecord, password: string): Promise<void> {
  const cluster = r.cluster;
  if (!cluster) throw new Error(`Instance ${r.id} has no running Postgres`);
  const client = new pg.Client({ ...cluster, database: 'postgres' });
  await client.connect();
  try {
    await client.query(
      `ALTER ROLE ${client.escapeIdentifier(r.masterUsername)} PASSWORD ${client.escapeLiteral(password)}`,
    );
  } finally {
    await client.end();
  }
  if (cluster.user === r.masterUsername) cluster.password = password; // the emulator's own admin login
}

export function deleteDBInstance(state: EmulatorState, params: Params): XmlFields {
  const id = requireParam(params, 'DBInstanceIdentifier');
  denyDeleteIfInjected(state.faults, state.instanceArn(normalizeId(id))); // IAM decides before RDS looks
  const r = state.instance(id);
  const skipFinalSnapshot = boolParam(params, 'SkipFinalSnapshot') ?? false;
  const finalSnapshotId = params['FinalDBSnapshotIdentifier'];
  if (!skipFinalSnapshot && !finalSnapshotId) {
    throw new RdsError(
      'InvalidParameterCombination',
      'FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.',
    );
  }
  if (skipFinalSnapshot && finalSnapshotId) {
    throw new RdsError(
      'InvalidParameterCombination',
      'FinalDBSnapshotIdentifier can not be specified when SkipFinalSnapshot is true.',
    );
  }
  if (r.status === 'deleting')
    throw new RdsError('InvalidDBInstanceState', `Instance ${r.id} is already being deleted.`);
  if (r.deletionProtection) {
    throw new RdsError(
      'InvalidParameterCombination',
      'Cannot delete protected DB Instance, please disable deletion protection and try again.',
    );
  }
  if (finalSnapshotId && state.snapshots.has(normalizeId(finalSnapshotId))) {
    throw new RdsError('DBSnapshotAlreadyExists', `Snapshot ${finalSnapshotId} already exists.`);
  }
  const deleteAutomatedBackups = boolParam(params, 'DeleteAutomatedBackups') ?? true; // RDS's default
  r.status = 'deleting';
  const hangs = state.faults.deleteHangs === true; // decided now: a later fault doesn't hang this delete
  void state.background(async () => {
    await state.transition();
    while (hangs && state.faults.deleteHangs) await state.transition();
    await r.startup;
    if (finalSnapshotId && r.cluster) {
      await takeSnapshot(state, r.id, {
        id: finalSnapshotId,
        at: new Date(),
        type: 'manual',
        status: 'available',
      });
    }
    await r.cluster?.stop();
    state.instances.delete(r.id);
    if (!deleteAutomatedBackups) return;
    for (const s of state.snapshots.values()) {
      if (s.sourceId === r.id && s.type === 'automated') state.snapshots.delete(s.id);
    }
  });
  return { DBInstance: instanceFields(state, r) };
}
