import { z } from 'zod';
import { envName } from './env-name.ts';

/** Where backups go: S3/B2, or a directory (a local or offline disk). */
export const storeSchema = z.discriminatedUnion('kind', [
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

/** File sets (e.g. media directories) chunked into the same store as the dump. */
export const filesSchema = z.array(
  z.strictObject({
    /** A name for the set, unique in the pipeline. */
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lowercase letters, digits and hyphens'),
    /** The directory to back up. */
    path: z.string().min(1),
    /** Glob patterns (relative to path) to leave out. */
    exclude: z.array(z.string().min(1)).default([]),
  }),
);
