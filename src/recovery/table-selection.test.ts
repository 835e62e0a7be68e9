import { describe, expect, it } from 'vitest';
import type { ArchiveTocEntry } from '../adapters/archive-reader.ts';
import { restoreList, selectTables } from './table-selection.ts';

let next = 1;
function entry(
  desc: string,
  namespace: string | null,
  tag: string,
  dependencies: number[] = [],
): ArchiveTocEntry {
  return {
    dumpId: next++,
    hadDumper: false,
    tableOid: null,
    oid: null,
    tag,
    desc,
    section: 0,
    defn: null,
    dropStmt: null,
    copyStmt: null,
    namespace,
    tablespace: null,
    tableam: null,
    relkind: null,
    owner: null,
    dependencies,
    fileName: null,
  };
}

describe('selectTables', () => {
  const schema = entry('SCHEMA', null, 'app');
  const other = entry('SCHEMA', null, 'other');
  const users = entry('TABLE', 'app', 'users', [schema.dumpId]);
  const seq = entry('SEQUENCE', 'app', 'users_id_seq', [schema.dumpId]);
  const owned = entry('SEQUENCE OWNED BY', 'app', 'users_id_seq', [seq.dumpId]);
  const payments = entry('TABLE', 'app', 'payments', [schema.dumpId]);
  const usersDefault = entry('DEFAULT', 'app', 'users id', [users.dumpId, seq.dumpId]);
  const usersData = entry('TABLE DATA', 'app', 'users', [users.dumpId]);
  const paymentsData = entry('TABLE DATA', 'app', 'payments', [payments.dumpId]);
  const seqSet = entry('SEQUENCE SET', 'app', 'users_id_seq', [seq.dumpId]);
  const pkey = entry('CONSTRAINT', 'app', 'users users_pkey', [users.dumpId]);
  const index = entry('INDEX', 'app', 'payments_user_idx', [payments.dumpId]);
  const fk = entry('FK CONSTRAINT', 'app', 'payments payments_user_fkey', [
    payments.dumpId,
    users.dumpId,
    pkey.dumpId,
  ]);
  const comment = entry('COMMENT', 'app', 'TABLE users', [users.dumpId]);
  const fn = entry('FUNCTION', 'app', 'touch()', [schema.dumpId]);
  const trigger = entry('TRIGGER', 'app', 'users touch', [users.dumpId, fn.dumpId]);
  const entries = [
    schema,
    other,
    users,
    seq,
    owned,
    payments,
    usersDefault,
    usersData,
    paymentsData,
    seqSet,
    pkey,
    index,
    fk,
    comment,
    fn,
    trigger,
  ];

  it('takes a table with its schema, data, sequence, default, constraint and comment, not the others', () => {
    const s = selectTables(entries, ['app.users']);
    expect(s.dumpIds).toEqual(
      [schema, users, seq, owned, usersDefault, usersData, seqSet, pkey, comment].map((e) => e.dumpId),
    );
    expect(restoreList(s)).toBe(`${s.dumpIds.map((id) => `${id};`).join('\n')}\n`);
  });

  it('leaves out a trigger whose function is not restored', () => {
    expect(selectTables(entries, ['app.users']).dumpIds).not.toContain(trigger.dumpId);
  });

  it('takes a foreign key only with the table it references', () => {
    expect(selectTables(entries, ['app.payments']).dumpIds).not.toContain(fk.dumpId);
    expect(selectTables(entries, ['app.payments']).dumpIds).toContain(index.dumpId);
    expect(selectTables(entries, ['app.payments', 'app.users']).dumpIds).toContain(fk.dumpId);
  });

  it('names a table the backup does not hold', () => {
    let error: { message: string; hint?: string } | undefined;
    try {
      selectTables(entries, ['app.nope']);
    } catch (err) {
      error = err as { message: string; hint?: string };
    }
    expect(error?.message).toBe('--table app.nope: no such table in this backup');
    expect(error?.hint).toContain('app.users, app.payments');
  });
});
