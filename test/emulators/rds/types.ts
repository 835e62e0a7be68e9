/** Public shapes of the RDS emulator (test and demo infrastructure, never imported by src/). */
import type { PgCluster } from '../../support/postgres-cluster.ts';
import type { ActionRecord } from './authorization.ts';

export interface RdsEmulatorOptions {
  /** Where snapshots and restored data dirs live (must be traversable by the `postgres` OS user). Default: a temp dir, removed by stop(). */
  workDir?: string;
  /** How long creating/resetting/deleting last, in ms (default 300). */
  transitionMs?: number;
  /** Region in ARNs (default 'us-east-1'). */
  region?: string;
  /** DB subnet groups DescribeDBSubnetGroups knows (default: `default` and the demo's `offsite-demo-private`). */
  subnetGroups?: string[];
}

export interface RdsFaults {
  /** The next `times` calls of these actions ('*' for any) answer 400 Throttling "Rate exceeded". */
  throttle?: { actions: string[]; times: number };
  /**
   * Restores requested while set end in this status instead of 'available': one of the statuses
   * an RDS instance never leaves by itself. No Postgres is started for them (no endpoint).
   */
  restoreOutcome?: DeadEndStatus;
  /** Restores requested while set never leave 'creating' (the Postgres still starts, so delete works). */
  stuckInCreating?: boolean;
  /** Overrides the emulator's transitionMs while set. */
  transitionMs?: number;
  /**
   * DeleteDBInstance answers 403 AccessDenied while set, as RDS does when the caller's IAM policy
   * does not allow rds:DeleteDBInstance on the instance (an edited policy, a tag condition that
   * no longer matches, an SCP). Not retryable: the instance stays as it is.
   */
  deleteFails?: boolean;
  /**
   * Deletes accepted while set stay 'deleting' (their Postgres still running) until the fault is
   * cleared, then finish; stop() cleans them up either way.
   */
  deleteHangs?: boolean;
  /**
   * Instances restored while set report an endpoint this machine cannot connect to, as when a
   * security group or route does not admit the runner: 'refuses' (a port where nothing listens:
   * connection refused) or 'unresolvable' (a host name that does not resolve: DNS).
   */
  endpoint?: 'refuses' | 'unresolvable';
  /**
   * These actions answer 403 AccessDenied while set, as RDS does when the caller's IAM policy
   * does not allow them.
   */
  denyActions?: string[];
}

/** Statuses a restored instance can end in besides 'available' (RDS's dead ends). */
export type DeadEndStatus =
  | 'failed'
  | 'incompatible-restore'
  | 'incompatible-parameters'
  | 'incompatible-network'
  | 'incompatible-credentials'
  | 'restore-error'
  | 'insufficient-capacity'
  | 'inaccessible-encryption-credentials'
  | 'inaccessible-encryption-credentials-recoverable'
  | 'storage-full';

export interface RecordedRequest {
  action: string;
  /** Every form parameter; any parameter whose name contains "password" is '***'. */
  params: Record<string, string>;
  at: Date;
  /** HTTP status answered, and the RDS error code when it failed. */
  status: number;
  errorCode?: string;
  /** What IAM would evaluate for it (authorization.ts): resources with their tags, request tags. */
  authorization?: ActionRecord;
}

export type InstanceStatus =
  | 'creating'
  | 'available'
  | 'resetting-master-credentials'
  | 'deleting'
  | DeadEndStatus;

export type SnapshotStatus = 'available' | 'creating';
/** awsbackup: taken by AWS Backup; DescribeDBSnapshots lists them only when asked for that type. */
export type SnapshotType = 'automated' | 'manual' | 'awsbackup';

export interface InstanceSummary {
  id: string;
  arn: string;
  /** Added with addSourceInstance() (a test's "production"), not restored through the API. */
  isSource: boolean;
  status: InstanceStatus;
  host: string;
  /** Loopback port of its Postgres; undefined until a restored copy has started. */
  port: number | undefined;
  /** Its Postgres data dir (removed when a restored instance is deleted). */
  dataDir: string | undefined;
  tags: Record<string, string>;
  createdAt: Date;
  snapshotId: string | undefined;
  /** The time a point-in-time restore recovered to (the request time for UseLatestRestorableTime). */
  restoreTime: Date | undefined;
  publiclyAccessible: boolean;
  backupRetentionPeriod: number;
  multiAZ: boolean;
  deletionProtection: boolean;
  dbInstanceClass: string;
  dbSubnetGroupName: string;
  vpcSecurityGroupIds: string[];
  masterUsername: string;
  dbName: string;
  engineVersion: string;
}

export interface SnapshotSummary {
  id: string;
  arn: string;
  sourceId: string;
  type: SnapshotType;
  status: SnapshotStatus;
  createdAt: Date;
  engineVersion: string;
  /** Physical copy of the source's data dir (read-only: restores copy it). */
  dataDir: string;
}

export interface RdsEmulator {
  /** 'http://127.0.0.1:<port>': pass to `new RDSClient({ endpoint, region, credentials })`. */
  endpoint: string;
  region: string;
  /** Registers a running cluster as an existing RDS instance ("production"), status available. */
  addSourceInstance(opts: {
    id: string;
    cluster: PgCluster;
    masterUsername: string;
    dbName: string;
    engineVersion?: string;
  }): void;
  /**
   * The `-c` settings to start a source's cluster with (before addSourceInstance) so that it
   * archives its WAL into the emulator, for point-in-time restore.
   */
  walArchiveSettings(sourceId: string): Record<string, string>;
  /** Takes the base backup of a source started with walArchiveSettings(): point-in-time restores work from then on. */
  enablePointInTimeRestore(sourceId: string): Promise<void>;
  /**
   * A restored-looking instance without a Postgres behind it (status available, no endpoint):
   * a decoy or a leftover for tests that only list, tag-match and delete instances.
   */
  addBareInstance(opts: { id: string; tags: Record<string, string> }): void;
  /** Physical, consistent copy of the source now (pg_basebackup), as automated snapshot `rds:<id>-YYYY-MM-DD-HH-MM` taken at `at`. */
  takeAutomatedSnapshot(sourceId: string, at: Date, opts?: { status?: SnapshotStatus }): Promise<string>;
  /** Another snapshot record sharing `fromId`'s data (restores copy it): cheap snapshots for listing tests. */
  cloneSnapshot(
    fromId: string,
    opts: { at: Date; id?: string; type?: SnapshotType; status?: SnapshotStatus; sourceId?: string },
  ): string;
  /** E.g. finish a snapshot that was taken as 'creating'. */
  setSnapshotStatus(id: string, status: SnapshotStatus): void;
  listSnapshots(): SnapshotSummary[];
  setFaults(faults: Partial<RdsFaults>): void;
  clearFaults(): void;
  /** Plaintext passwords accepted by ModifyDBInstance, oldest first (kept out of `requests`), to prove they leak nowhere. */
  masterPasswordsSet(): string[];
  /** Every API call received, oldest first (a live array). */
  requests: RecordedRequest[];
  /** Restored (non-source) instances that exist, including ones still deleting; `includeSources` adds sources. */
  listInstances(opts?: { includeSources?: boolean }): InstanceSummary[];
  /** Stops every restored instance's Postgres (not sources'), closes the server, removes the work dir if it made it. */
  stop(): Promise<void>;
}
