// Trend charts as inline SVG (no script, no library): a line over the pipeline's measured runs,
// failed runs marked as crosses above it (never as a value), so a slow drift in restore time or
// a cliff in row counts is visible and a failed night is not mistaken for a fast one.
import { formatUsd, storeMonthly } from '../cost.ts';
import { counted, formatBytes, formatCount, formatDuration } from '../format.ts';
import type { RunReport } from '../run-report.ts';
import { esc } from './escape.ts';

/**
 * One run on a chart. value null: the run failed or was interrupted; it is drawn as a cross
 * above the plot, never as a value (a failed run's duration or size is no measurement).
 */
interface Point {
  value: number | null;
  label: string;
  status: RunReport['status'];
  current: boolean;
}

/** A series a chart draws, taken from each report. */
interface Series {
  title: string;
  pick: (r: RunReport) => number | null | undefined;
  format: (n: number) => string;
}

/** The four trends of the issue: dump size, row counts, restore time (RTO), run duration. */
export const TRENDS: Series[] = [
  { title: 'Dump size', pick: (r) => r.dump?.bytes, format: formatBytes },
  { title: 'Rows in the source', pick: (r) => r.source?.rows, format: formatCount },
  { title: 'Restore time (RTO)', pick: (r) => r.restoreTest?.durationMs, format: formatDuration },
  { title: 'Run duration', pick: (r) => r.durationMs, format: formatDuration },
];

const W = 300;
const H = 130;
// The strip above the plot holds the failed runs' crosses.
const PAD = { left: 8, right: 8, top: 22, bottom: 20 };
const STRIP_Y = 10;
const COLOR: Record<string, string> = { succeeded: '#1a7f37', failed: '#cf222e', cancelled: '#57606a' };

function pointsOf(series: Series, runs: RunReport[], currentRunId: string | null): Point[] {
  const out: Point[] = [];
  for (const r of runs) {
    const date = (r.snapshot?.createdAt ?? r.startedAt).slice(0, 10);
    const current = r.runId === currentRunId;
    if (r.status !== 'succeeded') {
      const why = r.error ? `: ${r.error.stage} ${r.error.code}` : '';
      out.push({ value: null, label: `${date} · ${r.status}${why}`, status: r.status, current });
      continue;
    }
    const value = series.pick(r);
    if (value === null || value === undefined) continue;
    out.push({ value, label: `${date} · ${series.format(value)} · ${r.status}`, status: r.status, current });
  }
  return out;
}

function cross(x: number, p: Point): string {
  const d = 4;
  const ring = p.current
    ? `<circle cx="${x.toFixed(1)}" cy="${STRIP_Y}" r="7" fill="none" stroke="#1f2328" stroke-width="1.5"/>`
    : '';
  return `<g class="failed-run" data-status="${esc(p.status)}">${ring}<path d="M${(x - d).toFixed(1)},${STRIP_Y - d} L${(x + d).toFixed(1)},${STRIP_Y + d} M${(x - d).toFixed(1)},${STRIP_Y + d} L${(x + d).toFixed(1)},${STRIP_Y - d}" stroke="${COLOR[p.status] ?? '#57606a'}" stroke-width="2"/><title>${esc(p.label)}</title></g>`;
}

