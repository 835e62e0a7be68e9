// offsite export: one backup copied into another store (a dir store on a disk rotated monthly)
// under the same keys, bytes as stored. Packs and records first, each proven by its hash as it
// is copied, the manifest last: a partial export is never a visible backup.
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { packKey } from '../store/layout.ts';
import type { Manifest } from '../store/manifest.ts';
import { packIsIntact } from '../store/pack.ts';
import { readObject, readSizedObject } from '../store/read-object.ts';

/** What an export copied and what was already there. */
export interface ExportResult {
  copied: number;
  skipped: number;
  /** Bytes copied (as stored: compressed packs, records, the manifest). */
  bytes: number;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Copies a backup from `from` to `to`: its packs (each checked against its sha256 name),
 * restore-test.json and source-facts.json (checked against the manifest's hashes), the run
 * report when it is still there, then the manifest. Whatever `to` already holds at the right
 * size is skipped, so a rerun after an interruption copies only the rest.
 */
export async function exportBackup(
  from: ObjectStore,
  to: ObjectStore,
  backup: { manifestKey: string; manifest: Manifest },
  opts: { concurrency: number; signal?: AbortSignal; onPack?: (done: number, of: number) => void },
): Promise<ExportResult> {
  const { manifest } = backup;
  const { signal } = opts;
  const result: ExportResult = { copied: 0, skipped: 0, bytes: 0 };
  const present = async (key: string, size: number) => (await to.head(key, signal))?.size === size;
  const put = async (key: string, body: Buffer) => {
    await to.put(key, body, body.length, signal);
    result.copied++;
    result.bytes += body.length;
  };

  const limit = pLimit(Math.max(1, opts.concurrency));
  let done = 0;
  await Promise.all(
    manifest.packs.map((p) =>
      limit(async () => {
        const key = packKey(manifest.chunking.packsPrefix, p.id);
        if (await present(key, p.size)) result.skipped++;
        else {
          const bytes = await readSizedObject(from, key, p.size, signal);
          if (!packIsIntact(bytes, p.id))
            throw new OffsiteError(
              'STORE_CORRUPT',
              `pack ${p.id} (${from.urlOf(key)}): its bytes do not hash to its name`,
              {
                hint: 'nothing of this backup was made visible at the destination; export another backup, and run offsite check',
              },
            );
          await put(key, bytes);
        }
        opts.onPack?.(++done, manifest.packs.length);
      }),
    ),
  );

  const records = [
    ...('key' in manifest.restoreTest ? [manifest.restoreTest] : []),
    ...(manifest.sourceFacts ? [manifest.sourceFacts] : []),
  ];
  for (const ref of records) {
    const bytes = await readObject(from, ref.key, signal);
    if (sha256(bytes) !== ref.sha256)
      throw new OffsiteError(
        'STORE_CORRUPT',
        `${from.urlOf(ref.key)}: sha256 ${sha256(bytes)}, the manifest says ${ref.sha256}`,
      );
    if (await present(ref.key, bytes.length)) result.skipped++;
    else await put(ref.key, bytes);
  }

  // The run report is for people (list's reason and new bytes); a pruned one is no reason to fail.
  const report = manifest.report && (await from.head(manifest.report.key, signal));
  if (report) {
    if (await present(report.key, report.size)) result.skipped++;
    else await put(report.key, await readObject(from, report.key, signal));
  }

  const stored = await readObject(from, backup.manifestKey, signal);
  if (await present(backup.manifestKey, stored.length)) result.skipped++;
  else await put(backup.manifestKey, stored);
  return result;
}
