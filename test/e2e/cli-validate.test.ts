// `offsite validate`, --help and usage errors as a user meets them: the CLI as a subprocess,
// judged by exit code and output, and (for a refused --date) by what exists on disk afterwards.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { REPO_ROOT, runCli } from '../support/run-cli.ts';

type Tree = Record<string, unknown>;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-cli-validate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Only what a subprocess needs to start: no B2 or AWS variables leak in from this machine.
const ENV = { PATH: process.env.PATH, HOME: process.env.HOME };

/** A valid pipeline writing into `dir` (a `dir` store, embedded scratch), with fields changed. */
function pipelineFile(name: string, change: (p: Tree & { source: Tree; store: Tree }) => void = () => {}) {
  const base = join(dir, name);
  const p = {
    name: 'nightly',
    source: {
      rds: { region: 'eu-central-1', endpoint: 'http://127.0.0.1:9' },
      instanceId: 'app-prod-db',
      database: 'app',
      tempInstance: { subnetGroup: 'private', securityGroupIds: ['sg-0123456789abcdef0'] },
    },
    store: { kind: 'dir', path: join(base, 'store'), prefix: 'offsite' },
    workDir: join(base, 'state', 'work'),
    reportDir: join(base, 'state', 'reports'),
  };
  change(p as Tree & { source: Tree; store: Tree });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(p));
  return file;
}

const b2Store = (over: Tree = {}) => ({
  kind: 's3',
  endpoint: 'https://s3.eu-central-003.backblazeb2.com',
  region: 'eu-central-003',
  bucket: 'acme-offsite',
  ...over,
});

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

describe('offsite validate', () => {
  it('a valid pipeline: one verdict line naming the pipeline and store, no JSON unless --print', async () => {
    const file = pipelineFile('good');
    const run = await runCli(['validate', file], ENV);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      `ok: ${file} is valid (pipeline nightly: RDS app-prod-db/app in eu-central-1 → ${join(dir, 'good', 'store', 'offsite', 'nightly')}/)`,
    ]);

    const printed = await runCli(['validate', file, '--print'], ENV);
    expect(printed.exitCode).toBe(0);
    const config = JSON.parse(printed.stdout) as { name: string; dump: { jobs: number } };
    expect(config).toMatchObject({ name: 'nightly', dump: { jobs: 2 } });
    expect(lastLine(printed.stderr)).toMatch(/^ok: .* is valid/);
    // Validating creates nothing.
    expect(existsSync(join(dir, 'good'))).toBe(false);
  });

  it('a wrong type is named as one: expected a number, got the string "four"', async () => {
    const file = pipelineFile('jobs', (p) => {
      p.dump = { jobs: 'four' };
    });
    const run = await runCli(['validate', file], ENV);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toContain('error: dump.jobs: expected a number, got the string "four"');
    expect(run.stdout).not.toContain('required');
    expect(lastLine(run.stdout)).toBe(`invalid: 1 problem in ${file}`);
    // run refuses it the same way.
    const viaRun = await runCli(['run', file], ENV);
    expect(viaRun.exitCode).toBe(2);
    expect(viaRun.stderr).toContain('dump.jobs: expected a number, got the string "four"');
  });

  type Case = [string, (p: Tree & { source: Tree; store: Tree }) => void, number, string, RegExp];
  const refused: Case[] = [
    [
      'a bucket named Acme_Offsite',
      (p) => {
        p.store = b2Store({ bucket: 'Acme_Offsite' });
      },
      2,
      'store.bucket',
      /"Acme_Offsite" is not a valid B2 bucket name.*did you mean acme-offsite\?/,
    ],
    [
      'securityGroupIds: [default]',
      (p) => {
        (p.source.tempInstance as Tree).securityGroupIds = ['default'];
      },
      2,
      'source.tempInstance.securityGroupIds[0]',
      /expected a security group id: sg- and 8 or 17 hexadecimal digits.*\(got the string "default"\)/,
    ],
    [
      'instanceClass: m6g.large',
      (p) => {
        (p.source.tempInstance as Tree).instanceClass = 'm6g.large';
      },
      2,
      'source.tempInstance.instanceClass',
      /write db\.m6g\.large/,
    ],
    [
      'prefix: /offsite/',
      (p) => {
        p.store.prefix = '/offsite/';
      },
      2,
      'store.prefix',
      /must not start with "\/".*; write "offsite"/,
    ],
    [
      "B2's native API endpoint",
      (p) => {
        p.store = b2Store({ endpoint: 'https://api004.backblazeb2.com' });
      },
      2,
      'store.endpoint',
      /api004\.backblazeb2\.com is B2's native API.*write https:\/\/s3\.<region>\.backblazeb2\.com/,
    ],
    [
      'an unset secret variable',
      (p) => {
        p.store = b2Store({ secretAccessKeyEnv: 'OFFSITE_TEST_UNSET_SECRET' });
      },
      3,
      'store.secretAccessKeyEnv',
      /environment variable OFFSITE_TEST_UNSET_SECRET is not set/,
    ],
    [
      'a file set path that does not exist',
      (p) => {
        p.files = [{ name: 'media', path: join(dir, 'not-mounted', 'media') }];
      },
      3,
      'files[0].path',
      /not-mounted\/media does not exist; mount it or fix the path/,
    ],
    [
      'a workDir that cannot be created (under a regular file)',
      (p) => {
        p.workDir = '/etc/hostname/x';
      },
      3,
      'workDir',
      /\/etc\/hostname\/x cannot be created: \/etc\/hostname is a file/,
    ],
  ];

  it.each(refused.map(([what, change, exit, field, message]) => ({ what, change, exit, field, message })))(
    'refuses $what, naming the field (exit $exit)',
    async ({ change, exit: exitCode, field, message }) => {
      const file = pipelineFile(`bad-${field.replace(/\W+/g, '-')}`, change);
      // B2 key id set, so only the variable under test is missing.
      const run = await runCli(['validate', file], {
        ...ENV,
        B2_APPLICATION_KEY_ID: 'id',
        B2_APPLICATION_KEY: 'key',
      });
      expect(run.exitCode, run.stdout + run.stderr).toBe(exitCode);
      const line = run.stdout.split('\n').find((l) => l.startsWith(`error: ${field}: `));
      expect(line, run.stdout).toMatch(message);
      expect(lastLine(run.stdout)).toMatch(/^invalid: \d+ problems? (in|on this machine for) /);
    },
  );
});

