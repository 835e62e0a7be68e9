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
