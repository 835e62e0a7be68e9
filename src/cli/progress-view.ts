import { Listr, ListrLogger, type ListrTaskWrapper, ProcessOutput } from 'listr2';
import type { Progress } from '../pipeline/progress.ts';
import type { StageName } from '../report/run-report.ts';
import { StageTracker } from './progress-text.ts';

// The live view of runs on a terminal, drawn by listr2 (maintained, renders nested task lists
// with spinners and in-place updates, and can draw on stderr so stdout stays for --json). It
// only listens: stages report through the Progress port and never see listr2.

type Wrapper = ListrTaskWrapper<unknown, never, never>;

interface StageEntry {
  tracker: StageTracker;
  task: Wrapper | null;
  ended: Promise<void>;
  end(): void;
}

/** A live view of one or more runs; stop() ends it and leaves its last state on the terminal. */
export interface ProgressView {
  /** The Progress a run of `pipeline` reports to. */
  progressOf(pipeline: string): Progress;
  /** Ends the view: stages that never started are shown as such. */
  stop(): Promise<void>;
}

const REFRESH_MS = 1000;

/** Starts a view of the runs of `pipelines`, each through `stages`, drawn on `stream`. */
export function startProgressView(
  pipelines: string[],
  stages: StageName[],
  stream: NodeJS.WriteStream = process.stderr,
): ProgressView {
  const runs = new Map<string, Map<StageName, StageEntry>>();
  for (const pipeline of pipelines) {
    const entries = new Map<StageName, StageEntry>();
    for (const stage of stages) {
      let end = () => {};
      const ended = new Promise<void>((resolve) => {
        end = resolve;
      });
      entries.set(stage, { tracker: new StageTracker(), task: null, ended, end });
    }
    runs.set(pipeline, entries);
  }
  // Work a later stage starts early runs behind the stage on screen (the upload's chunks travel
  // while the restore test runs): until its own row starts, it is shown on the running row.
  const show = (stage: StageName, e: StageEntry, entries: Map<StageName, StageEntry>) => {
    if (!e.task) return;
    const now = Date.now();
    const text = e.tracker.text(now);
    const behind =
      e.tracker.state === 'running'
        ? [...entries]
            .filter(([, b]) => !b.task && b.tracker.progress.status !== undefined)
            .map(([name, b]) => `  ‖ ${name} (in the background): ${b.tracker.text(now)}`)
        : [];
    e.task.title = `${text ? `${stage}  ${text}` : stage}${behind.join('')}`;
  };
  const showRunning = (entries: Map<StageName, StageEntry>) => {
    for (const [stage, e] of entries) if (e.tracker.state === 'running') show(stage, e, entries);
  };
  const list = new Listr(
    pipelines.map((pipeline) => ({
      title: pipeline,
      task: (_: unknown, task: Wrapper) =>
        task.newListr(
          stages.map((stage) => ({
            title: stage,
            task: async (_c: unknown, t: Wrapper) => {
              const entries = runs.get(pipeline)!;
              const e = entries.get(stage)!;
              e.task = t;
              show(stage, e, entries);
              await e.ended;
              show(stage, e, entries);
              const { state, message } = e.tracker.progress;
              if (state === 'failed') throw new Error(`${stage}  ${e.tracker.text(Date.now())}`);
              if (state === 'skipped') t.skip(`${stage}  skipped${message ? `: ${message}` : ''}`);
              if (state === 'not-run' || state === undefined) t.skip(`${stage}  not run`);
            },
          })),
          { concurrent: false, exitOnError: false },
        ),
    })),
    {
      concurrent: true,
      exitOnError: false,
      // Signals are cli/signals.ts's: listr2 must not exit the process on Ctrl-C.
      registerSignalListeners: false,
      renderer: 'default',
      fallbackRendererCondition: false,
      rendererOptions: {
        collapseSubtasks: false,
        // Drawn on `stream` (stderr): stdout is the --json report's alone. Log lines written
        // to it meanwhile are held and printed below the view when it ends.
        logger: new ListrLogger({
          useIcons: true,
          toStderr: [],
          processOutput: new ProcessOutput(stream, stream),
        }),
      },
    },
  );
  const running = list.run().catch(() => {});
  // Elapsed times, rates and ETAs move between updates.
  const timer = setInterval(() => {
    for (const entries of runs.values()) showRunning(entries);
  }, REFRESH_MS);
  timer.unref();
  return {
    progressOf(pipeline) {
      const entries = runs.get(pipeline);
      return {
        update(stage, progress) {
          const e = entries?.get(stage);
          if (!entries || !e) return;
          e.tracker.update(progress, Date.now());
          if (e.task) show(stage, e, entries);
          else showRunning(entries);
          if (progress.state && progress.state !== 'running') e.end();
        },
      };
    },
    async stop() {
      clearInterval(timer);
      for (const entries of runs.values()) for (const e of entries.values()) e.end();
      await running;
    },
  };
}
