// The version offsite prints and writes into reports and manifests is package.json's, read from
// the copy being run: an installed copy elsewhere reports its own version.
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/run-cli.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-version-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('offsite --version is the version in package.json of the installed copy', async () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const installed = join(dir, 'opt-offsite');
  cpSync(join(REPO_ROOT, 'bin'), join(installed, 'bin'), { recursive: true });
  cpSync(join(REPO_ROOT, 'src'), join(installed, 'src'), { recursive: true });
  writeFileSync(join(installed, 'package.json'), JSON.stringify({ ...pkg, version: '9.8.7-test' }));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(installed, 'node_modules'));

  // Run from elsewhere, as a cron job would: nothing may depend on the working directory.
  const run = (root: string, arg: string) =>
    execa(process.execPath, [join(root, 'bin/offsite.js'), arg], { cwd: dir, reject: false });
  const installedRun = await run(installed, '--version');
  expect(installedRun.stderr).toBe('');
  expect(installedRun.stdout).toBe('9.8.7-test');
  expect((await run(REPO_ROOT, '--version')).stdout).toBe(pkg.version);
  expect((await run(installed, '--help')).stdout).toMatch(/^offsite 9\.8\.7-test: /);
});
