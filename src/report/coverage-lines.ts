// The "not in this backup" section in words, shared by the Markdown summary and the HTML page:
// what a restore of this backup will not bring back as it was, so nobody learns it on the day.
import { counted, formatBytes } from './format.ts';
import type { RunReport } from './run-report.ts';

/** One line per thing a restore of this backup does not bring back as it was (none before facts exist). */
export function coverageLines(r: RunReport): string[] {
  const c = r.coverage;
  if (!c) return [];
  const lines: string[] = [];
  for (const u of c.unloggedTables) {
    const rows = u.estimatedRows === null ? 'row count unknown' : `about ${counted(u.estimatedRows, 'row')}`;
    lines.push(
      `unlogged table ${u.table} (${rows} on the source): its rows are in no snapshot (crash recovery truncates unlogged tables); restored empty`,
    );
  }
  for (const m of c.materializedViews) {
    lines.push(
      m.populated
        ? `materialized view ${m.view}: its rows are recomputed by REFRESH on restore, not copied`
        : `materialized view ${m.view}: not populated on the source (WITH NO DATA); restored unpopulated`,
    );
  }
  if (c.largeObjects.count > 0) {
    const size = c.largeObjects.bytes === null ? 'size unknown' : formatBytes(c.largeObjects.bytes);
    lines.push(
      `${counted(c.largeObjects.count, 'large object')} (${size}): in the backup, checked by checksums`,
    );
  }
  lines.push(...c.outOfScope);
  for (const f of c.rowOrderFallbacks) {
    lines.push(`table ${f.table} kept pg_dump's row order (in the backup; dedups worse): ${f.reason}`);
  }
  return lines;
}
