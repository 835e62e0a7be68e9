import type { Progress } from '../pipeline/progress.ts';
import type { Log } from '../pipeline/run-context.ts';
import { StageTracker } from './progress-text.ts';

/**
 * Progress as plain log lines, for a run without a terminal (cron, systemd): a line per running
 * stage at most every `everyMs`, through the run's logger (so it names the pipeline and run).
 * Stage starts and ends are logged by the stage runner already.
 */
export function progressLines(log: Log, everyMs = 30_000, now = () => Date.now()): Progress {
  const stages = new Map<string, { tracker: StageTracker; loggedAt: number }>();
  return {
    update(stage, progress) {
      let entry = stages.get(stage);
      if (!entry) {
        entry = { tracker: new StageTracker(), loggedAt: 0 };
        stages.set(stage, entry);
      }
      const at = now();
      entry.tracker.update(progress, at);
      if (progress.state === 'running') entry.loggedAt = at;
      if (entry.tracker.state !== 'running' || progress.state !== undefined || at - entry.loggedAt < everyMs)
        return;
      entry.loggedAt = at;
      log.info({ stage, progress: entry.tracker.progress }, `${stage}: ${entry.tracker.text(at)}`);
    },
  };
}
