// The request counter around a real directory store: every call lands in its B2 class.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createDirStore } from '../adapters/object-store-dir.ts';
import { countingRequests, requestCountsOf } from './store-requests.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offsite-requests-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('counts puts and deletes as class A, gets and heads as B, lists as C; other stores have no count', async () => {
  const plain = createDirStore(dir);
  const store = countingRequests(plain);
  await store.put('a/1', Buffer.from('one'), 3);
  await store.put('a/2', Buffer.from('two'), 3);
  expect(await store.head('a/1')).toEqual({ key: 'a/1', size: 3 });
  for await (const _ of await store.get('a/2')) void _;
  expect((await store.list('a/')).map((o) => o.key).sort()).toEqual(['a/1', 'a/2']);
  await store.listFolders('');
  await store.delete('a/1');
  await expect(store.get('missing')).rejects.toThrow();
  expect(requestCountsOf(store)).toEqual({ classA: 3, classB: 3, classC: 2 });
  expect(store.urlOf('a/2')).toBe(plain.urlOf('a/2'));
  expect(requestCountsOf(plain)).toBeNull();
});
