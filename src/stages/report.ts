import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OffsiteError } from '../errors.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { StagesOutcome } from '../pipeline/run-pipeline.ts';
import { BASELINE_NOTE, backupFactsOf } from '../report/anomalies.ts';
import { buildRunReport, type ReportExtras } from '../report/build-report.ts';
import { tableChanges } from '../report/changes.ts';
import { storeSizeEarlier } from '../report/cost.ts';
import { readRunHistory, reportHtmlKey } from '../report/history.ts';
import { renderRunPage } from '../report/html/run-page.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { type RunReport, runReportSchema, type StageReport } from '../report/run-report.ts';
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

// The run the anomalies stage compared with: read from the history already at hand, else by its key.
async function previousReport(
  ctx: RunContext,
  history: RunReport[],
  runId: string,
): Promise<RunReport | null> {
  const known = history.find((r) => r.runId === runId);
  if (known) return known;
  const key = reportKey(ctx.config.store.prefix, ctx.config.name, runId);
  const chunks: Buffer[] = [];
  for await (const chunk of await ctx.deps.store.get(key, AbortSignal.timeout(60_000)))
    chunks.push(chunk as Buffer);
  return runReportSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
}

/**
 * Per-table row-count changes against the backup the anomalies stage compared with (its note names
 * the run), so a report says what moved even when nothing crossed a threshold. Null when there was
 * nothing to compare with, or the previous report cannot be read now.
 */
async function changesSincePrevious(ctx: RunContext, history: RunReport[]): Promise<RunReport['changes']> {
  const note = ctx.anomalies.find((a) => a.name === BASELINE_NOTE && a.status === 'passed');
  const runId = note?.details[0]?.runId;
  if (typeof runId !== 'string' || !ctx.facts) return null;
  try {
    const previous = await previousReport(ctx, history, runId);
    if (!previous) return null;
    const { tables, unchanged } = tableChanges(backupFactsOf(previous).rowCounts, ctx.facts.rowCounts);
    return {
      previousRunId: runId,
      tables,
      unchanged,
      dumpBytes: { previous: previous.dump?.bytes ?? null, current: ctx.dump?.bytes ?? null },
    };
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message, runId }, 'report: the previous run report is unreadable now');
    return null;
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

const LOCAL_ONLY = 'kept on this machine only: the run ended before a temporary instance was requested';

type Stored = NonNullable<RunReport['reports']['stored']>;

/** What the report stage has found so far: its failures, and which copies are in the store. */
interface Attempt {
  errors: OffsiteError[];
  stored: Stored | undefined;
}

function reportFailed(what: string, err: unknown): OffsiteError {
  return new OffsiteError('REPORT_FAILED', `${what}: ${(err as Error).message}`, {
    stage: 'report',
    cause: err,
  });
}

/**
 * report: the RunReport as JSON, Markdown and a self-contained HTML page, in the store (see
 * reportGoesToStore), beside the backups, so the history survives this machine, and locally.
 * Always runs; a failure here fails the run but never unpublishes a backup.
 *
 * The report describes its own writing, so every copy is rendered from what is known when it is
 * written: the stored copies say "succeeded" (true exactly when they exist), a copy written after
 * a failure says so, and the local copies are written last, from the outcome of storing.
 */
