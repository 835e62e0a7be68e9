// Day-over-day anomalies: what changed since the previous verified backup that a person should
// look at before good backups rotate out (a table emptied, a schema that moved, a dump that
// ballooned as an encrypted database does). Pure: the stage feeds it reports and facts.
import type { AnomaliesConfig, AnomalyKind } from '../config/anomalies-schema.ts';
import { matchesTablePattern } from '../verify/sql-names.ts';
import { counted, formatBytes, formatChange, formatCount } from './format.ts';
import type { CheckReport, RunReport } from './run-report.ts';

/** What one backup looked like, as far as the comparison needs. */
export interface BackupFacts {
  /** Exact source row counts keyed "schema.table". */
  rowCounts: Map<string, number>;
  dumpBytes: number | null;
  /** The schema check's fingerprint, when that check ran; null: compare table sets only. */
  schemaFingerprint: string | null;
}

/** An anomaly without its duration (the stage adds it). */
export type Finding = Omit<CheckReport, 'durationMs'>;

/** The name of the note that says what was compared with (or why nothing was). */
export const BASELINE_NOTE = 'previous-backup';

/**
 * The source's schema fingerprint from the schema check: its `{kind: 'fingerprint', source}`
 * detail (src/verify/schema-compare.ts), or a detail with a `fingerprint` field.
 */
export function schemaFingerprintOf(checks: CheckReport[]): string | null {
  const schema = checks.find((c) => c.name === 'schema');
  if (!schema || schema.status === 'skipped') return null;
  const prints = schema.details
    .map((d) => (d.kind === 'fingerprint' ? d.source : d.fingerprint))
    .filter((f): f is string => typeof f === 'string');
  return prints.length > 0 ? prints.join(',') : null;
}

/** The facts of a stored report: row counts from its row-counts check (the `source` side). */
export function backupFactsOf(report: RunReport): BackupFacts {
  const rowCounts = new Map<string, number>();
  const check = report.checks.find((c) => c.name === 'row-counts');
  for (const d of check?.details ?? []) {
    if (typeof d.table === 'string' && typeof d.source === 'number') rowCounts.set(d.table, d.source);
  }
  return {
    rowCounts,
    dumpBytes: report.dump?.bytes ?? null,
    schemaFingerprint: schemaFingerprintOf(report.checks),
  };
}

/**
 * The previous verified backup: a succeeded run that published a backup of an earlier snapshot
 * than this one, the newest such (a rerun of an old date compares with the day before it).
 */
export function pickPreviousVerified(reports: RunReport[], snapshotCreatedAt: Date): RunReport | null {
  const before = snapshotCreatedAt.getTime();
  let best: RunReport | null = null;
  for (const r of reports) {
    if (r.status !== 'succeeded' || !r.backup?.published || !r.snapshot) continue;
    const at = Date.parse(r.snapshot.createdAt);
    if (!(at < before)) continue;
    const bestAt = best ? Date.parse(best.snapshot!.createdAt) : Number.NEGATIVE_INFINITY;
    if (at > bestAt || (at === bestAt && r.finishedAt > best!.finishedAt)) best = r;
  }
  return best;
}

function tableRef(key: string): { schema: string; name: string } {
  const dot = key.indexOf('.');
  return { schema: key.slice(0, dot), name: key.slice(dot + 1) };
}

function finding(
  kind: AnomalyKind,
  config: AnomaliesConfig,
  summary: string,
  details: Record<string, unknown>[],
): Finding {
  return { name: kind, status: config.fail.includes(kind) ? 'failed' : 'warned', summary, details };
}

function listed(items: string[], max = 3): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

