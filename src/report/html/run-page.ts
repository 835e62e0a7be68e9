import { pickPreviousVerified } from '../anomalies.ts';
import { formatDuration, formatInstant } from '../format.ts';
import type { RunReport } from '../run-report.ts';
import { type DrillPoint, renderDrillChart, renderTrendCharts } from './charts.ts';
import { renderCoverage } from './coverage.ts';
import { renderAnomalies, renderChecks, renderFacts, renderStages, renderTables } from './details.ts';
import { htmlDocument } from './document.ts';
import { esc } from './escape.ts';
import { renderAttention, renderBanner, renderFigures } from './summary.ts';

/** Links a run page may show (relative hrefs; omitted when the page stands alone). */
export interface RunPageLinks {
  index?: string;
}

/** "Last proven restorable from the store": the newest passed drill of this run's backup. */
function renderLastDrill(report: RunReport, drills: DrillPoint[]): string {
  const id = report.backup?.published ? report.backup.id : null;
  if (!id) return '';
  const last = drills.filter((d) => d.backupId === id && d.status === 'passed').at(-1);
  return last
    ? `<p class="drill">Last proven restorable from the store: <b>${esc(formatInstant(last.finishedAt))}</b> (offsite drill, restored in ${esc(formatDuration(last.restoreMs))}).</p>`
    : '';
}

/**
 * One run as a self-contained HTML page: verdict, key figures, what needs attention, checks,
 * changes since the previous backup, tables, trends over `history` (the pipeline's runs, oldest
 * first; this run is added if missing), stages and facts.
 */
export function renderRunPage(
  report: RunReport,
  history: RunReport[] = [],
  links: RunPageLinks = {},
  /** The pipeline's drills, oldest first (offsite drill), when known. */
  drills: DrillPoint[] = [],
): string {
  const runs = history.some((r) => r.runId === report.runId)
    ? history.filter((r) => r.runId <= report.runId)
    : [...history.filter((r) => r.runId < report.runId), report];
  const previous = report.snapshot ? pickPreviousVerified(runs, new Date(report.snapshot.createdAt)) : null;
  const nav = links.index
    ? `<p><a href="${esc(links.index)}">← all runs of ${esc(report.pipeline)}</a></p>`
    : '';
  const body = `${renderBanner(report)}
<main>
${nav}
${renderLastDrill(report, drills)}
${renderFigures(report)}
${renderAttention(report)}
${renderChecks(report)}
${renderAnomalies(report)}
${renderCoverage(report)}
<h2>Trends</h2>
${renderTrendCharts(runs, report.runId)}
${renderDrillChart(drills, report.backup?.id ?? null)}
${renderTables(report, previous)}
${renderStages(report)}
${renderFacts(report)}
<footer>offsite ${esc(report.versions.offsite)} · run ${esc(report.runId)} · finished ${esc(formatInstant(report.finishedAt))} · this page makes no network request</footer>
</main>`;
  return htmlDocument(
    `offsite ${report.pipeline} ${report.status} · ${(report.snapshot?.createdAt ?? report.startedAt).slice(0, 10)}`,
    body,
  );
}
