import { readdirSync, readFileSync } from 'node:fs';

/**
 * Samples the command lines of every process on the machine while it runs, so a test can
 * prove that a secret never appeared in any argv (what `ps` shows to every local user).
 */
export function watchArgv(intervalMs = 10): { stop(): string[] } {
  const seen = new Set<string>();
  const sample = () => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmdline) seen.add(cmdline.replaceAll('\0', ' ').trim());
      } catch {
        // the process ended between readdir and read
      }
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return [...seen];
    },
  };
}
