import { describe, expect, it } from 'vitest';
import { reconcileRowCounts } from './row-counts.ts';
import { matchesTablePattern } from './sql-names.ts';

describe('reconcileRowCounts', () => {
  const source = new Map([
    ['public.users', 10],
    ['public.audit_log', 5],
  ]);

  it('passes when every count is equal', () => {
    expect(reconcileRowCounts(source, new Map(source), []).status).toBe('passed');
  });

  it('fails on a differing count and on a missing table', () => {
    const check = reconcileRowCounts(source, new Map([['public.users', 9]]), []);
    expect(check.status).toBe('failed');
    expect(check.summary).toMatch(/2 of 2 tables differ/);
  });

  it('expects excluded tables empty', () => {
    const restored = new Map([
      ['public.users', 10],
      ['public.audit_log', 0],
    ]);
    expect(reconcileRowCounts(source, restored, ['audit_*']).status).toBe('passed');
    expect(reconcileRowCounts(source, restored, []).status).toBe('failed');
  });
});

describe('matchesTablePattern', () => {
  it('reads pg_dump patterns', () => {
    const t = { schema: 'public', name: 'audit_log' };
    expect(matchesTablePattern(t, 'public.audit_*')).toBe(true);
    expect(matchesTablePattern(t, 'audit_log')).toBe(true);
    expect(matchesTablePattern(t, 'other.audit_log')).toBe(false);
    expect(matchesTablePattern(t, 'audit')).toBe(false);
  });
});
