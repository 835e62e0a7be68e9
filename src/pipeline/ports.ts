// The narrow interfaces the pipeline needs from the outside world. Adapters (src/adapters/)
// implement them for AWS, S3/B2, Postgres and the local disk; stages never import those libraries.
import type { Readable } from 'node:stream';

/** Kinds of RDS snapshot offsite backs up: RDS's own nightly ones, or those AWS Backup takes. */
export type SnapshotType = 'automated' | 'awsbackup';

/** An RDS DB snapshot, as much of it as offsite needs. */
export interface SnapshotInfo {
  id: string;
  instanceId: string;
  status: string;
  createdAt: Date;
  engineVersion: string;
  snapshotType: SnapshotType;
  /**
   * Set when this is no snapshot but a point in time of the source (`offsite run --at`): then
   * `createdAt` is the restore time and `id` names it. `latest`: RDS's latest restorable time was
   * asked for, and `createdAt` is that time as read just before the restore call.
   */
  pointInTime?: { latest: boolean };
}

/** An RDS DB instance, as much of it as offsite needs. */
export interface InstanceInfo {
  id: string;
  arn: string;
  status: string;
  endpoint: { address: string; port: number } | undefined;
  masterUsername: string;
  engineVersion: string;
  tags: Record<string, string>;
}

/** The parameters of a private temporary restore. */
export interface RestoreRequest {
  instanceId: string;
  snapshotId: string;
  instanceClass: string | undefined;
  subnetGroup: string | undefined;
  securityGroupIds: string[];
  tags: Record<string, string>;
  /** network.publicAccess: true, spelled out in the pipeline; otherwise the instance is private. */
  publiclyAccessible?: boolean;
}

/** The parameters of a private temporary restore of the source as it was at a point in time. */
export interface PointInTimeRestoreRequest extends Omit<RestoreRequest, 'snapshotId'> {
  sourceInstanceId: string;
  restoreTime: Date | 'latest';
}

/** The times a source can be restored to (null when RDS keeps no automated backups of it). */
export interface RestoreWindow {
  earliest: Date | null;
  latest: Date | null;
}

/** A DB subnet group, as much of it as offsite needs. */
export interface SubnetGroupInfo {
  name: string;
  vpcId: string;
  status: string;
}

/** The subset of RDS that offsite uses. */
export interface RdsPort {
  /** The source's snapshots of these types (every status). */
  listSnapshots(
    sourceInstanceId: string,
    types: readonly SnapshotType[],
    signal?: AbortSignal,
  ): Promise<SnapshotInfo[]>;
  restoreFromSnapshot(req: RestoreRequest, signal?: AbortSignal): Promise<void>;
  restoreToPointInTime(req: PointInTimeRestoreRequest, signal?: AbortSignal): Promise<void>;
  /** Earliest (oldest automated backup's) and latest restorable time of a source instance. */
  restoreWindow(sourceInstanceId: string, signal?: AbortSignal): Promise<RestoreWindow>;
  /** Every DB instance of the account and region, with its tags (to find leftovers by tag). */
  listInstances(signal?: AbortSignal): Promise<InstanceInfo[]>;
  /** null when the instance does not exist (any more). */
  describeInstance(instanceId: string, signal?: AbortSignal): Promise<InstanceInfo | null>;
  setMasterPassword(instanceId: string, password: string, signal?: AbortSignal): Promise<void>;
  /** null when no DB subnet group has this name (offsite doctor checks the temporary instance's). */
  describeSubnetGroup(name: string, signal?: AbortSignal): Promise<SubnetGroupInfo | null>;
  /**
   * Deletes without a final snapshot and without keeping automated backups. `busy`: RDS refused
   * because of a transitional state (try again shortly).
   */
  deleteInstance(instanceId: string, signal?: AbortSignal): Promise<'started' | 'not-found' | 'busy'>;
}

/** Metadata of a stored object. */
export interface StoredObject {
  key: string;
  size: number;
  /** When it was written, as a listing reports it (prune leaves young packs alone); absent from head. */
  lastModified?: Date;
}

/** Bytes [offset, offset + length) of an object. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** How one object is written. */
export interface PutOptions {
  /**
   * Write it without Object Lock retention even on a store configured with it: for objects
   * offsite deletes again soon (run locks), which a retention would keep for its whole term.
   */
  noRetention?: boolean;
}

/**
 * How an encrypted store seals and names chunk frames (src/store/store-crypto.ts). The chunk
 * codec uses it; a plaintext store has none.
 */
export interface ChunkSealing {
  /** A chunk's id: a keyed hash of its plaintext (32 bytes). */
  chunkId(plain: Uint8Array): Buffer;
  /** Seals a chunk's zstd frame, bound to the chunk's id. */
  sealFrame(frame: Buffer, id: Buffer): Buffer;
  /** The zstd frame of a sealed chunk frame; STORE_CORRUPT naming `where` when it does not authenticate. */
  openFrame(sealed: Buffer, id: string, where: string): Buffer;
}

