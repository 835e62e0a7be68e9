// End to end: when the temporary instance cannot be deleted, `offsite run` (a subprocess against
// the local world) exits 1, keeps the original error first, reports TEARDOWN_FAILED beside it, and
// tells the operator which instance is left and the command that deletes it by hand.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteDBInstanceCommand, type RDSClient, waitUntilDBInstanceDeleted } from '@aws-sdk/client-rds';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPgTools } from '../../src/adapters/pg-tools.ts';
import type { RunReport } from '../../src/report/run-report.ts';
import { MANIFEST } from '../../src/store/layout.ts';
import { FAST_WAIT, rdsClient } from '../emulators/rds/fixtures.ts';
import { fakePgTools } from '../support/fake-pg-tools.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { REPO_ROOT, runCli } from '../support/run-cli.ts';

let world: LocalWorld;
let rds: RDSClient;
let dir: string;
let realBinDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-teardown-'));
  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
  rds = rdsClient(world.emulator);
  realBinDir = (await findPgTools(15, undefined)).binDir;
});

afterAll(async () => {
  rds?.destroy();
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What the operator is told to do: the instance left behind, deleted by hand. */
const handDelete = (id: string) =>
  `aws rds delete-db-instance --db-instance-identifier ${id} --skip-final-snapshot --delete-automated-backups`;

// Each test leaves an instance behind on purpose; it is deleted here as the hint says, so the
// world's leak checks still hold.
afterEach(async () => {
  world.emulator.clearFaults(); // a hung delete finishes once the fault is gone
  for (const instance of world.emulator.listInstances()) {
    if (instance.status !== 'deleting') {
      await rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: instance.id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      );
    }
    await waitUntilDBInstanceDeleted({ client: rds, ...FAST_WAIT }, { DBInstanceIdentifier: instance.id });
  }
  expect(world.emulator.listInstances()).toEqual([]);
});

async function manifests(): Promise<string[]> {
  const out = await world.s3.client().send(new ListObjectsV2Command({ Bucket: world.s3.bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.endsWith(MANIFEST));
}

const stageStatuses = (report: RunReport) => Object.fromEntries(report.stages.map((s) => [s.name, s.status]));

describe('the temporary instance cannot be deleted', () => {
  it('delete denied after a failed dump: exit 1, DUMP_FAILED first, TEARDOWN_FAILED with the instance and the command', async () => {
    const fake = fakePgTools(realBinDir, { pg_dump: 'fail' });
    world.emulator.setFaults({ deleteFails: true });
    const before = world.emulator.requests.length;
    try {
      const run = await runCli(
        ['run', 'pipelines/demo.yaml', '--json'],
        world.env({ PATH: `${fake}:${process.env.PATH}` }),
      );
      expect(run.exitCode, run.stderr).toBe(1);
      const report = run.report!;
      const id = report.tempInstance!.id;
      expect(report.status).toBe('failed');
      // The original error stays the run's error; the teardown failure is reported beside it, once.
      expect(report.error).toMatchObject({ stage: 'dump', code: 'DUMP_FAILED' });
      expect(report.error?.message).toContain('injected failure');
      expect(report.errors.map((e) => [e.stage, e.code])).toEqual([
        ['dump', 'DUMP_FAILED'],
        ['teardown', 'TEARDOWN_FAILED'],
      ]);
      const teardown = report.errors[1]!;
      expect(teardown.message).toContain(`temporary instance ${id} may still exist`);
      expect(teardown.message).toContain('not authorized to perform: rds:DeleteDBInstance');
      expect(teardown.hint).toBe(`delete it by hand: ${handDelete(id)}`);
      expect(report.tempInstance?.deleted).toBe(false);
      expect(stageStatuses(report)).toMatchObject({
        dump: 'failed',
        teardown: 'failed',
        'restore-test': 'not-run',
        upload: 'not-run',
      });
      expect(report.backup).toBeNull();
      expect(await manifests()).toEqual([]);
      expect(report.versions.offsite).toBe(
        (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version,
      );

      // The instance really is left (RDS refused), and the run asked to delete exactly it, once.
      expect(world.emulator.listInstances().map((i) => [i.id, i.status])).toEqual([[id, 'available']]);
      const deletes = world.emulator.requests.slice(before).filter((r) => r.action === 'DeleteDBInstance');
      expect(deletes.map((r) => [r.params.DBInstanceIdentifier, r.status, r.errorCode])).toEqual([
        [id, 403, 'AccessDenied'],
      ]);

      // What a person reads: the last lines on stderr, and the Markdown report.
      expect(run.stderr).toContain(`offsite: dump DUMP_FAILED: `);
      expect(run.stderr).toContain(
        `offsite: teardown TEARDOWN_FAILED: temporary instance ${id} may still exist`,
      );
      expect(run.stderr.split('\n')).toContain(`  → delete it by hand: ${handDelete(id)}`);
      const markdown = readFileSync(report.reports.markdown, 'utf8');
      expect(markdown).toContain(`\`${id}\` **NOT deleted — delete it by hand**`);
      expect(markdown).toContain(`→ delete it by hand: ${handDelete(id)}`);
      expect(readFileSync(report.reports.html!, 'utf8')).toContain(
        `<span class="hint">→ delete it by hand: ${handDelete(id)}</span>`,
      );
    } finally {
      rmSync(fake, { recursive: true });
    }
  });

  it('delete hangs: the run gives up after deleteTimeoutMinutes with TEARDOWN_FAILED, publishing nothing', async () => {
    // 0.05 min = 3 s instead of the demo's 5 min.
    const pipeline = demoPipelineWith(dir, { source: { tempInstance: { deleteTimeoutMinutes: 0.05 } } });
    world.emulator.setFaults({ deleteHangs: true });
    const run = await runCli(['run', pipeline, '--json'], world.env());

    expect(run.exitCode, run.stderr).toBe(1);
    const report = run.report!;
    const id = report.tempInstance!.id;
    expect(report.status).toBe('failed');
    expect(report.errors.map((e) => [e.stage, e.code])).toEqual([['teardown', 'TEARDOWN_FAILED']]);
    expect(report.error?.message).toBe(
      `temporary instance ${id} may still exist: still deleting after 0.05 min (source.tempInstance.deleteTimeoutMinutes)`,
    );
    expect(report.error?.hint).toBe(`delete it by hand: ${handDelete(id)}`);
    // Bounded by the configured limit (3 s), plus one poll and one RDS call, not by the hang.
    const teardownStage = report.stages.find((s) => s.name === 'teardown')!;
    expect(teardownStage.status).toBe('failed');
    expect(teardownStage.durationMs).toBeGreaterThanOrEqual(3_000);
    expect(teardownStage.durationMs).toBeLessThan(30_000);
    expect(stageStatuses(report)).toMatchObject({
      dump: 'succeeded',
      'restore-test': 'not-run',
      upload: 'not-run',
    });
    expect(report.backup).toBeNull();
    expect(await manifests()).toEqual([]);
    expect(world.emulator.listInstances().map((i) => [i.id, i.status])).toEqual([[id, 'deleting']]);
    expect(run.stderr.split('\n')).toContain(`  → delete it by hand: ${handDelete(id)}`);
  });
});
