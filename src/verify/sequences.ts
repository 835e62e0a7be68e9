import { counted } from '../report/format.ts';
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
  /** Columns whose extreme the next value would collide with, on the database it was read from. */
  behind: Record<string, unknown>[];
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
      const state = {
        sequence,
        last: row?.last ?? '',
        isCalled: row?.called ?? false,
        increment,
        feeds: fed,
      };
      return { ...state, behind: await behindBy(pool, state) };
    }),
  );
}

const big = (s: string) => (/^-?\d+$/.test(s) ? BigInt(s) : null);

/** The values a sequence would hand out next, and the column extreme it must stay ahead of. */
async function behindBy(
  pool: SessionPool,
  seq: Omit<SequenceState, 'behind'>,
): Promise<Record<string, unknown>[]> {
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

const position = (s: SequenceState) => `${s.last}${s.isCalled ? '' : ' (not called)'}`;
const columnsOf = (behind: Record<string, unknown>[]) =>
  behind
    .map((b) => String(b.column))
    .sort()
    .join(',');

/**
 * Each sequence of the source must exist in the restored copy at the same position. A sequence
 * behind the column it feeds (the next insert would collide with an existing key) fails when only
 * the restored copy has that problem; when the source has it too, the copy is faithful and the
 * check warns about the source instead: a backup tool reports the source's truth, never a mismatch.
 */
export async function checkSequences(
  pool: SessionPool,
  source: SequenceState[],
): Promise<Omit<CheckReport, 'durationMs'>> {
  const restored = new Map((await readSequences(pool)).map((s) => [s.sequence, s]));
  const details: Record<string, unknown>[] = [];
  let failed = 0;
  let warned = 0;
  for (const src of source) {
    const got = restored.get(src.sequence);
    const same = got !== undefined && got.last === src.last && got.isCalled === src.isCalled;
    const behind = got?.behind ?? [];
    const behindOnSourceToo = behind.length > 0 && columnsOf(behind) === columnsOf(src.behind ?? []);
    const row: Record<string, unknown> = {
      sequence: src.sequence,
      source: position(src),
      restored: got ? position(got) : null,
      ok: same && behind.length === 0,
      ...(behind.length > 0 ? { behind } : {}),
    };
    if (!same || (behind.length > 0 && !behindOnSourceToo)) failed++;
    else if (behindOnSourceToo) {
      warned++;
      row.warning = `behind its column on the source too: the next nextval() collides with an existing value (${columnsOf(behind)}); the copy is faithful, the source needs setval()`;
    }
    details.push(row);
  }
  for (const name of restored.keys()) {
    if (!source.some((s) => s.sequence === name)) {
      failed++;
      details.push({ sequence: name, source: null, restored: restored.get(name)?.last ?? null, ok: false });
    }
  }
  const warnedNames = details.filter((d) => d.warning).map((d) => d.sequence);
  return {
    name: 'sequences',
    status: failed > 0 ? 'failed' : warned > 0 ? 'warned' : 'passed',
    summary:
      failed > 0
        ? `${failed} of ${counted(details.length, 'sequence')} differ from the source or are behind their column only in the restored copy`
        : warned > 0
          ? `${counted(source.length, 'sequence')} at the source's position; ${warned} behind their column on the source itself (${warnedNames.slice(0, 3).join(', ')}${warned > 3 ? ', …' : ''}): fix it there with setval()`
          : `${counted(source.length, 'sequence')}: same position as the source, none behind its column`,
    // Differences first, then warnings: a person reads the top of the list.
    details: details.sort((a, b) => rank(a) - rank(b)),
  };
}

function rank(d: Record<string, unknown>): number {
  return d.ok ? 2 : d.warning ? 1 : 0;
}
