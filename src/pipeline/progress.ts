import type { StageName } from '../report/run-report.ts';

/** Where a stage is. Every field is optional: a view shows what it was told, and keeps the rest. */
export interface StageProgress {
  /** Set by the stage runner: running at the start, then how the stage ended. */
  state?: 'running' | 'succeeded' | 'failed' | 'skipped' | 'not-run';
  /** What the stage is doing now, in a few words: "the restore: creating", "pg_restore", "checks". */
  status?: string;
  /** Units done of `total`, counted in `unit` (tables, checks). */
  done?: number;
  total?: number;
  unit?: string;
  /** Bytes handled so far, of `totalBytes` when known (rate and ETA are the view's to compute). */
  bytes?: number;
  totalBytes?: number;
  /** Why a stage failed or was skipped. */
  message?: string;
}

/**
 * How stages report progress, without knowing who listens: a live terminal view, plain log
 * lines, or nothing. Updates are cheap and may come often; a listener keeps the latest.
 */
export interface Progress {
  update(stage: StageName, progress: StageProgress): void;
}

/** Progress nobody listens to. */
export const NO_PROGRESS: Progress = { update() {} };

/**
 * Calls `report` every `ms` until the returned stop() (which reports once more): for work whose
 * progress is a number to read (bytes in a directory, a writer's counters), not an event.
 */
export function reportEvery(ms: number, report: () => void | Promise<void>): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running.then(report).catch(() => {});
  };
  const timer = setInterval(tick, ms);
  // A progress timer must never keep a finished process alive.
  timer.unref();
  return async () => {
    clearInterval(timer);
    tick();
    await running;
  };
}
