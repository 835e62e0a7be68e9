import { describe, expect, it } from 'vitest';
import type { Log } from '../pipeline/run-context.ts';
import { progressLines } from './progress-lines.ts';

function recordingLog() {
  const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
  const record = (obj: object, msg?: string) => void lines.push({ obj: obj as Record<string, unknown>, msg });
  const log: Log = { info: record, warn: record, error: record, debug: record };
  return { log, lines };
}

describe('progress as plain log lines', () => {
  it('logs a running stage at most once per interval, and nothing for starts and ends', () => {
    const { log, lines } = recordingLog();
    let now = 0;
    const progress = progressLines(log, 30_000, () => now);
    progress.update('upload', { state: 'running' });
    now = 10_000;
    progress.update('upload', { bytes: 100, totalBytes: 1000 });
    expect(lines).toEqual([]);
    now = 30_000;
    progress.update('upload', { bytes: 400 });
    now = 40_000;
    progress.update('upload', { bytes: 600 });
    now = 60_000;
    progress.update('upload', { bytes: 900 });
    progress.update('upload', { state: 'succeeded' });
    expect(lines.map((l) => l.msg)).toEqual([
      'upload: 400 B of 1000 B · 15 B/s · ETA 40.0 s · 30.0 s',
      'upload: 900 B of 1000 B · 16 B/s · ETA 6.3 s · 1 min 00 s',
    ]);
    expect(lines[0]?.obj).toMatchObject({ stage: 'upload', progress: { bytes: 400, totalBytes: 1000 } });
  });
});