function tableFindings(previous: BackupFacts, current: BackupFacts, config: AnomaliesConfig): Finding[] {
  const ignored = (t: string) => config.ignoreTables.some((p) => matchesTablePattern(tableRef(t), p));
  const missing: Record<string, unknown>[] = [];
  const emptied: Record<string, unknown>[] = [];
  const dropped: Record<string, unknown>[] = [];
  for (const [table, before] of previous.rowCounts) {
    if (ignored(table)) continue;
    const after = current.rowCounts.get(table);
    if (after === undefined) missing.push({ table, previous: before, current: null });
    else if (after === 0 && before > 0) emptied.push({ table, previous: before, current: 0 });
    else if (before >= config.minRowsForDrop && before > 0) {
      const dropPercent = ((before - after) / before) * 100;
      if (dropPercent > config.rowCountDropPercent) {
        dropped.push({
          table,
          previous: before,
          current: after,
          dropPercent: Number(dropPercent.toFixed(1)),
        });
      }
    }
  }
  const out: Finding[] = [];
  const rows = (d: Record<string, unknown>) =>
    `${d.table} (${formatCount(d.previous as number)} → ${formatCount(d.current as number | null)})`;
  if (missing.length > 0) {
    out.push(
      finding(
        'table-missing',
        config,
        `${counted(missing.length, 'table')} gone since the previous backup: ${listed(missing.map((d) => d.table as string))}`,
        missing,
      ),
    );
  }
  if (emptied.length > 0) {
    out.push(
      finding(
        'table-emptied',
        config,
        `${counted(emptied.length, 'table')} emptied since the previous backup: ${listed(emptied.map(rows))}`,
        emptied,
      ),
    );
  }
  if (dropped.length > 0) {
    out.push(
      finding(
        'row-count-drop',
        config,
        `${counted(dropped.length, 'table')} lost more than ${config.rowCountDropPercent} % of their rows: ${listed(dropped.map(rows))}`,
        dropped,
      ),
    );
  }
  return out;
}

function schemaFinding(previous: BackupFacts, current: BackupFacts, config: AnomaliesConfig): Finding[] {
  const added = [...current.rowCounts.keys()].filter((t) => !previous.rowCounts.has(t));
  const details: Record<string, unknown>[] = added.map((table) => ({ change: 'table added', table }));
  const fingerprintMoved =
    previous.schemaFingerprint !== null &&
    current.schemaFingerprint !== null &&
    previous.schemaFingerprint !== current.schemaFingerprint;
  if (fingerprintMoved) {
    details.push({
      change: 'schema fingerprint',
      previous: previous.schemaFingerprint,
      current: current.schemaFingerprint,
    });
  }
  // Removed tables are table-missing findings already; saying it twice would be noise.
  if (details.length === 0) return [];
  const parts = [
    added.length > 0 ? `${counted(added.length, 'table')} added (${listed(added)})` : null,
    fingerprintMoved ? 'the schema fingerprint changed' : null,
  ].filter(Boolean);
  return [finding('schema-changed', config, `schema changed: ${parts.join(', ')}`, details)];
}

function dumpSizeFinding(previous: BackupFacts, current: BackupFacts, config: AnomaliesConfig): Finding[] {
  const before = previous.dumpBytes;
  const after = current.dumpBytes;
  if (before === null || after === null || before === 0) return [];
  const changePercent = ((after - before) / before) * 100;
  const grew = changePercent > config.dumpGrowthPercent;
  const shrank = -changePercent > config.dumpShrinkPercent;
  if (!grew && !shrank) return [];
  return [
    finding(
      'dump-size-jump',
      config,
      `the dump ${grew ? 'grew' : 'shrank'} ${formatChange(before, after)} (${formatBytes(before)} → ${formatBytes(after)})`,
      [{ previous: before, current: after, changePercent: Number(changePercent.toFixed(1)) }],
    ),
  ];
}

/** Every anomaly between the previous verified backup and this one, warned or failed per config. */
export function findAnomalies(
  previous: BackupFacts,
  current: BackupFacts,
  config: AnomaliesConfig,
): Finding[] {
  return [
    ...tableFindings(previous, current, config),
    ...schemaFinding(previous, current, config),
    ...dumpSizeFinding(previous, current, config),
  ];
}

/** The note that heads the anomalies: which backup this run was compared with, or none. */
export function baselineNote(pipeline: string, previous: RunReport | null): Finding {
  if (!previous) {
    return {
      name: BASELINE_NOTE,
      status: 'skipped',
      summary: `no previous verified backup of ${pipeline}: nothing to compare with (first run)`,
      details: [],
    };
  }
  return {
    name: BASELINE_NOTE,
    status: 'passed',
    summary: `compared with the backup of snapshot ${previous.snapshot?.id} (run ${previous.runId})`,
    details: [
      {
        runId: previous.runId,
        snapshotId: previous.snapshot?.id ?? null,
        snapshotCreatedAt: previous.snapshot?.createdAt ?? null,
        backupId: previous.backup?.id ?? null,
      },
    ],
  };
}
