// The HTML report opened in a real headless chromium: a person finds the verdict and the failed
// check first, and the page asks nothing of the network (it may be opened from a bucket or a mail).
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costsSchema } from '../../src/config/costs-schema.ts';
import { runCost } from '../../src/report/cost.ts';
import { renderIndexPage } from '../../src/report/html/index-page.ts';
import { renderRunPage } from '../../src/report/html/run-page.ts';
import type { RunReport } from '../../src/report/run-report.ts';
import { launchBrowser, type TestBrowser } from '../support/browser.ts';
import { REPO_ROOT } from '../support/run-cli.ts';
import { BASE_COUNTS, rowCountsCheck, sampleReport } from './sample-report.ts';

let browser: TestBrowser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-html-'));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A week of nightly runs, then a night whose checksum and SQL assertion fail. */
function failingNight(): { report: RunReport; history: RunReport[] } {
  const history = Array.from({ length: 7 }, (_, day) =>
    sampleReport(day, { counts: { ...BASE_COUNTS, 'app.audit_log': 24_000 + day * 900 } }),
  );
  const counts = { ...BASE_COUNTS, 'app.audit_log': 0 };
  const base = sampleReport(7, { counts, status: 'failed' });
  const report: RunReport = {
    ...base,
    checks: [
      rowCountsCheck(counts),
      {
        name: 'checksums',
        status: 'failed',
        summary: '1 of 6 tables differs in content: app.payments (same count, different rows)',
        durationMs: 3400,
        details: [
          { table: 'app.payments', source: 'a41f…9c', restored: '07be…e1', ok: false },
          { table: 'app.users', source: '5d2a…11', restored: '5d2a…11', ok: true },
        ],
      },
      {
        name: 'schema',
        status: 'passed',
        summary: '6 tables, 14 indexes, 9 constraints: identical',
        durationMs: 300,
        details: [],
      },
      {
        name: 'sequences',
        status: 'passed',
        summary: '5 sequences equal and ahead of their columns',
        durationMs: 40,
        details: [],
      },
      {
        name: 'amcheck',
        status: 'passed',
        summary: '14 B-tree indexes verified (heapallindexed)',
        durationMs: 2100,
        details: [],
      },
      {
        name: 'sql:no-<script>alert(1)</script>',
        status: 'passed',
        summary: 'value 0 <= max 0 & fine',
        durationMs: 12,
        details: [],
      },
    ],
    anomalies: [
      {
        name: 'previous-backup',
        status: 'passed',
        summary: `compared with run ${history[6]!.runId}`,
        durationMs: 30,
        details: [],
      },
      {
        name: 'table-emptied',
        status: 'warned',
        summary: '1 table emptied since the previous backup: app.audit_log (29,400 → 0)',
        durationMs: 30,
        details: [{ table: 'app.audit_log', previous: 29_400, current: 0 }],
      },
    ],
    stages: base.stages.map((s) =>
      s.name === 'restore-test'
        ? { ...s, status: 'failed' as const, message: 'the restored copy does not match the source' }
        : s.name === 'upload' || s.name === 'anomalies'
          ? { ...s, status: 'not-run' as const, durationMs: 0 }
          : s,
    ),
    error: {
      stage: 'restore-test',
      code: 'VERIFY_MISMATCH',
      message: 'the restored copy does not match the source: checksums',
    },
    errors: [
      {
        stage: 'restore-test',
        code: 'VERIFY_MISMATCH',
        message: 'the restored copy does not match the source: checksums',
      },
    ],
  };
  return { report, history };
}

