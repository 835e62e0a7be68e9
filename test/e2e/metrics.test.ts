// End to end: `offsite run` in the local world writes its Prometheus metrics to a textfile
// directory and PUTs them to a Pushgateway (a local HTTP server); the file is read with a
// Prometheus text-format parser, and the last success time survives a failed run.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheus, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

interface Pushed {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

let world: LocalWorld;
let dir: string;
let gateway: http.Server;
let gatewayUrl: string;
const pushed: Pushed[] = [];
let gatewayStatus = 200;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-metrics-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
  gateway = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      pushed.push({
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body,
      });
      res.writeHead(gatewayStatus).end();
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => gateway?.close(() => resolve()));
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A sample's value as a number, found by family name and labels. */
function sampleValue(
  families: PrometheusFamily[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no metric ${name}`);
  const sample = family.metrics.find((m) =>
    Object.entries({ pipeline: 'demo', ...labels }).every(([k, v]) => m.labels?.[k] === v),
  );
  if (!sample) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`);
  return Number(sample.value);
}

describe('run metrics (local world)', () => {
  const textfileDir = () => join(dir, 'textfile');
  const promFile = () => join(textfileDir(), 'offsite_demo.prom');
  let firstFinished = 0;

  it('writes the metrics of a published run to the textfile directory and pushes them', async () => {
    const pipeline = demoPipelineWith(dir, {
      metrics: { textfileDir: textfileDir(), pushgatewayUrl: gatewayUrl },
    });
    const run = await runCli(['run', pipeline, '--json'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    const report = run.report!;
    const text = readFileSync(promFile(), 'utf8');
    const families = parsePrometheus(text);
    for (const f of families) {
      expect(f.name).toMatch(/^offsite_/);
      for (const m of f.metrics) expect(m.labels?.pipeline).toBe('demo');
    }
    firstFinished = Date.parse(report.finishedAt) / 1000;
    expect(sampleValue(families, 'offsite_last_success_timestamp_seconds')).toBe(firstFinished);
    expect(sampleValue(families, 'offsite_last_run_timestamp_seconds')).toBe(firstFinished);
    expect(sampleValue(families, 'offsite_last_run_success')).toBe(1);
    expect(sampleValue(families, 'offsite_last_run_status', { status: 'succeeded' })).toBe(1);
    expect(sampleValue(families, 'offsite_last_run_status', { status: 'failed' })).toBe(0);
    expect(sampleValue(families, 'offsite_run_duration_seconds')).toBe(report.durationMs / 1000);
    // Stages that ran; one skipped (anomalies: no earlier backup) or not run has no duration to show.
    const ran = report.stages.filter((s) => s.status === 'succeeded' || s.status === 'failed');
    expect(ran.map((s) => s.name)).toContain('upload');
    for (const stage of ran) {
      expect(sampleValue(families, 'offsite_stage_duration_seconds', { stage: stage.name })).toBe(
        stage.durationMs / 1000,
      );
    }
    expect(sampleValue(families, 'offsite_backup_read_bytes')).toBe(report.backup!.bytesRead);
    expect(sampleValue(families, 'offsite_backup_uploaded_bytes')).toBe(report.backup!.bytesUploaded);
    expect(report.backup!.bytesUploaded).toBeGreaterThan(0);
    expect(sampleValue(families, 'offsite_dedup_ratio')).toBe(report.backup!.dedupRatio);
    expect(sampleValue(families, 'offsite_restore_duration_seconds')).toBe(
      report.restoreTest!.durationMs / 1000,
    );
    expect(sampleValue(families, 'offsite_failed_checks')).toBe(0);
    expect(sampleValue(families, 'offsite_temp_instance_lifetime_seconds')).toBe(
      report.tempInstance!.lifetimeMs / 1000,
    );
    // Atomic replacement leaves no temporary file for node_exporter to trip over.
    expect(readdirSync(textfileDir())).toEqual(['offsite_demo.prom']);
    // The same text went to the Pushgateway's group for this pipeline.
    expect(pushed).toHaveLength(1);
    expect(pushed[0]).toMatchObject({ method: 'PUT', url: '/metrics/job/offsite/pipeline/demo' });
    expect(pushed[0]!.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(pushed[0]!.body).toBe(text);
  });

  it('keeps the last success time through a failed run, whose push failure does not change its outcome', async () => {
    expect(firstFinished).toBeGreaterThan(0);
    const emptyBin = join(dir, 'empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    const pipeline = demoPipelineWith(
      dir,
      { dump: { pgBinDir: emptyBin }, metrics: { textfileDir: textfileDir(), pushgatewayUrl: gatewayUrl } },
      'failing.yaml',
    );
    gatewayStatus = 500;
    const run = await runCli(['run', pipeline, '--json'], world.env());
    gatewayStatus = 200;
    // The locate stage's precondition (no pg_dump) decides the exit code, not the Pushgateway.
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.report!.status).toBe('failed');
    expect(run.stderr).toMatch(/could not push the metrics/);
    const families = parsePrometheus(readFileSync(promFile(), 'utf8'));
    expect(sampleValue(families, 'offsite_last_success_timestamp_seconds')).toBe(firstFinished);
    expect(sampleValue(families, 'offsite_last_run_timestamp_seconds')).toBe(
      Date.parse(run.report!.finishedAt) / 1000,
    );
    expect(sampleValue(families, 'offsite_last_run_success')).toBe(0);
    expect(sampleValue(families, 'offsite_last_run_status', { status: 'failed' })).toBe(1);
    // Nothing was dumped or uploaded: those metrics are absent, not 0.
    expect(families.map((f) => f.name)).not.toContain('offsite_backup_uploaded_bytes');
    expect(pushed).toHaveLength(2);
  });
});
