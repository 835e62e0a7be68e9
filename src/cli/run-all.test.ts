import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../errors.ts';
import { combinedOutcome, type PipelineRun, summaryTable } from './run-all.ts';

function run(pipeline: string, code: ErrorCode | null, extra: Partial<PipelineRun> = {}): PipelineRun {
  return {
    pipeline,
    file: `pipelines/${pipeline}.yaml`,
    status: code === null ? 'succeeded' : code === 'CANCELLED' ? 'cancelled' : 'failed',
    code,
    message: code === null ? null : `${code} happened`,
    durationMs: 61_000,
    backupId: code === null ? `20261125t031000z-${pipeline}` : null,
    bytesUploaded: code === null ? 2048 : null,
    report: `reports/${pipeline}.json`,
    ...extra,
  };
}

describe('offsite run --all: one exit code for many runs', () => {
  it('is ok only when every pipeline succeeded', () => {
    expect(combinedOutcome([run('a', null), run('b', null)])).toBe('ok');
    expect(combinedOutcome([run('a', null), run('b', 'RUN_LOCKED')])).toEqual({ failed: 'RUN_LOCKED' });
  });

  it('takes the most severe failure: interrupted, then failed, access denied, precondition, usage, unreachable, locked', () => {
    const order: ErrorCode[] = [
      'CANCELLED',
      'VERIFY_MISMATCH',
      'ACCESS_DENIED',
      'CREDENTIALS_MISSING',
      'CONFIG_INVALID',
      'UNREACHABLE',
      'RUN_LOCKED',
    ];
    for (let i = 0; i < order.length; i++) {
      // Every less severe code, in any order around it, loses to order[i].
      const runs = [...order.slice(i + 1).reverse(), order[i]!, ...order.slice(i + 1)].map((c, n) =>
        run(`p${n}`, c),
      );
      expect(combinedOutcome(runs), order[i]).toEqual({ failed: order[i] });
    }
  });
});

describe('the summary table', () => {
  it('has one row per pipeline in columns, then the verdict', () => {
    const text = summaryTable([
      run('app-prod', null),
      run('billing', 'CREDENTIALS_MISSING', {
        report: null,
        message: 'a secret is not set\n  store.x: export it',
      }),
    ]);
    expect(text).toBe(
      [
        'pipeline  status     code                 time        uploaded  backup / report',
        'app-prod  succeeded  -                    1 min 01 s  2.00 KiB  20261125t031000z-app-prod',
        'billing   failed     CREDENTIALS_MISSING  1 min 01 s  -         a secret is not set',
        'offsite run --all: 1/2 pipelines backed up',
        '',
      ].join('\n'),
    );
  });
});
