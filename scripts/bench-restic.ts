// restic on the same dumps, part of `npm run bench`: the share of day 1 that day 2 (and the worst
// case) adds to a restic repository, after restic's own dedup and compression. Skipped with a
// note when restic is not installed.
import { cpSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

// A throwaway repository, so a fixed password is fine; it goes through the environment, not argv.
// The other variables are cleared so a user's restic setup can't redirect or override this run.
const env = {
  RESTIC_PASSWORD: 'offsite-bench',
  RESTIC_PASSWORD_FILE: undefined,
  RESTIC_PASSWORD_COMMAND: undefined,
  RESTIC_REPOSITORY: undefined,
  RESTIC_REPOSITORY_FILE: undefined,
  RESTIC_COMPRESSION: undefined,
  RESTIC_CACHE_DIR: undefined,
};

type Added = { stored: number; packed: number | undefined; uncompressed: number; seconds: number };

/** What restic stored for each night, or why it could not run. */
export type ResticNights =
  | { version: string; measure: string; day1: Added; day2: Added; worst: Added; stored: (a: Added) => number }
  | { missing: string };

/** The hint printed when restic is not installed. */
export const RESTIC_MISSING = 'restic is not installed (Debian: `apt-get install -y restic`)';

/**
 * Backs up the three dump directories night after night into one fresh local repository, each
 * from the same path, as a nightly `restic backup` of a dump directory would.
 */
export async function resticNights(dirs: {
  day1: string;
  day2: string;
  worst: string;
}): Promise<ResticNights> {
  let version: string;
  try {
    const { stdout } = await execa('restic', ['version'], { env, timeout: 10_000 });
    version = /restic (\S+)/.exec(stdout)?.[1] ?? stdout.trim();
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    return { missing: RESTIC_MISSING };
  }

  const work = mkdtempSync(join(tmpdir(), 'offsite-bench-restic-'));
  // Every day is backed up from this one path, as a nightly backup of the same dump directory
  // would be, so the snapshots' trees differ only where the dump did.
  const staging = join(work, 'dump');
  const restic = (repo: string, args: string[]) =>
    execa('restic', ['--repo', repo, '--cache-dir', `${repo}-cache`, '--quiet', ...args], { env });
  const backup = async (repo: string, dir: string): Promise<Added> => {
    rmSync(staging, { recursive: true, force: true });
    cpSync(dir, staging, { recursive: true });
    const before = repoBytes(repo);
    const started = performance.now();
    // --force reads every file rather than trusting the parent snapshot's metadata: the copy changes
    // it anyway, and restic dedups by content against the whole repository, parent or not.
    const { stdout } = await restic(repo, ['backup', '--json', '--compression', 'auto', '--force', staging]);
    const seconds = (performance.now() - started) / 1000;
    const summary = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((message) => message['message_type'] === 'summary');
    if (!summary || typeof summary['data_added'] !== 'number')
      throw new Error(`restic backup printed no summary:\n${stdout}`);
    const packed = summary['data_added_packed'];
    return {
      stored: repoBytes(repo) - before,
      packed: typeof packed === 'number' ? packed : undefined,
      uncompressed: summary['data_added'],
      seconds,
    };
  };

  try {
    const repo = join(work, 'repo');
    await restic(repo, ['init', '--repository-version', '2']);
    // Night after night, as offsite's own figures are taken: the worst case is the day after day 2.
    const day1 = await backup(repo, dirs.day1);
    const day2 = await backup(repo, dirs.day2);
    const worst = await backup(repo, dirs.worst);
    // Newer restic reports the bytes it stored for a backup (data_added_packed); 0.14 reports
    // only data_added, before compression, so the stored bytes come from the repository's growth.
    const usePacked = day1.packed !== undefined && day2.packed !== undefined && worst.packed !== undefined;
    return {
      version,
      measure: usePacked
        ? 'data_added_packed of `restic backup --json` (bytes stored after compression)'
        : "growth of the repository's files on disk (packs, index, snapshot): its `backup --json` has only data_added, before compression",
      day1,
      day2,
      worst,
      stored: (a: Added) => (usePacked ? a.packed! : a.stored),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** restic on the same dumps, for comparison: day-2 (and worst-case) data added as a share of day 1. */
export async function runResticComparison(
  dirs: { day1: string; day2: string; worst: string },
  say: (line: string) => void,
): Promise<void> {
  const r = await resticNights(dirs);
  if ('missing' in r) {
    say(`\n${r.missing}; skipping the comparison.`);
    return;
  }
  const { version, day1, day2, worst, stored } = r;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  say(`\nrestic for comparison (same dumps; new bytes stored for the next backup / bytes stored for day 1):`);
  say('| tool | day 2 / day 1 | worst case / day 1 |');
  say('|---|---|---|');
  say(
    `| restic ${version} (compression auto) | ${pct(stored(day2) / stored(day1))} | ${pct(stored(worst) / stored(day1))} |`,
  );
  say(`restic ${version}; measure: ${r.measure}.`);
  say(
    `day 1 stored ${mib(stored(day1))} of ${mib(day1.uncompressed)} added before compression; ` +
      `day 2 ${mib(stored(day2))}; worst case ${mib(stored(worst))}.`,
  );
}

/** Sum of the sizes of the files under dir; directories themselves don't count (restic pre-creates 256). */
function repoBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += lstatSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
