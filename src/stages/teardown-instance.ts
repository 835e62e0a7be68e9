import { OffsiteError } from '../errors.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';

/**
 * Deletes the temporary instance and waits until RDS no longer lists it. Runs with its own
 * time limit and ignores the run's cancellation: an interrupted run must still clean up.
 */
export async function deleteTemporaryInstance(ctx: RunContext, id: string): Promise<void> {
  const temp = ctx.config.source.tempInstance;
  const signal = AbortSignal.timeout(temp.deleteTimeoutMinutes * 60_000);
  const pollMs = temp.pollIntervalSeconds * 1000;
  let requested = false;
  let status = 'unknown';
  ctx.log.info({ instance: id }, 'deleting temporary instance');
  try {
    for (;;) {
      if (!requested) {
        const outcome = await ctx.deps.rds.deleteInstance(id, signal);
        requested = outcome !== 'busy';
        if (outcome === 'busy') ctx.log.info({ instance: id }, 'instance busy, retrying delete');
      }
      if (requested) {
        const info = await ctx.deps.rds.describeInstance(id, signal);
        if (info === null) break;
        status = info.status;
      }
      await ctx.deps.sleep(pollMs, signal);
    }
  } catch (err) {
    // Our own time limit reads better as what RDS last said than as an aborted request.
    const why = signal.aborted
      ? `${requested ? `still ${status}` : 'RDS still refused the delete as busy'} after ${temp.deleteTimeoutMinutes} min (source.tempInstance.deleteTimeoutMinutes)`
      : (err as Error).message;
    throw new OffsiteError('TEARDOWN_FAILED', `temporary instance ${id} may still exist: ${why}`, {
      stage: 'teardown',
      cause: err,
      hint: `delete it by hand: aws rds delete-db-instance --db-instance-identifier ${id} --skip-final-snapshot --delete-automated-backups`,
    });
  }
  if (ctx.instance?.id === id) ctx.instance.deletedAt = ctx.deps.now();
  ctx.log.info({ instance: id }, 'temporary instance deleted');
}

/** teardown: delete the temporary instance as soon as dump and facts are taken, and after any failure. */
export const teardownStage: StageDefinition = {
  name: 'teardown',
  always: true,
  failureCode: 'TEARDOWN_FAILED',
  async run(ctx) {
    if (!ctx.instance) return 'skipped';
    await ctx.instance.releaser.release();
    return undefined;
  },
};