function svg(points: Point[], title: string, format: (n: number) => string): string {
  const measured = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const top = Math.max(...measured, 1);
  const max = top * 1.1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (points.length === 1 ? plotW / 2 : (i / (points.length - 1)) * plotW);
  // The axis starts at zero: a table emptied must look like a cliff, not like noise.
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  // The line joins measured runs only: a failure between two nights is a cross, not a dip to 0.
  const line = points
    .map((p, i) => (p.value === null ? null : `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`))
    .filter((xy): xy is string => xy !== null)
    .join(' ');
  const marks = points
    .map((p, i) => {
      if (p.value === null) return cross(x(i), p);
      const r = p.current ? 5 : 3;
      const ring = p.current ? ' stroke="#1f2328" stroke-width="2"' : '';
      return `<circle class="run" cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="${r}" fill="${COLOR[p.status] ?? '#57606a'}"${ring}><title>${esc(p.label)}</title></circle>`;
    })
    .join('');
  const first = points[0]!.label.slice(0, 10);
  const last = points.at(-1)!.label.slice(0, 10);
  const scale =
    measured.length > 0
      ? `<line x1="${PAD.left}" y1="${y(top).toFixed(1)}" x2="${W - PAD.right}" y2="${y(top).toFixed(1)}" stroke="#eaeef2" stroke-dasharray="3 3"/>
<text x="${PAD.left}" y="${(y(top) - 3).toFixed(1)}" font-size="10" fill="#57606a">${esc(format(top))}</text>`
      : '';
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">
<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#d0d7de"/>
${scale}
${measured.length > 1 ? `<polyline points="${line}" fill="none" stroke="#0969da" stroke-width="1.5"/>` : ''}
${marks}
<text x="${PAD.left}" y="${H - 5}" font-size="10" fill="#57606a">${esc(first)}</text>
<text x="${W - PAD.right}" y="${H - 5}" font-size="10" fill="#57606a" text-anchor="end">${esc(last)}</text>
</svg>`;
}

/**
 * The store's monthly cost over time: each run's stored bytes at the current run's price (so the
 * line shows growth, not price changes). None on a directory store or before reports had a cost.
 */
function withStoreCost(series: Series[], runs: RunReport[], currentRunId: string | null): Series[] {
  const current = runs.find((r) => r.runId === currentRunId) ?? runs.at(-1);
  const perGb =
    current?.cost?.storage.pricePerGbMonth ??
    runs.findLast((r) => r.cost !== undefined)?.cost?.storage.pricePerGbMonth ??
    null;
  if (perGb === null) return series;
  return [
    ...series,
    { title: 'Store cost per month', pick: (r) => storeMonthly(r, perGb), format: formatUsd },
  ];
}

/** "latest 48 MiB · 7 runs · ✕ 1 failed": the last measured value, how many runs, how many crosses. */
function caption(points: Point[], format: (n: number) => string, noun: string, firstNote: string): string {
  const latest = points.filter((p) => p.value !== null).at(-1);
  const failed = points.filter((p) => p.value === null).length;
  const parts = [
    latest ? `latest ${format(latest.value!)}` : 'no measured run yet',
    points.length === 1 ? firstNote : counted(points.length, noun),
    ...(failed > 0 ? [`✕ ${failed} failed (no value)`] : []),
  ];
  return parts.join(' · ');
}

/** The trend charts over `runs` (oldest first), the current run ringed; no data, no chart. */
export function renderTrendCharts(runs: RunReport[], currentRunId: string | null): string {
  const charts = withStoreCost(TRENDS, runs, currentRunId)
    .map((series) => {
      const points = pointsOf(series, runs.slice(-90), currentRunId);
      if (points.length === 0) return '';
      const note = caption(
        points,
        series.format,
        'run',
        'one run so far: the trend builds up night by night',
      );
      return `<div class="chart"><h3>${esc(series.title)}</h3><div class="latest">${esc(note)}</div>${svg(points, series.title, series.format)}</div>`;
    })
    .filter(Boolean);
  if (charts.length === 0) return '<p class="muted">No measured runs yet.</p>';
  return `<div class="charts">${charts.join('\n')}</div>`;
}

/** One drill as the drill chart draws it (a restore from the store into a fresh scratch server). */
export interface DrillPoint {
  backupId: string;
  finishedAt: string;
  status: 'passed' | 'failed';
  restoreMs: number;
}

/** Drill restore times (each backup's RTO from the store), oldest first; no drill, no chart. */
export function renderDrillChart(drills: DrillPoint[], currentBackupId: string | null): string {
  const points: Point[] = drills.slice(-90).map((d) => ({
    value: d.status === 'passed' ? d.restoreMs : null,
    label: `${d.finishedAt.slice(0, 10)} · ${formatDuration(d.restoreMs)} · drill ${d.status} · ${d.backupId}`,
    status: d.status === 'passed' ? 'succeeded' : 'failed',
    current: d.backupId === currentBackupId,
  }));
  if (points.length === 0) return '';
  const title = 'Drill restore time (RTO from the store)';
  const note = caption(points, formatDuration, 'drill', 'one drill so far');
  return `<div class="charts"><div class="chart"><h3>${esc(title)}</h3><div class="latest">${esc(note)}</div>${svg(points, title, formatDuration)}</div></div>`;
}
