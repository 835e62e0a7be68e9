// A backup's manifest (format 3): the files of the dump and of the file sets, each as its chunks
// in order, and where each chunk is (a pack and a byte range in it). Stored zstd-compressed.
import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();

/**
 * A chunk reference: [sha256 of the plaintext, plaintext size, pack (index into `packs`), offset
 * of its zstd frame in the pack, frame length]. A file is its chunks in order.
 */
export const chunkRefSchema = z.tuple([sha256, count, count, count, count]);

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
export const manifestSchema = z
  .object({
    formatVersion: z.literal(3),
    pipeline: z.string(),
    backupId: z.string(),
    runId: z.string(),
    createdAt: z.string(),
    snapshot: z.object({
      id: z.string(),
      instanceId: z.string(),
      createdAt: z.string(),
      engineVersion: z.string(),
      /** A point-in-time backup (`offsite run --at`): createdAt is its restore time. */
      pointInTime: z
        .object({ restoreTime: z.string(), latest: z.boolean(), reason: z.string().nullable() })
        .optional(),
    }),
    versions: z.object({
      server: z.string(),
      pgDump: z.string(),
      pgRestore: z.string(),
      offsite: z.string(),
    }),
    /**
     * The restore test's outcome: passed for every nightly backup; not-run for a safety dump
     * (`restore --safety-dump`: a copy of a restore's target, published without a test, whose
     * restore proves itself against its source facts like any other).
     */
    restoreTest: z.discriminatedUnion('status', [
      z.object({
        status: z.literal('passed'),
        checks: z.array(z.object({ name: z.string(), status: z.string() })),
        durationMs: z.number().int(),
        scratchServerVersion: z.string(),
        /** restore-test.json beside the manifest: the checks with their details. */
        key: z.string(),
        sha256,
      }),
      z.object({ status: z.literal('not-run'), reason: z.string() }),
    ]),
    /** Why the backup was made, when not a nightly run's (a safety dump: "before restore <id>"). */
    reason: z.string().optional(),
    /** A safety dump: the database it copied (postgres://user@host:port/db) and the backup restored over it. */
    safetyDump: z.object({ target: z.string(), before: z.string() }).optional(),
    /**
     * source-facts.json beside the manifest: the source's row counts and check inputs, so a restore
     * anywhere can run the restore test's checks. Absent in backups made before offsite wrote it.
     */
    sourceFacts: z.object({ key: z.string(), sha256 }).optional(),
    /** How chunks were cut, named and stored; a reader needs only the hash, the codec and the packs. */
    chunking: z.object({
      algorithm: z.literal('fastcdc'),
      minSize: z.number().int(),
      averageSize: z.number().int(),
      maxSize: z.number().int(),
      /** hmac-sha256: an encrypted store's keyed chunk ids (its frames are sealed: store-crypto.ts). */
      hash: z.enum(['sha256', 'hmac-sha256']),
      /** Each chunk is one zstd frame (with its checksum); frames are packed back to back. */
      compression: z.literal('zstd'),
      /** Target size of a pack. */
      packSize: z.number().int(),
      /** Pack keys are <packsPrefix><id[0:2]>/<id>, id = sha256 of the pack's bytes. */
      packsPrefix: z.string(),
    }),
    dump: z.object({ files: z.array(manifestFileSchema) }),
    fileSets: z.array(fileSetSchema),
    /** The packs this backup reads from: chunk references name them by position. */
    packs: z.array(z.object({ id: sha256, size: count })),
    totals: z.object({
      /** Plaintext bytes of the backup (dump and file sets). */
      bytes: z.number().int(),
      /** Chunk references (a chunk used twice counts twice). */
      chunks: z.number().int(),
    }),
    /** The run's report (absent for a safety dump, which has no run). */
    report: z.object({ key: z.string() }).optional(),
  })
  .superRefine((m, ctx) => {
    // A reference to a pack the list lacks would only fail later, far from its cause.
    for (const ref of eachRefOf(m.dump.files, m.fileSets)) {
      if (ref[2] >= m.packs.length) {
        ctx.addIssue({
          code: 'custom',
          message: `chunk ${ref[0]} names pack ${ref[2]} of ${m.packs.length}`,
          path: ['packs'],
        });
        return;
      }
    }
  });

/** A parsed manifest (see manifestSchema). */
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof manifestFileSchema>;
export type ChunkRef = z.infer<typeof chunkRefSchema>;
export type FileSetEntry = z.infer<typeof fileSetEntrySchema>;
export type FileSetRecord = z.infer<typeof fileSetSchema>;

/** Every chunk reference of a manifest (dump files, then file sets), in order. */
export function eachRef(manifest: Manifest): Generator<ChunkRef> {
  return eachRefOf(manifest.dump.files, manifest.fileSets);
}

function* eachRefOf(files: ManifestFile[], fileSets: FileSetRecord[]): Generator<ChunkRef> {
  for (const f of files) yield* f.chunks;
  for (const set of fileSets) for (const e of set.entries) yield* e.chunks ?? [];
}
