import { z } from 'zod';

// The RunReport is a contract read by scripts outside the project: add fields, never rename.
export const stageNames = [
  'locate',
  'restore',
  'source-facts',
  'dump',
  'teardown',
  'restore-test',
  'anomalies',
  'upload',
  'report',
] as const;
export type StageName = (typeof stageNames)[number];

const stageReport = z.object({
  name: z.enum(stageNames),
  status: z.enum(['succeeded', 'failed', 'skipped', 'not-run']),
  durationMs: z.number().int().nonnegative(),
  startedAt: z.string().nullable(),
  message: z.string().nullable(),
});

const errorReport = z.object({
  stage: z.string(),
  code: z.string(),
  message: z.string(),
  /** What to do about it, when offsite knows (e.g. the command that deletes a leftover instance). */
  hint: z.string().optional(),
});

const checkReport = z.object({
  name: z.string(),
  status: z.enum(['passed', 'failed', 'warned', 'skipped']),
  summary: z.string(),
  durationMs: z.number().int().nonnegative(),
  details: z.array(z.record(z.string(), z.unknown())).default([]),
});

/** A temporary instance of an earlier run that was still there, and what was done about it. */
export const reapedInstance = z.object({
  id: z.string(),
  /** The run that created it (its offsite:run-id tag). */
  runId: z.string(),
  /** run-over: no live lock holds its run; expired: its offsite:expires-at has passed. */
  reason: z.enum(['run-over', 'expired']),
  /** deleting: deletion started; would-delete: --dry-run; gone: it disappeared meanwhile; failed: see error. */
  result: z.enum(['deleting', 'would-delete', 'gone', 'failed']),
  error: z.string().optional(),
});

/** One alert sent (or not) after a run: a webhook, an email, a heartbeat ping. */
const notificationReport = z.object({
  kind: z.enum(['webhook', 'email', 'heartbeat']),
  /** Where it went, without secrets: scheme and host of a URL, SMTP host and recipients. */
  target: z.string(),
  status: z.enum(['sent', 'failed']),
  /** 0: never tried (its URL's environment variable was not set). */
  attempts: z.number().int().nonnegative(),
  /** Why the last attempt failed. */
  error: z.string().optional(),
});

/** A table whose exact row count differs from the previous verified backup's (null: not there). */
const tableChange = z.object({
  table: z.string(),
  previous: z.number().int().nullable(),
  current: z.number().int().nullable(),
});

/** Request counts by B2's transaction classes. */
const requestCounts = z.object({
  classA: z.number().int().nonnegative(),
  classB: z.number().int().nonnegative(),
  classC: z.number().int().nonnegative(),
});

/** What the run cost and what the store costs a month, in US dollars (src/report/cost.ts). */
const costReport = z.object({
  currency: z.literal('USD'),
  /** This run's own cost: the temporary instance and the store requests (unpriced parts count 0). */
  run: z.number().nonnegative(),
  instance: z
    .object({
      /** null: the snapshot's class, which offsite does not know (set source.tempInstance.instanceClass). */
      class: z.string().nullable(),
      hours: z.number().nonnegative(),
      /** With RDS's 10-minute minimum. */
      billedHours: z.number().nonnegative(),
      pricePerHour: z.number().nullable(),
      /** pipeline: costs.instanceHourly; default: the built-in list; null: no price for the class. */
      priceFrom: z.enum(['pipeline', 'default']).nullable(),
      cost: z.number().nullable(),
    })
    .nullable(),
  /** Store requests of the run (the stored copy misses its own upload: class A, free on B2); cost null on a directory store. */
  requests: requestCounts.extend({ cost: z.number().nullable() }).nullable(),
  storage: z.object({
    /** The store's total after the run (null: unknown, nothing was published). */
    storedBytes: z.number().int().nullable(),
    uploadedBytes: z.number().int().nonnegative(),
    /** null: a directory store, no provider price. */
    pricePerGbMonth: z.number().nullable(),
    monthly: z.number().nullable(),
    /** What this run's upload adds to the monthly cost. */
    addedMonthly: z.number().nullable(),
    /** The store at the oldest run of the last 30 days, at today's price: the trend. */
    earlier: z.object({ date: z.string(), storedBytes: z.number().int(), monthly: z.number() }).nullable(),
  }),
});

