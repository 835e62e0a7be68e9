/**
 * Point-in-time restore the way PostgreSQL does it: the source archives its WAL continuously
 * (archive_mode, archive_command), a base backup is taken when archiving starts, and a restore
 * replays the archive over a copy of that base backup up to recovery_target_time, then promotes.
 * A restored instance so holds exactly the transactions committed before the restore time.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { chownToServer, startCluster } from '../../support/postgres-cluster.ts';
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
  xmlList,
} from './query-protocol.ts';
import { validInstanceId } from './restore.ts';
import { physicalCopy } from './snapshots.ts';
import { type EmulatorState, type InstanceRecord, normalizeId } from './state.ts';

const run = promisify(execFile);

/** Where a source's WAL archive lives in the emulator's work dir. */
function archiveDirOf(state: EmulatorState, sourceId: string): string {
  return path.join(state.workDir, 'wal-archive', normalizeId(sourceId));
}

/**
 * The `-c` settings a source cluster must be started with for point-in-time restore: WAL
 * archived into the emulator's work dir. Creates the archive directory.
 */
export function walArchiveSettings(state: EmulatorState, sourceId: string): Record<string, string> {
  const dir = archiveDirOf(state, sourceId);
  mkdirSync(dir, { recursive: true });
  chownToServer(dir);
  return {
    wal_level: 'replica',
    archive_mode: 'on',
    // Never overwrite an archived segment: a second copy of one name would be a different history.
    archive_command: `test ! -f '${dir}/%f' && cp '%p' '${dir}/%f'`,
  };
}

/** The base backup every point-in-time restore of `sourceId` starts from; its end is the earliest restorable time. */
export async function takeBaseBackup(state: EmulatorState, sourceId: string): Promise<void> {
  const source = state.instance(sourceId);
  if (!source.cluster) throw new Error(`Instance ${source.id} has no running Postgres`);
  const archiveDir = archiveDirOf(state, source.id);
  if (!existsSync(archiveDir)) {
    throw new Error(
      `Instance ${source.id} does not archive WAL: start its cluster with walArchiveSettings('${source.id}')`,
    );
  }
  const baseBackupDir = path.join(state.workDir, 'base-backups', source.id);
  await physicalCopy(source.cluster, baseBackupDir);
  source.pitr = { archiveDir, baseBackupDir, earliest: new Date() };
}

