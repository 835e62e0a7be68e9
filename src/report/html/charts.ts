// Trend charts as inline SVG (no script, no library): a line over the pipeline's runs with
// failed runs marked, so a slow drift in restore time or a cliff in row counts is visible.
import { formatBytes, formatCount, formatDuration } from '../format.ts';
import type { RunReport } from '../run-report.ts';
import { esc } from './escape.ts';

/** One measured run on a chart. */
interface Point {
  value: number;
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
const H = 120;
const PAD = { left: 8, right: 8, top: 12, bottom: 20 };
const COLOR: Record<string, string> = { succeeded: '#1a7f37', failed: '#cf222e', cancelled: '#57606a' };

function pointsOf(series: Series, runs: RunReport[], currentRunId: string | null): Point[] {
  const out: Point[] = [];
  for (const r of runs) {
    const value = series.pick(r);
    if (value === null || value === undefined) continue;
    const label = `${(r.snapshot?.createdAt ?? r.startedAt).slice(0, 10)} · ${series.format(value)} · ${r.status}`;
    out.push({ value, label, status: r.status, current: r.runId === currentRunId });
  }
  return out;
}

function svg(points: Point[], title: string, format: (n: number) => string): string {
  const max = Math.max(...points.map((p) => p.value), 1) * 1.1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (points.length === 1 ? plotW / 2 : (i / (points.length - 1)) * plotW);
  // The axis starts at zero: a table emptied must look like a cliff, not like noise.
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const line = points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const dots = points
    .map((p, i) => {
      const r = p.current ? 5 : 3;
      const ring = p.current ? ' stroke="#1f2328" stroke-width="2"' : '';
      return `<circle cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="${r}" fill="${COLOR[p.status] ?? '#57606a'}"${ring}><title>${esc(p.label)}</title></circle>`;
    })
    .join('');
  const first = points[0]!.label.slice(0, 10);
  const last = points.at(-1)!.label.slice(0, 10);
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">
<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#d0d7de"/>
<line x1="${PAD.left}" y1="${y(max / 1.1).toFixed(1)}" x2="${W - PAD.right}" y2="${y(max / 1.1).toFixed(1)}" stroke="#eaeef2" stroke-dasharray="3 3"/>
<text x="${PAD.left}" y="${(y(max / 1.1) - 3).toFixed(1)}" font-size="10" fill="#57606a">${esc(format(max / 1.1))}</text>
${points.length > 1 ? `<polyline points="${line}" fill="none" stroke="#0969da" stroke-width="1.5"/>` : ''}
${dots}
<text x="${PAD.left}" y="${H - 5}" font-size="10" fill="#57606a">${esc(first)}</text>
<text x="${W - PAD.right}" y="${H - 5}" font-size="10" fill="#57606a" text-anchor="end">${esc(last)}</text>
</svg>`;
}

/** The trend charts over `runs` (oldest first), the current run ringed; no data, no chart. */
export function renderTrendCharts(runs: RunReport[], currentRunId: string | null): string {
  const charts = TRENDS.map((series) => {
    const points = pointsOf(series, runs.slice(-90), currentRunId);
    if (points.length === 0) return '';
    const latest = points.at(-1)!;
    const note =
      points.length === 1 ? 'one run so far: the trend builds up night by night' : `${points.length} runs`;
    return `<div class="chart"><h3>${esc(series.title)}</h3><div class="latest">latest ${esc(series.format(latest.value))} · ${esc(note)}</div>${svg(points, series.title, series.format)}</div>`;
  }).filter(Boolean);
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
    value: d.restoreMs,
    label: `${d.finishedAt.slice(0, 10)} · ${formatDuration(d.restoreMs)} · drill ${d.status} · ${d.backupId}`,
    status: d.status === 'passed' ? 'succeeded' : 'failed',
    current: d.backupId === currentBackupId,
  }));
  if (points.length === 0) return '';
  const title = 'Drill restore time (RTO from the store)';
  const note = points.length === 1 ? 'one drill so far' : `${points.length} drills`;
  return `<div class="charts"><div class="chart"><h3>${esc(title)}</h3><div class="latest">latest ${esc(formatDuration(points.at(-1)!.value))} · ${esc(note)}</div>${svg(points, title, formatDuration)}</div></div>`;
}
