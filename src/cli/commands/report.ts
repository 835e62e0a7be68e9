import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openStore } from '../../adapters/create-deps.ts';
import { OffsiteError } from '../../errors.ts';
import { type DrillReport, lastPassedDrills, readDrills } from '../../recovery/drill-report.ts';
import { formatBytes, formatDuration } from '../../report/format.ts';
import { type RunSummary, readRunHistory, summarizeRun } from '../../report/history.ts';
import { renderIndexPage } from '../../report/html/index-page.ts';
import { renderRunPage } from '../../report/html/run-page.ts';
import { renderMarkdown } from '../../report/markdown.ts';
import type { RunReport } from '../../report/run-report.ts';
import { emptyLocationError, pipelineLocation, readingLocation } from '../../store/store-location.ts';
import { checkDate, loadStorePipelineFor, onePipeline } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

function table(summaries: RunSummary[]): string {
  const head = [
    'date',
    'snapshot',
    'status',
    'checks ok/failed',
    'changes',
    'dump',
    'restore',
    'duration',
    'last drill',
    'run',
  ];
  const rows = summaries.map((s) => [
    s.date,
    s.snapshotId ?? '—',
    s.status + (s.published ? '' : ' (not published)'),
    `${s.checks.passed}/${s.checks.failed}`,
    String(s.anomalies.warned + s.anomalies.failed),
    formatBytes(s.dumpBytes),
    formatDuration(s.restoreMs),
    formatDuration(s.durationMs),
    s.lastDrill?.slice(0, 10) ?? (s.published ? 'never' : '—'),
    s.runId,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

// The page of a run is named after its run id: unique, sortable, safe as a file name.
const pageName = (r: RunReport) => `${r.runId}.html`;

async function writeHtml(
  dir: string,
  pipeline: string,
  all: RunReport[],
  shown: RunReport[],
  drills: DrillReport[],
): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const r of shown) {
    await writeFile(join(dir, pageName(r)), renderRunPage(r, all, { index: 'index.html' }, drills));
  }
  const index = join(dir, 'index.html');
  await writeFile(index, renderIndexPage(pipeline, shown, pageName));
  return index;
}

/** offsite report: the run history of a pipeline, read from the store. */
export const command: Command = {
  summary: "the history of the pipeline's runs, read from the store",
  help: {
    usage: 'offsite report <pipeline> [--date YYYY-MM-DD] [--html DIR] [--json]',
    about: `List the pipeline's runs, read from the store (date, snapshot, status, checks, changes, dump
size, restore time, duration, the last offsite drill that proved the run's backup restorable from
the store), so the history outlives the machine that made it. --date shows
one day's run as Markdown; --html writes an index page and one page per run.`,
    flags: [
      ['--date YYYY-MM-DD', 'show the latest run of that snapshot date (a rerun supersedes the nightly run)'],
      ['--html DIR', 'also write DIR/index.html and one self-contained page per run'],
      ['--json', 'print the history (or, with --date, that RunReport) as JSON on stdout'],
    ],
    examples: [
      'offsite report app-prod',
      'offsite report app-prod --date 2026-11-24 --html /tmp/offsite-report',
    ],
    exits: [
      [0, 'the history was printed'],
      [1, 'the store could not be read'],
      [2, 'bad usage or an invalid pipeline file'],
      [3, 'the store credentials are missing, or no run of --date is in the store'],
      [4, 'the store could not be reached'],
      [5, 'the store refused the key'],
      [7, 'no runs at the store location (it names the location and the likely cause)'],
    ],
  },
  async run({ args, log, signal }) {
    const { values, positionals } = parseArgsOrUsage(
      {
        args,
        allowPositionals: true,
        options: {
          date: { type: 'string' },
          html: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      },
      'offsite report --help',
    );
    const pipeline = onePipeline(positionals, 'report');
    checkDate(values.date);
    const config = await loadStorePipelineFor(pipeline, log);
    const store = await openStore(config, { signal });
    const where = { prefix: config.store.prefix, pipeline: config.name, lookingFor: 'runs' as const, signal };
    const { reports, unreadable } = await readingLocation(store, where, () =>
      readRunHistory(store, config.store.prefix, config.name, { signal }),
    );
    for (const u of unreadable) log.warn({ key: u.key, err: u.error }, 'a stored run report is unreadable');
    // No runs at all is a wrong location (or no run got far), never an empty table (exit 7).
    if (reports.length === 0 && unreadable.length === 0) throw await emptyLocationError(store, where);
    const location = pipelineLocation(store, config.store.prefix, config.name);
    const drills = await readDrills(store, config.store.prefix, config.name, {
      signal,
      onUnreadable: (key, err) => log.warn({ key, err }, 'a stored drill report is unreadable'),
    });
    const drilled = lastPassedDrills(drills);
    const summarize = (r: RunReport) => summarizeRun(r, drilled);

    const date = values.date;
    const onDate = date ? reports.filter((r) => summarizeRun(r).date === date) : reports;
    if (date && onDate.length === 0) {
      const dates = [...new Set(reports.map((r) => summarizeRun(r).date))];
      throw new OffsiteError('BACKUP_NOT_FOUND', `no run of ${config.name} for ${date} at ${location}`, {
        hint: `dates with a run: ${dates.length > 0 ? dates.join(', ') : 'none'}`,
      });
    }
    // --date shows one run: the latest of that day (a rerun supersedes the nightly run).
    const shown = date ? onDate.slice(-1) : reports;
    const htmlIndex = values.html
      ? await writeHtml(resolve(values.html), config.name, reports, shown, drills)
      : null;

    if (values.json) {
      const out = date
        ? shown[0]
        : {
            pipeline: config.name,
            store: location,
            runs: reports.map(summarize),
            unreadable,
            html: htmlIndex,
          };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else if (date) {
      process.stdout.write(renderMarkdown(shown[0]!));
    } else {
      process.stdout.write(
        reports.length > 0
          ? table(reports.map(summarize))
          : `no readable runs of ${config.name} at ${location}\n`,
      );
    }
    if (htmlIndex) process.stderr.write(`html: ${htmlIndex}\n`);
    return 'ok';
  },
};
