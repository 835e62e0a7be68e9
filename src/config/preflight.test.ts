import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../errors.ts';
import { parsePipeline } from './load.ts';
import { cacheDirOf, checkSecretVariables, preflight, preflightError } from './preflight.ts';
import type { PipelineConfig } from './schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'offsite-preflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pipeline(over: Record<string, unknown> = {}): PipelineConfig {
  const raw = {
    source: {
      rds: { region: 'eu-central-1' },
      instanceId: 'app-prod-db',
      database: 'app',
      tempInstance: { subnetGroup: 'private', securityGroupIds: ['sg-0123456789abcdef0'] },
    },
    store: { kind: 'dir', path: join(dir, 'store') },
    workDir: join(dir, 'state', 'work'),
    reportDir: join(dir, 'state', 'reports'),
    ...over,
  };
  return parsePipeline(raw, 'pipelines/x.yaml', {}).config;
}

const b2 = {
  kind: 's3',
  endpoint: 'https://s3.eu-central-003.backblazeb2.com',
  region: 'eu-central-003',
  bucket: 'acme-offsite',
};

describe('secret variables', () => {
  it('each one the pipeline names must be set and non-empty', () => {
    const config = pipeline({ store: b2, scratch: { kind: 'url', urlEnv: 'SCRATCH_URL' } });
    expect(checkSecretVariables(config, { B2_APPLICATION_KEY_ID: 'id', B2_APPLICATION_KEY: '' })).toEqual([
      {
        kind: 'credentials',
        path: 'store.secretAccessKeyEnv',
        message:
          'environment variable B2_APPLICATION_KEY is not set (or is empty); export it with the store key',
      },
      {
        kind: 'credentials',
        path: 'scratch.urlEnv',
        message:
          'environment variable SCRATCH_URL is not set (or is empty); export it with the postgres:// URL of the scratch server',
      },
    ]);
    const all = { B2_APPLICATION_KEY_ID: 'id', B2_APPLICATION_KEY: 'k', SCRATCH_URL: 'postgres://x' };
    expect(checkSecretVariables(config, all)).toEqual([]);
  });

  it('a dir store and an embedded scratch need none', () => {
    expect(checkSecretVariables(pipeline(), {})).toEqual([]);
  });

  it('a name that may be a pasted key is not repeated', () => {
    const pasted = 'K004abcdefghijklmnopqrstuvwxyz';
    const config = pipeline({ store: { ...b2, secretAccessKeyEnv: pasted } });
    const [problem] = checkSecretVariables(config, { B2_APPLICATION_KEY_ID: 'id' });
    expect(problem?.path).toBe('store.secretAccessKeyEnv');
    expect(problem?.message).not.toContain(pasted);
    expect(problem?.message).toMatch(/might be a pasted secret/);
  });
});

describe('directories', () => {
  it('work, report, cache and store directories that can be created pass, and are not created', async () => {
    const config = pipeline();
    expect(await preflight(config, {})).toEqual([]);
    expect(existsSync(join(dir, 'state'))).toBe(false);
    expect(existsSync(join(dir, 'store'))).toBe(false);
  });

  it('a directory under a regular file is refused, naming the file', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const problems = await preflight(pipeline({ workDir: join(file, 'work'), reportDir: file }), {});
    expect(problems).toEqual([
      {
        kind: 'path',
        path: 'workDir',
        message: `${join(file, 'work')} cannot be created: ${file} is a file; choose a directory`,
      },
      { kind: 'path', path: 'reportDir', message: `${file} is a file, not a directory; choose a directory` },
      // The default cache directory sits beside workDir: under the same file.
      {
        kind: 'path',
        path: 'store.cacheDir (default: cache beside workDir)',
        message: `${join(file, 'cache')} cannot be created: ${file} is a file; choose a directory`,
      },
    ]);
  });

  it('file sets must be existing directories', async () => {
    const media = join(dir, 'media');
    mkdirSync(media);
    const notDir = join(dir, 'notes.txt');
    writeFileSync(notDir, 'x');
    const missing = join(dir, 'efs', 'media');
    const config = pipeline({
      files: [
        { name: 'media', path: media },
        { name: 'notes', path: notDir },
        { name: 'gone', path: missing },
      ],
    });
    expect(await preflight(config, {})).toEqual([
      {
        kind: 'path',
        path: 'files[1].path',
        message: `${notDir} is a file, not a directory; name the directory to back up`,
      },
      { kind: 'path', path: 'files[2].path', message: `${missing} does not exist; mount it or fix the path` },
    ]);
  });

  it('an unwritable directory is refused (as root: an immutable one, which root cannot write either)', async () => {
    const locked = join(dir, 'locked');
    const root = process.getuid?.() === 0;
    mkdirSync(locked, { mode: 0o500 });
    // chattr +i: root ignores permission bits, not the immutable flag.
    if (root) execFileSync('chattr', ['+i', locked]);
    try {
      const [problem] = await preflight(pipeline({ workDir: join(locked, 'work') }), {});
      expect(problem?.message).toMatch(
        /cannot be created: .*locked is not writable by this user \((EACCES|EPERM)\)/,
      );
    } finally {
      if (root) execFileSync('chattr', ['-i', locked]);
      chmodSync(locked, 0o700);
    }
  });

  it('the cache directory defaults to cache/ beside workDir', () => {
    expect(cacheDirOf(pipeline())).toBe(join(dir, 'state', 'cache'));
    expect(cacheDirOf(pipeline({ store: { kind: 'dir', path: '/x', cacheDir: '/var/cache/offsite' } }))).toBe(
      '/var/cache/offsite',
    );
  });
});

describe('the error run stops with', () => {
  it('is a precondition (exit 3), CREDENTIALS_MISSING when only secrets are missing', () => {
    const secret = { kind: 'credentials', path: 'store.accessKeyIdEnv', message: 'm' } as const;
    const path = { kind: 'path', path: 'workDir', message: 'm' } as const;
    expect(preflightError('p.yaml', [secret]).code).toBe('CREDENTIALS_MISSING');
    const both = preflightError('p.yaml', [secret, path]);
    expect(both.code).toBe('PREFLIGHT_FAILED');
    expect(exitCodeFor(both.code)).toBe(3);
    expect(both.message).toContain('  workDir: m');
  });
});
