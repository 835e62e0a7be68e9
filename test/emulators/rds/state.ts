/** The emulator's world: instances, snapshots, faults, recorded requests and background transitions. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PgCluster } from '../../support/postgres-cluster.ts';
import { intParam, type Params, RdsError } from './query-protocol.ts';
import type {
  InstanceStatus,
  InstanceSummary,
  RdsFaults,
  RecordedRequest,
  SnapshotStatus,
  SnapshotSummary,
  SnapshotType,
} from './types.ts';

export const ACCOUNT_ID = '123456789012';

export interface InstanceRecord {
  id: string;
  isSource: boolean;
  status: InstanceStatus;
  /** Undefined while a restored copy is still being copied and started. */
  cluster: PgCluster | undefined;
  masterUsername: string;
  dbName: string;
  engineVersion: string;
  dbInstanceClass: string;
  createdAt: Date;
  snapshotId: string | undefined;
  /** A point-in-time restore: the time it recovered to. */
  restoreTime?: Date;
  /** A source that archives WAL: its archive, its base backup and the earliest restorable time. */
  pitr?: { archiveDir: string; baseBackupDir: string; earliest: Date };
  publiclyAccessible: boolean;
  backupRetentionPeriod: number;
  multiAZ: boolean;
  deletionProtection: boolean;
  dbSubnetGroupName: string;
  vpcSecurityGroupIds: string[];
  tags: Map<string, string>;
  /** A MasterUserPassword change is in progress (shown in PendingModifiedValues). */
  pendingPassword: boolean;
  /** Settles once a restored copy's Postgres is up or has failed to start; never rejects. */
  startup: Promise<void>;
  startupError?: string;
  /** Where it says its endpoint is instead of its Postgres (the `endpoint` fault). */
  unreachableAt?: { host: string; port: number };
}

export interface SnapshotRecord {
  id: string;
  sourceId: string;
  type: SnapshotType;
  status: SnapshotStatus;
  createdAt: Date;
  dataDir: string;
  engineVersion: string;
  masterUsername: string;
  dbName: string;
  port: number;
  dbInstanceClass: string;
  /** The copy's superuser, which the emulator uses to manage a restored instance. */
  superuser: string;
  superuserPassword: string;
  tags: Map<string, string>;
}

/** RDS lowercases identifiers and matches them case-insensitively. */
export function normalizeId(id: string): string {
  return id.toLowerCase();
}

export class EmulatorState {
  readonly region: string;
  readonly workDir: string;
  readonly instances = new Map<string, InstanceRecord>();
  readonly snapshots = new Map<string, SnapshotRecord>();
  readonly requests: RecordedRequest[] = [];
  /** Plaintext, for leak assertions only: never part of `requests` or any response. */
  readonly masterPasswords: string[] = [];
  faults: RdsFaults = {};
  /** DB subnet group names that exist (lowercase), for DescribeDBSubnetGroups. */
  readonly subnetGroups: Set<string>;
  private readonly baseTransitionMs: number;
  private readonly tasks = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(opts: { region: string; workDir: string; transitionMs: number; subnetGroups: string[] }) {
    this.region = opts.region;
    this.subnetGroups = new Set(opts.subnetGroups.map((n) => n.toLowerCase()));
    this.workDir = opts.workDir;
    this.baseTransitionMs = opts.transitionMs;
  }

  transitionMs(): number {
    return this.faults.transitionMs ?? this.baseTransitionMs;
  }

  /** Waits one status transition; rejects when the emulator stops. */
  transition(): Promise<void> {
    return sleep(this.transitionMs(), undefined, { signal: this.stopping.signal });
  }

  /** Runs work after the API call has answered; stop() waits for all of it. Errors are the task's to record. */
  background(task: () => Promise<void>): Promise<void> {
    const running = task().catch((error: unknown) => {
      if (!this.stopping.signal.aborted) console.error('rds emulator: background task failed', error);
    });
    this.tasks.add(running);
    void running.finally(() => this.tasks.delete(running));
    return running;
  }

  /** Cancels pending transitions and waits for in-flight work (e.g. a Postgres starting) to settle. */
  async quiesce(): Promise<void> {
    this.stopping.abort();
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  instanceArn(id: string): string {
    return `arn:aws:rds:${this.region}:${ACCOUNT_ID}:db:${id}`;
  }

  snapshotArn(id: string): string {
    return `arn:aws:rds:${this.region}:${ACCOUNT_ID}:snapshot:${id}`;
  }

  instance(id: string): InstanceRecord {
    const found = this.instances.get(normalizeId(id));
    if (!found) throw new RdsError('DBInstanceNotFound', `DBInstance ${id} not found.`, 404);
    return found;
  }

  snapshot(idOrArn: string): SnapshotRecord {
    const id = normalizeId(idOrArn.replace(/^arn:aws:rds:[^:]*:\d+:snapshot:/, ''));
    const found = this.snapshots.get(id);
    if (!found) throw new RdsError('DBSnapshotNotFound', `DBSnapshot ${idOrArn} not found.`, 404);
    return found;
  }

  instanceSummary(record: InstanceRecord): InstanceSummary {
    return {
      id: record.id,
      arn: this.instanceArn(record.id),
      isSource: record.isSource,
      status: record.status,
      host: '127.0.0.1',
      port: record.cluster?.port,
      dataDir: record.cluster?.dataDir,
      tags: Object.fromEntries(record.tags),
      createdAt: record.createdAt,
      snapshotId: record.snapshotId,
      restoreTime: record.restoreTime,
      publiclyAccessible: record.publiclyAccessible,
      backupRetentionPeriod: record.backupRetentionPeriod,
      multiAZ: record.multiAZ,
      deletionProtection: record.deletionProtection,
      dbInstanceClass: record.dbInstanceClass,
      dbSubnetGroupName: record.dbSubnetGroupName,
      vpcSecurityGroupIds: [...record.vpcSecurityGroupIds],
      masterUsername: record.masterUsername,
      dbName: record.dbName,
      engineVersion: record.engineVersion,
    };
  }

  snapshotSummary(record: SnapshotRecord): SnapshotSummary {
    const { id, sourceId, type, status, createdAt, engineVersion, dataDir } = record;
    return { id, arn: this.snapshotArn(id), sourceId, type, status, createdAt, engineVersion, dataDir };
  }
}

/** RDS list paging: MaxRecords 20..100 (default 100) and an opaque Marker. */
export function paginate<T>(items: readonly T[], params: Params): { page: T[]; marker: string | undefined } {
  const max = intParam(params, 'MaxRecords') ?? 100;
  if (max < 20 || max > 100) {
    throw new RdsError(
      'InvalidParameterValue',
      `Invalid value ${max} for MaxRecords. Must be between 20 and 100`,
    );
  }
  const start = params['Marker'] ? decodeMarker(params['Marker']) : 0;
  const end = start + max;
  return { page: items.slice(start, end), marker: end < items.length ? encodeMarker(end) : undefined };
}

function encodeMarker(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodeMarker(marker: string): number {
  try {
    const offset: unknown = JSON.parse(Buffer.from(marker, 'base64url').toString()).offset;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {}
  throw new RdsError('InvalidParameterValue', `Invalid marker: ${marker}`);
}
