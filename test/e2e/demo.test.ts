// npm run demo leaves something to explore: the store it wrote, as a directory store with a
// pipeline file holding store: alone, on which list and check work once the world is gone (no
// OFFSITE_DEMO_* variable set); and --scenario recovery's contract object.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../support/run-cli.ts';

let dir: string;

// The test's own environment, less anything of a world: the kept store must need none of it.
const plainEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OFFSITE_DEMO_')));

function demo(args: string[], runDir: string) {
  return execa('npm', ['run', '-s', 'demo', '--', ...args, '--scale', '0.05'], {
    cwd: REPO_ROOT,
    env: { ...plainEnv(), OFFSITE_DEMO_DIR: runDir },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 420_000,
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-demo-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('keeps its store: list and check work on .demo/demo-store.yaml after the world stopped', async () => {
    const runDir = join(dir, 'nightly');
    const child = await demo([], runDir);
    expect(child.exitCode, String(child.stderr)).toBe(0);
    const storeFile = join(runDir, 'demo-store.yaml');
    expect(String(child.stderr)).toMatch(/npx offsite list \S*demo-store\.yaml/);
    expect(readFileSync(storeFile, 'utf8')).toMatch(/^store:\n {2}kind: dir\n/m);
    expect(readFileSync(storeFile, 'utf8')).not.toMatch(/^source:/m);
    const list = await runCli(['list', storeFile, '--json'], plainEnv());
    expect(list.exitCode, list.stderr).toBe(0);
    const backups = JSON.parse(list.stdout) as { reason: string; restoreTest: string }[];
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatchObject({ reason: 'npm run demo', restoreTest: 'passed' });
    const check = await runCli(['check', storeFile], plainEnv());
    expect(check.exitCode, check.stderr).toBe(0);
    // The world is stopped: nothing of it is kept but the store and the reports.
    expect(existsSync(join(runDir, 'env.sh'))).toBe(false);
  });

  it('--scenario recovery --json: the first night restored equal to its day, the newest drilled from the store, an encrypted store with no row value, a prune to the newest', async () => {
    const runDir = join(dir, 'recovery');
    const child = await demo(['--scenario', 'recovery', '--json'], runDir);
    expect(child.exitCode, String(child.stderr)).toBe(0);
    const out = JSON.parse(String(child.stdout)) as {
      restore: { equal: boolean; seconds: number; tables: number };
      drill: { status: string; seconds: number; backup: string };
      encrypted: { plaintextFound: boolean; objects: number; controlFound: boolean };
      prune: { kept: number; deleted: number; keptIds: string[]; check: string };
    };
    expect(Object.keys(out)).toEqual(['restore', 'drill', 'encrypted', 'prune']);
    expect(out.restore.equal).toBe(true);
    expect(out.restore.seconds).toBeGreaterThan(0);
    expect(out.restore.tables).toBeGreaterThanOrEqual(5);
    expect(out.drill.status).toBe('passed');
    expect(out.encrypted.plaintextFound).toBe(false);
    expect(out.encrypted.controlFound).toBe(true);
    expect(out.encrypted.objects).toBeGreaterThan(3);
    expect(out.prune).toMatchObject({ kept: 1, deleted: 2, check: 'passed' });
    expect(out.prune.keptIds).toEqual([out.drill.backup]);
    // The kept store holds what prune kept: the newest night, with its passed drill.
    const list = await runCli(['list', join(runDir, 'demo-store.yaml'), '--json'], plainEnv());
    expect(list.exitCode, list.stderr).toBe(0);
    const backups = JSON.parse(list.stdout) as { id: string; lastDrill: string | null }[];
    expect(backups).toHaveLength(1);
    expect(backups.at(-1)!.id).toBe(out.drill.backup);
    expect(backups.at(-1)!.lastDrill).not.toBeNull();
  });
});
