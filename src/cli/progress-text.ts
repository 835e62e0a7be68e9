import type { StageProgress } from '../pipeline/progress.ts';
import { formatBytes, formatDuration } from '../report/format.ts';

/**
 * The latest progress of one stage and what it takes to say it in a line: when the stage started
 * (elapsed time) and the first byte count seen (rate and ETA). Shared by the live view and the
 * plain lines, so both say the same.
 */
export class StageTracker {
  progress: StageProgress = {};
  private startedAt: number | null = null;
  private firstBytes: { at: number; bytes: number } | null = null;

  /** Keeps the latest value of each field; a new `state: running` starts the clock. */
  update(next: StageProgress, now: number): void {
    if (next.state === 'running') {
      this.progress = {};
      this.startedAt = now;
      this.firstBytes = null;
    }
    this.progress = { ...this.progress, ...next };
    if (next.bytes !== undefined && this.firstBytes === null)
      this.firstBytes = { at: now, bytes: next.bytes };
  }

  get state(): StageProgress['state'] {
    return this.progress.state;
  }

  /** Bytes per second since the first byte count, once there are two apart in time. */
  rate(now: number): number | null {
    const first = this.firstBytes;
    const bytes = this.progress.bytes;
    if (!first || bytes === undefined || now - first.at < 500 || bytes <= first.bytes) return null;
    return ((bytes - first.bytes) * 1000) / (now - first.at);
  }

  /**
   * What the stage is doing: status, n/N unit, bytes (of total), rate, ETA, elapsed, e.g.
   * "pg_dump · 3/12 tables · 4.10 MiB · 9.0 s" or "… · 2.00 MiB/s · ETA 3.0 s · 5.0 s".
   */
  text(now: number): string {
    const p = this.progress;
    const parts: string[] = [];
    if (p.status) parts.push(p.status);
    if (p.done !== undefined) {
      const done = p.total !== undefined ? Math.min(p.done, p.total) : p.done;
      parts.push(`${done}${p.total !== undefined ? `/${p.total}` : ''}${p.unit ? ` ${p.unit}` : ''}`);
    }
    if (p.bytes !== undefined) {
      const finished = p.totalBytes !== undefined && p.bytes >= p.totalBytes;
      parts.push(
        p.totalBytes !== undefined && !finished
          ? `${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)}`
          : formatBytes(p.bytes),
      );
      const rate = this.rate(now);
      if (rate !== null && this.state === 'running') {
        parts.push(`${formatBytes(rate)}/s`);
        if (p.totalBytes !== undefined && !finished)
          parts.push(`ETA ${formatDuration(((p.totalBytes - p.bytes) / rate) * 1000)}`);
      }
    }
    if (this.startedAt !== null && this.state === 'running') parts.push(formatDuration(now - this.startedAt));
    if (p.message && (this.state === 'failed' || this.state === 'skipped')) parts.push(p.message);
    return parts.join(' · ');
  }
}
