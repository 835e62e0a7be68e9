import { describe, expect, it } from 'vitest';
import { quoteLiteral, setClause, splitGucList } from './guc-settings.ts';

describe('setClause', () => {
  it('sets a list-valued setting back as a list, as pg_dump does', () => {
    expect(splitGucList('"$user", public')).toEqual(['$user', 'public']);
    expect(splitGucList('"My Schema", "a""b",x')).toEqual(['My Schema', 'a"b', 'x']);
    expect(setClause('search_path="$user", public')).toBe(`"search_path" TO '$user', 'public'`);
    expect(setClause('search_path=')).toBe(`"search_path" TO ''`);
  });

  it('quotes any other value as one literal', () => {
    expect(setClause('work_mem=64MB')).toBe(`"work_mem" TO '64MB'`);
    expect(setClause("app.note=it's = fine")).toBe(`"app.note" TO 'it''s = fine'`);
    expect(quoteLiteral("a'b")).toBe("'a''b'");
  });
});