async function openAndWatch(file: string) {
  const page = await browser.context.newPage();
  const requested: string[] = [];
  page.on('request', (req) => requested.push(req.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, requested };
}

describe('the HTML report in a real browser', () => {
  it('shows the verdict and the failed check first, draws the trends, and makes no network request', async () => {
    const { report, history } = failingNight();
    const file = join(dir, 'run.html');
    writeFileSync(file, renderRunPage(report, history));
    const { page, requested } = await openAndWatch(file);

    const summary = page.locator('#summary');
    await expect(summary.textContent()).resolves.toContain('Nothing was published');
    await expect(summary.textContent()).resolves.toContain('VERIFY_MISMATCH');
    // The first item a reader meets under "Needs attention" is the failed check.
    const first = page.locator('#attention > li').first();
    expect(await first.getAttribute('data-check')).toBe('checksums');
    expect(await first.textContent()).toContain('app.payments');
    expect(await page.locator('#checks tbody > tr').first().getAttribute('data-check')).toBe('checksums');
    // Hostile text in a check name is shown as text, never run.
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('#checks').textContent()).toContain('sql:no-<script>alert(1)</script>');
    expect(await page.locator('.chart svg').count()).toBe(4);
    expect(await page.locator('#tables').textContent()).toContain('app.audit_log');

    const shots = join(REPO_ROOT, 'test-results');
    mkdirSync(shots, { recursive: true });
    const shot = join(shots, 'report-failed-run.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);

    const page_ = pathToFileURL(file).href;
    expect(requested).toContain(page_);
    expect(requested.filter((u) => u !== page_ && !u.startsWith('data:'))).toEqual([]);
    await page.close();
  });

  it('a quiet night after a failed one: "no anomalies" with the changes, and the failed run a cross above each chart, not a 0', async () => {
    // The store grows by 1 GB a night.
    const history: RunReport[] = Array.from({ length: 6 }, (_, day) => ({
      ...sampleReport(day),
      store: { totalBytes: 40e9 + day * 1e9 },
    }));
    // Night 3 failed in its first seconds: no dump, no restore test, a 2 s run.
    const early = sampleReport(6, { status: 'failed' });
    history.push({
      ...early,
      durationMs: 2000,
      dump: null,
      restoreTest: null,
      source: null,
      error: { stage: 'locate', code: 'SNAPSHOT_NOT_FOUND', message: 'no snapshot' },
      errors: [{ stage: 'locate', code: 'SNAPSHOT_NOT_FOUND', message: 'no snapshot' }],
    });
    const counts = Object.fromEntries(
      Object.entries(BASE_COUNTS).map(([t, n], i) => [t, Math.round(n * (1 + (i + 1) / 1000))]),
    );
    const previous = history[5]!;
    const base = sampleReport(7, { counts });
    const report: RunReport = {
      ...base,
      store: { totalBytes: 47e9 },
      cost: runCost(
        {
          instance: { instanceClass: 'db.t3.micro', lifetimeMs: 41_000 },
          requests: { classA: 300, classB: 2000, classC: 40 },
          storeKind: 's3',
          storedBytes: 47e9,
          uploadedBytes: 1e9,
          earlier: { date: '2026-11-20', storedBytes: 40e9 },
        },
        costsSchema.parse({}),
      ),
      anomalies: [
        {
          name: 'previous-backup',
          status: 'passed',
          summary: `compared with run ${previous.runId}`,
          durationMs: 30,
          details: [{ runId: previous.runId }],
        },
      ],
      changes: {
        previousRunId: previous.runId,
        tables: [
          { table: 'app.audit_log', previous: 24_000, current: 24_120 },
          { table: 'app.payments', previous: 5100, current: 5120 },
        ],
        unchanged: 4,
        dumpBytes: { previous: previous.dump!.bytes, current: base.dump!.bytes },
      },
    };
    const file = join(dir, 'quiet.html');
    writeFileSync(file, renderRunPage(report, history));
    const { page } = await openAndWatch(file);

    const tile = page.locator('.figure', { hasText: 'Changes since previous' });
    expect(await tile.locator('.value').textContent()).toBe('no anomalies');
    expect(await tile.locator('.sub').textContent()).toBe('2 tables changed; biggest: app.audit_log +0.5 %');
    expect(await page.locator('#changes li').allTextContents()).toEqual([
      'app.audit_log: 24,000 → 24,120 (+0.5 %)',
      'app.payments: 5,100 → 5,120 (+0.4 %)',
    ]);

    // The cost: this run's, and the store's per month with its trend, as tiles and a chart.
    const runTile = page.locator('.figure', { hasText: 'Cost of this run' });
    expect(await runTile.locator('.value').textContent()).toBe('$0.004');
    const storeTile = page.locator('.figure', { hasText: 'Store per month' });
    expect(await storeTile.locator('.value').textContent()).toBe('$0.28');
    expect(await storeTile.locator('.sub').textContent()).toBe('47.00 GB · +17 % since 2026-11-20');
    const costChart = page.locator('.chart', { hasText: 'Store cost per month' });
    expect(await costChart.locator('.latest').textContent()).toContain('latest $0.28');

    // Every chart shows the failed night as one cross, drawn above every measured point.
    const charts = page.locator('.chart');
    expect(await charts.count()).toBe(5);
    for (const chart of await charts.all()) {
      expect(await chart.locator('.failed-run').count()).toBe(1);
      expect(await chart.locator('.latest').textContent()).toContain('✕ 1 failed (no value)');
      const crossBottom = (await chart.locator('.failed-run path').boundingBox())!;
      const points = await chart
        .locator('circle.run')
        .evaluateAll((cs) => cs.map((c) => c.getBoundingClientRect().top));
      expect(points).toHaveLength(7);
      expect(crossBottom.y + crossBottom.height).toBeLessThan(Math.min(...points));
    }
    expect(
      await page.locator('.chart', { hasText: 'Run duration' }).locator('.failed-run title').textContent(),
    ).toContain('failed: locate SNAPSHOT_NOT_FOUND');
    await page.screenshot({
      path: join(REPO_ROOT, 'test-results', 'report-quiet-night.png'),
      fullPage: true,
    });
    await page.close();
  });

  it('the index page links every run; the request watch does catch an outside fetch', async () => {
    const runs = Array.from({ length: 3 }, (_, day) => sampleReport(day));
    const file = join(dir, 'index.html');
    writeFileSync(
      file,
      renderIndexPage('demo', runs, (r) => `${r.runId}.html`),
    );
    const { page, requested } = await openAndWatch(file);
    const hrefs = await page.locator('#runs a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs.sort()).toEqual(runs.map((r) => `${r.runId}.html`).sort());
    expect(requested.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'report-index.png'), fullPage: true });
    await page.close();

    // Control: a page that does fetch something is seen doing it, so the check above can fail.
    const leaky = join(dir, 'leaky.html');
    writeFileSync(leaky, '<!doctype html><img src="http://127.0.0.1:9/pixel.png">');
    const watched = await openAndWatch(leaky);
    expect(watched.requested).toContain('http://127.0.0.1:9/pixel.png');
    await watched.page.close();
  });
});
