import { describe, expect, it } from 'vitest';
import { parseTargetUrl, pgpassLookup } from './target-url.ts';

describe('parseTargetUrl', () => {
  it('reads user, host, port and database', () => {
    expect(parseTargetUrl('postgres://alice@db.example:6543/app_restored')).toEqual({
      host: 'db.example',
      port: 6543,
      user: 'alice',
      database: 'app_restored',
    });
    expect(parseTargetUrl('postgresql://bob@h/d').port).toBe(5432);
  });

  it('refuses a password, a maintenance database, or a missing part, as usage errors', () => {
    expect(() => parseTargetUrl('postgres://a:pw@h/d')).toThrow(/holds a password/);
    expect(() => parseTargetUrl('postgres://a@h/postgres')).toThrow(/does not restore into/);
    expect(() => parseTargetUrl('postgres://a@h/template1')).toThrow(/does not restore into/);
    expect(() => parseTargetUrl('postgres://h/d')).toThrow(/needs a user/);
    expect(() => parseTargetUrl('mysql://a@h/d')).toThrow(/postgres:\/\//);
  });
});

describe('pgpassLookup', () => {
  const t = { host: 'db', port: 5432, user: 'alice', database: 'app' };
  it('returns the first matching line, with wildcards and escapes', () => {
    const text = '# comment\nother:5432:*:alice:no\ndb:*:app:alice:p\\:w\\\\1\ndb:5432:app:alice:later\n';
    expect(pgpassLookup(text, t)).toBe('p:w\\1');
    expect(pgpassLookup('*:*:*:*:any\n', t)).toBe('any');
    expect(pgpassLookup('db:5432:app:bob:x\n', t)).toBeUndefined();
  });
});
