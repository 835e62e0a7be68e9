// `offsite restore --table`: which entries of the dump's table of contents to give pg_restore -L.
// pg_restore's own -t restores a table's definition and data only (not its indexes, constraints,
// defaults or sequences, nor its schema), and -n/-t combine as a cross product; a list of entries
// says exactly what is restored.
import type { ArchiveTocEntry } from '../adapters/archive-reader.ts';
import { OffsiteError } from '../errors.ts';

/** Entries that stand for a relation or hang on one: a follower comes when these deps all come. */
const RELATIONAL = new Set([
  'TABLE',
  'TABLE DATA',
  'SEQUENCE',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'VIEW',
  'MATERIALIZED VIEW',
  'FOREIGN TABLE',
  'INDEX',
  'INDEX ATTACH',
  'CONSTRAINT',
  'FK CONSTRAINT',
  'DEFAULT',
  'TRIGGER',
  'RULE',
  'POLICY',
  'ROW SECURITY',
  'STATISTICS',
]);

/** Dependencies a follower may have that are there without being chosen (or not entries at all). */
const PRESENT = new Set(['SCHEMA', 'EXTENSION', 'PRESENT']);

/** What comes with a chosen table once every relation it depends on is restored too. */
const FOLLOWERS = new Set([
  'TABLE DATA',
  'SEQUENCE',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'INDEX',
  'INDEX ATTACH',
  'CONSTRAINT',
  'FK CONSTRAINT',
  'DEFAULT',
  'TRIGGER',
  'RULE',
  'POLICY',
  'ROW SECURITY',
  'STATISTICS',
  'COMMENT',
  'ACL',
  'SECURITY LABEL',
]);

/** The chosen tables' entries, in the dump's order, as dump ids. */
export interface TableSelection {
  dumpIds: number[];
  /** "schema.table" of each chosen table, as given. */
  tables: string[];
}

/**
 * Selects the tables ("schema.table", unquoted) with their schemas, data, indexes, constraints,
 * defaults, triggers, comments, privileges and the sequences their defaults or identities use.
 * What hangs on a table comes only when everything it needs comes too: a foreign key when the
 * table it references is chosen, a trigger not without its function. What a chosen table itself
 * needs (a type, a function in a default) is not restored: pg_restore then fails naming it.
 */
export function selectTables(entries: ArchiveTocEntry[], tables: string[]): TableSelection {
  const byId = new Map(entries.map((e) => [e.dumpId, e]));
  const key = (e: ArchiveTocEntry) => `${e.namespace}.${e.tag}`;
  const chosen = entries.filter((e) => e.desc === 'TABLE' && tables.includes(key(e)));
  const missing = tables.filter((t) => !chosen.some((e) => key(e) === t));
  if (missing.length > 0) {
    const have = entries.filter((e) => e.desc === 'TABLE').map(key);
    throw new OffsiteError('USAGE', `--table ${missing.join(', ')}: no such table in this backup`, {
      hint: `give SCHEMA.TABLE as the source names it (unquoted); this backup has ${have.slice(0, 20).join(', ')}${have.length > 20 ? ', …' : ''}`,
    });
  }
  const included = new Set(chosen.map((e) => e.dumpId));
  const schemas = new Set(chosen.map((e) => e.namespace));
  for (const e of entries) if (e.desc === 'SCHEMA' && schemas.has(e.tag)) included.add(e.dumpId);
  // A serial's sequence depends on its schema only: its DEFAULT (or OWNED BY) names it.
  for (const e of entries) {
    if (e.desc !== 'DEFAULT' && e.desc !== 'SEQUENCE OWNED BY') continue;
    if (!e.dependencies.some((d) => chosen.some((c) => c.dumpId === d))) continue;
    for (const d of e.dependencies) if (byId.get(d)?.desc === 'SEQUENCE') included.add(d);
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of entries) {
      if (included.has(e.dumpId) || !FOLLOWERS.has(e.desc ?? '')) continue;
      // Everything it needs comes too (a trigger's function does not: the trigger stays out).
      const needs = e.dependencies.filter((d) => !PRESENT.has(byId.get(d)?.desc ?? 'PRESENT'));
      if (needs.some((d) => RELATIONAL.has(byId.get(d)?.desc ?? '')) && needs.every((d) => included.has(d))) {
        included.add(e.dumpId);
        grew = true;
      }
    }
  }
  return { dumpIds: entries.filter((e) => included.has(e.dumpId)).map((e) => e.dumpId), tables };
}

/** A pg_restore -L list: one "<dump id>;" per line, in the dump's order (-L restores in list order). */
export function restoreList(selection: TableSelection): string {
  return `${selection.dumpIds.map((id) => `${id};`).join('\n')}\n`;
}
