// Bad pipeline files and command lines, as a user or a scheduler meets them: the CLI as a
// subprocess, no world (a `dir` store; every case fails before anything is reached). Each case
// names the field or file and exits with the documented code; nothing secret is echoed.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../support/run-cli.ts';

type Tree = Record<string, unknown>;
type Pipeline = Tree & { source: Tree & { tempInstance: Tree }; store: Tree; dump?: Tree; verify?: Tree };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-bad-input-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Only what a subprocess needs to start: no B2 or AWS variables leak in from this machine.
const ENV = { PATH: process.env.PATH, HOME: process.env.HOME };
const SECRET = 'hunter2-do-not-echo';

/** A valid pipeline file (a `dir` store under the test's directory) with fields changed. */
function pipelineFile(name: string, change: (p: Pipeline) => void = () => {}): string {
  const base = join(dir, name);
  const p: Pipeline = {
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
  change(p);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(p));
  return file;
}

function rawFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

interface Case {
  name: string;
  /** The command line, made once the test's directory exists. */
  argv: () => string[];
  exit: number;
  /** What the output must say: the field or file, and the fix where there is one. */
  says: RegExp[];
}

const tomorrow = () => new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);

const CASES: Case[] = [
  {
    name: 'a number given as a string',
    argv: () => ['validate', pipelineFile('jobs-string', (p) => (p.dump = { jobs: 'four' }))],
    exit: 2,
    says: [/dump\.jobs: expected a number/],
  },
  {
    name: 'a list given as a string',
    argv: () => [
      'validate',
      pipelineFile('sg-string', (p) => (p.source.tempInstance.securityGroupIds = 'sg-0123456789abcdef0')),
    ],
    exit: 2,
    says: [/source\.tempInstance\.securityGroupIds/],
  },
  {
    name: 'an unknown top-level key (a typo)',
    argv: () => ['validate', pipelineFile('unknown-top', (p) => (p.retension = 30))],
    exit: 2,
    says: [/retension/],
  },
  {
    name: 'an unknown nested key',
    argv: () => [
      'validate',
      pipelineFile('unknown-nested', (p) => (p.source.tempInstance.subnetGroupName = 'x')),
    ],
    exit: 2,
    says: [/subnetGroupName/],
  },
  {
    name: 'a missing subnet group',
    argv: () => ['validate', pipelineFile('no-subnet', (p) => delete p.source.tempInstance.subnetGroup)],
    exit: 2,
    says: [/source\.tempInstance\.subnetGroup/],
  },
  {
    name: 'a missing instance id',
    argv: () => ['validate', pipelineFile('no-instance', (p) => delete p.source.instanceId)],
    exit: 2,
    says: [/source\.instanceId/],
  },
  {
    name: 'an inline password (not echoed)',
    argv: () => ['validate', pipelineFile('inline-password', (p) => (p.source.password = SECRET))],
    exit: 2,
    says: [/password/i],
  },
  {
    name: 'an inline store secret key (not echoed)',
    argv: () => [
      'validate',
      pipelineFile('inline-secret', (p) => {
        p.store = {
          kind: 's3',
          endpoint: 'https://s3.eu-central-003.backblazeb2.com',
          region: 'eu-central-003',
          bucket: 'acme',
          secretAccessKey: SECRET,
        };
      }),
    ],
    exit: 2,
    says: [/secretAccessKey/],
  },
  {
    name: 'a malformed security group id',
    argv: () => [
      'validate',
      pipelineFile('bad-sg', (p) => (p.source.tempInstance.securityGroupIds = ['sg-xyz'])),
    ],
    exit: 2,
    says: [/securityGroupIds/],
  },
  {
    name: 'an unknown store kind',
    argv: () => ['validate', pipelineFile('store-kind', (p) => (p.store = { kind: 'gcs', bucket: 'b' }))],
    exit: 2,
    says: [/store/],
  },
  {
    name: 'an s3 store without a bucket',
    argv: () => [
      'validate',
      pipelineFile(
        'no-bucket',
        (p) =>
          (p.store = {
            kind: 's3',
            endpoint: 'https://s3.eu-central-003.backblazeb2.com',
            region: 'eu-central-003',
          }),
      ),
    ],
    exit: 2,
    says: [/store\.bucket/],
  },
  {
    name: 'a pack size over the maximum',
    argv: () => [
      'validate',
      pipelineFile('pack-size', (p) => (p.store.chunking = { packSize: 1024 * 1024 * 1024 })),
    ],
    exit: 2,
    says: [/store\.chunking\.packSize/],
  },
  {
    name: 'a negative dump job count',
    argv: () => ['validate', pipelineFile('jobs-negative', (p) => (p.dump = { jobs: -1 }))],
    exit: 2,
    says: [/dump\.jobs/],
  },
  {
    name: 'a variable that is not set',
    argv: () => [
      'validate',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the pipeline file's own ${VAR} syntax
      pipelineFile('unset-var', (p) => (p.source.instanceId = '${OFFSITE_FAULTS_NOT_SET}')),
    ],
    exit: 2,
    says: [/OFFSITE_FAULTS_NOT_SET/],
  },
  {
    name: 'a YAML syntax error',
    argv: () => ['validate', rawFile('syntax.yaml', 'name: nightly\nsource: [unclosed\n')],
    exit: 2,
    says: [/syntax\.yaml/],
  },
  {
    name: 'an empty file',
    argv: () => ['validate', rawFile('empty.yaml', '')],
    exit: 2,
    says: [/empty\.yaml/],
  },
  {
    name: 'a file that is a list, not a mapping',
    argv: () => ['validate', rawFile('list.yaml', '- a\n- b\n')],
    exit: 2,
    says: [/list\.yaml/],
  },
  {
    name: 'an unknown pipeline name',
    argv: () => ['run', 'no-such-pipeline-of-faults'],
    exit: 2,
    says: [/no-such-pipeline-of-faults/],
  },
  {
    name: 'a pipeline path that does not exist',
    argv: () => ['validate', join(dir, 'missing', 'nightly.yaml')],
    exit: 2,
    says: [/missing\/nightly\.yaml/],
  },
  {
    // As root every mode-000 file is readable: a directory is the unreadable file root meets.
    name: 'an unreadable pipeline file (a directory)',
    argv: () => {
      const d = join(dir, 'a-directory.yaml');
      mkdirSync(d, { recursive: true });
      return ['validate', d];
    },
    exit: 2,
    says: [/a-directory\.yaml/, /cannot read the pipeline file/],
  },
  {
    name: 'a symlink loop',
    argv: () => {
      const a = join(dir, 'loop-a.yaml');
      const b = join(dir, 'loop-b.yaml');
      symlinkSync(b, a);
      symlinkSync(a, b);
      return ['validate', a];
    },
    exit: 2,
    says: [/loop-a\.yaml/, /too many symbolic links/],
  },
  {
    name: 'a --date in the future',
    argv: () => ['run', pipelineFile('future-date'), '--date', tomorrow()],
    exit: 2,
    says: [/--date .* is in the future/],
  },
  {
    name: 'a --date that is no date',
    argv: () => ['run', pipelineFile('bad-date'), '--date', '2024-13-45'],
    exit: 2,
    says: [/--date/],
  },
  {
    name: 'an unknown command',
    argv: () => ['rnu', pipelineFile('unknown-command')],
    exit: 2,
    says: [/rnu/],
  },
  {
    name: 'an unknown flag',
    argv: () => ['run', pipelineFile('unknown-flag'), '--fast'],
    exit: 2,
    says: [/--fast/],
  },
  {
    name: 'a missing pipeline argument',
    argv: () => ['run'],
    exit: 2,
    says: [/pipeline/],
  },
];

describe('bad pipeline files and command lines', () => {
  it('has at least 20 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  for (const c of CASES) {
    it(`${c.name}: exit ${c.exit}, the cause named`, async () => {
      const argv = c.argv();
      const run = await runCli(argv, ENV, 60_000);
      const output = `${run.stdout}\n${run.stderr}`;
      expect(run.exitCode, output).toBe(c.exit);
      for (const re of c.says) expect(output).toMatch(re);
      expect(output).not.toContain(SECRET);
      // A message for people, not a stack trace.
      expect(output).not.toMatch(/at .*\.ts:\d+:\d+/);
    });
  }
});