describe('offsite run refuses before anything is created', () => {
  it('a --date in the future or past RDS retention exits 2; no directory or store object appears', async () => {
    const file = pipelineFile('dated');
    const store = join(dir, 'dated', 'store');
    mkdirSync(store, { recursive: true });
    writeFileSync(join(store, 'already-here'), 'x');
    const env = {
      ...ENV,
      AWS_ACCESS_KEY_ID: 'AKIATEST',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-central-1',
    };

    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const future = await runCli(['run', file, '--date', tomorrow], env);
    expect(future.exitCode, future.stderr).toBe(2);
    expect(future.stderr).toContain(`--date ${tomorrow} is in the future`);

    const old = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
    const tooOld = await runCli(['run', file, '--date', old], env);
    expect(tooOld.exitCode, tooOld.stderr).toBe(2);
    expect(tooOld.stderr).toContain('RDS keeps automated snapshots for at most 35 days');

    expect(readdirSync(store, { recursive: true })).toEqual(['already-here']);
    expect(existsSync(join(dir, 'dated', 'state'))).toBe(false);
  });

  it('a machine without the secret variables exits 3 listing them', async () => {
    const file = pipelineFile('no-secrets', (p) => {
      p.store = b2Store();
    });
    const run = await runCli(['run', file], ENV);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toContain(
      'store.accessKeyIdEnv: environment variable B2_APPLICATION_KEY_ID is not set',
    );
    expect(run.stderr).toContain(
      'store.secretAccessKeyEnv: environment variable B2_APPLICATION_KEY is not set',
    );
    expect(existsSync(join(dir, 'no-secrets'))).toBe(false);
  });
});

describe('help and usage errors', () => {
  it('offsite --help lists every command and points at offsite <command> --help', async () => {
    const run = await runCli(['--help'], ENV);
    expect(run.exitCode).toBe(0);
    for (const name of ['run', 'report', 'check', 'restore', 'validate', 'prune', 'undelete']) {
      expect(run.stdout).toMatch(new RegExp(`^ {2}offsite ${name} <pipeline> +\\S`, 'm'));
    }
    expect(run.stdout).toContain('offsite <command> --help');
  });

  it('offsite run --help exits 0 with the flags, an example and the exit codes', async () => {
    for (const flag of ['--help', '-h']) {
      const run = await runCli(['run', flag], ENV);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/^Usage: offsite run <pipeline>/);
      for (const f of ['--date YYYY-MM-DD', '--reason TEXT', '--json'])
        expect(run.stdout).toMatch(new RegExp(`^ {2}${f} `, 'm'));
      expect(run.stdout).toMatch(/^Examples?:\n {2}offsite run /m);
      expect(run.stdout).toMatch(/^Exit codes:\n {2}0 /m);
      expect(run.stdout).toMatch(/^ {2}130 /m);
    }
  });

  it.each(['report', 'check', 'restore', 'validate', 'prune', 'undelete'])(
    'offsite %s --help exits 0 with its usage',
    async (name) => {
      const run = await runCli([name, 'whatever.yaml', '--help'], ENV);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: offsite ${name} <pipeline>`));
      expect(run.stdout).toContain('Exit codes:');
    },
  );

  it('an unknown flag is a usage error naming it and the command help', async () => {
    const run = await runCli(['run', 'pipelines/demo.yaml', '--no-such-flag'], ENV);
    expect(run.exitCode).toBe(2);
    // execa drops the last newline.
    expect(run.stderr).toBe('offsite: unknown flag --no-such-flag\n  → offsite run --help lists the flags');
  });

  it('npm run demo -- --help prints the demo help and exits 0', async () => {
    const npm = await execa('npm', ['run', 'demo', '--', '--help'], {
      cwd: REPO_ROOT,
      env: ENV,
      extendEnv: false,
      reject: false,
    });
    expect(npm.exitCode, npm.stderr).toBe(0);
    expect(npm.stdout).toContain('Usage: npm run demo');
    expect(npm.stdout).toContain('--scenario dedup');
    expect(npm.stderr).not.toMatch(/\bat \S+ \(/); // no stack trace
    const bad = await execa('npm', ['run', 'demo', '--', '--bogus'], {
      cwd: REPO_ROOT,
      env: ENV,
      extendEnv: false,
      reject: false,
    });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('demo: unknown flag --bogus; npm run demo -- --help lists the flags');
  });
});
