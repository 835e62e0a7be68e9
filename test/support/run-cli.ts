import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { RunReport } from '../../src/report/run-report.ts';

/** The repository root (the CLI runs from it, as a user would). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a CLI subprocess did. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as a RunReport, when it was one. */
  report: RunReport | null;
}

/** Starts `offsite <args>` as a real subprocess (node bin/offsite.js), for tests that signal it. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 240_000) {
  return execa(process.execPath, ['bin/offsite.js', ...args], {
    cwd: REPO_ROOT,
    env,
    extendEnv: false,
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
    // A test's SIGTERM is answered by offsite's own teardown, however long it takes: without this,
    // execa would SIGKILL the CLI 5 s after child.kill(), mid-teardown on a busy machine.
    forceKillAfterDelay: false,
  });
}

/** Runs `offsite <args>` as a real subprocess and waits for it. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 240_000,
): Promise<CliResult> {
  const result = await startCli(args, env, timeoutMs);
  let report: RunReport | null = null;
  try {
    report = JSON.parse(result.stdout) as RunReport;
  } catch {
    report = null;
  }
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, report };
}

/** A CLI subprocess started with startCli. */
export type CliProcess = ReturnType<typeof startCli>;

/**
 * Resolves with the first log record of a running CLI whose message is `msg` (its stderr is pino's
 * JSON lines when not a TTY): a test waits on what its own run said, not on time or the machine.
 * Rejects when the process ends first, or after timeoutMs.
 */
export function waitForLogLine(
  child: CliProcess,
  msg: string,
  timeoutMs = 120_000,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let pending = '';
    let settled = false;
    const done = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      settle();
    };
    const onData = (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (record.msg === msg) return done(() => resolve(record));
      }
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`offsite did not log "${msg}" within ${timeoutMs} ms`))),
      timeoutMs,
    );
    child.stderr?.on('data', onData);
    // startCli's process never rejects (reject: false); it settles when the process has ended.
    void child.then(() => done(() => reject(new Error(`offsite exited before logging "${msg}"`))));
  });
}