export async function writeRunReport(ctx: RunContext, outcome: StagesOutcome): Promise<RunReport> {
  const started = Date.now();
  ctx.reportPaths.html ??= ctx.reportPaths.json.replace(/\.json$/, '.html');
  const toStore = reportGoesToStore(ctx);
  // Trend charts need the store; a run that never reached it renders without them.
  const history = toStore ? await earlierRuns(ctx) : [];
  const extras: ReportExtras = {
    changes: await changesSincePrevious(ctx, history),
    storeEarlier: storeSizeEarlier(history, ctx.startedAt),
  };

  const render = (attempt: Attempt): RunReport => {
    const failed = attempt.errors.length > 0;
    const where = attempt.stored?.html ? `stored at ${attempt.stored.html}` : null;
    const stage: StageReport = {
      name: 'report',
      status: failed ? 'failed' : 'succeeded',
      durationMs: Date.now() - started,
      startedAt: new Date(started).toISOString(),
      message: failed ? attempt.errors.map((e) => e.message).join('; ') : toStore ? where : LOCAL_ONLY,
    };
    const report = buildRunReport(
      ctx,
      {
        status: failed && outcome.status === 'succeeded' ? 'failed' : outcome.status,
        stages: [...outcome.stages, stage],
        errors: [...outcome.errors, ...attempt.errors],
      },
      ctx.deps.now(),
      extras,
    );
    return attempt.stored ? { ...report, reports: { ...report.reports, stored: attempt.stored } } : report;
  };
  const json = (r: RunReport) => `${JSON.stringify(r, null, 2)}\n`;
  const page = (r: RunReport) => renderRunPage(r, history);

  const attempt: Attempt = { errors: [], stored: undefined };
  if (toStore) await storeCopies(ctx, attempt, render, json, page);

  const report = render(attempt);
  try {
    await writeAtomically(ctx.reportPaths.json, json(report));
    await writeAtomically(ctx.reportPaths.markdown, renderMarkdown(report));
    await writeAtomically(ctx.reportPaths.html, page(report));
  } catch (err) {
    attempt.errors.push(reportFailed('could not write the run report on this machine', err));
    const failed = render(attempt);
    ctx.log.error({ err: attempt.errors.at(-1)!.message }, 'report failed');
    // Best effort: the local JSON says what went wrong, if the disk takes it, and the stored
    // copies stop claiming a report that succeeded.
    await writeAtomically(ctx.reportPaths.json, json(failed)).catch(() => {});
    if (attempt.stored) await rewriteStoredCopies(ctx, attempt.stored, failed, json, page);
    return failed;
  }
  if (!toStore) ctx.log.info({ report: ctx.reportPaths.json }, `report ${LOCAL_ONLY}`);
  return report;
}

type Key = { key: string; url: string };

function storeKeys(ctx: RunContext): { json: Key; html: Key } {
  const { prefix } = ctx.config.store;
  const jsonKey = reportKey(prefix, ctx.config.name, ctx.runId);
  // The page beside the JSON: a person with bucket access reads it without offsite installed.
  const htmlKey = reportHtmlKey(prefix, ctx.config.name, ctx.runId);
  return {
    json: { key: jsonKey, url: ctx.deps.store.urlOf(jsonKey) },
    html: { key: htmlKey, url: ctx.deps.store.urlOf(htmlKey) },
  };
}

async function put(ctx: RunContext, key: string, text: string): Promise<void> {
  await ctx.deps.store.put(key, Buffer.from(text), Buffer.byteLength(text), AbortSignal.timeout(120_000));
}

/**
 * The HTML page first, then the JSON, each rendered as what will be true once it is stored: the
 * JSON (the record `offsite report` and the anomalies read) then tells whether its page made it.
 * When the JSON fails after the page was stored, the page is stored again saying so.
 */
async function storeCopies(
  ctx: RunContext,
  attempt: Attempt,
  render: (a: Attempt) => RunReport,
  json: (r: RunReport) => string,
  page: (r: RunReport) => string,
): Promise<void> {
  const keys = storeKeys(ctx);
  const hoped: Stored = { json: keys.json.url, html: keys.html.url };
  try {
    await put(ctx, keys.html.key, page(render({ errors: [], stored: hoped })));
  } catch (err) {
    attempt.errors.push(reportFailed(`could not store the report's HTML page at ${keys.html.url}`, err));
    hoped.html = null;
  }
  try {
    await put(ctx, keys.json.key, json(render({ errors: attempt.errors, stored: hoped })));
  } catch (err) {
    attempt.errors.push(reportFailed(`could not store the run report at ${keys.json.url}`, err));
    hoped.json = null;
    if (hoped.html) {
      const failed = render({ errors: attempt.errors, stored: hoped });
      await put(ctx, keys.html.key, page(failed)).catch((again: unknown) => {
        ctx.log.warn(
          { err: (again as Error).message },
          'the stored HTML page still says the report was stored',
        );
      });
    }
  }
  attempt.stored = hoped;
  for (const e of attempt.errors) ctx.log.error({ err: e.message }, 'report failed');
}

// After a local failure: the stored copies are written again as the failed report (best effort).
async function rewriteStoredCopies(
  ctx: RunContext,
  stored: Stored,
  failed: RunReport,
  json: (r: RunReport) => string,
  page: (r: RunReport) => string,
): Promise<void> {
  const keys = storeKeys(ctx);
  try {
    if (stored.html) await put(ctx, keys.html.key, page(failed));
    if (stored.json) await put(ctx, keys.json.key, json(failed));
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, 'the stored report still says the report succeeded');
  }
}
