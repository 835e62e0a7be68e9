import { z } from 'zod';
import { envName } from './env-name.ts';
import { storePrefix } from './field-formats.ts';

const KiB = 1024;

/** How dumps and files are cut into chunks, compressed and checked (docs/store.md). */
const chunkingSchema = z.strictObject({
  /**
   * Average chunk size in bytes (a power of two; min = avg/4, max = avg×4). Smaller chunks
   * dedup scattered changes better and cost more objects and requests (see docs/store.md).
   */
  averageSize: z
    .int()
    .min(KiB)
    .max(64 * KiB * KiB)
    .refine((n) => Number.isInteger(Math.log2(n)), 'use a power of two (e.g. 65536)')
    .default(8 * KiB),
  /**
   * zstd level. On 8 KiB chunks of a dump, level 1 compressed as well as 3 (3.39 vs 3.37) in
   * 0.85× the time: the best ratio per second of zstd 1/3/9, gzip 6 and brotli 4 (`npm run bench`).
   */
  compressionLevel: z.int().min(1).max(19).default(1),
  /**
   * Compressed chunks are packed into objects of about this many bytes: one request per pack
   * instead of one per chunk. A run holds about three packs in memory (README "Packs").
   */
  packSize: z
    .int()
    .min(64 * KiB)
    .max(256 * KiB * KiB)
    .default(8 * KiB * KiB),
});

const commonStoreFields = {
  /** Key prefix inside the bucket or directory (no leading slash; a trailing one is dropped). */
  prefix: storePrefix.default('offsite'),
  chunking: chunkingSchema.default(() => chunkingSchema.parse({})),
  /** Chunks compressed in parallel, and reads in flight in check and restore. */
  concurrency: z.int().min(1).max(64).default(8),
  /** After an upload, the share (0-100 %) of the backup's packs read back and hash-checked; sizes are always checked. */
  verifyReadPercent: z.number().min(0).max(100).default(10),
  /** Local cache of where the store holds each chunk (rebuilt from the newest manifest when missing); default: `cache` beside workDir. */
  cacheDir: z.string().min(1).optional(),
};

/** S3 Object Lock (B2: on a bucket created with it): every object is written with retention. */
const objectLockSchema = z.strictObject({
  /** governance: privileged users may shorten it; compliance: nobody can, not even the account owner. */
  mode: z.enum(['governance', 'compliance']),
  /** Days each object is kept from the time it is written. */
  days: z.int().min(1).max(36_500),
});

/** Where backups go: S3/B2, or a directory (a local or offline disk). */
export const storeSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('s3'),
    /** S3-compatible endpoint, e.g. https://s3.us-west-004.backblazeb2.com. */
    endpoint: z.url().optional(),
    /** Region; for B2 it must match the endpoint's. */
    region: z.string().min(1),
    bucket: z.string().min(3),
    /** Environment variables holding the key id and secret (B2 application key). */
    accessKeyIdEnv: envName.default('B2_APPLICATION_KEY_ID'),
    secretAccessKeyEnv: envName.default('B2_APPLICATION_KEY'),
    /** Path-style URLs (local S3 servers). */
    forcePathStyle: z.boolean().default(false),
    /** Write every object with Object Lock retention (the bucket must have Object Lock enabled). */
    objectLock: objectLockSchema.optional(),
    ...commonStoreFields,
  }),
  z.strictObject({
    kind: z.literal('dir'),
    /** A local or offline disk. */
    path: z.string().min(1),
    ...commonStoreFields,
  }),
]);

/** File sets (e.g. media directories) chunked into the same store as the dump. */
export const filesSchema = z
  .array(
    z.strictObject({
      /** A name for the set, unique in the pipeline. */
      name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lowercase letters, digits and hyphens'),
      /** The directory to back up (symlinks in it are recorded, not followed). */
      path: z.string().min(1),
      /** Glob patterns to leave out: matched against the path relative to `path`, and (without a /) the name. */
      exclude: z.array(z.string().min(1)).default([]),
    }),
  )
  .refine((sets) => new Set(sets.map((s) => s.name)).size === sets.length, 'file set names must be unique');
