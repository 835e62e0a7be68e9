// A subprocess timed the way `/usr/bin/time` times it: wall, CPU (user + system, its waited-for
// children included) and peak resident memory. Without GNU time, wall time only.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Options } from 'execa';

const GNU_TIME = '/usr/bin/time';

/** What one timed subprocess cost; cpu and peak RSS are null without /usr/bin/time. */
export interface Timed {
  seconds: number;
  cpuSeconds: number | null;
  maxRssBytes: number | null;
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Whether CPU time and peak RSS of subprocesses can be measured (GNU time is installed). */
export const canTime = existsSync(GNU_TIME);

/**
 * Runs `file args` to completion (never throws on a non-zero exit: the caller checks exitCode);
 * `onStderr` sees its standard error as it comes.
 */
export async function timed(
  file: string,
  args: string[],
  opts: Options = {},
  onStderr?: (text: string) => void,
): Promise<Timed> {
  const dir = mkdtempSync(join(tmpdir(), 'offsite-bench-time-'));
  const out = join(dir, 'time');
  const started = performance.now();
  try {
    const child = canTime
      ? execa(GNU_TIME, ['-f', '%U %S %M', '-o', out, file, ...args], { ...opts, reject: false })
      : execa(file, args, { ...opts, reject: false });
    if (onStderr) child.stderr?.on('data', (d: Buffer) => onStderr(d.toString()));
    const result = await child;
    const seconds = (performance.now() - started) / 1000;
    const [user, sys, rssKb] = canTime
      ? readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number)
      : [];
    return {
      seconds,
      cpuSeconds: user !== undefined && sys !== undefined ? user + sys : null,
      maxRssBytes: rssKb !== undefined ? rssKb * 1024 : null,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      exitCode: result.exitCode ?? -1,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like timed(), but throws with the tool's last lines of stderr when it fails. */
export async function timedOk(file: string, args: string[], opts: Options = {}): Promise<Timed> {
  const t = await timed(file, args, opts);
  if (t.exitCode !== 0) {
    const tail = t.stderr.trim().split('\n').slice(-8).join('\n');
    throw new Error(`${file} exited with code ${t.exitCode}:\n${tail}`);
  }
  return t;
}
