import { OffsiteError } from '../errors.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { CheckReport } from '../report/run-report.ts';

/** What the restore-test checks said, as a published backup records it. */
export interface RestoreTestVerdict {
  /** The only verdict a published backup can carry (the manifest schema allows nothing else). */
  status: 'passed';
  passed: number;
  warned: number;
  skipped: number;
}

/**
 * The verdict of the checks a backup is about to be published with. A failed check never reaches
 * upload (the restore test throws first), so one here, or no checks at all, is a bug in offsite:
 * refusing to publish is the only safe answer.
 */
export function restoreTestVerdict(checks: readonly CheckReport[]): RestoreTestVerdict {
  const count = (status: CheckReport['status']) => checks.filter((c) => c.status === status).length;
  const failed = checks.filter((c) => c.status === 'failed');
  if (failed.length > 0) {
    throw new OffsiteError(
      'INTERNAL',
      `refusing to publish: restore-test checks failed (${failed.map((c) => c.name).join(', ')}) yet the upload was reached`,
      { hint: 'this is a bug in offsite; nothing was published' },
    );
  }
  if (count('passed') === 0) {
    throw new OffsiteError('INTERNAL', 'refusing to publish: no restore-test check passed', {
      hint: 'this is a bug in offsite; nothing was published',
    });
  }
  return { status: 'passed', passed: count('passed'), warned: count('warned'), skipped: count('skipped') };
}

/** The restore test's record, stored beside the manifest, which carries its hash. */
export function restoreTestRecord(ctx: RunContext, backupId: string, verdict: RestoreTestVerdict) {
  const restoreTest = ctx.restoreTest;
  if (!restoreTest) throw new OffsiteError('INTERNAL', 'refusing to publish: the restore test did not run');
  return {
    backupId,
    runId: ctx.runId,
    ...verdict,
    durationMs: restoreTest.durationMs,
    scratchServerVersion: restoreTest.scratchServerVersion,
    checks: ctx.checks,
  };
}
