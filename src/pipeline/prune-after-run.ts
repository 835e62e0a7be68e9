// retention.pruneAfterRun: the nightly run prunes once its backup is published, under the run
// lock it already holds. A prune failure is the report's news, never the run's: the backup is
// published and verified, so the status stays succeeded and the exit code 0 (a deploy script
// that stops a release on a non-zero exit must not stop it for a prune); the report's prune
// section and a warning (Markdown, HTML, notifications) say what failed.
import { toOffsiteError } from '../classify/classify-error.ts';
import type { RunReport } from '../report/run-report.ts';
import type { RunContext } from './run-context.ts';
import { runPrune } from './run-prune.ts';

/** Prunes the pipeline's store after a published backup; never throws. */
export async function pruneAfterRun(ctx: RunContext): Promise<NonNullable<RunReport['prune']>> {
  try {
    const r = await runPrune(ctx.config, ctx.deps.store, {
      dryRun: false,
      now: ctx.deps.now,
      log: ctx.log,
      signal: ctx.signal,
      locked: true,
    });
    return {
      status: 'succeeded',
      kept: r.kept.length,
      deleted: r.deleted,
      trashPurged: r.trashPurged,
      packsDeleted: r.packs.deleted.length,
      packsRepacked: r.packs.repacked.length,
      packsSkippedLocked: r.packs.skippedLocked.length,
      bytesFreed: r.bytesFreed,
      error: null,
    };
  } catch (err) {
    const e = toOffsiteError(err, 'INTERNAL', 'prune');
    ctx.log.warn(
      { code: e.code, err: e.message, hint: e.hint },
      'prune after the run failed; the backup is published',
    );
    return {
      status: 'failed',
      kept: 0,
      deleted: [],
      trashPurged: [],
      packsDeleted: 0,
      packsRepacked: 0,
      packsSkippedLocked: 0,
      bytesFreed: 0,
      error: { stage: 'prune', code: e.code, message: e.message, ...(e.hint && { hint: e.hint }) },
    };
  }
}
