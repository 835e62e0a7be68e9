import type { RunContext } from './run-context.ts';

/**
 * Work a stage starts early for a later stage to wait for (the dump beside the source facts, the
 * chunk upload beside the restore test), at most once per run. Its error is kept for the stage
 * that waits; a run that fails first stops it through the teardown, which waits for it to end
 * before anything it reads (the work directory) is removed.
 */
export class BackgroundWork<T> {
  readonly #started = new WeakMap<RunContext, Promise<T>>();

  readonly #label: string;

  constructor(label: string) {
    this.#label = label;
  }

  /** Starts `work` unless this run already did. */
  start(ctx: RunContext, work: (signal: AbortSignal) => Promise<T>): void {
    if (this.#started.has(ctx)) return;
    const stop = new AbortController();
    const running = work(AbortSignal.any([ctx.signal, stop.signal]));
    running.catch(() => {}); // handled by the stage that waits, or dropped with a run that failed earlier
    this.#started.set(ctx, running);
    ctx.teardown.push(this.#label, async () => {
      stop.abort();
      await running.catch(() => {});
    });
  }

  /** The work this run started, or `work` run now when nothing started it. */
  result(ctx: RunContext, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.#started.get(ctx) ?? work(ctx.signal);
  }
}
