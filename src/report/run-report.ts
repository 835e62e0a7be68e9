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
  snapshot: z.object({ id: z.string(), createdAt: z.string(), engineVersion: z.string() }).nullable(),
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
    .object({ durationMs: z.number().int().nonnegative(), scratchServerVersion: z.string() })
    .nullable(),
  dump: z.object({ bytes: z.number().int(), files: z.number().int() }).nullable(),
  /** Day-over-day findings against the previous verified backup (warned or failed). */
  anomalies: z.array(checkReport),
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
  reports: z.object({ json: z.string(), markdown: z.string(), html: z.string().optional() }),
  error: errorReport.nullable(),
  errors: z.array(errorReport),
});

/** The outcome of one run (see runReportSchema). */
export type RunReport = z.infer<typeof runReportSchema>;
export type StageReport = z.infer<typeof stageReport>;
export type CheckReport = z.infer<typeof checkReport>;
