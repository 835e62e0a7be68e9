import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OffsiteError } from '../errors.ts';
import { StoreCrypto } from './store-crypto.ts';
import { openDataKey, unwrapDataKey, wrapDataKey } from './store-keys.ts';
import { checkNewUserKey, readUserKey, type UserKey } from './user-key.ts';

const dir = mkdtempSync(join(tmpdir(), 'offsite-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const now = new Date('2026-12-01T00:00:00Z');
const passphrase = (p: string): Promise<UserKey> =>
  readUserKey({ passphraseEnv: 'K' }, 'encryption.keys[0]', { K: p });

describe('wrapped data keys', () => {
  it('a passphrase wraps the data key with scrypt; the right one unwraps it, a wrong one does not', async () => {
    const { dataKey, crypto } = StoreCrypto.generate();
    const right = await passphrase('correct horse battery staple');
    const wrapped = await wrapDataKey(dataKey, right, now);
    expect(wrapped.kdf).toMatchObject({ name: 'scrypt', N: 2 ** 17, r: 8, p: 1 });
    expect(wrapped.dataKeyId).toBe(crypto.dataKeyId);
    expect(JSON.stringify(wrapped)).not.toContain(dataKey.toString('base64'));
    expect(JSON.stringify(wrapped)).not.toContain(dataKey.toString('hex'));
    expect(await unwrapDataKey(wrapped, right)).toEqual(dataKey);
    expect(await unwrapDataKey(wrapped, await passphrase('correct horse battery stapler'))).toBeNull();
    // The same passphrase wraps to other bytes each time (fresh salt and nonce).
    expect((await wrapDataKey(dataKey, right, now)).wrap.sealed).not.toBe(wrapped.wrap.sealed);
  });

  it('a key file wraps it too; a tampered copy opens with nothing', async () => {
    const file = join(dir, 'store.key');
    writeFileSync(file, `${'k'.repeat(44)}\n`);
    const user = await readUserKey({ keyFile: file }, 'encryption.keys[0]');
    expect(user.secret.toString()).toBe('k'.repeat(44));
    const { dataKey } = StoreCrypto.generate();
    const wrapped = await wrapDataKey(dataKey, user, now);
    expect(wrapped.kdf.name).toBe('hkdf-sha256');
    expect(await unwrapDataKey(wrapped, user)).toEqual(dataKey);
    const sealed = Buffer.from(wrapped.wrap.sealed, 'base64');
    sealed[20]! ^= 1;
    expect(
      await unwrapDataKey({ ...wrapped, wrap: { ...wrapped.wrap, sealed: sealed.toString('base64') } }, user),
    ).toBeNull();
    expect(await unwrapDataKey({ ...wrapped, dataKeyId: '0'.repeat(16) }, user)).toBeNull();
  });

  it('opening with a wrong passphrase is CREDENTIALS_INVALID naming the variable, never the secret', async () => {
    const { dataKey } = StoreCrypto.generate();
    const wrapped = await wrapDataKey(dataKey, await passphrase('the right passphrase here'), now);
    const err = await openDataKey([wrapped], [await passphrase('a wrong passphrase here!')], 'dir/p/').catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(OffsiteError);
    expect(err.code).toBe('CREDENTIALS_INVALID');
    expect(err.message).toContain('the passphrase in K');
    expect(err.message).toContain(wrapped.keyId);
    expect(err.message).not.toContain('wrong passphrase here');
    const opened = await openDataKey([wrapped], [await passphrase('the right passphrase here')], 'dir/p/');
    expect(opened.dataKey).toEqual(dataKey);
  });

  it('a missing variable or key file is CREDENTIALS_MISSING naming it; weak new keys are refused', async () => {
    const missing = await readUserKey({ passphraseEnv: 'OFFSITE_NOPE' }, 'encryption.keys[1]', {}).catch(
      (e) => e,
    );
    expect(missing.code).toBe('CREDENTIALS_MISSING');
    expect(missing.message).toMatch(
      /^encryption\.keys\[1\]\.passphraseEnv: environment variable OFFSITE_NOPE is not set/,
    );
    const nofile = await readUserKey({ keyFile: join(dir, 'none.key') }, 'encryption.keys[0]').catch(
      (e) => e,
    );
    expect(nofile.code).toBe('CREDENTIALS_MISSING');
    expect(nofile.message).toContain('none.key');
    expect(() =>
      checkNewUserKey({ kind: 'passphrase', source: 'K', label: 'x', secret: Buffer.from('short') }),
    ).toThrow(/shorter than 16/);
    expect(() =>
      checkNewUserKey({ kind: 'keyFile', source: 'f', label: 'x', secret: Buffer.alloc(10) }),
    ).toThrow(/fewer than 32 bytes/);
  });
});
