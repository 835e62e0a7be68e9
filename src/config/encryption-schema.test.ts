import { describe, expect, it } from 'vitest';
import { OffsiteError } from '../errors.ts';
import { parsePipeline } from './load.ts';

const valid = (encryption: unknown) => ({
  source: {
    rds: { region: 'eu-central-1' },
    instanceId: 'app-prod-db',
    database: 'app',
    tempInstance: { subnetGroup: 'private', securityGroupIds: ['sg-0123456789abcdef0'] },
  },
  store: { kind: 'dir', path: '/backups' },
  encryption,
});

function problems(encryption: unknown): string {
  try {
    parsePipeline(valid(encryption), 'pipelines/x.yaml', {});
  } catch (err) {
    expect(err).toBeInstanceOf(OffsiteError);
    expect((err as OffsiteError).code).toBe('CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('expected the pipeline to be rejected');
}

describe('encryption:', () => {
  it('takes passphrase variables and key files', () => {
    const { config } = parsePipeline(
      valid({ keys: [{ passphraseEnv: 'OFFSITE_KEY' }, { keyFile: '/etc/offsite/k' }] }),
      'pipelines/x.yaml',
      {},
    );
    expect(config.encryption?.keys).toEqual([
      { passphraseEnv: 'OFFSITE_KEY' },
      { keyFile: '/etc/offsite/k' },
    ]);
  });

  it('refuses a secret written inline, naming the field and the fix, without repeating it', () => {
    const message = problems({ keys: [{ passphrase: 'hunter2 hunter2 hunter2' }] });
    expect(message).toMatch(/encryption\.keys\.0\.passphrase|encryption\.keys\[0\]\.passphrase/);
    expect(message).toMatch(/a secret never goes in a pipeline file: .*passphraseEnv/);
    expect(message).not.toContain('hunter2');
  });

  it('refuses a key naming neither or both, a non-variable name, and no keys', () => {
    expect(problems({ keys: [{}] })).toMatch(/exactly one of passphraseEnv .* or keyFile/);
    expect(problems({ keys: [{ passphraseEnv: 'A', keyFile: '/k' }] })).toMatch(/exactly one of/);
    expect(problems({ keys: [{ passphraseEnv: 'my secret phrase' }] })).toMatch(
      /NAME of an environment variable/,
    );
    expect(problems({ keys: [] })).toMatch(/encryption\.keys: must list at least 1 item/);
  });
});
