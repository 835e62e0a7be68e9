import type { Log } from '../pipeline/run-context.ts';

// The one place offsite listens to signals. A signal never exits the process: it aborts the
// work, the command cleans up (the temporary instance is still deleted) and returns, and
// main.ts maps the CANCELLED that follows to exit 130.
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** An AbortSignal that fires on the first SIGINT or SIGTERM; later ones are logged and ignored. */
export function interruptSignal(log: Log): AbortSignal {
  const controller = new AbortController();
  for (const sig of SIGNALS) {
    process.on(sig, () => {
      if (!controller.signal.aborted) log.warn({ signal: sig }, 'interrupted: cleaning up before exit');
      controller.abort();
    });
  }
  return controller.signal;
}