/** The versioned, machine-readable outcome of one run. */
export const runReportSchema = z.object({
  schemaVersion: z.literal(1),
  pipeline: z.string(),
  runId: z.string(),
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  reason: z.string().nullable(),
  requestedDate: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number().int().nonnegative(),
  snapshot: z
    .object({
      id: z.string(),
      createdAt: z.string(),
      engineVersion: z.string(),
      /**
       * A point-in-time backup (`--at`): the time restored to, and whether it was RDS's latest
       * (`--at now`: then it is the latest restorable time read just before the restore call;
       * RDS reports the exact time it used nowhere, and may restore a little later than this).
       */
      pointInTime: z.object({ restoreTime: z.string(), latest: z.boolean() }).optional(),
    })
    .nullable(),
  stages: z.array(stageReport),
  tempInstance: z
    .object({
      id: z.string(),
      deleted: z.boolean(),
      lifetimeMs: z.number().int().nonnegative(),
      createdAt: z.string(),
      deletedAt: z.string().nullable(),
    })
    .nullable(),
  source: z
    .object({
      serverVersion: z.string(),
      extensions: z.array(z.object({ name: z.string(), version: z.string() })),
      tables: z.number().int(),
      rows: z.number().int(),
    })
    .nullable(),
  checks: z.array(checkReport),
  restoreTest: z
    .object({
      durationMs: z.number().int().nonnegative(),
      scratchServerVersion: z.string(),
      /** Which server ran the test: version, binaries or address, lz4 and ICU (absent in older reports). */
      scratchServer: z.string().optional(),
    })
    .nullable(),
  dump: z.object({ bytes: z.number().int(), files: z.number().int() }).nullable(),
  /** Day-over-day findings against the previous verified backup (warned or failed). */
  anomalies: z.array(checkReport),
  /**
   * What changed since the previous verified backup, finding or not (null: nothing to compare
   * with; absent in older reports).
   */
  changes: z
    .object({
      /** The run whose backup this one was compared with. */
      previousRunId: z.string(),
      /** Every table whose row count differs (or that is new or gone), the biggest change first. */
      tables: z.array(tableChange),
      /** Tables with the same row count in both. */
      unchanged: z.number().int().nonnegative(),
      dumpBytes: z.object({ previous: z.number().int().nullable(), current: z.number().int().nullable() }),
    })
    .nullable()
    .optional(),
  backup: z
    .object({
      id: z.string(),
      published: z.boolean(),
      bytesRead: z.number().int(),
      bytesUploaded: z.number().int(),
      files: z.number().int(),
      location: z.string(),
      manifestKey: z.string(),
      chunksNew: z.number().int().optional(),
      chunksReused: z.number().int().optional(),
      /** Pack objects this run uploaded (chunks travel in packs of store.chunking.packSize). */
      packsUploaded: z.number().int().optional(),
      /** bytesRead / new plaintext bytes stored. */
      dedupRatio: z.number().optional(),
      /** new plaintext bytes / their compressed size. */
      compressionRatio: z.number().optional(),
    })
    .nullable(),
  store: z.object({ totalBytes: z.number().int() }).nullable(),
  /** What the run cost and what the store costs a month (absent in older reports). */
  cost: costReport.optional(),
  /** Leftover temporary instances of earlier runs this run deleted before it began (absent in older reports). */
  reaped: z.array(reapedInstance).optional(),
  /**
   * retention.pruneAfterRun: the prune after the backup was published (absent when it did not
   * run). A failed prune never un-publishes the backup nor changes the run's status or exit code.
   */
  prune: z
    .object({
      status: z.enum(['succeeded', 'failed']),
      /** Backups kept, moved to the trash, deleted from it; packs deleted and repacked; bytes freed. */
      kept: z.number().int(),
      deleted: z.array(z.string()),
      trashPurged: z.array(z.string()),
      packsDeleted: z.number().int(),
      packsRepacked: z.number().int(),
      packsSkippedLocked: z.number().int(),
      bytesFreed: z.number().int(),
      error: errorReport.nullable(),
    })
    .optional(),
  /**
   * What this backup does not hold, or holds in another form (absent from reports written
   * before offsite recorded it).
   */
  coverage: z
    .object({
      /** Empty in every snapshot restore (crash recovery truncates them); estimate from pg_class. */
      unloggedTables: z.array(z.object({ table: z.string(), estimatedRows: z.number().nullable() })),
      /** Recomputed by REFRESH on restore, not copied. */
      materializedViews: z.array(z.object({ view: z.string(), populated: z.boolean() })),
      /** In the backup and checked (checksums); bytes null when they could not be read. */
      largeObjects: z.object({ count: z.number().int(), bytes: z.number().nullable() }),
      /** Cluster-level things outside one database's backup. */
      outOfScope: z.array(z.string()),
      /** Tables whose data kept pg_dump's physical order (dedups worse), with why. */
      rowOrderFallbacks: z.array(z.object({ table: z.string(), reason: z.string() })),
    })
    .nullable()
    .optional(),
  resources: z.object({ peakRssBytes: z.number().int() }),
  versions: z.object({
    server: z.string().nullable(),
    pgDump: z.string().nullable(),
    pgRestore: z.string().nullable(),
    scratchServer: z.string().nullable(),
    offsite: z.string(),
    extensions: z.array(z.object({ name: z.string(), version: z.string() })),
  }),
  reports: z.object({
    json: z.string(),
    markdown: z.string(),
    html: z.string().optional(),
    /**
     * The copies in the store, as the store names them (`store.urlOf`): null when that copy is
     * not there (storing it failed: the report stage says why). Absent when the run's report
     * stays on this machine only (see reportGoesToStore), and in older reports.
     */
    stored: z.object({ json: z.string().nullable(), html: z.string().nullable() }).optional(),
  }),
  /** The alerts of `notify:` (absent when none are configured, and in older reports). */
  notifications: z.array(notificationReport).optional(),
  error: errorReport.nullable(),
  errors: z.array(errorReport),
  /** What a reviewer must know about how the run was made (a public temporary instance). */
  warnings: z.array(z.string()).optional(),
});

