// A pipeline's run history, read from the object store (not this machine's disk), so reports
// survive the machine that made them and any worker sees the same history.
import pLimit from 'p-limit';
import type { ObjectStore } from '../pipeline/ports.ts';
import { pipelinePrefix } from '../store/layout.ts';
import { BASELINE_NOTE } from './anomalies.ts';
import { type RunReport, runReportSchema } from './run-report.ts';

/** A stored report that could not be read or parsed (kept so a person hears of it). */
export interface UnreadableReport {
  key: string;
  error: string;
}

/** Runs of one pipeline, oldest first, and the stored reports that could not be read. */
export interface RunHistory {
  reports: RunReport[];
  unreadable: UnreadableReport[];
}

/**
 * Key of a run's HTML page in the store: <prefix>/<pipeline>/reports/html/<run-id>.html, in its
 * own folder so `reports/<run-id>` still names exactly one object, the JSON report.
 */
export function reportHtmlKey(prefix: string, pipeline: string, runId: string): string {
  return `${pipelinePrefix(prefix, pipeline)}/reports/html/${runId}.html`;
}

async function readText(store: ObjectStore, key: string, signal?: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key, signal)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads a pipeline's stored run reports, oldest first (run ids sort by start time). `limit`
 * keeps the newest N; reads run a few at a time so a long history does not flood the store.
 */
export async function readRunHistory(
  store: ObjectStore,
  prefix: string,
  pipeline: string,
  opts: { limit?: number; signal?: AbortSignal } = {},
): Promise<RunHistory> {
  const dir = `${pipelinePrefix(prefix, pipeline)}/reports/`;
  const keys = (await store.list(dir, opts.signal))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.json') && !k.slice(dir.length).includes('/'))
    .sort();
  const chosen = opts.limit === undefined ? keys : keys.slice(-opts.limit);
  const limit = pLimit(8);
  const unreadable: UnreadableReport[] = [];
  const read = await Promise.all(
    chosen.map((key) =>
      limit(async () => {
        try {
          const parsed = runReportSchema.safeParse(JSON.parse(await readText(store, key, opts.signal)));
          if (parsed.success) return parsed.data;
          unreadable.push({ key, error: `not a RunReport: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
        } catch (err) {
          unreadable.push({ key, error: (err as Error).message });
        }
        return null;
      }),
    ),
  );
  const reports = read
    .filter((r): r is RunReport => r !== null)
    .sort((a, b) => a.runId.localeCompare(b.runId));
  return { reports, unreadable };
}

/** One line of the history, as `offsite report` lists it. */
export interface RunSummary {
  runId: string;
  /** The snapshot's date (UTC), or the run's when no snapshot was found. */
  date: string;
  snapshotId: string | null;
  status: RunReport['status'];
  published: boolean;
  checks: { passed: number; failed: number; warned: number; skipped: number };
  anomalies: { warned: number; failed: number };
  dumpBytes: number | null;
  uploadedBytes: number | null;
  restoreMs: number | null;
  durationMs: number;
  error: string | null;
  /** When a drill last proved this run's backup restorable from the store (ISO), null when never. */
  lastDrill: string | null;
}

/**
 * The figures of one run that a history listing shows; `lastDrills` maps a backup id to when its
 * newest passed drill finished.
 */
export function summarizeRun(r: RunReport, lastDrills: ReadonlyMap<string, string> = new Map()): RunSummary {
  const count = (status: string) => r.checks.filter((c) => c.status === status).length;
  const findings = r.anomalies.filter((a) => a.name !== BASELINE_NOTE);
  return {
    runId: r.runId,
    date: (r.snapshot?.createdAt ?? r.startedAt).slice(0, 10),
    snapshotId: r.snapshot?.id ?? null,
    status: r.status,
    published: r.backup?.published ?? false,
    checks: {
      passed: count('passed'),
      failed: count('failed'),
      warned: count('warned'),
      skipped: count('skipped'),
    },
    anomalies: {
      warned: findings.filter((a) => a.status === 'warned').length,
      failed: findings.filter((a) => a.status === 'failed').length,
    },
    dumpBytes: r.dump?.bytes ?? null,
    uploadedBytes: r.backup?.bytesUploaded ?? null,
    restoreMs: r.restoreTest?.durationMs ?? null,
    durationMs: r.durationMs,
    error: r.error ? `${r.error.stage}: ${r.error.code}` : null,
    lastDrill: (r.backup?.published && lastDrills.get(r.backup.id)) || null,
  };
}
