import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** A chunk reference: [sha256 of the plaintext, plaintext size]; a file is its chunks in order. */
export const chunkRefSchema = z.tuple([sha256, z.number().int().nonnegative()]);

/** One file of the dump, reassembled by concatenating its chunks. */
export const manifestFileSchema = z.object({
  name: z.string(),
  size: z.number().int().nonnegative(),
  sha256,
  chunks: z.array(chunkRefSchema),
});

/** One entry of a file set: a directory, a regular file (as chunks) or a symlink. */
export const fileSetEntrySchema = z.object({
  /** '/'-separated path relative to the set's root; any character but NUL. */
  path: z.string(),
  type: z.enum(['dir', 'file', 'symlink']),
  /** Permission bits (e.g. 0o644 = 420). */
  mode: z.number().int().nonnegative(),
  /** Modification time in nanoseconds since the epoch, as a decimal string (exact). */
  mtimeNs: z.string().regex(/^-?\d+$/),
  uid: z.number().int(),
  gid: z.number().int(),
  size: z.number().int().nonnegative().optional(),
  sha256: sha256.optional(),
  chunks: z.array(chunkRefSchema).optional(),
  /** A symlink's target, as stored (not followed). */
  target: z.string().optional(),
});

/** A file set (a media directory and the like) as it was at backup time. */
export const fileSetSchema = z.object({
  name: z.string(),
  path: z.string(),
  exclude: z.array(z.string()),
  entries: z.array(fileSetEntrySchema),
});

/** A backup's manifest: written last, only after the restore test passed. */
export const manifestSchema = z.object({
  formatVersion: z.literal(2),
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
  versions: z.object({ server: z.string(), pgDump: z.string(), pgRestore: z.string(), offsite: z.string() }),
  restoreTest: z.object({
    status: z.literal('passed'),
    checks: z.array(z.object({ name: z.string(), status: z.string() })),
    durationMs: z.number().int(),
    scratchServerVersion: z.string(),
    /** restore-test.json beside the manifest: the checks with their details. */
    key: z.string(),
    sha256,
  }),
  /** How chunks were cut, named and stored; a reader needs only the hash and the codec. */
  chunking: z.object({
    algorithm: z.literal('fastcdc'),
    minSize: z.number().int(),
    averageSize: z.number().int(),
    maxSize: z.number().int(),
    hash: z.literal('sha256'),
    compression: z.literal('zstd'),
    /** Chunk keys are <prefix><hash[0:2]>/<hash>. */
    prefix: z.string(),
  }),
  dump: z.object({ files: z.array(manifestFileSchema) }),
  fileSets: z.array(fileSetSchema),
  totals: z.object({
    /** Plaintext bytes of the backup (dump and file sets). */
    bytes: z.number().int(),
    chunks: z.number().int(),
    uniqueChunks: z.number().int(),
  }),
  report: z.object({ key: z.string() }),
});

/** A parsed manifest (see manifestSchema). */
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;
export type ChunkRef = z.infer<typeof chunkRefSchema>;
export type FileSetEntry = z.infer<typeof fileSetEntrySchema>;
export type FileSetRecord = z.infer<typeof fileSetSchema>;

/** Every chunk hash a manifest references (dump and file sets), each once. */
export function chunksOf(manifest: Manifest): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of manifest.dump.files) for (const [h, n] of f.chunks) out.set(h, n);
  for (const set of manifest.fileSets)
    for (const e of set.entries) for (const [h, n] of e.chunks ?? []) out.set(h, n);
  return out;
}
