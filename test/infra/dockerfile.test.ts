// infra/Dockerfile, built as scripts/offsite-image.sh builds it, on the local PostgreSQL image of
// scripts/container-engine.sh (no registry): offsite runs in it as a non-root user, prints its
// version, validates a pipeline file mounted into its working directory, and finds pg_dump of the
// base image's major. Skipped, naming why, where no container engine can be started.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerEngine } from '../support/container-engine.ts';
import { REPO_ROOT } from '../support/run-cli.ts';

const dockerfile = readFileSync(join(REPO_ROOT, 'infra/Dockerfile'), 'utf8');
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

describe('infra/Dockerfile as a file', () => {
  it('builds on a base named by ARG BASE, with no RUN step (no network, no shell at build time)', () => {
    const instructions = dockerfile
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l) => l.split(/\s+/)[0]);
    expect(dockerfile).toMatch(/^ARG BASE=postgres:\d+-bookworm$/m);
    expect(dockerfile).toMatch(/^FROM \$\{BASE\}$/m);
    expect(instructions).not.toContain('RUN');
    expect(dockerfile).toMatch(/^USER 999:999$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["offsite"\]$/m);
  });
});

const engine = await containerEngine();
const title = `infra/Dockerfile built and run${engine.available ? '' : ` (skipped: ${engine.reason})`}`;

describe.skipIf(!engine.available)(title, () => {
  if (!engine.available) {
    it.skip(`builds the image (skipped: ${engine.reason})`, () => {});
    return;
  }
  const tag = `localhost/offsite-test:${randomBytes(4).toString('hex')}`;
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa('podman', ['run', '--rm', ...Object.keys(env).flatMap((k) => ['-e', k]), ...args], {
      reject: false,
      env,
    });

  beforeAll(async () => {
    const build = await execa(
      'bash',
      ['scripts/offsite-image.sh', '--base', engine.postgresImage, '--tag', tag],
      { cwd: REPO_ROOT, reject: false, all: true },
    );
    expect(build.exitCode, build.all).toBe(0);
  }, 900_000);
  afterAll(async () => {
    await execa('podman', ['rmi', '--force', tag], { reject: false });
  });

  it('offsite --version prints the package version, as a non-root user', async () => {
    const version = await run([tag, '--version']);
    expect(version.stderr).toBe('');
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toBe(VERSION);
    const id = await run(['--entrypoint', 'id', tag, '-u']);
    expect(id.stdout).toBe('999');
  });

  it('offsite validate pipelines/demo.yaml passes with the pipelines mounted into its working directory', async () => {
    const mount = ['-v', `${join(REPO_ROOT, 'pipelines')}:/opt/offsite/pipelines:ro`];
    // The values reach the container through the environment (`-e NAME`), never its argv.
    const env = {
      OFFSITE_DEMO_RDS_ENDPOINT: 'http://127.0.0.1:9',
      OFFSITE_DEMO_S3_ENDPOINT: 'http://127.0.0.1:9',
      OFFSITE_DEMO_S3_KEY_ID: 'demo-key-id',
      OFFSITE_DEMO_S3_SECRET: 'demo-secret',
    };
    const valid = await run([...mount, tag, 'validate', 'pipelines/demo.yaml'], env);
    expect(valid.exitCode, `${valid.stdout}\n${valid.stderr}`).toBe(0);
    // Without the store's key in the environment it is refused on this "machine": exit 3, naming it.
    const { OFFSITE_DEMO_S3_KEY_ID: _, ...withoutKey } = env;
    const missing = await run([...mount, tag, 'validate', 'pipelines/demo.yaml'], withoutKey);
    expect(missing.exitCode).toBe(3);
    expect(`${missing.stdout}${missing.stderr}`).toContain('OFFSITE_DEMO_S3_KEY_ID');
  });

  it("has the base image's pg_dump and pg_restore on PATH", async () => {
    const major = /:(\d+)$/.exec(engine.postgresImage)?.[1];
    for (const tool of ['pg_dump', 'pg_restore']) {
      const v = await run(['--entrypoint', tool, tag, '--version']);
      expect(v.exitCode, v.stderr).toBe(0);
      expect(v.stdout).toMatch(new RegExp(`^${tool} \\(PostgreSQL\\) ${major}\\.`));
    }
  });
});
