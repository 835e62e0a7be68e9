import type { CheckReport } from '../report/run-report.ts';
import type { SessionPool } from './session-pool.ts';
import { isUserSchema, notFromExtension } from './user-objects.ts';

/** A sequence's position: the next nextval() returns last + increment when called, else last. */
export interface SequenceState {
  sequence: string;
  last: string;
  isCalled: boolean;
  increment: string;
  /** Columns the sequence feeds (serial/identity ownership, or a nextval() default), quoted. */
  feeds: { table: string; column: string }[];
}

const LIST = `
  SELECT s.oid::regclass::text AS sequence, q.seqincrement::text AS increment
  FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace JOIN pg_sequence q ON q.seqrelid = s.oid
  WHERE s.relkind = 'S' AND ${isUserSchema('n.nspname')} AND ${notFromExtension('pg_class', 's.oid')}
  ORDER BY 1`;

// Owned-by (serial, 'a'), identity ('i'), and column defaults calling nextval() (pg_attrdef → sequence).
const FEEDS = `
  SELECT DISTINCT d.objid::regclass::text AS sequence, a.attrelid::regclass::text AS "table", quote_ident(a.attname) AS "column"
  FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    AND d.refobjsubid > 0
  UNION
  SELECT d.refobjid::regclass::text, ad.adrelid::regclass::text, quote_ident(a.attname)
  FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
  WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass`;

/** Reads every user sequence's position and the columns it feeds (run under search_path = pg_catalog). */
export async function readSequences(pool: SessionPool): Promise<SequenceState[]> {
  const [list, feeds] = await Promise.all([
    pool.run((s) => s.query<{ sequence: string; increment: string }>(LIST)),
    pool.run((s) => s.query<{ sequence: string; table: string; column: string }>(FEEDS)),
  ]);
  return Promise.all(
    list.map(async ({ sequence, increment }) => {
      // sequence is regclass text, already quoted and qualified under search_path = pg_catalog.
      const [row] = await pool.run((s) =>
        s.query<{ last: string; called: boolean }>(
          `SELECT last_value::text AS last, is_called AS called FROM ${sequence}`,
        ),
      );
      const fed = feeds
        .filter((f) => f.sequence === sequence)
        .map(({ table, column }) => ({ table, column }));
      return { sequence, last: row?.last ?? '', isCalled: row?.called ?? false, increment, feeds: fed };
    }),
  );
}

const big = (s: string) => (/^-?\d+$/.test(s) ? BigInt(s) : null);

/** The values a sequence would hand out next, and the column extreme it must stay ahead of. */
async function behindBy(pool: SessionPool, seq: SequenceState): Promise<Record<string, unknown>[]> {
  const inc = big(seq.increment) ?? 1n;
  const next = (big(seq.last) ?? 0n) + (seq.isCalled ? inc : 0n);
  const agg = inc > 0n ? 'max' : 'min';
  const out: Record<string, unknown>[] = [];
  for (const { table, column } of seq.feeds) {
    const [row] = await pool.run((s) =>
      s.query<{ v: string | null }>(`SELECT ${agg}(${column})::numeric::text AS v FROM ${table}`),
    );
    if (row?.v == null) continue;
    // Numeric columns fed by a sequence may hold fractions: compare on the integer part upward.
    const v = BigInt(row.v.split('.')[0] ?? '0') + (row.v.includes('.') && inc > 0n ? 1n : 0n);
    const clash = inc > 0n ? v >= next : v <= next;
    if (clash)
      out.push({ sequence: seq.sequence, column: `${table}.${column}`, next: String(next), [agg]: row.v });
  }
  return out;
}

/**
 * Each sequence of the source must exist in the restored copy at the same position, and must
 * not be behind the columns it feeds (the next insert would collide with an existing key).
 */
export async function checkSequences(
  pool: SessionPool,
  source: SequenceState[],
): Promise<Omit<CheckReport, 'durationMs'>> {
  const restored = new Map((await readSequences(pool)).map((s) => [s.sequence, s]));
  const details: Record<string, unknown>[] = [];
  let problems = 0;
  const behinds = await Promise.all(
    source.map((src) => {
      const got = restored.get(src.sequence);
      return got ? behindBy(pool, got) : [];
    }),
  );
  for (const [i, src] of source.entries()) {
    const got = restored.get(src.sequence);
    const same = got !== undefined && got.last === src.last && got.isCalled === src.isCalled;
    const behind = behinds[i] ?? [];
    if (!same || behind.length > 0) problems++;
    details.push({
      sequence: src.sequence,
      source: `${src.last}${src.isCalled ? '' : ' (not called)'}`,
      restored: got ? `${got.last}${got.isCalled ? '' : ' (not called)'}` : null,
      ok: same && behind.length === 0,
      ...(behind.length > 0 ? { behind } : {}),
    });
  }
  for (const name of restored.keys()) {
    if (!source.some((s) => s.sequence === name)) {
      problems++;
      details.push({ sequence: name, source: null, restored: restored.get(name)?.last ?? null, ok: false });
    }
  }
  return {
    name: 'sequences',
    status: problems === 0 ? 'passed' : 'failed',
    summary:
      problems === 0
        ? `${source.length} sequences: same position as the source, none behind its column`
        : `${problems} of ${details.length} sequences differ from the source or are behind their column`,
    details: details.sort((a, b) => Number(a.ok) - Number(b.ok)),
  };
}
