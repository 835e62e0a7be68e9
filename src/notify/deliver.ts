import type { Log } from '../pipeline/run-context.ts';
import type { NotificationReport } from '../report/run-report.ts';

/** Attempts per notifier: a mail relay or chat service that hiccups gets two more chances. */
export const NOTIFY_ATTEMPTS = 3;
/** Upper bound of one attempt (connect, TLS, answer). */
export const NOTIFY_TIMEOUT_MS = 10_000;
/** Wait before the second attempt; doubled before the third. */
const BACKOFF_MS = 1_000;

/** A URL as logs and reports may show it: scheme and host only (the path and query hold tokens). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(not a URL)';
  }
}

/** How one notifier is delivered. */
export interface Delivery {
  kind: NotificationReport['kind'];
  /** Where it goes, already redacted. */
  target: string;
  /** Strings never to show (the URL): scrubbed from error messages. */
  secrets: string[];
  send(timeoutMs: number): Promise<void>;
}

/** Tools a delivery uses: a log, and a sleep between attempts. */
export interface DeliverTools {
  log: Log;
  sleep(ms: number): Promise<void>;
}

function scrub(message: string, secrets: string[]): string {
  return secrets.reduce((m, s) => (s ? m.replaceAll(s, '…') : m), message);
}

/**
 * Sends one notification with NOTIFY_ATTEMPTS attempts and backoff. Never throws: a notifier
 * that is down is logged as a warning and reported, and the run's outcome stays what it was.
 */
export async function deliver(d: Delivery, tools: DeliverTools): Promise<NotificationReport> {
  let error = '';
  for (let attempt = 1; attempt <= NOTIFY_ATTEMPTS; attempt++) {
    try {
      await d.send(NOTIFY_TIMEOUT_MS);
      tools.log.info({ kind: d.kind, target: d.target, attempts: attempt }, 'notification sent');
      return { kind: d.kind, target: d.target, status: 'sent', attempts: attempt };
    } catch (err) {
      error = scrub(describe(err), d.secrets);
      if (attempt < NOTIFY_ATTEMPTS) await tools.sleep(BACKOFF_MS * 2 ** (attempt - 1));
    }
  }
  tools.log.warn(
    { kind: d.kind, target: d.target, attempts: NOTIFY_ATTEMPTS, err: error },
    'notification failed; the run is not affected',
  );
  return { kind: d.kind, target: d.target, status: 'failed', attempts: NOTIFY_ATTEMPTS, error };
}

// fetch says only "fetch failed"; the reason (ECONNREFUSED, a certificate) is in its cause.
function describe(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  const cause = e.cause?.message ?? e.cause?.code;
  return cause ? `${e.message}: ${cause}` : (e.message ?? String(err));
}
