import type { RunReport } from '../report/run-report.ts';

/** Which ping: a run began, succeeded, or did not (failed or cancelled). */
export type HeartbeatEvent = 'start' | 'success' | 'fail';

/**
 * The healthchecks.io convention: `<url>/start`, `<url>`, `<url>/fail`. The service alerts on a
 * /fail, and also when no success comes in time: a run that never happened is noticed too.
 */
export function heartbeatUrl(base: string, event: HeartbeatEvent): string {
  const url = base.replace(/\/+$/, '');
  if (event === 'start') return `${url}/start`;
  return event === 'fail' ? `${url}/fail` : url;
}

/** The end event of a run: only a succeeded run is a success. */
export function endEvent(report: RunReport | null): HeartbeatEvent {
  return report?.status === 'succeeded' ? 'success' : 'fail';
}
