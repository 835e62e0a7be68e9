import { z } from 'zod';

/** One dump file in the store. */
export const manifestFileSchema = z.object({
  name: z.string(),
  key: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** A backup's manifest: written last, only after the restore test passed. */
export const manifestSchema = z.object({
  formatVersion: z.literal(1),
  pipeline: z.string(),
  backupId: z.string(),
  runId: z.string(),
  createdAt: z.string(),
  snapshot: z.object({
    id: z.string(),
    instanceId: z.string(),
    createdAt: z.string(),
    engineVersion: z.string(),
  }),
  versions: z.object({ server: z.string(), pgDump: z.string(), pgRestore: z.string() }),
  restoreTest: z.object({
    status: z.literal('passed'),
    checks: z.array(z.object({ name: z.string(), status: z.string() })),
    durationMs: z.number().int(),
  }),
  files: z.array(manifestFileSchema),
  report: z.object({ key: z.string() }),
});

/** A parsed manifest (see manifestSchema). */
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;
