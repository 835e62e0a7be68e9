import { stackOf, toOffsiteError } from '../classify/classify-error.ts';
import { type ErrorCode, OffsiteError } from '../errors.ts';
import type { StageName, StageReport } from '../report/run-report.ts';
import type { RunContext } from './run-context.ts';

/** One step of a run. `always` stages run even after a failure (teardown, report). */
export interface StageDefinition {
  name: StageName;
  always?: boolean;
  /** The error code given to an unexpected exception in this stage. */
  failureCode: ErrorCode;
  run(ctx: RunContext): Promise<'skipped' | undefined>;
}

/** The outcome of the stages, before the report is written. */
export interface StagesOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  stages: StageReport[];
  errors: OffsiteError[];
}

/**
 * Runs the stages in order and never throws: the first failure turns the remaining stages into
 * `not-run`, except `always` stages; then every resource still on the teardown stack is
 * released. Errors are collected, the first one is the run's error, none hides another.
 */
export async function runStages(ctx: RunContext, stages: StageDefinition[]): Promise<StagesOutcome> {
  const reports: StageReport[] = [];
  const errors: OffsiteError[] = [];

  for (const stage of stages) {
    if (errors.length > 0 && !stage.always) {
      reports.push({ name: stage.name, status: 'not-run', durationMs: 0, startedAt: null, message: null });
      ctx.progress?.update(stage.name, { state: 'not-run' });
      continue;
    }
    ctx.progress?.update(stage.name, { state: 'running' });
    const report = await runOne(ctx, stage, errors);
    ctx.progress?.update(stage.name, { state: report.status, message: report.message ?? undefined });
    reports.push(report);
  }

  for (const failure of await ctx.teardown.releaseAll()) {
    // A releaser a stage ran early (the teardown stage) and that failed there is already reported.
    if (errors.some((e) => e === failure.error || e.cause === failure.error)) continue;
    const err = releaseError(failure.label, failure.error);
    ctx.log.error({ code: err.code, err: err.message, hint: err.hint }, 'teardown failed');
    errors.push(err);
  }

  const status = ctx.signal.aborted ? 'cancelled' : errors.length > 0 ? 'failed' : 'succeeded';
  return { status, stages: reports, errors };
}

async function runOne(ctx: RunContext, stage: StageDefinition, errors: OffsiteError[]): Promise<StageReport> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  ctx.log.info({ stage: stage.name }, `stage ${stage.name} started`);
  try {
    if (ctx.signal.aborted && !stage.always) throw cancelled(stage.name);
    const result = await stage.run(ctx);
    const status = result === 'skipped' ? 'skipped' : 'succeeded';
    const durationMs = Date.now() - started;
    ctx.log.info({ stage: stage.name, status, durationMs }, `stage ${stage.name} ${status}`);
    return { name: stage.name, status, durationMs, startedAt, message: null };
  } catch (thrown) {
    const err = ctx.signal.aborted && !(thrown instanceof OffsiteError) ? cancelled(stage.name) : thrown;
    // Expected failures (network, permissions, a wrong database…) get their own code and a hint
    // (src/classify-error.ts); a bug is INTERNAL, and its stack is logged.
    const error = toOffsiteError(err, stage.failureCode, stage.name);
    errors.push(error);
    const durationMs = Date.now() - started;
    ctx.log.error(
      { stage: stage.name, code: error.code, err: error.message, hint: error.hint, durationMs },
      `stage ${stage.name} failed`,
    );
    if (error.code === 'INTERNAL') ctx.log.error({ stage: stage.name, stack: stackOf(error) }, 'stack');
    else ctx.log.debug({ stage: stage.name, stack: stackOf(error) }, 'stack');
    return { name: stage.name, status: 'failed', durationMs, startedAt, message: error.message };
  }
}

function cancelled(stage: string): OffsiteError {
  return new OffsiteError('CANCELLED', 'the run was interrupted', { stage });
}

/**
 * A release failure as the run reports it: a TEARDOWN_FAILED of the release itself (which names
 * the resource and says how to remove it by hand) is kept whole; anything else is wrapped,
 * keeping its hint.
 */
function releaseError(label: string, error: unknown): OffsiteError {
  if (error instanceof OffsiteError && error.code === 'TEARDOWN_FAILED') {
    error.stage ??= 'teardown';
    return error;
  }
  return new OffsiteError('TEARDOWN_FAILED', `could not release ${label}: ${messageOf(error)}`, {
    stage: 'teardown',
    cause: error,
    hint: error instanceof OffsiteError ? error.hint : undefined,
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
