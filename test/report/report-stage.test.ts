// The report stage tells the truth about itself: when storing the report fails, its stage says
// "failed" in the Markdown, the HTML and the local JSON, and in whatever copy did reach the store.
// The faults are real: a directory store on the local disk whose report paths are blocked.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirStore } from '../../src/adapters/object-store-dir.ts';
import { pipelineSchema } from '../../src/config/schema.ts';
import type { Log, RunContext } from '../../src/pipeline/run-context.ts';
import type { StagesOutcome } from '../../src/pipeline/run-pipeline.ts';
import { type RunReport, runReportSchema, stageNames } from '../../src/report/run-report.ts';
import { countingRequests } from '../../src/report/store-requests.ts';
import { writeRunReport } from '../../src/stages/report.ts';
import { BASE_COUNTS, sampleReport } from './sample-report.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-report-stage-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const RUN_ID = '20261125t041000z-a1b2c3';
const quiet: Log = { info() {}, warn() {}, error() {}, debug() {} };

/** A run that got as far as the report, every stage succeeded; `instance`: it asked RDS for one. */
function context(opts: { instance: boolean }): RunContext {
  const config = pipelineSchema.parse({
    name: 'demo',
    source: { rds: { region: 'us-east-1' }, instanceId: 'app-db', database: 'app' },
    store: { kind: 'dir', path: join(dir, 'store') },
    reportDir: join(dir, 'reports'),
    workDir: join(dir, 'work'),
  });
  const startedAt = new Date('2026-11-25T04:10:00Z');
  const base = join(dir, 'reports', 'demo', RUN_ID);
  return {
    config,
    runId: RUN_ID,
    startedAt,
    requestedDate: null,
    requestedPointInTime: null,
    reason: null,
    log: quiet,
    signal: new AbortController().signal,
    deps: { store: createDirStore(join(dir, 'store')), now: () => new Date('2026-11-25T04:12:00Z') },
    workDir: join(dir, 'work'),
    reportPaths: { json: `${base}.json`, markdown: `${base}.md` },
    checks: [],
    anomalies: [],
    ...(opts.instance && {
      instance: {
        id: `offsite-demo-${RUN_ID}`,
        createdAt: startedAt,
        deletedAt: new Date('2026-11-25T04:11:00Z'),
        target: null,
        releaser: async () => {},
      },
    }),
  } as unknown as RunContext;
}

const outcome: StagesOutcome = {
  status: 'succeeded',
  stages: stageNames
    .filter((n) => n !== 'report')
    .map((name) => ({ name, status: 'succeeded', durationMs: 10, startedAt: null, message: null })),
  errors: [],
};

const storeFile = (key: string) => join(dir, 'store', 'offsite', 'demo', 'reports', key);
const reportStage = (r: RunReport) => r.stages.find((s) => s.name === 'report')!;
const localJson = (r: RunReport) => runReportSchema.parse(JSON.parse(readFileSync(r.reports.json, 'utf8')));
const storedJson = () => runReportSchema.parse(JSON.parse(readFileSync(storeFile(`${RUN_ID}.json`), 'utf8')));
// The stage table row of the Markdown, and of the HTML page.
const markdownRow = (md: string) => md.split('\n').find((l) => l.startsWith('| report |'));
const htmlRow = (html: string) => html.match(/<tr><td>report<\/td><td><span class="pill (\w+)">/)?.[1];

