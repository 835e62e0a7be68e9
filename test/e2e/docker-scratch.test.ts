// scratch.kind: docker against a real container engine (scripts/container-engine.sh: podman's
// Docker API, the image localhost/offsite-postgres:<major> built from Debian's packages): a full
// `offsite run` of the demo world restores into a container and removes it afterwards, and so does
// doctor's scratch-server check; an image
// whose tag is older than the source is refused before anything is restored; an image the engine
// cannot start fails the run naming scratch.image, with nothing left behind.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCRATCH_CONTAINER_LABEL } from '../../src/adapters/docker-postgres-server.ts';
import { containerEngine, podman } from '../support/container-engine.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { runCli } from '../support/run-cli.ts';

// Waits for CI's background setup of the engine to finish (its lock), however long it takes.
const engine = await containerEngine();
const title = `scratch.kind: docker${engine.available ? '' : ` (skipped: ${engine.reason})`}`;

describe.skipIf(!engine.available)(title, () => {
  if (!engine.available) {
    // One skipped test, so that the reason shows in the run's list of tests.
    it.skip(`restores into a container (skipped: ${engine.reason})`, () => {});
    return;
  }
  let world: LocalWorld;
  let dir: string;

  const scratchContainers = async () => {
    const ps = await podman(engine, ['ps', '-a', '-q', '--filter', `label=${SCRATCH_CONTAINER_LABEL}`]);
    expect(ps.exitCode, ps.stderr).toBe(0);
    return ps.stdout.split('\n').filter(Boolean);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offsite-docker-e2e-'));
    world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
    expect(await scratchContainers()).toEqual([]);
  });
  afterAll(async () => {
    await world?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    // Whatever happened: no temporary instance, no scratch container.
    expect(world.emulator.listInstances().map((i) => `${i.id} ${i.status}`)).toEqual([]);
    expect(await scratchContainers()).toEqual([]);
  });

  it('offsite run restores the demo into a container of the image, checks it, and removes the container', async () => {
    const pipeline = demoPipelineWith(
      dir,
      { scratch: { kind: 'docker', image: engine.postgresImage } },
      'docker.yaml',
    );
    const run = await runCli(['run', pipeline, '--json'], world.env(engine.env));
    expect(run.exitCode, run.stderr).toBe(0);
    const scratch = run.report?.restoreTest?.scratchServer;
    expect(scratch).toMatch(
      new RegExp(`^PostgreSQL 15\\.\\d+.* in a container of ${engine.postgresImage} \\(lz4, icu\\)$`),
    );
    const rowCounts = run.report?.checks.find((c) => c.name === 'row-counts');
    expect(rowCounts?.status).toBe('passed');
    expect(run.report?.backup).not.toBeNull();
    expect(readFileSync(run.report!.reports.markdown, 'utf8')).toContain(`- Scratch server: ${scratch}`);
  });

  it('offsite doctor starts and stops a container of the image in its scratch-server check', async () => {
    const pipeline = demoPipelineWith(
      dir,
      { scratch: { kind: 'docker', image: engine.postgresImage } },
      'doctor.yaml',
    );
    const run = await runCli(['doctor', pipeline], world.env(engine.env));
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const image = engine.postgresImage.replace(/[./]/g, '\\$&');
    expect(run.stdout).toMatch(
      new RegExp(`scratch-server.*started and stopped PostgreSQL 15\\.\\d+.* in a container of ${image}`),
    );
  });

  it("an image whose tag is older than the source is refused before a restore: exit 3, the image's fix named", async () => {
    const older = engine.postgresImage.replace(/:\d+$/, ':14');
    const pipeline = demoPipelineWith(dir, { scratch: { kind: 'docker', image: older } }, 'older.yaml');
    const before = world.emulator.requests.length;
    const run = await runCli(['run', pipeline, '--json'], world.env(engine.env));
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.report?.error).toMatchObject({ code: 'SCRATCH_UNSUITABLE' });
    expect(run.report?.error?.message).toContain('the scratch server is PostgreSQL 14');
    expect(run.report?.error?.message).toContain('set scratch.image to postgres:15');
    const requests = world.emulator.requests.slice(before).map((r) => r.action);
    expect(requests.filter((action) => action.startsWith('Restore'))).toEqual([]);
  });

  it('an image the engine cannot start fails the run naming scratch.image; the temporary instance is deleted', async () => {
    const missing = 'localhost/offsite-no-such-image:15';
    const pipeline = demoPipelineWith(dir, { scratch: { kind: 'docker', image: missing } }, 'missing.yaml');
    const run = await runCli(['run', pipeline, '--json'], world.env(engine.env));
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.report?.error).toMatchObject({ code: 'SCRATCH_FAILED' });
    expect(run.report?.error?.message).toContain(`from image ${missing} (scratch.image)`);
    expect(run.report?.backup).toBeNull();
    expect(run.report?.tempInstance?.deleted).toBe(true);
  });
});
