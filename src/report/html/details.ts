// The lower part of a run page: every check with its figures, the anomalies, per-table row
// counts against the previous backup, the stages, and the facts (versions, instance, store).

import { changeLines } from '../changes.ts';
import { costLines } from '../cost.ts';
import { counted, formatBytes, formatChange, formatCount, formatDuration, formatInstant } from '../format.ts';
import type { CheckReport, RunReport } from '../run-report.ts';
import { esc } from './escape.ts';
import { byUrgency } from './summary.ts';

const MAX_ROWS = 200;
const MAX_COLUMNS = 8;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '<td class="muted">—</td>';
  if (typeof value === 'number')
    return `<td class="num">${esc(Number.isInteger(value) ? formatCount(value) : value)}</td>`;
  if (typeof value === 'boolean') return `<td>${value ? '✓' : '✗'}</td>`;
  if (typeof value === 'object') return `<td><code>${esc(JSON.stringify(value))}</code></td>`;
  return `<td>${esc(value)}</td>`;
}

function isBad(d: Record<string, unknown>): boolean {
  return d.ok === false || d.status === 'failed';
}

/** A check's details as a table, its failing rows first; columns are whatever the check recorded. */
export function renderDetailsTable(details: Record<string, unknown>[]): string {
  if (details.length === 0) return '';
  const columns = [...new Set(details.flatMap((d) => Object.keys(d)))].slice(0, MAX_COLUMNS);
  const rows = [...details].sort((a, b) => Number(isBad(b)) - Number(isBad(a)));
  const shown = rows.slice(0, MAX_ROWS);
  const body = shown
    .map((d) => `<tr class="${isBad(d) ? 'failed' : ''}">${columns.map((c) => cell(d[c])).join('')}</tr>`)
    .join('\n');
  const more =
    rows.length > MAX_ROWS
      ? `<p class="muted">and ${counted(rows.length - MAX_ROWS, 'more row')} (see the JSON report)</p>`
      : '';
  return `<table><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>${more}`;
}

function checkRows(items: CheckReport[]): string {
  return byUrgency(items)
    .map((c) => {
      const details = c.details.length
        ? `<details${c.status === 'failed' ? ' open' : ''}><summary>${counted(c.details.length, 'detail row')}</summary>${renderDetailsTable(c.details)}</details>`
        : '';
      return `<tr class="${esc(c.status)}" data-check="${esc(c.name)}"><td><b>${esc(c.name)}</b></td><td><span class="pill ${esc(c.status)}">${esc(c.status)}</span></td><td>${esc(c.summary)}${details}</td><td class="num">${esc(formatDuration(c.durationMs))}</td></tr>`;
    })
    .join('\n');
}

/** Every check of the restore test, failed first. */
export function renderChecks(r: RunReport): string {
  if (r.checks.length === 0)
    return '<h2>Checks</h2><p class="muted">No check ran (the run stopped before the restore test).</p>';
  return `<h2>Checks</h2><table id="checks"><thead><tr><th>check</th><th>status</th><th>result</th><th class="num">time</th></tr></thead><tbody>${checkRows(r.checks)}</tbody></table>`;
}

/** The day-over-day findings and the note saying what they were compared with. */
export function renderAnomalies(r: RunReport): string {
  if (r.anomalies.length === 0 && !r.changes) return '';
  const findings =
    r.anomalies.length === 0
      ? ''
      : `<table id="anomalies"><thead><tr><th>finding</th><th>status</th><th>what changed</th><th class="num">time</th></tr></thead><tbody>${checkRows(r.anomalies)}</tbody></table>`;
  return `<h2>Changes since the previous backup</h2>${findings}${renderChanges(r)}`;
}

/** The row-count and size changes, anomaly or not, biggest first (the full list is under Tables). */
function renderChanges(r: RunReport): string {
  if (!r.changes) return '';
  const parts: string[] = [];
  let items: string[] = [];
  const flush = () => {
    if (items.length > 0) parts.push(`<ul>${items.join('')}</ul>`);
    items = [];
  };
  for (const line of changeLines(r.changes, 10)) {
    if (line.startsWith('  ')) items.push(`<li>${esc(line.trim())}</li>`);
    else {
      flush();
      parts.push(`<p>${esc(line.charAt(0).toUpperCase() + line.slice(1))}</p>`);
    }
  }
  flush();
  return `<div id="changes">${parts.join('')}</div>`;
}

