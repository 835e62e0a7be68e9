import { describe, expect, it } from 'vitest';
import { parseCopyStatement } from './dump-toc.ts';

describe('parseCopyStatement', () => {
  it('takes the table and pg_dump’s column list', () => {
    expect(parseCopyStatement('COPY app.events (id, user_id, "odd col") FROM stdin;\n')).toEqual({
      table: 'app.events',
      columns: 'id, user_id, "odd col"',
    });
  });
  it('copes with quoted names and tables without columns', () => {
    expect(parseCopyStatement('COPY "my schema"."t (1)" (a) FROM stdin;\n')?.table).toBe(
      '"my schema"."t (1)"',
    );
    expect(parseCopyStatement('COPY public.empty  FROM stdin;\n')).toEqual({
      table: 'public.empty',
      columns: '',
    });
    expect(parseCopyStatement('INSERT INTO t VALUES (1);\n')).toBeNull();
  });
});
