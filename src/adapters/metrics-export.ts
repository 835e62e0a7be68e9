// Writes a run's Prometheus metrics where the pipeline says: a file for node_exporter's textfile
// collector (replaced atomically) and/or a Pushgateway. Never fails the run: problems are logged.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineConfig } from '../config/schema.ts';
import type { Log } from '../pipeline/run-context.ts';
import { readLastSuccess, renderMetrics } from '../report/metrics.ts';
import type { RunReport } from '../report/run-report.ts';

/** How long a Pushgateway may take to accept the metrics. */
const PUSH_TIMEOUT_MS = 10_000;

/** The textfile of a pipeline: node_exporter reads every *.prom file of its directory. */
export function metricsFilePath(textfileDir: string, pipeline: string): string {
  return join(textfileDir, `offsite_${pipeline}.prom`);
}

async function previousLastSuccess(path: string): Promise<number | null> {
  try {
    return readLastSuccess(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
}

// node_exporter may read the directory at any moment: it must see the old file or the new one,
// never half of one, so the new one is written beside it (not *.prom) and renamed over it.
async function writeTextfile(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
}

async function push(url: string, pipeline: string, text: string): Promise<void> {
  const target = `${url.replace(/\/+$/, '')}/metrics/job/offsite/pipeline/${encodeURIComponent(pipeline)}`;
  const res = await fetch(target, {
    method: 'PUT',
    headers: { 'content-type': 'text/plain; version=0.0.4' },
    body: text,
    signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`the Pushgateway answered ${res.status} ${res.statusText}`);
}

/** Writes and pushes a run's metrics as `metrics:` in the pipeline says; logs (never throws) on failure. */
export async function exportRunMetrics(
  report: RunReport,
  metrics: PipelineConfig['metrics'],
  log: Log,
): Promise<void> {
  if (!metrics?.textfileDir && !metrics?.pushgatewayUrl) return;
  const path = metrics.textfileDir ? metricsFilePath(metrics.textfileDir, report.pipeline) : null;
  const text = renderMetrics(report, path ? await previousLastSuccess(path) : null);
  if (path) {
    try {
      await mkdir(metrics.textfileDir!, { recursive: true });
      await writeTextfile(path, text);
      log.info({ path }, 'metrics written');
    } catch (err) {
      log.error(
        { path, err: (err as Error).message },
        'could not write the metrics file (metrics.textfileDir)',
      );
    }
  }
  if (metrics.pushgatewayUrl) {
    try {
      await push(metrics.pushgatewayUrl, report.pipeline, text);
      log.info({ pushgateway: new URL(metrics.pushgatewayUrl).host }, 'metrics pushed');
    } catch (err) {
      log.warn(
        { pushgateway: new URL(metrics.pushgatewayUrl).host, err: (err as Error).message },
        'could not push the metrics (metrics.pushgatewayUrl); the run is not affected',
      );
    }
  }
}
