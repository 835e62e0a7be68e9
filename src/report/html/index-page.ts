import { counted, formatBytes, formatDuration } from '../format.ts';
import { summarizeRun } from '../history.ts';
import type { RunReport } from '../run-report.ts';
import { renderTrendCharts } from './charts.ts';
import { htmlDocument } from './document.ts';
import { esc } from './escape.ts';

/** The history of a pipeline as one page: trends and every run, newest first, each linked. */
export function renderIndexPage(
  pipeline: string,
  runs: RunReport[],
  hrefOf: (r: RunReport) => string,
): string {
  const newestFirst = [...runs].sort((a, b) => b.runId.localeCompare(a.runId));
  const lastGood = newestFirst.find((r) => r.status === 'succeeded' && r.backup?.published);
  const last = newestFirst[0];
  const tone = !last ? 'cancelled' : last.status;
  const lead = last
    ? `${counted(runs.length, 'run')}. Last run: <b>${esc(last.status)}</b> (${esc((last.snapshot?.createdAt ?? last.startedAt).slice(0, 10))}). Last verified backup: ${lastGood ? `<b>${esc(lastGood.snapshot?.createdAt.slice(0, 10))}</b> (${esc(lastGood.backup?.id)})` : '<b>none</b>'}.`
    : 'No runs stored yet.';
  const rows = newestFirst
    .map((r) => {
      const s = summarizeRun(r);
      const checks = `${s.checks.passed} passed${s.checks.failed ? `, ${s.checks.failed} failed` : ''}`;
      const changes = s.anomalies.failed + s.anomalies.warned;
      return `<tr class="${s.status === 'failed' ? 'failed' : changes ? 'warned' : ''}"><td><a href="${esc(hrefOf(r))}">${esc(s.date)}</a></td><td>${esc(s.snapshotId ?? '—')}</td><td><span class="pill ${esc(s.status)}">${esc(s.status)}</span></td><td>${esc(checks)}</td><td>${changes ? esc(counted(changes, 'anomaly', 'anomalies')) : 'none'}</td><td class="num">${esc(formatBytes(s.dumpBytes))}</td><td class="num">${esc(formatDuration(s.restoreMs))}</td><td class="num">${esc(formatDuration(s.durationMs))}</td><td>${esc(s.error ?? '')}</td></tr>`;
    })
    .join('\n');
  const body = `<header class="banner ${esc(tone)}" id="summary"><div class="inner"><div class="verdict">Run history</div><h1>offsite · ${esc(pipeline)}</h1><p>${lead}</p></div></header>
<main>
<h2>Trends</h2>
${renderTrendCharts(
  [...runs].sort((a, b) => a.runId.localeCompare(b.runId)),
  last?.runId ?? null,
)}
<h2>Runs</h2>
<table id="runs"><thead><tr><th>date</th><th>snapshot</th><th>status</th><th>checks</th><th>anomalies</th><th class="num">dump</th><th class="num">restore time</th><th class="num">duration</th><th>error</th></tr></thead><tbody>${rows}</tbody></table>
<footer>offsite · ${esc(pipeline)} · this page makes no network request</footer>
</main>`;
  return htmlDocument(`offsite ${pipeline}: run history`, body);
}
