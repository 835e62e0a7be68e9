import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OffsiteError } from '../errors.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { StagesOutcome } from '../pipeline/run-pipeline.ts';
import { buildRunReport } from '../report/build-report.ts';
import { renderMarkdown } from '../report/markdown.ts';
import type { RunReport, StageReport } from '../report/run-report.ts';
import { reportKey } from '../store/layout.ts';

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, text, { mode: 0o640 });
  await rename(`${path}.tmp`, path);
}

/**
 * report: the RunReport as JSON and Markdown, locally and in the store (beside the backups, so
 * the history survives this machine). Always runs; a failure here fails the run but never
 * unpublishes a backup.
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
  let report = buildRunReport(ctx, withStage, ctx.deps.now());
  try {
    const json = `${JSON.stringify(report, null, 2)}\n`;
    await writeAtomically(ctx.reportPaths.json, json);
    await writeAtomically(ctx.reportPaths.markdown, renderMarkdown(report));
    const key = reportKey(ctx.config.store.prefix, ctx.config.name, ctx.runId);
    await ctx.deps.store.put(key, Buffer.from(json), Buffer.byteLength(json), AbortSignal.timeout(120_000));
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
