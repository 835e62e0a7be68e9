// The CLI as a user meets it: bad input gets exit 2 and names the field; a missing precondition
// gets exit 3; the non-default scratch (`url`) and store (`dir`) kinds work end to end, and a
// backup on that disk comes back by hand with README's shell recipe.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdDecompressSync } from 'node:zlib';
import { execa } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/store/manifest.ts';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { type PgCluster, startCluster } from '../support/postgres-cluster.ts';
import { runCli } from '../support/run-cli.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bad input', () => {
  it('an invalid pipeline exits 2 and names each bad field with a fix', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'source:\n  rds: { region: eu-west-1 }\n  instanceId: db\n  database: app\n  tempInstance: { subnetGroup: s, securityGroupIds: [sg-1], pollIntervalSeconds: 300 }\nstore: { kind: s3, region: us-east-1, bucket: b1b, secretAccessKey: hunter2 }\n',
    );
    const run = await runCli(['run', file, '--json'], process.env);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('store.secretAccessKey: secrets are never written in a pipeline file');
    expect(run.stderr).not.toContain('hunter2');
  });

  it('every schema problem is listed at once', async () => {
    const file = join(dir, 'bad2.yaml');
    writeFileSync(
      file,
      'source:\n  rds: { region: eu-west-1 }\n  database: app\n  tempInstance: { subnetGroup: s, securityGroupIds: [sg-1], pollIntervalSeconds: 300 }\nstore: { kind: tape }\n',
    );
    const run = await runCli(['run', file], process.env);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/source\.instanceId: required/);
    expect(run.stderr).toMatch(/source\.tempInstance\.pollIntervalSeconds/);
    expect(run.stderr).toMatch(/store\.kind/);
  });

  it('a missing file, a bad --date and an unknown command exit 2', async () => {
    expect((await runCli(['run', join(dir, 'nope.yaml')], process.env)).exitCode).toBe(2);
    const badDate = await runCli(
      ['run', 'pipelines/example-production.yaml', '--date', '2026-02-30'],
      process.env,
    );
    expect(badDate.exitCode).toBe(2);
    expect(badDate.stderr).toContain('--date 2026-02-30');
    expect((await runCli(['frobnicate'], process.env)).exitCode).toBe(2);
    expect((await runCli(['run', 'a.yaml', '--no-such-flag'], process.env)).exitCode).toBe(2);
  });

  it('missing store credentials exit 3 and name the variables to set', async () => {
    const env = { ...process.env, B2_APPLICATION_KEY_ID: '', B2_APPLICATION_KEY: '' };
    const run = await runCli(['run', 'pipelines/example-production.yaml'], env);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain('B2_APPLICATION_KEY_ID');
  });
});

describe('other scratch and store kinds', () => {
  let world: LocalWorld;
  let scratch: PgCluster;
  beforeAll(async () => {
    world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
    scratch = await startCluster();
  });
  afterAll(async () => {
    await scratch?.stop();
    await world?.stop();
  });

  it('restore-tests on an existing server (`url`) in a fresh database that is dropped after, into a `dir` store', async () => {
    const storeDir = join(dir, 'offline-disk');
    const pipeline = demoPipelineWith(
      dir,
      {
        scratch: { kind: 'url', urlEnv: 'OFFSITE_TEST_SCRATCH_URL' },
        store: { kind: 'dir', path: storeDir, prefix: 'offsite' },
      },
      { replace: ['scratch', 'store'] },
    );

    const run = await runCli(
      ['run', pipeline, '--json'],
      world.env({ OFFSITE_TEST_SCRATCH_URL: scratch.url() }),
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report?.restoreTest?.scratchServerVersion).toMatch(/^\d+/);
    expect(run.stderr).not.toContain(scratch.password);

    const backups = readdirSync(join(storeDir, 'offsite', 'demo', 'backups'));
    expect(backups).toHaveLength(1);
    const manifestPath = join(storeDir, 'offsite', 'demo', 'backups', backups[0]!, 'manifest.json.zst');
    expect(existsSync(manifestPath)).toBe(true);

    // README's "Restoring without offsite", run as written (its `aws s3 cp` reads this disk).
    const readme = readFileSync('README.md', 'utf8');
    const recipe = /### Restoring without offsite[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const by = join(dir, 'by-hand');
    mkdirSync(by);
    copyFileSync(manifestPath, join(by, 'manifest.json.zst'));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not JavaScript
    const aws = 'aws() { [ "$1 $2" = "s3 cp" ] || exit 9; cp "$STORE/${3#"s3://$B/"}" "$4"; }';
    await execa('bash', ['-euo', 'pipefail', '-c', `${aws}\n${recipe}`], {
      cwd: by,
      env: { B: 'bucket', STORE: storeDir },
    });
    const manifest = JSON.parse(zstdDecompressSync(readFileSync(manifestPath)).toString()) as Manifest;
    expect(manifest.dump.files.length).toBeGreaterThan(2);
    for (const f of manifest.dump.files) {
      const bytes = readFileSync(join(by, 'dump', f.name));
      expect(bytes.length).toBe(f.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }

    const client = new pg.Client({ connectionString: scratch.url() });
    await client.connect();
    const dbs = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'offsite%'",
    );
    await client.end();
    expect(dbs.rows).toEqual([]);
  });
});