describe('the report stage', () => {
  it('stores both copies and says so; the Markdown links the stored page, not a local path', async () => {
    const report = await writeRunReport(context({ instance: true }), outcome);
    expect(report.status).toBe('succeeded');
    expect(reportStage(report).status).toBe('succeeded');
    expect(report.reports.stored).toEqual({
      json: storeFile(`${RUN_ID}.json`),
      html: storeFile(`html/${RUN_ID}.html`),
    });
    const md = readFileSync(report.reports.markdown, 'utf8');
    expect(md).toContain(`- Full report: ${storeFile(`html/${RUN_ID}.html`)}\n`);
    expect(markdownRow(md)).toContain('✅ succeeded');
    expect(reportStage(storedJson()).status).toBe('succeeded');
    expect(htmlRow(readFileSync(storeFile(`html/${RUN_ID}.html`), 'utf8'))).toBe('succeeded');
  });

  it('the HTML page cannot be stored: the stage failed in the Markdown, the HTML, the local and the stored JSON', async () => {
    // A file where the page's folder should be: the store cannot create reports/html/.
    mkdirSync(storeFile(''), { recursive: true });
    writeFileSync(storeFile('html'), 'in the way');
    const report = await writeRunReport(context({ instance: true }), outcome);
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ stage: 'report', code: 'REPORT_FAILED' });
    expect(reportStage(report).status).toBe('failed');
    expect(reportStage(report).message).toContain("could not store the report's HTML page");
    expect(report.reports.stored).toEqual({ json: storeFile(`${RUN_ID}.json`), html: null });

    const md = readFileSync(report.reports.markdown, 'utf8');
    expect(markdownRow(md)).toContain('❌ failed');
    expect(md).toContain('- Full report: **not in the store**');
    expect(htmlRow(readFileSync(report.reports.html!, 'utf8'))).toBe('failed');
    expect(reportStage(localJson(report)).status).toBe('failed');
    // The JSON did reach the store, and says its page did not.
    const stored = storedJson();
    expect(reportStage(stored).status).toBe('failed');
    expect(stored.reports.stored?.html).toBeNull();
  });

  it('the JSON cannot be stored: the page already stored is rewritten to say so, and the local copies say failed', async () => {
    // A directory where the JSON object should be: renaming the written object onto it fails.
    mkdirSync(storeFile(`${RUN_ID}.json`), { recursive: true });
    const report = await writeRunReport(context({ instance: true }), outcome);
    expect(report.status).toBe('failed');
    expect(reportStage(report).message).toContain('could not store the run report at');
    expect(report.reports.stored).toEqual({ json: null, html: storeFile(`html/${RUN_ID}.html`) });
    expect(markdownRow(readFileSync(report.reports.markdown, 'utf8'))).toContain('❌ failed');
    expect(reportStage(localJson(report)).status).toBe('failed');
    expect(htmlRow(readFileSync(storeFile(`html/${RUN_ID}.html`), 'utf8'))).toBe('failed');
  });

  it('no anomalies yet every table moved a little: the report lists the changes against the run the anomalies stage compared with', async () => {
    const previous = sampleReport(0);
    mkdirSync(storeFile(''), { recursive: true });
    writeFileSync(storeFile(`${previous.runId}.json`), JSON.stringify(previous));
    const ctx = context({ instance: true });
    const now = Object.entries(BASE_COUNTS).map(([t, n], i) => [t, n + i] as const);
    ctx.facts = {
      serverVersion: '15.8',
      serverVersionNum: 150_008,
      extensions: [],
      usesLz4: false,
      rowCounts: new Map(now),
    };
    ctx.dump = { dir: '', bytes: 50_000_000, files: [] };
    ctx.anomalies.push({
      name: 'previous-backup',
      status: 'passed',
      summary: `compared with run ${previous.runId}`,
      durationMs: 5,
      details: [{ runId: previous.runId }],
    });
    const report = await writeRunReport(ctx, outcome);
    expect(report.changes).toMatchObject({ previousRunId: previous.runId, unchanged: 1 });
    // app.settings: 12 → 17 is the biggest relative change; app.users (+0) is unchanged.
    expect(report.changes!.tables[0]).toEqual({ table: 'app.settings', previous: 12, current: 17 });
    expect(report.changes!.tables.map((t) => t.table)).not.toContain('app.users');
    expect(report.changes!.dumpBytes).toEqual({ previous: previous.dump!.bytes, current: 50_000_000 });
    const md = readFileSync(report.reports.markdown, 'utf8');
    expect(md).toContain('no anomalies');
    expect(md).toContain('- row counts: 5 of 6 tables changed, the biggest first');
    expect(readFileSync(report.reports.html!, 'utf8')).toContain('no anomalies');
  });

  it("states the run's cost: the instance's billed hours at its class's price, and the store requests it counted", async () => {
    const ctx = context({ instance: true });
    ctx.config.source.tempInstance.instanceClass = 'db.t3.micro';
    ctx.deps.store = countingRequests(ctx.deps.store);
    await ctx.deps.store.list('offsite/demo/');
    const report = await writeRunReport(ctx, outcome);
    // Lived one minute, billed RDS's ten: 1/6 h × $0.018.
    expect(report.cost?.instance).toMatchObject({
      class: 'db.t3.micro',
      billedHours: 0.1667,
      priceFrom: 'default',
    });
    expect(report.cost?.instance?.cost).toBeCloseTo(0.003, 6);
    // The listing above and the history listing; the two report uploads (the local copy is
    // rendered after them; the stored JSON counts only the page stored before it).
    expect(report.cost?.requests).toMatchObject({ classA: 2, classC: 2, cost: null });
    expect(storedJson().cost?.requests).toMatchObject({ classA: 1, classC: 2 });
    expect(report.cost?.storage.pricePerGbMonth).toBeNull();
    const md = readFileSync(report.reports.markdown, 'utf8');
    expect(md).toContain(
      '- Cost, this run: $0.003 — temporary instance db.t3.micro 0.02 h (billed 10 min minimum)',
    );
    expect(md).toContain('- Cost, store: a directory, no provider price');
  });

  it('a run that never asked for an instance keeps its report locally and says where', async () => {
    const report = await writeRunReport(context({ instance: false }), outcome);
    expect(reportStage(report)).toMatchObject({ status: 'succeeded' });
    expect(reportStage(report).message).toContain('kept on this machine only');
    expect(report.reports.stored).toBeUndefined();
    const md = readFileSync(report.reports.markdown, 'utf8');
    expect(md).toContain(`- Full report: on the machine that ran the backup only: ${report.reports.html}`);
  });
});