/** Per-table rows: source, restored, and the change since the previous verified backup. */
export function renderTables(r: RunReport, previous: RunReport | null): string {
  const rowCounts = r.checks.find((c) => c.name === 'row-counts');
  if (!rowCounts || rowCounts.details.length === 0) return '';
  const before = new Map<string, number>();
  for (const d of previous?.checks.find((c) => c.name === 'row-counts')?.details ?? []) {
    if (typeof d.table === 'string' && typeof d.source === 'number') before.set(d.table, d.source);
  }
  // Without the previous report at hand (a standalone page), the recorded changes say the same.
  if (!previous && r.changes) {
    const changed = new Map(r.changes.tables.map((c) => [c.table, c.previous]));
    for (const d of rowCounts.details) {
      if (typeof d.table !== 'string' || typeof d.source !== 'number') continue;
      const prev = changed.has(d.table) ? changed.get(d.table) : d.source;
      if (prev !== null && prev !== undefined) before.set(d.table, prev);
    }
  }
  const rows = [...rowCounts.details].sort(
    (a, b) => Number(isBad(b)) - Number(isBad(a)) || String(a.table).localeCompare(String(b.table)),
  );
  const body = rows
    .slice(0, MAX_ROWS)
    .map((d) => {
      const source = typeof d.source === 'number' ? d.source : null;
      const prev = before.get(String(d.table));
      const change = prev === undefined || source === null ? '—' : formatChange(prev, source);
      const dropped = prev !== undefined && source !== null && source < prev;
      return `<tr class="${isBad(d) ? 'failed' : dropped && source === 0 ? 'warned' : ''}"><td>${esc(d.table)}</td><td class="num">${esc(formatCount(source))}</td><td class="num">${esc(formatCount(typeof d.restored === 'number' ? d.restored : null))}</td><td class="num">${esc(prev === undefined ? '—' : formatCount(prev))}</td><td class="num">${esc(change)}</td><td>${isBad(d) ? '✗ differs' : d.excluded ? 'data excluded' : '✓ equal'}</td></tr>`;
    })
    .join('\n');
  return `<h2>Tables</h2><table id="tables"><thead><tr><th>table</th><th class="num">source rows</th><th class="num">restored rows</th><th class="num">previous backup</th><th class="num">change</th><th>restored copy</th></tr></thead><tbody>${body}</tbody></table>`;
}

/** The stages with their time as bars: where the night went. */
export function renderStages(r: RunReport): string {
  const longest = Math.max(1, ...r.stages.map((s) => s.durationMs));
  const rows = r.stages
    .map(
      (s) =>
        `<tr><td>${esc(s.name)}</td><td><span class="pill ${esc(s.status)}">${esc(s.status)}</span></td><td class="num">${esc(formatDuration(s.durationMs))}</td><td style="width:45%"><div class="bar ${s.status === 'failed' ? 'failed' : ''}" style="width:${((s.durationMs / longest) * 100).toFixed(1)}%"></div></td><td>${esc(s.message ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<h2>Stages</h2><table id="stages"><thead><tr><th>stage</th><th>status</th><th class="num">time</th><th></th><th>message</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function storedWhere(r: RunReport): string {
  const stored = r.reports.stored;
  if (!stored) return 'not stored (kept on the machine that ran the backup)';
  if (stored.html && stored.json) return stored.html;
  const missing = [!stored.json && 'the JSON report', !stored.html && 'this page']
    .filter(Boolean)
    .join(' and ');
  return `${missing} NOT stored: ${r.stages.find((s) => s.name === 'report')?.message ?? 'see the report stage'}`;
}

/** Versions, snapshot, instance and store facts, for the person who digs. */
export function renderFacts(r: RunReport): string {
  const v = r.versions;
  const facts: [string, string][] = [
    ['Run', r.runId + (r.reason ? ` — ${r.reason}` : '')],
    [
      'Snapshot',
      r.snapshot
        ? `${r.snapshot.id}, taken ${formatInstant(r.snapshot.createdAt)}, engine ${r.snapshot.engineVersion}`
        : '—',
    ],
    ['Server', v.server ?? '—'],
    ['pg_dump / pg_restore', `${v.pgDump ?? '—'} / ${v.pgRestore ?? '—'}`],
    ['Scratch server', r.restoreTest?.scratchServer ?? v.scratchServer ?? '—'],
    ['Extensions', v.extensions.map((e) => `${e.name} ${e.version}`).join(', ') || 'none'],
    [
      'Temporary instance',
      r.tempInstance
        ? `${r.tempInstance.id}, ${r.tempInstance.deleted ? `deleted ${formatInstant(r.tempInstance.deletedAt)}` : 'NOT deleted'}`
        : '—',
    ],
    [
      'Backup',
      r.backup
        ? `${r.backup.id} in ${r.backup.location} (manifest ${r.backup.manifestKey})`
        : 'none published',
    ],
    ['Store total', r.store ? formatBytes(r.store.totalBytes) : '—'],
    ['This report in the store', storedWhere(r)],
    ...(r.cost ? costLines(r.cost).map((l): [string, string] => ['Cost', l]) : []),
    ['Peak memory', formatBytes(r.resources.peakRssBytes)],
    ['offsite', v.offsite],
  ];
  return `<h2>Run facts</h2><dl class="facts">${facts.map(([k, val]) => `<dt>${esc(k)}</dt><dd>${esc(val)}</dd>`).join('\n')}</dl>`;
}
