// A restore drill's report: a backup fetched from the store, restored into a fresh scratch
// database and checked against its recorded source facts. Stored at drills/<drill-id>.json so
// that every backup can say when it was last proven restorable from the store alone.
import { z } from 'zod';
import type { ObjectStore } from '../pipeline/ports.ts';
import { drillsPrefix } from '../store/layout.ts';
import { readObject } from '../store/read-object.ts';

/** One drill, as stored. */
export const drillReportSchema = z.object({
  kind: z.literal('drill'),
  formatVersion: z.literal(1),
  pipeline: z.string(),
  drillId: z.string(),
  backupId: z.string(),
  snapshot: z.object({ id: z.string(), createdAt: z.string() }),
  /** Where the backup was read from, for people (a bucket URL or a directory). */
  store: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  status: z.enum(['passed', 'failed']),
  /** Fetch, reassemble, pg_restore and checks: the backup's recovery time from the store (RTO). */
  restoreMs: z.number().int().nonnegative(),
  /** Plaintext bytes reassembled (0 when the restore failed before). */
  bytes: z.number().int().nonnegative(),
  checks: z.array(z.object({ name: z.string(), status: z.string(), summary: z.string() })),
  /** The scratch server restored into (its description), null when none was opened. */
  scratchServer: z.string().nullable(),
  /** Why it failed: a restore failure (the pack named) or the checks that failed. */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  offsiteVersion: z.string(),
});

/** A drill report (see drillReportSchema). */
export type DrillReport = z.infer<typeof drillReportSchema>;

/** A new drill id: its start time (sortable) and a random tail, e.g. 2026-11-24T031502Z-7f3a. */
export function newDrillId(startedAt: Date, random: string): string {
  const iso = startedAt.toISOString();
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z-${random}`;
}

/**
 * A pipeline's drill reports, oldest first. An unreadable one is left out (and reported through
 * onUnreadable): a damaged drill record must not hide the backups.
 */
export async function readDrills(
  store: ObjectStore,
  prefix: string,
  pipeline: string,
  opts: { signal?: AbortSignal; onUnreadable?: (key: string, error: string) => void } = {},
): Promise<DrillReport[]> {
  const dir = drillsPrefix(prefix, pipeline);
  const keys = (await store.list(dir, opts.signal))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.json'))
    .sort();
  const out: DrillReport[] = [];
  for (const key of keys) {
    try {
      const parsed = drillReportSchema.safeParse(
        JSON.parse((await readObject(store, key, opts.signal)).toString('utf8')),
      );
      if (parsed.success) out.push(parsed.data);
      else opts.onUnreadable?.(key, parsed.error.issues[0]?.message ?? 'not a drill report');
    } catch (err) {
      opts.onUnreadable?.(key, (err as Error).message);
    }
  }
  return out;
}

/** The newest passed drill's finish time per backup id: "last proven restorable from the store". */
export function lastPassedDrills(drills: DrillReport[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of drills) {
    if (d.status !== 'passed') continue;
    const seen = out.get(d.backupId);
    if (!seen || seen < d.finishedAt) out.set(d.backupId, d.finishedAt);
  }
  return out;
}
