import type { PipelineConfig, ScratchConfig } from '../config/schema.ts';
import type { NotifyTransport } from '../notify/transport.ts';
import type { CheckReport, ReapedInstance, RunReport } from '../report/run-report.ts';
import type { BackupCoverage } from '../verify/coverage.ts';
import type { SourceVerifyFacts } from '../verify/source-verify-facts.ts';
import type {
  Connect,
  ObjectStore,
  OpenScratchOptions,
  PgTarget,
  PgTools,
  RdsPort,
  ScratchServer,
  SnapshotInfo,
} from './ports.ts';
import type { Progress } from './progress.ts';
import type { Releaser, TeardownStack } from './teardown-stack.ts';

/** Structured logging, the subset of pino the pipeline uses. */
export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  /** A logger whose every line carries `bindings` too (pino's child); absent on test fakes. */
  child?(bindings: Record<string, unknown>, options?: { level?: string }): Log;
}

/** Everything outside the process, injected so stages run against AWS, emulators or fakes alike. */
export interface Deps {
  rds: RdsPort;
  store: ObjectStore;
  connect: Connect;
  /** pg_dump/pg_restore of at least this major version, or PG_TOOLS_MISMATCH. */
  findPgTools(minMajor: number, pgBinDir: string | undefined): Promise<PgTools>;
  /**
   * The major version the scratch server for a source of `sourceMajor` will have, known before
   * anything is restored (null: unknown), or SCRATCH_UNSUITABLE when no server binaries fit.
   */
  scratchMajorVersion(config: ScratchConfig, sourceMajor: number): Promise<number | null>;
  /** Starts (kind embedded) or connects to (kind url) the scratch server of a restore test. */
  openScratchServer(config: ScratchConfig, opts: OpenScratchOptions): Promise<ScratchServer>;
  now(): Date;
  /** A fresh random master password for the temporary instance. */
  newPassword(): string;
  /** Sleeps, waking early (with an AbortError) when the signal fires. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Webhooks, email and heartbeat pings of `notify:`; absent: none are sent. */
  notify?: NotifyTransport;
}

/** Facts recorded on the frozen temporary instance, against which the restored copy is checked. */
export interface SourceFacts {
  serverVersion: string;
  serverVersionNum: number;
  extensions: { name: string; version: string }[];
  /** Whether any column stores lz4-compressed values (a scratch server without lz4 cannot restore them). */
  usesLz4: boolean;
  rowCounts: Map<string, number>;
  /** The source side of the restore-test checks (checksums, schema, sequences, …). */
  verify?: SourceVerifyFacts;
  /** What a backup of this database cannot hold (unlogged rows, matviews' rows, …). */
  coverage?: BackupCoverage;
}

/** The temporary instance this run created. */
export interface TempInstance {
  id: string;
  createdAt: Date;
  deletedAt: Date | null;
  target: PgTarget | null;
  releaser: Releaser;
}

/** What the upload stage published. */
export interface PublishedBackup {
  id: string;
  published: boolean;
  bytesRead: number;
  bytesUploaded: number;
  files: number;
  manifestKey: string;
  chunksNew?: number;
  chunksReused?: number;
  packsUploaded?: number;
  dedupRatio?: number;
  compressionRatio?: number;
}

/** A table whose data file kept pg_dump's row order, and why (it costs dedup, not the backup). */
export interface KeyOrderFallback {
  /** The table, schema-qualified as pg_dump wrote it. */
  table: string;
  reason: string;
}

/** How the dump's table data files were re-ordered (docs/design.md "Row order decides dedup"). */
export interface DumpOrderSummary {
  /** TABLE DATA entries in the dump. */
  tables: number;
  /** Files rewritten in primary-key order, and in whole-row order (tables without a key). */
  byKey: number;
  byRowText: number;
  /** Files left in pg_dump's order: `fallbacks` says which and why. */
  unordered: number;
  fallbacks: KeyOrderFallback[];
}

/** Mutable state of one run, filled in stage by stage. */
export interface RunContext {
  config: PipelineConfig;
  runId: string;
  startedAt: Date;
  requestedDate: string | null;
  /** `--at`: a point in time of the source to back up instead of a snapshot ('now': the latest). */
  requestedPointInTime: Date | 'now' | null;
  reason: string | null;
  log: Log;
  signal: AbortSignal;
  deps: Deps;
  /** Where stages report how far they are (a live view, log lines); absent: nobody listens. */
  progress?: Progress;
  teardown: TeardownStack;
  workDir: string;
  reportPaths: { json: string; markdown: string; html?: string };
  snapshot?: SnapshotInfo;
  pgTools?: PgTools;
  instance?: TempInstance;
  facts?: SourceFacts;
  dump?: { dir: string; bytes: number; files: string[]; order?: DumpOrderSummary };
  /** scratchServer: which server ran the test (ScratchServer.description). */
  restoreTest?: { durationMs: number; scratchServerVersion: string; scratchServer: string };
  backup?: PublishedBackup;
  /** The store's total size after this run (when the store can tell). */
  storeStats?: { totalBytes: number };
  checks: CheckReport[];
  anomalies: CheckReport[];
  /** Leftover instances of earlier runs, reaped before this run began. */
  reaped?: ReapedInstance[];
  /** retention.pruneAfterRun: what the prune after publishing did. */
  prune?: RunReport['prune'];
}
