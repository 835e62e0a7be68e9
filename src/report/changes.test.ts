import { describe, expect, it } from 'vitest';
import { changeLines, tableChanges } from './changes.ts';

const counts = (o: Record<string, number>) => new Map(Object.entries(o));

describe('tableChanges', () => {
  it('lists every table whose count moved, new and gone tables first, then by relative change', () => {
    const { tables, unchanged } = tableChanges(
      counts({ 'app.a': 1000, 'app.b': 1000, 'app.c': 50, 'app.gone': 7, 'app.same': 3 }),
      counts({ 'app.a': 1001, 'app.b': 1007, 'app.c': 40, 'app.new': 2, 'app.same': 3 }),
    );
    expect(tables.map((t) => t.table)).toEqual(['app.gone', 'app.new', 'app.c', 'app.b', 'app.a']);
    expect(tables[0]).toEqual({ table: 'app.gone', previous: 7, current: null });
    expect(tables[1]).toEqual({ table: 'app.new', previous: null, current: 2 });
    expect(unchanged).toBe(1);
  });
});

describe('changeLines', () => {
  it('shows the biggest changes, capped, with "and N more"', () => {
    const previous = counts(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`app.t${i}`, 1000])));
    const current = counts(
      Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`app.t${i}`, 1000 + i + 1])),
    );
    const lines = changeLines(
      {
        previousRunId: 'r',
        ...tableChanges(previous, current),
        dumpBytes: { previous: 1000, current: 1100 },
      },
      3,
    );
    expect(lines).toEqual([
      'row counts: 8 of 8 tables changed, the biggest first',
      '  app.t7: 1,000 → 1,008 (+0.8 %)',
      '  app.t6: 1,000 → 1,007 (+0.7 %)',
      '  app.t5: 1,000 → 1,006 (+0.6 %)',
      '  and 5 more',
      'dump size: 1000 B → 1.07 KiB (+10 %)',
    ]);
  });

  it('says when nothing moved', () => {
    const same = counts({ 'app.a': 5 });
    expect(
      changeLines({
        previousRunId: 'r',
        ...tableChanges(same, same),
        dumpBytes: { previous: null, current: 9 },
      }),
    ).toEqual(['row counts: all 1 table unchanged']);
  });
});
