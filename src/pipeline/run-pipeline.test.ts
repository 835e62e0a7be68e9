import { describe, expect, it } from 'vitest';
import { OffsiteError } from '../errors.ts';
import type { StageName } from '../report/run-report.ts';
import type { Log, RunContext } from './run-context.ts';
import { runStages, type StageDefinition } from './run-pipeline.ts';
import { TeardownStack } from './teardown-stack.ts';

interface LogLine {
  level: 'info' | 'warn' | 'error' | 'debug';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** The part of a RunContext the stage runner reads: a log, the run's signal, the teardown stack. */
function fakeContext(signal = new AbortController().signal) {
  const lines: LogLine[] = [];
  const record =
    (level: LogLine['level']) =>
    (obj: object, msg?: string): void =>
      void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const log: Log = {
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    debug: record('debug'),
  };
  const teardown = new TeardownStack();
  // Fake stages touch nothing else of the context.
  const ctx = { log, signal, teardown, checks: [], anomalies: [] } as unknown as RunContext;
  return { ctx, lines, teardown };
}

/** A stage that records that it ran, then does `body`. */
function stage(
  name: StageName,
  ran: string[],
  body: (ctx: RunContext) => Promise<'skipped' | undefined> = async () => undefined,
  opts: { always?: boolean } = {},
): StageDefinition {
  return {
    name,
    always: opts.always,
    failureCode: 'INTERNAL',
    async run(ctx) {
      ran.push(name);
      return body(ctx);
    },
  };
}

const statuses = (outcome: { stages: { name: string; status: string }[] }) =>
  outcome.stages.map((s) => `${s.name}:${s.status}`);

describe('runStages', () => {
  it('runs every stage in order when none fails; a skipped stage is not a failure', async () => {
    const { ctx } = fakeContext();
    const ran: string[] = [];
    const outcome = await runStages(ctx, [
      stage('locate', ran),
      stage('anomalies', ran, async () => 'skipped'),
      stage('upload', ran),
    ]);
    expect(ran).toEqual(['locate', 'anomalies', 'upload']);
    expect(outcome.status).toBe('succeeded');
    expect(statuses(outcome)).toEqual(['locate:succeeded', 'anomalies:skipped', 'upload:succeeded']);
    expect(outcome.errors).toEqual([]);
  });

  it('after a failure only always-stages run; the others are not-run; the error gets the stage code and name', async () => {
    const { ctx, lines } = fakeContext();
    const ran: string[] = [];
    const failing: StageDefinition = {
      ...stage('dump', ran, async () => {
        throw new Error('pg_dump exited 1');
      }),
      failureCode: 'DUMP_FAILED',
    };
    const outcome = await runStages(ctx, [
      stage('source-facts', ran),
      failing,
      stage('teardown', ran, async () => undefined, { always: true }),
      stage('restore-test', ran),
      stage('upload', ran),
    ]);
    expect(ran).toEqual(['source-facts', 'dump', 'teardown']);
    expect(outcome.status).toBe('failed');
    expect(statuses(outcome)).toEqual([
      'source-facts:succeeded',
      'dump:failed',
      'teardown:succeeded',
      'restore-test:not-run',
      'upload:not-run',
    ]);
    expect(outcome.stages[1]?.message).toBe('pg_dump exited 1');
    expect(outcome.stages[3]).toMatchObject({ startedAt: null, durationMs: 0, message: null });
    expect(outcome.errors.map((e) => [e.stage, e.code, e.message])).toEqual([
      ['dump', 'DUMP_FAILED', 'pg_dump exited 1'],
    ]);
    expect(lines.find((l) => l.msg === 'stage dump failed')?.obj).toMatchObject({ code: 'DUMP_FAILED' });
  });

  it('an OffsiteError thrown by a stage keeps its own code and hint', async () => {
    const { ctx } = fakeContext();
    const outcome = await runStages(ctx, [
      {
        ...stage('restore', []),
        failureCode: 'RESTORE_FAILED',
        async run() {
          throw new OffsiteError('GUARD_FAILED', 'refusing to dump', { hint: 'only our own instance' });
        },
      },
    ]);
    expect(outcome.errors[0]).toMatchObject({
      code: 'GUARD_FAILED',
      stage: 'restore',
      hint: 'only our own instance',
    });
  });

  it('cancellation mid-stage: that stage fails CANCELLED, later stages are not-run, always-stages still run', async () => {
    const controller = new AbortController();
    const { ctx, teardown } = fakeContext(controller.signal);
    const ran: string[] = [];
    let released = false;
    teardown.push('temporary instance', async () => {
      released = true;
    });
    let signalInTeardown: boolean | undefined;
    const outcome = await runStages(ctx, [
      stage('restore', ran, async (c) => {
        // Waits like a stage polling RDS, woken by the run's signal (as Deps.sleep is).
        const waiting = new Promise<never>((_, reject) => {
          c.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        });
        controller.abort();
        return waiting;
      }),
      stage('source-facts', ran),
      stage(
        'teardown',
        ran,
        async (c) => {
          signalInTeardown = c.signal.aborted;
          return undefined;
        },
        { always: true },
      ),
      stage('upload', ran),
    ]);
    expect(ran).toEqual(['restore', 'teardown']);
    expect(signalInTeardown).toBe(true);
    expect(released).toBe(true);
    expect(outcome.status).toBe('cancelled');
    expect(statuses(outcome)).toEqual([
      'restore:failed',
      'source-facts:not-run',
      'teardown:succeeded',
      'upload:not-run',
    ]);
    expect(outcome.errors.map((e) => [e.stage, e.code])).toEqual([['restore', 'CANCELLED']]);
  });

  it('a stage started after the signal fired is cancelled without running', async () => {
    const controller = new AbortController();
    controller.abort();
    const { ctx } = fakeContext(controller.signal);
    const ran: string[] = [];
    const outcome = await runStages(ctx, [
      stage('locate', ran),
      stage('report', ran, undefined, { always: true }),
    ]);
    expect(ran).toEqual(['report']);
    expect(outcome.status).toBe('cancelled');
    expect(outcome.errors.map((e) => [e.stage, e.code])).toEqual([['locate', 'CANCELLED']]);
  });

  it('several release failures: all reported after the first error, newest resource first, hints kept, none twice', async () => {
    const { ctx, lines, teardown } = fakeContext();
    const released: string[] = [];
    teardown.push('work directory', async () => {
      released.push('work directory');
      throw new Error('EBUSY: resource busy or locked');
    });
    const instance = teardown.push('temporary instance offsite-x', async () => {
      released.push('temporary instance');
      throw new OffsiteError(
        'TEARDOWN_FAILED',
        'temporary instance offsite-x may still exist: AccessDenied',
        {
          hint: 'delete it by hand: aws rds delete-db-instance --db-instance-identifier offsite-x',
        },
      );
    });
    teardown.push('scratch database', async () => {
      released.push('scratch database');
      throw new OffsiteError('SCRATCH_FAILED', 'could not drop the scratch database', {
        hint: 'drop offsite_restore_x by hand',
      });
    });
    const outcome = await runStages(ctx, [
      {
        ...stage('dump', []),
        failureCode: 'DUMP_FAILED',
        async run() {
          throw new Error('pg_dump exited 1');
        },
      },
      // The teardown stage releases the instance early; its failure is reported once, by the stage.
      {
        ...stage('teardown', [], undefined, { always: true }),
        failureCode: 'TEARDOWN_FAILED',
        async run() {
          await instance.release();
          return undefined;
        },
      },
    ]);

    expect(released).toEqual(['temporary instance', 'scratch database', 'work directory']);
    expect(outcome.status).toBe('failed');
    expect(outcome.errors.map((e) => [e.stage, e.code, e.message, e.hint])).toEqual([
      ['dump', 'DUMP_FAILED', 'pg_dump exited 1', undefined],
      [
        'teardown',
        'TEARDOWN_FAILED',
        'temporary instance offsite-x may still exist: AccessDenied',
        'delete it by hand: aws rds delete-db-instance --db-instance-identifier offsite-x',
      ],
      [
        'teardown',
        'TEARDOWN_FAILED',
        'could not release scratch database: could not drop the scratch database',
        'drop offsite_restore_x by hand',
      ],
      [
        'teardown',
        'TEARDOWN_FAILED',
        'could not release work directory: EBUSY: resource busy or locked',
        undefined,
      ],
    ]);
    // Each failure reaches the log with what to do about it.
    expect(lines.filter((l) => l.level === 'error').map((l) => l.obj.hint)).toEqual([
      undefined,
      'delete it by hand: aws rds delete-db-instance --db-instance-identifier offsite-x',
      'drop offsite_restore_x by hand',
      undefined,
    ]);
  });

  it('a releaser that throws its own TEARDOWN_FAILED is reported as it is, not wrapped again', async () => {
    const { ctx, teardown } = fakeContext();
    const own = new OffsiteError('TEARDOWN_FAILED', 'temporary instance offsite-y may still exist: timeout', {
      hint: 'delete it by hand',
    });
    teardown.push('temporary instance offsite-y', async () => {
      throw own;
    });
    const outcome = await runStages(ctx, [stage('locate', [])]);
    expect(outcome.errors).toEqual([own]);
    expect(own.stage).toBe('teardown');
  });

  it('release failures alone fail a run whose stages all succeeded', async () => {
    const { ctx, teardown } = fakeContext();
    teardown.push('scratch database', async () => {
      throw new Error('connection refused');
    });
    const outcome = await runStages(ctx, [stage('locate', [])]);
    expect(outcome.status).toBe('failed');
    expect(outcome.errors.map((e) => e.code)).toEqual(['TEARDOWN_FAILED']);
  });
});
