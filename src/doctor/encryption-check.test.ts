import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDirStore } from '../adapters/object-store-dir.ts';
import type { PipelineConfig } from '../config/schema.ts';
import { openPipelineStore } from '../store/open-store.ts';
import { checkEncryption } from './encryption-check.ts';

const root = mkdtempSync(join(tmpdir(), 'offsite-doctor-enc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const signal = new AbortController().signal;
const configOf = (encrypted: boolean) =>
  ({
    name: 'p',
    store: { kind: 'dir', path: root, prefix: 'offsite' },
    ...(encrypted && { encryption: { keys: [{ passphraseEnv: 'K' }] } }),
  }) as unknown as PipelineConfig;

describe("doctor's encryption check", () => {
  const store = createDirStore(root);
  const env = { K: 'the passphrase of this store' };

  it('an empty store: the first run will make the key; nothing is written', async () => {
    expect(await checkEncryption(store, configOf(true), env, signal)).toMatch(/no data key yet/);
    await expect(checkEncryption(store, configOf(true), { K: 'short' }, signal)).rejects.toThrow(
      /shorter than 16/,
    );
    expect(await store.list('offsite/')).toEqual([]);
  });

  it('passes when the key opens the store; fails naming the variable when it does not, or is unset', async () => {
    await openPipelineStore(store, configOf(true), { env, create: true });
    expect(await checkEncryption(store, configOf(true), env, signal)).toMatch(
      /the passphrase in K opens the store's data key \(key [0-9a-f]{8}; 1 key in the store\)/,
    );
    await expect(
      checkEncryption(store, configOf(true), { K: 'another passphrase, wrong' }, signal),
    ).rejects.toMatchObject({
      code: 'CREDENTIALS_INVALID',
      message: expect.stringContaining('the passphrase in K does not open'),
    });
    await expect(checkEncryption(store, configOf(true), {}, signal)).rejects.toMatchObject({
      code: 'CREDENTIALS_MISSING',
    });
    // A pipeline file without encryption: on this store fails too.
    await expect(checkEncryption(store, configOf(false), {}, signal)).rejects.toThrow(
      /is an encrypted store/,
    );
  });
});
