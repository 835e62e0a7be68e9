import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OffsiteError } from '../errors.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { StagesOutcome } from '../pipeline/run-pipeline.ts';
import { buildRunReport } from '../report/build-report.ts';
import { readRunHistory, reportHtmlKey } from '../report/history.ts';
import { renderRunPage } from '../report/html/run-page.ts';
import { renderMarkdown } from '../report/markdown.ts';
import type { RunReport, StageReport } from '../report/run-report.ts';
import { reportKey } from '../store/layout.ts';

/** How many earlier runs the HTML page's trend charts show. */
const TREND_RUNS = 90;

// The trend charts need earlier runs; without them (store down, first run) the page still renders.
async function earlierRuns(ctx: RunContext): Promise<RunReport[]> {
  try {
    const { reports } = await readRunHistory(ctx.deps.store, ctx.config.store.prefix, ctx.config.name, {
      limit: TREND_RUNS,
      signal: AbortSignal.timeout(60_000),
    });
    return reports.filter((r) => r.runId !== ctx.runId);
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, 'report: no history for the trend charts');
    return [];
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, text, { mode: 0o640 });
  await rename(`${path}.tmp`, path);
}

/**
 * Whether the run's report goes to the store too. Only once the run asked RDS for its temporary
 * instance: a run that failed before (a wrong argument, a missing snapshot, an unreachable
 * service) spent nothing and made nothing, and its report in a bucket under a compliance lock
 * could not be deleted for `objectLock.days`. Its report stays in reportDir.
 */
export function reportGoesToStore(ctx: RunContext): boolean {
  return ctx.instance !== undefined;
}

/**
 * report: the RunReport as JSON, Markdown and a self-contained HTML page, locally and (see
 * reportGoesToStore) in the store, beside the backups, so the history survives this machine.
 * Always runs; a failure here fails the run but never unpublishes a backup.
 */
export async function writeRunReport(ctx: RunContext, outcome: StagesOutcome): Promise<RunReport> {
  const started = Date.now();
  const stage: StageReport = {
    name: 'report',
    status: 'succeeded',
    durationMs: 0,
    startedAt: new Date(started).toISOString(),
    message: null,
  };
  const withStage: StagesOutcome = { ...outcome, stages: [...outcome.stages, stage] };
  ctx.reportPaths.html ??= ctx.reportPaths.json.replace(/\.json$/, '.html');
  let report = buildRunReport(ctx, withStage, ctx.deps.now());
  const toStore = reportGoesToStore(ctx);
  try {
    const json = `${JSON.stringify(report, null, 2)}\n`;
    // Trend charts need the store; a run that never reached it renders without them.
    const html = renderRunPage(report, toStore ? await earlierRuns(ctx) : []);
    await writeAtomically(ctx.reportPaths.json, json);
    await writeAtomically(ctx.reportPaths.markdown, renderMarkdown(report));
    await writeAtomically(ctx.reportPaths.html, html);
    if (!toStore) {
      ctx.log.info(
        { report: ctx.reportPaths.json },
        'report kept locally only: the run ended before a temporary instance was requested',
      );
      stage.durationMs = Date.now() - started;
      return report;
    }
    const { prefix } = ctx.config.store;
    const key = reportKey(prefix, ctx.config.name, ctx.runId);
    await ctx.deps.store.put(key, Buffer.from(json), Buffer.byteLength(json), AbortSignal.timeout(120_000));
    // The page beside the JSON: a person with bucket access reads it without offsite installed.
    const htmlKey = reportHtmlKey(prefix, ctx.config.name, ctx.runId);
    await ctx.deps.store.put(
      htmlKey,
      Buffer.from(html),
      Buffer.byteLength(html),
      AbortSignal.timeout(120_000),
    );
    stage.durationMs = Date.now() - started;
  } catch (err) {
    const error = new OffsiteError(
      'REPORT_FAILED',
      `could not write the run report: ${(err as Error).message}`,
      {
        stage: 'report',
        cause: err,
      },
    );
    ctx.log.error({ err: error.message }, 'report failed');
    stage.status = 'failed';
    stage.message = error.message;
    stage.durationMs = Date.now() - started;
    report = buildRunReport(
      ctx,
      {
        status: outcome.status === 'succeeded' ? 'failed' : outcome.status,
        stages: withStage.stages,
        errors: [...outcome.errors, error],
      },
      ctx.deps.now(),
    );
    // Best effort: the local copy says what went wrong, if the disk takes it.
    await writeAtomically(ctx.reportPaths.json, `${JSON.stringify(report, null, 2)}\n`).catch(() => {});
  }
  return report;
}
