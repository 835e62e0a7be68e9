// The peak-memory measurement of `npm run bench -- --peak-rss`: one full `offsite run` over a
// local world big enough for a dump of at least 1 GB, read from the RunReport, with the CLI's
// resident memory sampled once a second and attributed to the stage running at the time.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import type { RunReport } from '../src/report/run-report.ts';
import { startB2Proxy } from '../test/emulators/b2-proxy/index.ts';
import { startLocalWorld } from '../test/support/local-world.ts';
import { installOffsite } from './bench-installed.ts';

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs the pipeline once over a world of `scale` and prints the dump size and peak RSS. */
export async function runPeakRss(scale: number, say: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'offsite-rss-'));
  const t = Date.now();
  const world = await startLocalWorld({ days: 1, scale, runDir: dir, transitionMs: 200 });
  const proxy = await startB2Proxy({ upstream: world.s3.endpoint });
  try {
    say(
      `world of scale ${scale} seeded in ${((Date.now() - t) / 1000).toFixed(0)} s; running offsite run pipelines/demo.yaml`,
    );
    // Run as installed and scheduled (npx offsite, infra/offsite@.service): the packed executable
    // itself, so its shebang's Node flags apply, with this Node first on PATH.
    const offsite = await installOffsite(dir);
    const child = execa(offsite, ['run', 'pipelines/demo.yaml', '--json'], {
      env: world.env({
        OFFSITE_DEMO_S3_ENDPOINT: proxy.endpoint,
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      }),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: 3_600_000,
    });
    let stage = 'start';
    const peaks = new Map<string, number>();
    child.stderr?.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/"msg":"stage ([a-z-]+) started"/g)) stage = m[1]!;
    });
    const timer = setInterval(() => {
      const rss = rssOf(child.pid ?? 0);
      peaks.set(stage, Math.max(peaks.get(stage) ?? 0, rss));
    }, 500);
    const result = await child;
    clearInterval(timer);
    const report = JSON.parse(result.stdout) as RunReport;
    say(
      `status ${report.status}; dump ${((report.dump?.bytes ?? 0) / 1e9).toFixed(2)} GB; bytes read ${report.backup?.bytesRead}; chunks ${report.backup?.chunksNew}`,
    );
    say(`stages: ${report.stages.map((s) => `${s.name} ${(s.durationMs / 1000).toFixed(0)} s`).join(', ')}`);
    say(
      `sampled RSS by stage (MiB): ${[...peaks].map(([s, b]) => `${s} ${Math.round(b / 2 ** 20)}`).join(', ')}`,
    );
    say(
      `resources.peakRssBytes = ${report.resources.peakRssBytes} (${(report.resources.peakRssBytes / 2 ** 20).toFixed(0)} MiB); target under 200 MiB`,
    );
    if (report.resources.peakRssBytes >= 200 * 2 ** 20) process.exitCode = 1;
  } finally {
    await proxy.stop();
    await world.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
