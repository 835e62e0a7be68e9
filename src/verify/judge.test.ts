import { describe, expect, it } from 'vitest';
import { compareSchemas } from './schema-compare.ts';
import type { SchemaFingerprint } from './schema-fingerprint.ts';
import { judgeAssertion } from './sql-assertions.ts';

const fp = (objects: Record<string, string>, more: Partial<SchemaFingerprint> = {}): SchemaFingerprint => ({
  objects,
  notValidConstraints: [],
  invalidIndexes: [],
  ...more,
});

describe('compareSchemas', () => {
  const base = { 'table app.t': 'kind=r', 'extension pg_trgm': '1.6' };

  it('fails on a missing, extra or different object and says which', () => {
    const check = compareSchemas(fp(base), fp({ 'table app.t': 'kind=p', 'index app.i': 'CREATE INDEX' }));
    expect(check.status).toBe('failed');
    expect(check.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'table', object: 'app.t', difference: 'different' }),
        expect.objectContaining({ kind: 'index', object: 'app.i', difference: 'extra' }),
        expect.objectContaining({ kind: 'extension', object: 'pg_trgm', difference: 'missing' }),
      ]),
    );
  });

  it('only warns about an extension restored at another version, and a source-side invalid index', () => {
    const restored = fp({ ...base, 'extension pg_trgm': '1.5' });
    expect(compareSchemas(fp(base), restored).status).toBe('warned');
    expect(compareSchemas(fp(base, { invalidIndexes: ['app.i'] }), fp(base)).status).toBe('warned');
    expect(compareSchemas(fp(base), fp(base, { invalidIndexes: ['app.i'] })).status).toBe('failed');
    // An index invalid on both sides (ON ONLY a partitioned table) is the source's truth.
    const both = compareSchemas(
      fp(base, { invalidIndexes: ['p_a_idx'] }),
      fp(base, { invalidIndexes: ['p_a_idx'] }),
    );
    expect(both.status).toBe('warned');
    expect(both.details).toContainEqual(
      expect.objectContaining({ object: 'p_a_idx', difference: expect.stringMatching(/source too/) }),
    );
    expect(JSON.stringify(both.details)).not.toMatch(/not in the dump/);
    expect(compareSchemas(fp(base), fp(base)).status).toBe('passed');
  });
});

describe('judgeAssertion', () => {
  const a = (expect: Record<string, unknown>) => ({ name: 'a', query: 'SELECT 1', expect });

  it('compares numbers numerically, whatever type the driver returns', () => {
    expect(judgeAssertion(a({ equals: 0 }), { value: '0', rows: 1 }, undefined).status).toBe('passed');
    expect(judgeAssertion(a({ equals: 0 }), { value: '1', rows: 1 }, undefined).status).toBe('failed');
    expect(judgeAssertion(a({ min: 2, max: 3 }), { value: 2.5, rows: 1 }, undefined).status).toBe('passed');
    expect(judgeAssertion(a({ min: 2 }), { value: 'abc', rows: 1 }, undefined).summary).toMatch(
      /not a number/,
    );
    expect(judgeAssertion(a({ max: 2 }), { value: null, rows: 1 }, undefined).status).toBe('failed');
  });

  it('compares strings and booleans as they are, and the source value when asked', () => {
    expect(judgeAssertion(a({ equals: 'ok' }), { value: 'ok', rows: 1 }, undefined).status).toBe('passed');
    expect(judgeAssertion(a({ equals: true }), { value: 'true', rows: 1 }, undefined).status).toBe('failed');
    const src = { value: '10.50', rows: 1 };
    expect(judgeAssertion(a({ equalsSource: true }), { value: '10.50', rows: 1 }, src).status).toBe('passed');
    expect(judgeAssertion(a({ equalsSource: true }), { value: '10.5', rows: 1 }, src).status).toBe('failed');
    expect(
      judgeAssertion(a({ equalsSource: true }), { value: 1, rows: 1 }, { error: 'boom' }).summary,
    ).toMatch(/failed on the source: boom/);
  });

  it('wants exactly one row', () => {
    expect(judgeAssertion(a({ min: 0 }), { value: 1, rows: 2 }, undefined).summary).toMatch(
      /returned 2 rows/,
    );
    expect(judgeAssertion(a({ min: 0 }), { value: null, rows: 0 }, undefined).status).toBe('failed');
  });
});