/** An object store (S3/B2 or a directory): keys are '/'-separated. */
export interface ObjectStore {
  /** Where it is, for people (bucket URL or directory). */
  readonly location: string;
  /** Where a key or key prefix is, for people: `s3://bucket/prefix/pipeline/ at <endpoint>`, or a path. */
  urlOf(key: string): string;
  /** The "folders" right under a key prefix ending in '/' (their names, without the prefix or a '/'). */
  listFolders(prefix: string, signal?: AbortSignal): Promise<string[]>;
  put(
    key: string,
    body: Buffer | (() => Readable),
    size: number,
    signal?: AbortSignal,
    opts?: PutOptions,
  ): Promise<void>;
  head(key: string, signal?: AbortSignal): Promise<StoredObject | null>;
  /** The object, or `range` bytes of it (a pack's chunks are read by range). */
  get(key: string, signal?: AbortSignal, range?: ByteRange): Promise<Readable>;
  list(prefix: string, signal?: AbortSignal): Promise<StoredObject[]>;
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /**
   * Object Lock: keeps an existing object locked until at least `until` (never shortens). Present
   * only on a store configured with Object Lock.
   */
  extendRetention?(key: string, until: Date, signal?: AbortSignal): Promise<'extended' | 'already'>;
  /**
   * Present on an encrypted store (src/store/sealed-object-store.ts): chunk frames are sealed and
   * chunks named with it. A wrapper of a store must pass it on.
   */
  readonly sealing?: ChunkSealing;
  /**
   * Object Lock: the time until which an object may not be deleted, or null when it is not locked
   * (any more). Present only on a store configured with Object Lock.
   */
  lockedUntil?(key: string, signal?: AbortSignal): Promise<Date | null>;
}

/** Where and how to reach a Postgres database; the password travels separately, never in argv. */
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The SQL the pipeline runs, row by row as plain objects. */
export interface SqlSession {
  query<Row extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/** A database connection factory (pg in production and tests). */
export type Connect = (target: PgTarget) => Promise<SqlSession>;

/** pg_dump/pg_restore of one major version, found on this machine. */
export interface PgTools {
  /** The directory both binaries come from. */
  binDir: string;
  majorVersion: number;
  pgDumpVersion: string;
  pgRestoreVersion: string;
  dump(opts: PgDumpOptions): Promise<void>;
  restore(opts: PgRestoreOptions): Promise<void>;
  /** The TABLE DATA entries of a directory-format dump (read from its toc.dat). */
  listTableData(dumpDir: string): Promise<TableDataEntry[]>;
  /**
   * Replaces a table's data file by the output of `copySql` (the same rows in another order),
   * failing unless the new file holds exactly the same multiset of rows.
   */
  rewriteTableData(opts: RewriteTableDataOptions): Promise<void>;
}

/** One table's data in a directory-format dump. */
export interface TableDataEntry {
  /** The table, schema-qualified and quoted as pg_dump wrote it in its COPY statement. */
  table: string;
  /** pg_dump's column list for the table ('' for none). */
  columns: string;
  /** The data file's path. */
  file: string;
  /** The schema and table names as they are (unquoted), from the dump's table of contents. */
  schema: string;
  name: string;
  /** The dump id of the TABLE DATA entry. */
  dumpId: number;
  /** Why the data cannot be re-ordered, when it cannot (it keeps pg_dump's order). */
  unorderable?: string;
}

/** Arguments of rewriteTableData. */
export interface RewriteTableDataOptions {
  target: PgTarget;
  file: string;
  /** `COPY (SELECT …) TO STDOUT` yielding the table's rows as pg_dump wrote them. */
  copySql: string;
  /** The database's encoding, which pg_dump also used for its data files. */
  clientEncoding: string;
  signal?: AbortSignal;
}

/** Arguments of a directory-format dump. */
export interface PgDumpOptions {
  target: PgTarget;
  outDir: string;
  jobs: number;
  excludeTableData: string[];
  signal?: AbortSignal;
}

/** Arguments of a parallel restore into a scratch database. */
export interface PgRestoreOptions {
  target: PgTarget;
  dumpDir: string;
  jobs: number;
  /**
   * Restore owners and privileges (the roles must exist; needs a superuser). Without it, as
   * `--no-owner --no-privileges`: everything belongs to the connecting user.
   */
  ownership?: boolean;
  /** A pg_restore -L list: restore only these entries, in its order (offsite restore --table). */
  listFile?: string;
  signal?: AbortSignal;
}

/** A scratch Postgres server for a restore test: its admin connection, version and what it can restore. */
export interface ScratchServer {
  /** A superuser on a server offsite started; the URL's user for kind url. */
  admin: PgTarget;
  serverVersion: string;
  majorVersion: number;
  /** Which server ran the test, for the report: e.g. "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) from /usr/lib/postgresql/15/bin (lz4, icu)". */
  description: string;
  /** Extensions this server can create (pg_available_extensions). */
  availableExtensions: Set<string>;
  /** Whether the server can store lz4-compressed values (probe: SET default_toast_compression = lz4). */
  lz4: boolean;
  /** Stops and removes a server offsite started; no-op for kind url. */
  dispose(): Promise<void>;
}

/** What opening a scratch server needs to know besides its config. */
export interface OpenScratchOptions {
  /** The source's major version: the server's binaries are chosen to be at least it. */
  sourceMajor: number;
  /** Aborts starting the server (what was started is removed). */
  signal?: AbortSignal;
}
