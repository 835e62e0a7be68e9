// What a person at a terminal and a cron mail see of a run: on a terminal (a real pseudo-terminal,
// tmux), a live view whose lines change while the run waits for RDS, dumps and uploads; without
// one, plain lines with no control characters and exactly one summary line; and `offsite run
// --all` over two pipelines, one failing, ending with one table and the combined exit code.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type B2Proxy, startB2Proxy } from '../emulators/b2-proxy/index.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { REPO_ROOT, runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let slowStore: B2Proxy;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-progress-'));
  world = await startLocalWorld({ days: 1, scale: 0.1, runDir: join(dir, 'run') });
  // Every store request waits: the upload lasts long enough to be seen while it runs.
  slowStore = await startB2Proxy({ upstream: world.s3.endpoint, latencyMs: 1500 });
});

afterAll(async () => {
  await slowStore?.stop();
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Control characters but the newline: ANSI escapes (ESC), carriage returns, backspaces, tabs.
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

describe('on a terminal', () => {
  const socket = `offsite-progress-${process.pid}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: { ...process.env, TMUX: '' } });
  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  });

  it('a live view shows the wait for RDS (status, elapsed time), the dump and the upload as they happen', async () => {
    // A slow RDS keeps the temporary instance in `creating` for a while.
    world.emulator.setFaults({ transitionMs: 6_000 });
    const env = world.env({ OFFSITE_DEMO_S3_ENDPOINT: slowStore.endpoint, TERM: 'xterm-256color' });
    // tmux runs the command under its own server's environment: the run's goes in a script.
    const script = join(dir, 'tty-run.sh');
    const exports = Object.entries(env)
      .filter(([k, v]) => v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `export ${k}=${quote(v as string)}`);
    writeFileSync(
      script,
      [
        ...exports,
        `cd ${quote(REPO_ROOT)}`,
        `${quote(process.execPath)} bin/offsite.js run pipelines/demo.yaml`,
        'echo "offsite exited with $?"',
        'sleep 3600',
      ].join('\n'),
    );
    tmux('new-session', '-d', '-s', 'run', '-x', '200', '-y', '50', `sh ${quote(script)}`);

    const screens: string[] = [];
    const waitFor = async (what: RegExp, timeoutMs = 240_000): Promise<string> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const screen = tmux('capture-pane', '-p', '-t', 'run');
        if (screens.at(-1) !== screen) screens.push(screen);
        if (what.test(screen)) return screen;
        if (/offsite exited with/.test(screen) && !what.test(screen)) {
          throw new Error(`the run ended before ${what} appeared; last screen:\n${screen}`);
        }
        if (Date.now() > deadline) throw new Error(`${what} did not appear; last screen:\n${screen}`);
        await sleep(150);
      }
    };
    try {
      // The wait for RDS: the instance's status and the time waited, counting up.
      const creating = /restore\s+waiting for the restore: creating · ([\d.]+ (?:ms|s))/;
      const first = (await waitFor(creating)).match(creating)![1];
      await waitFor(
        new RegExp(`restore\\s+waiting for the restore: creating · (?!${first!.replace('.', '\\.')})`),
      );
      // The dump running (its row shows what it does), then written: tables n/N and bytes.
      await waitFor(/dump\s+(pg_dump|key order|written)/);
      // The upload while it runs (behind the restore test, or on its own row): bytes of the dump
      // read, what was sent.
      await waitFor(
        /upload(?: \(in the background\):|\s+) ?uploading new chunks, [\d.]+ \S+ sent · [\d.]+ \S+/,
      );
      const end = await waitFor(/offsite exited with \d+/);
      world.emulator.clearFaults();

      expect(end, end).toMatch(/offsite exited with 0/);
      // The view's last state stays on the terminal, with each stage's final numbers.
      const tables = end.match(/dump\s+written · (\d+)\/(\d+) tables · [\d.]+ \S+/);
      expect(tables, end).not.toBeNull();
      expect(tables![1]).toBe(tables![2]);
      expect(end).toMatch(/restore-test\s+\d+\/\d+ tables restored; checks · \d+ checks/);
      expect(end).toMatch(/upload\s+published, [\d.]+ \S+ sent/);
      // Then the one summary line.
      expect(end.match(/^offsite run demo: succeeded in /gm)).toHaveLength(1);
      // The view changed while the run went on: many distinct screens, in the order of the stages.
      expect(screens.length).toBeGreaterThan(4);
    } finally {
      world.emulator.clearFaults();
    }
  });
});

describe('without a terminal (cron, systemd)', () => {
  it('plain lines: no control characters, every log line of the run names it, one summary line', async () => {
    const run = await runCli(['run', 'pipelines/demo.yaml'], world.env());
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toMatch(CONTROL);
    const summaries = run.stderr.split('\n').filter((l) => l.startsWith('offsite run demo: '));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatch(/^offsite run demo: succeeded in .*; backup \S+ published/);
    // pino's JSON lines: from the lock on, each carries the pipeline and the run id.
    const records = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = records.find((r) => r.msg === 'run started');
    expect(started?.runId).toMatch(/^\d{8}t\d{6}z-[0-9a-f]{6}$/);
    const ofRun = records.filter((r) => r.stage !== undefined || r.msg === 'run succeeded');
    expect(ofRun.length).toBeGreaterThan(10);
    for (const r of ofRun) {
      expect(r.pipeline, JSON.stringify(r)).toBe('demo');
      expect(r.runId, JSON.stringify(r)).toBe(started?.runId);
    }
  });

  it('offsite run --all: both pipelines run, the failing one is named, one table, the most severe exit code', async () => {
    const pipelines = join(dir, 'pipelines');
    mkdirSync(pipelines);
    demoPipelineWith(pipelines, { name: 'good' }, 'good.yaml');
    // Its store secret is unset on this machine: refused before anything is created (exit 3).
    demoPipelineWith(
      pipelines,
      { name: 'nosecret', store: { secretAccessKeyEnv: 'OFFSITE_TEST_UNSET_SECRET' } },
      'nosecret.yaml',
    );
    const run = await runCli(['run', '--all', '--dir', pipelines, '--concurrency', '2'], world.env());
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stdout + run.stderr).not.toMatch(CONTROL);
    const table = run.stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^pipeline\s+status\s+code\s+time\s+uploaded\s+backup \/ report$/);
    expect(table[1]).toMatch(/^good\s+succeeded\s+-\s+/);
    expect(table[2]).toMatch(/^nosecret\s+failed\s+CREDENTIALS_MISSING\s+/);
    expect(table[3]).toBe('offsite run --all: 1/2 pipelines backed up');
    expect(table).toHaveLength(4);
    expect(run.stderr).toContain('OFFSITE_TEST_UNSET_SECRET');
  });
});