/** The outcome of one run (see runReportSchema). */
export type RunReport = z.infer<typeof runReportSchema>;
export type StageReport = z.infer<typeof stageReport>;
export type CheckReport = z.infer<typeof checkReport>;
export type ReapedInstance = z.infer<typeof reapedInstance>;
export type NotificationReport = z.infer<typeof notificationReport>;

/**
 * One line per top-level field, for docs/run-report.md (generated by scripts/report-docs.ts from
 * the schema above; a test fails when the document is stale). Typed by the schema: a field added
 * there without a line here does not compile.
 */
export const RUN_REPORT_FIELDS: Record<keyof RunReport, string> = {
  schemaVersion: 'Version of this format (1). Fields are only ever added within a version.',
  pipeline: 'The pipeline name (pipelines/<name>.yaml).',
  runId: 'This run: a sortable, RDS-identifier-safe id (20261125t031500z-a1b2c3).',
  status: 'succeeded (a verified backup was published), failed, or cancelled (interrupted).',
  reason: 'Why the run was started (--reason), or null.',
  requestedDate: 'The snapshot date asked for with --date (YYYY-MM-DD), or null for the newest.',
  startedAt: 'When the run started (ISO 8601, UTC).',
  finishedAt: 'When the run finished (ISO 8601, UTC).',
  durationMs: 'Wall time of the whole run.',
  snapshot:
    'The RDS snapshot backed up (null when none was found); with --at, the point in time restored to (snapshot.pointInTime).',
  stages: 'Every stage in order, with its status (succeeded, failed, skipped, not-run) and duration.',
  tempInstance: 'The temporary instance: its id, whether it was deleted, and how long it lived.',
  source: 'What the frozen source held: server version, extensions, tables and exact rows.',
  checks:
    'The restore-test checks (row-counts, checksums, schema, sequences, amcheck, freshness, sql:<name>), each passed, failed, warned or skipped, with details.',
  restoreTest:
    'The restore into the scratch server: its duration (the RTO of this backup) and which server ran it.',
  dump: 'The pg_dump directory: bytes and files.',
  anomalies:
    'Day-over-day findings against the previous verified backup (warned or failed), and the note saying what was compared.',
  changes:
    'What changed since the previous verified backup whether or not it is an anomaly: every table whose exact row count differs (previous, current; null when the table was not there), the biggest change first, how many stayed the same, and the dump size then and now. Null on the first backup.',
  backup:
    'What was published (null when nothing was): backup id, bytes read and uploaded, chunks, packs, dedup and compression ratios, its manifest key.',
  store: "The store's total size under the pipeline's prefix after this run.",
  cost: "What the run cost in US dollars at the prices of the pipeline's `costs:` (defaults: RDS's and B2's published prices): the temporary instance's hours by class (with RDS's 10-minute minimum), the store requests by B2 class, and the store's bytes and monthly cost, now and 30 days before (the trend). An estimate: taxes, free tiers and allowances are left out.",
  reaped: 'Temporary instances of earlier, killed runs that this run deleted before it started.',
  prune:
    "With retention.pruneAfterRun: the prune after publishing (status, backups kept, moved to the trash and purged from it, packs deleted, repacked and left under Object Lock, bytes freed, the error of a failed one). A failed prune leaves the run's status and exit code as they were: the backup is published.",
  coverage:
    'What this backup does not hold, or holds in another form: unlogged tables, materialized views, large objects, out-of-scope cluster objects, tables kept in pg_dump order.',
  resources: 'Peak resident memory of the offsite process.',
  versions:
    'Versions of the source server, pg_dump, pg_restore, the scratch server, offsite and the extensions.',
  reports:
    'Where this run wrote its JSON, Markdown and HTML reports on this machine, and where its JSON and HTML are in the store (reports.stored, the store\'s URLs; null for a copy that could not be stored). The Markdown\'s "Full report" links the stored HTML.',
  notifications:
    'The alerts of `notify:` (webhooks, email, heartbeat pings): where each went (without secrets), sent or failed, after how many attempts. Recorded in the local JSON report and --json output; the copy in the store is written before they are sent.',
  error: "The run's first error (stage, code, message, hint), or null.",
  errors: 'Every error of the run, the first one first: a teardown failure never hides the original error.',
  warnings:
    'What a reviewer must know about how the run was made: a temporary instance made publicly accessible (network.publicAccess). Absent or empty when nothing.',
};
