import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDirStore } from '../adapters/object-store-dir.ts';
import { OffsiteError } from '../errors.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { openPipelineStore } from './open-store.ts';
import { readObject } from './read-object.ts';
import { sealedObjectStore } from './sealed-object-store.ts';
import { OBJECT_OVERHEAD, StoreCrypto } from './store-crypto.ts';
import { wrapDataKey, writeWrappedKey } from './store-keys.ts';
import { readUserKey } from './user-key.ts';

const root = mkdtempSync(join(tmpdir(), 'offsite-sealed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sealedObjectStore', () => {
  const raw = createDirStore(join(root, 'a'));
  const { crypto } = StoreCrypto.generate();
  const store = sealedObjectStore(raw, crypto, 'offsite/p');
  const record = Buffer.from('{"email":"alice@example.com"}');

  it('seals the pipeline objects, passes packs, keys, locks and foreign keys through as they are', async () => {
    await store.put('offsite/p/backups/b/restore-test.json', record, record.length);
    for (const key of [
      'offsite/p/packs/ab/abc',
      'offsite/p/locks/r.json',
      'offsite/p/keys/k.json',
      'elsewhere/x',
    ])
      await store.put(key, record, record.length);
    const onDisk = readFileSync(join(root, 'a', 'offsite/p/backups/b/restore-test.json'));
    expect(onDisk.includes(Buffer.from('alice'))).toBe(false);
    expect(onDisk.length).toBe(record.length + OBJECT_OVERHEAD);
    expect(await readObject(store, 'offsite/p/backups/b/restore-test.json')).toEqual(record);
    for (const key of [
      'offsite/p/packs/ab/abc',
      'offsite/p/locks/r.json',
      'offsite/p/keys/k.json',
      'elsewhere/x',
    ])
      expect(readFileSync(join(root, 'a', key))).toEqual(record);
    // Packs are read by range, as before.
    expect(
      (await readObject(store, 'offsite/p/packs/ab/abc', undefined, { offset: 2, length: 5 })).toString(),
    ).toBe(record.subarray(2, 7).toString());
  });

  it('reports plaintext sizes for sealed objects, stored sizes for the rest', async () => {
    expect((await store.head('offsite/p/backups/b/restore-test.json'))?.size).toBe(record.length);
    const listed = await store.list('offsite/p/');
    expect(listed.every((o) => o.size === record.length)).toBe(true);
  });

  it('an object moved to another key, altered, or read with another data key is STORE_CORRUPT', async () => {
    const sealed = await readObject(raw, 'offsite/p/backups/b/restore-test.json');
    await raw.put('offsite/p/backups/c/restore-test.json', sealed, sealed.length);
    await expect(readObject(store, 'offsite/p/backups/c/restore-test.json')).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
    });
    const other = sealedObjectStore(raw, StoreCrypto.generate().crypto, 'offsite/p');
    await expect(readObject(other, 'offsite/p/backups/b/restore-test.json')).rejects.toBeInstanceOf(
      OffsiteError,
    );
    await expect(
      readObject(store, 'offsite/p/backups/b/restore-test.json', undefined, { offset: 0, length: 3 }),
    ).rejects.toThrow(/read whole/);
  });
});

describe('openPipelineStore', () => {
  const encryption = { keys: [{ passphraseEnv: 'K' }] };
  const env = { K: 'a passphrase of some length' };

  it('makes the data key on a first run, then opens it; refuses a pipeline without encryption: there', async () => {
    const raw = createDirStore(join(root, 'b'));
    const config = { name: 'p', store: { prefix: 'offsite' }, encryption };
    // Not a run: an empty store stays plaintext and untouched.
    expect(await openPipelineStore(raw, config, { env })).toBe(raw);
    expect(await raw.list('offsite/')).toEqual([]);
    const made = await openPipelineStore(raw, config, { env, create: true });
    expect(made.sealing).toBeDefined();
    expect((await raw.list('offsite/p/keys/')).length).toBe(1);
    await made.put('offsite/p/reports/r.json', Buffer.from('{}'), 2);
    const again = await openPipelineStore(raw, config, { env });
    expect((await readObject(again, 'offsite/p/reports/r.json')).toString()).toBe('{}');
    const refused = await openPipelineStore(raw, { name: 'p', store: { prefix: 'offsite' } }).catch((e) => e);
    expect(refused.code).toBe('PREFLIGHT_FAILED');
    expect(refused.message).toMatch(/is an encrypted store .* but the pipeline has no encryption:/);
  });

  it('refuses encryption: on a store with plaintext backups, and weak passphrases for a new key', async () => {
    const raw = createDirStore(join(root, 'c'));
    const weak = await openPipelineStore(
      raw,
      { name: 'p', store: { prefix: 'offsite' }, encryption },
      { env: { K: 'short' }, create: true },
    ).catch((e) => e);
    expect(weak.message).toMatch(/shorter than 16/);
    expect(await raw.list('offsite/')).toEqual([]);
    await raw.put('offsite/p/backups/b/manifest.json.zst', Buffer.from('x'), 1);
    const refused = await openPipelineStore(
      raw,
      { name: 'p', store: { prefix: 'offsite' }, encryption },
      { env, create: true },
    ).catch((e) => e);
    expect(refused.code).toBe('PREFLIGHT_FAILED');
    expect(refused.message).toMatch(/holds backups written without encryption \(backups\/\)/);
    expect((await raw.list('offsite/')).map((o) => o.key)).toEqual(['offsite/p/backups/b/manifest.json.zst']);
  });

  it('two first runs at once: the earliest data key wins, the later run withdraws its own copy', async () => {
    const raw = createDirStore(join(root, 'd'));
    const config = { name: 'p', store: { prefix: 'offsite' }, encryption };
    const user = await readUserKey({ passphraseEnv: 'K' }, 'k', env);
    const other = StoreCrypto.generate();
    const earlier = await wrapDataKey(other.dataKey, user, new Date('2026-01-01T00:00:00Z'));
    // The other run's copy lands just as this run writes its own.
    const racing: ObjectStore = {
      ...raw,
      async put(key, body, size, signal, opts) {
        if (key.includes('/keys/') && !key.includes(earlier.keyId))
          await writeWrappedKey(raw, 'offsite', 'p', earlier);
        return raw.put(key, body, size, signal, opts);
      },
    };
    const store = await openPipelineStore(racing, config, { env, create: true });
    expect((store.sealing as StoreCrypto).dataKeyId).toBe(other.crypto.dataKeyId);
    expect((await raw.list('offsite/p/keys/')).map((o) => o.key)).toEqual([
      `offsite/p/keys/${earlier.keyId}.json`,
    ]);
  });
});