/** Commits a transaction (so recovery to any earlier time finds a commit after it), switches WAL and waits until the archive has it. */
async function archiveUpToNow(record: InstanceRecord): Promise<void> {
  const cluster = record.cluster;
  if (!cluster || !record.pitr) throw new Error(`Instance ${record.id} does not archive WAL`);
  const client = new pg.Client({ ...cluster, database: 'postgres' });
  await client.connect();
  let segment: string;
  try {
    await client.query('SELECT txid_current()');
    const r = await client.query<{ f: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS f');
    segment = r.rows[0]!.f;
  } finally {
    await client.end();
  }
  const deadline = Date.now() + 60_000;
  while (!existsSync(path.join(record.pitr.archiveDir, segment))) {
    if (Date.now() > deadline)
      throw new Error(`WAL segment ${segment} of ${record.id} was not archived within 60 s`);
    await sleep(50);
  }
}

/** DescribeDBInstanceAutomatedBackups: the restore window of sources that archive WAL. */
export function describeDBInstanceAutomatedBackups(state: EmulatorState, params: Params): XmlFields {
  const id = params['DBInstanceIdentifier'];
  const records = [...state.instances.values()].filter(
    (r) => r.pitr && (id === undefined || r.id === normalizeId(id)),
  );
  return {
    DBInstanceAutomatedBackups: xmlList(
      'DBInstanceAutomatedBackup',
      records.map((r) => ({
        DBInstanceArn: state.instanceArn(r.id),
        DBInstanceIdentifier: r.id,
        Region: state.region,
        Status: 'active',
        Engine: 'postgres',
        EngineVersion: r.engineVersion,
        RestoreWindow: { EarliestTime: r.pitr!.earliest, LatestTime: new Date() },
        BackupRetentionPeriod: r.backupRetentionPeriod,
      })),
    ),
  };
}

/**
 * RestoreDBInstanceToPointInTime: RestoreTime or UseLatestRestorableTime, within
 * [earliest, latest] (latest is now: the restore archives WAL up to the moment it was asked).
 */
export function restoreDBInstanceToPointInTime(state: EmulatorState, params: Params): XmlFields {
  const source = state.instance(requireParam(params, 'SourceDBInstanceIdentifier'));
  const id = validInstanceId(requireParam(params, 'TargetDBInstanceIdentifier'));
  if (state.instances.has(id)) throw new RdsError('DBInstanceAlreadyExists', 'DB instance already exists');
  const pitr = source.pitr;
  if (!pitr) {
    throw new RdsError(
      'PointInTimeRestoreNotEnabled',
      `SourceDBInstanceIdentifier ${source.id} does not have automated backups enabled.`,
    );
  }
  const useLatest = boolParam(params, 'UseLatestRestorableTime') ?? false;
  const given = params['RestoreTime'];
  if (useLatest === (given !== undefined)) {
    throw new RdsError(
      'InvalidParameterCombination',
      'Exactly one of RestoreTime and UseLatestRestorableTime must be specified.',
    );
  }
  const now = new Date();
  const restoreTime = useLatest ? now : new Date(given ?? '');
  if (Number.isNaN(restoreTime.getTime()) || restoreTime < pitr.earliest || restoreTime > now) {
    throw new RdsError(
      'InvalidRestoreFault',
      `Restore time ${given} is not within the restorable window ${pitr.earliest.toISOString()} to ${now.toISOString()}.`,
    );
  }
  const securityGroups = stringList(params, 'VpcSecurityGroupIds');
  const record: InstanceRecord = {
    id,
    isSource: false,
    status: 'creating',
    cluster: undefined,
    masterUsername: source.masterUsername,
    dbName: source.dbName,
    engineVersion: source.engineVersion,
    dbInstanceClass: params['DBInstanceClass'] ?? source.dbInstanceClass,
    createdAt: now,
    snapshotId: undefined,
    restoreTime,
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
  if (plan.outcome === 'available')
    record.startup = state.background(() =>
      recoverCopy(state, record, source, useLatest ? null : restoreTime),
    );
  void state.background(async () => {
    await Promise.all([record.startup, state.transition()]);
    if (record.status !== 'creating' || plan.stuck) return;
    record.status = record.startupError ? 'failed' : plan.outcome;
  });
  return { DBInstance: instanceFields(state, record) };
}

/** Base backup + archived WAL, replayed to `target` (null: to the end of the archive), then promoted. */
async function recoverCopy(
  state: EmulatorState,
  record: InstanceRecord,
  source: InstanceRecord,
  target: Date | null,
): Promise<void> {
  const pitr = source.pitr!;
  const parent = path.join(state.workDir, 'instances');
  const dataDir = path.join(parent, `${record.id}-${randomUUID().slice(0, 8)}`);
  try {
    await archiveUpToNow(source);
    mkdirSync(parent, { recursive: true });
    await run('cp', ['-a', pitr.baseBackupDir, dataDir]);
    const settings = [
      `restore_command = 'cp "${pitr.archiveDir}/%f" "%p"'`,
      ...(target ? [`recovery_target_time = '${pgTimestamp(target)}'`] : []),
      `recovery_target_action = 'promote'`,
    ];
    appendFileSync(path.join(dataDir, 'postgresql.auto.conf'), `\n${settings.join('\n')}\n`);
    writeFileSync(path.join(dataDir, 'recovery.signal'), '');
    record.cluster = await startCluster({
      dataDir,
      user: source.cluster!.user,
      password: source.cluster!.password,
    });
    await waitForPromotion(record);
  } catch (error) {
    record.startupError = String(error);
    await record.cluster?.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** recovery_target_time wants PostgreSQL's timestamptz input ('T' and 'Z' are refused there). */
function pgTimestamp(at: Date): string {
  return `${at.toISOString().replace('T', ' ').replace('Z', '')}+00`;
}

/** Hot standby accepts connections before recovery ends: available means promoted, as on RDS. */
async function waitForPromotion(record: InstanceRecord): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const client = new pg.Client({ ...record.cluster!, database: 'postgres' });
    try {
      await client.connect();
      const r = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      if (r.rows[0]?.r === false) return;
    } catch {
      // still starting; a server that died of a failed recovery fails at the deadline
    } finally {
      await client.end().catch(() => {});
    }
    if (Date.now() > deadline) throw new Error(`instance ${record.id} did not finish recovery within 120 s`);
    await sleep(100);
  }
}
