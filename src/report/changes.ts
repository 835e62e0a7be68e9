// What changed since the previous verified backup, finding or not: per-table row-count deltas,
// so "no anomalies" is never read as "nothing changed". Pure: the report stage feeds it counts.
import { BASELINE_NOTE } from './anomalies.ts';
import { counted, formatBytes, formatChange, formatCount } from './format.ts';
import type { RunReport } from './run-report.ts';

/** One table whose exact row count differs from the previous backup's (null: the table was not there). */
export interface TableChange {
  table: string;
  previous: number | null;
  current: number | null;
}

/** The `changes` of a RunReport. */
export type Changes = NonNullable<RunReport['changes']>;

// A new or vanished table outranks any change; then the relative change; then the absolute one.
function size(c: TableChange): [number, number] {
  if (c.previous === null || c.current === null || c.previous === 0) return [Number.POSITIVE_INFINITY, 0];
  const delta = Math.abs(c.current - c.previous);
  return [delta / c.previous, delta];
}

/** Every table whose count differs, the biggest change first, and how many stayed the same. */
export function tableChanges(
  previous: ReadonlyMap<string, number>,
  current: ReadonlyMap<string, number>,
): { tables: TableChange[]; unchanged: number } {
  const tables: TableChange[] = [];
  let unchanged = 0;
  for (const [table, now] of current) {
    const before = previous.get(table);
    if (before === now) unchanged++;
    else tables.push({ table, previous: before ?? null, current: now });
  }
  for (const [table, before] of previous) {
    if (!current.has(table)) tables.push({ table, previous: before, current: null });
  }
  tables.sort((a, b) => {
    const [ra, da] = size(a);
    const [rb, db] = size(b);
    return rb - ra || db - da || a.table.localeCompare(b.table);
  });
  return { tables, unchanged };
}

/** "app.orders 5,400 → 5,438 (+0.7 %)", "app.new_table new (120 rows)", "app.old gone (was 12 rows)". */
export function describeChange(c: TableChange): string {
  if (c.previous === null) return `${c.table}: new (${counted(c.current ?? 0, 'row')})`;
  if (c.current === null) return `${c.table}: gone (had ${counted(c.previous, 'row')})`;
  return `${c.table}: ${formatCount(c.previous)} → ${formatCount(c.current)} (${formatChange(c.previous, c.current)})`;
}

/** The changes as lines for people, biggest first, at most `max` tables then "and N more". */
export function changeLines(changes: Changes, max = 5): string[] {
  const total = changes.tables.length + changes.unchanged;
  const lines: string[] = [];
  if (changes.tables.length === 0) {
    lines.push(`row counts: all ${counted(total, 'table')} unchanged`);
  } else {
    const shown = changes.tables.slice(0, max).map(describeChange);
    const more = changes.tables.length - shown.length;
    lines.push(
      `row counts: ${changes.tables.length} of ${counted(total, 'table')} changed${changes.tables.length > 1 ? ', the biggest first' : ''}`,
      ...shown.map((l) => `  ${l}`),
      ...(more > 0 ? [`  and ${more} more`] : []),
    );
  }
  const d = changes.dumpBytes;
  if (d.previous !== null && d.current !== null) {
    lines.push(
      `dump size: ${formatBytes(d.previous)} → ${formatBytes(d.current)} (${formatChange(d.previous, d.current)})`,
    );
  }
  return lines;
}

/** What the comparison with the previous backup came to, in a few words (the HTML tile). */
export function comparisonVerdict(r: RunReport): { value: string; sub: string } {
  const note = r.anomalies.find((a) => a.name === BASELINE_NOTE);
  const findings = r.anomalies.filter((a) => a.name !== BASELINE_NOTE);
  if (findings.length > 0)
    return { value: counted(findings.length, 'anomaly', 'anomalies'), sub: changedSub(r) };
  if (!note) return { value: 'not compared', sub: 'the comparison did not run' };
  if (note.status === 'skipped') return { value: 'nothing to compare', sub: 'first backup of this pipeline' };
  if (note.status !== 'passed') return { value: 'not compared', sub: note.summary };
  return { value: 'no anomalies', sub: changedSub(r) };
}

function changedSub(r: RunReport): string {
  const c = r.changes;
  if (!c) return '';
  const first = c.tables[0];
  if (!first) return `row counts unchanged (${counted(c.unchanged, 'table')})`;
  const biggest =
    first.previous === null || first.current === null
      ? describeChange(first)
      : `${first.table} ${formatChange(first.previous, first.current)}`;
  return `${counted(c.tables.length, 'table')} changed; biggest: ${biggest}`;
}
