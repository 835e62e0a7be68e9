/** Snapshots: physical copies of a source's data dir, and DescribeDBSnapshots over them. */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { chownToServer, type PgCluster, serverProcessOwner } from '../../support/postgres-cluster.ts';
import { listParam, type Params, RdsError, stringList, type XmlFields, xmlList } from './query-protocol.ts';
import { type EmulatorState, normalizeId, paginate, type SnapshotRecord } from './state.ts';
import type { SnapshotStatus, SnapshotType } from './types.ts';

const run = promisify(execFile);

/** `rds:<instance>-YYYY-MM-DD-HH-MM` (UTC), RDS's automated snapshot naming. */
export function automatedSnapshotId(instanceId: string, at: Date): string {
  const stamp = at.toISOString().slice(0, 16).replace(/[T:]/g, '-');
  return `rds:${normalizeId(instanceId)}-${stamp}`;
}

/** Copies the source as it is now into a new snapshot record. */
export async function takeSnapshot(
  state: EmulatorState,
  sourceId: string,
  opts: { id: string; at: Date; type: SnapshotType; status: SnapshotStatus },
): Promise<string> {
  const source = state.instance(sourceId);
  const id = normalizeId(opts.id);
  if (state.snapshots.has(id)) throw new Error(`Snapshot ${id} already exists`);
  if (!source.cluster) throw new Error(`Instance ${source.id} has no running Postgres to snapshot`);
  const dataDir = path.join(state.workDir, 'snapshots', id.replace(/[^a-z0-9-]/g, '_'));
  await physicalCopy(source.cluster, dataDir);
  state.snapshots.set(id, {
    id,
    sourceId: source.id,
    type: opts.type,
    status: opts.status,
    createdAt: opts.at,
    dataDir,
    engineVersion: source.engineVersion,
    masterUsername: source.masterUsername,
    dbName: source.dbName,
    port: source.cluster.port,
    dbInstanceClass: source.dbInstanceClass,
    superuser: source.cluster.user,
    superuserPassword: source.cluster.password,
    tags: new Map(),
  });
  return id;
}

/**
 * pg_basebackup: a consistent copy of a running cluster (WAL streamed alongside, replayed when a
 * restored copy starts), so later writes to the source never show up in it.
 */
export async function physicalCopy(cluster: PgCluster, dataDir: string): Promise<void> {
  const tool = path.join(cluster.binDir, 'pg_basebackup');
  if (!existsSync(tool)) {
    throw new Error(
      `${tool} not found: install postgresql-${cluster.majorVersion} (the server package has it)`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  chownToServer(dataDir); // run as the server's user so the copy is owned as postgres requires
  const args = ['-h', cluster.host, '-p', String(cluster.port), '-U', cluster.user, '-D', dataDir];
  args.push('-X', 'stream', '-c', 'fast', '--no-sync');
  if (cluster.majorVersion >= 13) args.push('--no-manifest');
  await run(tool, args, {
    ...(serverProcessOwner() ?? {}),
    env: { ...process.env, PGPASSWORD: cluster.password, PGPASSFILE: '/dev/null' },
  });
}

/** A second record sharing `from`'s data dir: restores only ever copy it, so sharing is safe. */
export function cloneSnapshot(
  state: EmulatorState,
  fromId: string,
  opts: { at: Date; id?: string; type?: SnapshotType; status?: SnapshotStatus; sourceId?: string },
): string {
  const from = state.snapshot(fromId);
  const sourceId = opts.sourceId ? normalizeId(opts.sourceId) : from.sourceId;
  const id = normalizeId(opts.id ?? automatedSnapshotId(sourceId, opts.at));
  if (state.snapshots.has(id)) throw new Error(`Snapshot ${id} already exists`);
  state.snapshots.set(id, {
    ...from,
    id,
    sourceId,
    createdAt: opts.at,
    type: opts.type ?? from.type,
    status: opts.status ?? 'available',
    tags: new Map(),
  });
  return id;
}

const FILTERS: Record<string, (snapshot: SnapshotRecord, value: string, state: EmulatorState) => boolean> = {
  'db-instance-id': (s, v, state) => s.sourceId === normalizeId(v) || state.instanceArn(s.sourceId) === v,
  'db-snapshot-id': (s, v, state) => s.id === normalizeId(v) || state.snapshotArn(s.id) === v,
  'snapshot-type': (s, v) => s.type === v,
  engine: (_s, v) => v === 'postgres',
};

export function describeDBSnapshots(state: EmulatorState, params: Params): XmlFields {
  let snapshots = [...state.snapshots.values()];
  const snapshotId = params['DBSnapshotIdentifier'];
  if (snapshotId) snapshots = [state.snapshot(snapshotId)];
  const instanceId = params['DBInstanceIdentifier'];
  if (instanceId) snapshots = snapshots.filter((s) => s.sourceId === normalizeId(instanceId));
  // Without SnapshotType RDS lists automated and manual ones; AWS Backup's only when asked for
  // (shared and public ones don't exist here).
  const type = params['SnapshotType'];
  snapshots = snapshots.filter((s) => (type ? s.type === type : s.type !== 'awsbackup'));
  for (const filter of listParam(params, 'Filters')) {
    const name = filter['Name'] ?? '';
    const matches = FILTERS[name];
    if (!matches) throw new RdsError('InvalidParameterValue', `Unrecognized filter name: ${name}.`);
    const values = stringList(filter, 'Values');
    snapshots = snapshots.filter((s) => values.some((value) => matches(s, value, state)));
  }
  snapshots.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  const { page, marker } = paginate(snapshots, params);
  return {
    Marker: marker,
    DBSnapshots: xmlList(
      'DBSnapshot',
      page.map((s) => snapshotFields(state, s)),
    ),
  };
}

function snapshotFields(state: EmulatorState, s: SnapshotRecord): XmlFields {
  return {
    DBSnapshotIdentifier: s.id,
    DBInstanceIdentifier: s.sourceId,
    // Absent while creating, as on RDS: code that sorts by it must cope (or filter on Status first).
    SnapshotCreateTime: s.status === 'available' ? s.createdAt : undefined,
    Engine: 'postgres',
    AllocatedStorage: 20,
    Status: s.status,
    Port: s.port,
    AvailabilityZone: `${state.region}a`,
    VpcId: 'vpc-emulated',
    MasterUsername: s.masterUsername,
    EngineVersion: s.engineVersion,
    LicenseModel: 'postgresql-license',
    SnapshotType: s.type,
    PercentProgress: s.status === 'available' ? 100 : 0,
    StorageType: 'gp3',
    Encrypted: false,
    DBSnapshotArn: state.snapshotArn(s.id),
    IAMDatabaseAuthenticationEnabled: false,
    TagList: xmlList(
      'Tag',
      [...s.tags].map(([Key, Value]) => ({ Key, Value })),
    ),
    OriginalSnapshotCreateTime: s.createdAt,
    SnapshotTarget: 'region',
  };
}
