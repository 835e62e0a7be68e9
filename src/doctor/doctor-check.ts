// offsite doctor: what one check is, how it is run (bounded in time, never throwing) and how
// its failure is put in plain words.
import { OffsiteError } from '../errors.ts';

/** passed, failed, or skipped (not configured, not built yet, or needing a check that failed). */
export type DoctorStatus = 'passed' | 'failed' | 'skipped';

/** One check of `offsite doctor`: the JSON contract is { name, status, fix }; detail is for people. */
export interface DoctorCheck {
  name: string;
  status: DoctorStatus;
  /** Failed: what is wrong and what to do. Skipped: why. Passed: empty. */
  fix: string;
  /** What a passed check found (versions, ages, the store's location), shown in the text output. */
  detail?: string;
}

/** What a check function returns when it passes (its detail line). */
export type CheckBody = (signal: AbortSignal) => Promise<string>;

/** A check that did not run, with the reason. */
export function skipped(name: string, why: string): DoctorCheck {
  return { name, status: 'skipped', fix: why };
}

/** A failed check from a message and what to do (joined as one line). */
export function failed(name: string, message: string, todo?: string): DoctorCheck {
  return { name, status: 'failed', fix: todo ? `${message} — ${todo}` : message };
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused',
  ENOTFOUND: 'the host name does not resolve',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
  EAI_AGAIN: 'the host name could not be resolved (DNS)',
};

// AWS answers named for what they mean to whoever runs offsite, by the SDK error's name.
const AWS_NAMES: Record<string, string> = {
  InvalidAccessKeyId: 'the access key id is not known to the service',
  SignatureDoesNotMatch: 'the secret key does not match the access key id',
  InvalidClientTokenId: 'the AWS access key id is not valid',
  UnrecognizedClientException: 'the AWS access key id is not valid',
  AccessDenied: 'access denied: the key lacks a permission',
  AccessDeniedException: 'access denied: the credentials lack a permission',
  NoSuchBucket: 'the bucket does not exist',
  ExpiredToken: 'the AWS session token has expired',
};

/** An error as one line of plain words: no stack, no class names; an OffsiteError's hint appended. */
export function plainError(err: unknown): string {
  if (err instanceof OffsiteError) return err.hint ? `${err.message} — ${err.hint}` : err.message;
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  const code = e?.code ?? (e?.cause as { code?: string } | undefined)?.code;
  if (code && NETWORK_CODES[code]) return `${NETWORK_CODES[code]} (${code})`;
  const known = e?.name ? AWS_NAMES[e.name] : undefined;
  const message = (e?.message ?? String(err)).split('\n')[0]?.trim() ?? '';
  if (known) return message && message !== e.name ? `${known} (${message})` : known;
  return message || e?.name || 'an unknown error';
}

/**
 * Runs a check with a deadline: its signal is aborted and the check reported as failed when it
 * takes longer than `timeoutMs`. `settled` lets the caller wait (bounded) for the body's own
 * cleanup, e.g. a scratch server still being stopped, before the process exits.
 */
export function runCheck(
  name: string,
  timeoutMs: number,
  body: CheckBody,
  todo: (message: string) => string | undefined = () => undefined,
): { result: Promise<DoctorCheck>; settled: Promise<unknown> } {
  const controller = new AbortController();
  const work = (async () => body(controller.signal))();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<DoctorCheck>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`timed out after ${timeoutMs / 1000} s`));
      resolve(
        failed(
          name,
          `did not finish within ${timeoutMs / 1000} s`,
          'check that the service is reachable from this machine (network, endpoint, firewall)',
        ),
      );
    }, timeoutMs);
  });
  const outcome = work.then(
    (detail): DoctorCheck => ({ name, status: 'passed', fix: '', detail }),
    (err: unknown): DoctorCheck => {
      const message = plainError(err);
      return failed(name, message, todo(message));
    },
  );
  const result = Promise.race([outcome, deadline]).finally(() => clearTimeout(timer));
  return { result, settled: work.catch(() => {}) };
}
