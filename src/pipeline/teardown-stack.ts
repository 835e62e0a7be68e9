/** One resource's release: runs at most once, whoever calls it first. */
export interface Releaser {
  readonly label: string;
  readonly done: boolean;
  release(): Promise<void>;
}

/**
 * A LIFO stack of releasers, pushed the moment a resource exists (before the call that creates
 * it returns, where that call can fail half-way). Every releaser runs once; a failing one does
 * not stop the others, and all failures are returned so none hides the run's original error.
 */
export class TeardownStack {
  readonly #items: Releaser[] = [];

  /** Registers a release function and returns a handle to run it early. */
  push(label: string, fn: () => Promise<void>): Releaser {
    let promise: Promise<void> | undefined;
    const item: Releaser = {
      label,
      get done() {
        return promise !== undefined;
      },
      release() {
        promise ??= fn();
        return promise;
      },
    };
    this.#items.push(item);
    return item;
  }

  /** Runs every releaser not run yet, newest first; returns the failures. */
  async releaseAll(): Promise<{ label: string; error: unknown }[]> {
    const failures: { label: string; error: unknown }[] = [];
    for (const item of [...this.#items].reverse()) {
      try {
        await item.release();
      } catch (error) {
        failures.push({ label: item.label, error });
      }
    }
    return failures;
  }
}
