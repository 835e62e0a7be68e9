// network.publicAccess: true, spelled out for a runner outside the VPC: the temporary instance is
// restored PubliclyAccessible in the configured subnet group and security groups, every report
// (JSON, Markdown, HTML) carries the warning, and no security group is created or changed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-public-access-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
}, 120_000);
afterAll(async () => {
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('a public temporary instance only when spelled out, warned of in every report', async () => {
  const file = demoPipelineWith(dir, { network: { publicAccess: true } }, 'public.yaml');
  const before = world.emulator.requests.length;
  const run = await runCli(['run', file, '--json'], world.env());
  expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);

  const calls = world.emulator.requests.slice(before);
  const restore = calls.find((c) => c.action === 'RestoreDBInstanceFromDBSnapshot');
  expect(restore?.params).toMatchObject({
    PubliclyAccessible: 'true',
    DBSubnetGroupName: 'offsite-demo-private',
  });
  expect(Object.values(restore?.params ?? {})).toContain('sg-0de30000000000000');
  // Security groups are named, never created, opened or changed.
  expect(calls.map((c) => c.action).filter((a) => /SecurityGroup/.test(a))).toEqual([]);

  const report = run.report!;
  expect(report.warnings).toHaveLength(1);
  const warning = report.warnings![0]!;
  expect(warning).toMatch(/network\.publicAccess is true[^\n]*PubliclyAccessible/);
  expect(readFileSync(report.reports.markdown, 'utf8')).toContain(`⚠️ **Warning**: ${warning}`);
  const html = readFileSync(report.reports.html!, 'utf8');
  expect(html).toContain('data-warning');
  expect(html).toContain('network.publicAccess is true');
  expect(run.stderr).toMatch(/"level":40[^\n]*network\.publicAccess is true/);
}, 240_000);
