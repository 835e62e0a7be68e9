import { describe, expect, it } from 'vitest';
import type { OffsiteError } from '../errors.ts';
import { parsePipeline } from './load.ts';
import { describeValue, formatPath, quote } from './zod-issues.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary fields of a YAML tree
type Tree = Record<string, any>;

const valid = (): Tree => ({
  source: {
    rds: { region: 'eu-central-1' },
    instanceId: 'app-prod-db',
    database: 'app',
    tempInstance: { subnetGroup: 'private', securityGroupIds: ['sg-0123456789abcdef0'] },
  },
  store: { kind: 'dir', path: '/backups' },
});

/** The problem lines of a refused pipeline, by path. */
function problems(raw: Tree): Map<string, string> {
  try {
    parsePipeline(raw, 'pipelines/x.yaml', {});
  } catch (err) {
    expect((err as OffsiteError).code).toBe('CONFIG_INVALID');
    const lines = (err as Error).message.split('\n').slice(1);
    return new Map(lines.map((l) => /^ {2}(\S+): (.*)$/.exec(l)!.slice(1, 3) as [string, string]));
  }
  throw new Error('expected the pipeline to be refused');
}

describe('zod issues, described truthfully', () => {
  it('a wrong type names what was expected and what the file holds, not "required"', () => {
    const raw = valid();
    raw.dump = { jobs: 'four' };
    raw.source.tempInstance.securityGroupIds = 'sg-0123456789abcdef0';
    raw.store = {
      kind: 's3',
      region: 'r',
      bucket: 'bucket',
      objectLock: { mode: 'compliance', days: '30d' },
    };
    raw.verify = { schema: { enabled: 'yes' }, checksums: 'on' };
    const p = problems(raw);
    expect(p.get('dump.jobs')).toBe(
      'expected a number, got the string "four"; write the number alone, without quotes or a unit',
    );
    expect(p.get('source.tempInstance.securityGroupIds')).toBe(
      'expected a list, got the string "sg-0123456789abcdef0"; write a list, e.g. [sg-0123456789abcdef0]',
    );
    expect(p.get('store.objectLock.days')).toMatch(/^expected a number, got the string "30d"/);
    expect(p.get('verify.schema.enabled')).toBe(
      'expected true or false, got the string "yes"; write true or false, without quotes',
    );
    expect(p.get('verify.checksums')).toMatch(/^expected a mapping of fields, got the string "on"/);
    for (const message of p.values()) expect(message).not.toMatch(/required/);
  });

  it('a missing field is "required", an empty one is named as empty', () => {
    const raw = valid();
    raw.source.instanceId = undefined;
    raw.source.database = null;
    const p = problems(raw);
    expect(p.get('source.instanceId')).toBe('required (a string); add it');
    expect(p.get('source.database')).toBe('expected a string, got an empty value');
  });

  it('numbers, lists and mappings in the wrong place are named as such', () => {
    const raw = valid();
    raw.source.database = 42;
    raw.source.rds.region = ['eu-central-1'];
    raw.name = { a: 1 };
    const p = problems(raw);
    expect(p.get('source.database')).toBe('expected a string, got the number 42');
    expect(p.get('source.rds.region')).toBe('expected a string, got a list of 1 item');
    expect(p.get('name')).toBe('expected a string, got a mapping');
  });

  it('ranges say the bound and the value given', () => {
    const raw = valid();
    raw.source.tempInstance.pollIntervalSeconds = 120;
    raw.dump = { jobs: 0 };
    raw.store.chunking = { compressionLevel: 1.5 };
    const p = problems(raw);
    expect(p.get('source.tempInstance.pollIntervalSeconds')).toBe('must be at most 30 (it is 120)');
    expect(p.get('dump.jobs')).toBe('must be at least 1 (it is 0)');
    expect(p.get('store.chunking.compressionLevel')).toMatch(/^expected a whole number, got the number 1.5/);
  });

  it('enumerations and discriminators list the allowed values', () => {
    const raw = valid();
    raw.store = { kind: 'tape' };
    raw.anomalies = { fail: ['table-gone'] };
    raw.verify = { checksums: { tables: 'some' } };
    const p = problems(raw);
    expect(p.get('store.kind')).toBe('expected one of s3, dir, got the string "tape"');
    expect(p.get('anomalies.fail[0]')).toMatch(
      /^expected "table-missing" or .* got the string "table-gone"$/,
    );
    expect(p.get('verify.checksums.tables')).toBe('expected "all" or a list, got the string "some"');
  });

  it('a missing discriminator is required, with its values', () => {
    const raw = valid();
    raw.store = { path: '/x' };
    expect(problems(raw).get('store.kind')).toBe('required: one of s3, dir; add it');
  });

  it('formats keep their own message and add the value, except in …Env fields', () => {
    const raw = valid();
    raw.name = 'App_Prod';
    raw.source.rds.endpoint = 'not a url';
    raw.scratch = { kind: 'url', urlEnv: 'K004+pasted/secret' };
    const p = problems(raw);
    expect(p.get('name')).toBe(
      'use 1-30 lowercase letters, digits or hyphens, starting with a letter (got the string "App_Prod")',
    );
    expect(p.get('source.rds.endpoint')).toBe(
      'expected a URL such as https://host.example.com, got the string "not a url"',
    );
    expect(p.get('scratch.urlEnv')).toBe('must be the NAME of an environment variable');
  });

  it('an empty string is "must not be empty"; a value in a secret-named field is never repeated', () => {
    const raw = valid();
    raw.source.database = '';
    raw.store = { kind: 's3', region: 'r', bucket: 'bucket', secretAccessKeyEnv: ['K004pasted'] };
    const p = problems(raw);
    expect(p.get('source.database')).toBe('must not be empty');
    expect(p.get('store.secretAccessKeyEnv')).toBe('expected a string');
  });

  it('unknown keys keep their message', () => {
    const raw = valid();
    raw.source.tempInstance.subnetGrop = 'x';
    expect(problems(raw).get('source.tempInstance.subnetGrop')).toBe(
      'unknown field; remove it or check its spelling (see pipelines/example-production.yaml)',
    );
  });
});

describe('message parts', () => {
  it('paths are written as in the file', () => {
    expect(formatPath(['files', 0, 'path'])).toBe('files[0].path');
    expect(formatPath([])).toBe('(top level)');
  });

  it('values are described, long strings shortened and URL passwords masked', () => {
    expect(describeValue(true)).toBe('the boolean true');
    expect(describeValue([1, 2])).toBe('a list of 2 items');
    expect(quote('postgres://app:hunter2@db:5432/app')).toBe('"postgres://app:***@db:5432/app"');
    expect(quote('x'.repeat(100))).toHaveLength(62);
  });
});
