import type { PipelineConfig } from '../config/schema.ts';
import type { Connect, PgTarget } from '../pipeline/ports.ts';
import type { CheckReport } from '../report/run-report.ts';
import { type AmcheckResult, runAmcheck } from './amcheck.ts';
import { readRestoredChecksums, reconcileChecksums } from './checksums.ts';
import { checkFreshness } from './freshness.ts';
import { compareSchemas } from './schema-compare.ts';
import { readSchemaFingerprint } from './schema-fingerprint.ts';
import { checkSequences } from './sequences.ts';
import { openSessionPool, type SessionPool } from './session-pool.ts';
import type { SourceVerifyFacts } from './source-verify-facts.ts';
import { evaluateAssertion, judgeAssertion } from './sql-assertions.ts';

type Verdict = Omit<CheckReport, 'durationMs'>;

/** Where the restored-side checks run and what they compare against. */
export interface RestoredChecksInput {
  connect: Connect;
  target: PgTarget;
  /** Only which checks run (verify:) is read. */
  config: Pick<PipelineConfig, 'verify'>;
  source: SourceVerifyFacts | undefined;
  snapshotAt: Date | undefined;
  /** Whether owners, privileges, roles and database properties were restored (and so compared). */
  ownership: boolean;
  /** Called with each check as soon as it is decided (streamed into the run, in completion order). */
  onCheck: (check: CheckReport) => void;
  /** Called with the restored side's row count of every table the checksums read (one pass for both). */
  onRowsCounted?: (rows: Map<string, number>) => void;
}

/** The order checks are listed in, whatever order they finished in. */
export const CHECK_ORDER = ['row-counts', 'checksums', 'schema', 'sequences', 'amcheck', 'freshness'];

/** Sorts checks into CHECK_ORDER, then SQL assertions in their configured order (stable otherwise). */
export function sortChecks(checks: CheckReport[], assertionNames: string[]): void {
  const order = [...CHECK_ORDER, ...assertionNames.map((n) => `sql:${n}`)];
  const rank = (c: CheckReport) => (order.includes(c.name) ? order.indexOf(c.name) : order.length);
  checks.sort((a, b) => rank(a) - rank(b));
}

const skipped = (name: string, summary: string): CheckReport => ({
  name,
  status: 'skipped',
  summary,
  durationMs: 0,
  details: [],
});
const NO_SOURCE = 'no source facts were recorded for it (see the source-facts stage)';

function amcheckVerdict(restored: AmcheckResult, source: AmcheckResult | undefined): Verdict {
  const sides = [['restored', restored] as const, ...(source ? [['source', source] as const] : [])];
  const failures = sides.flatMap(([side, r]) => r.failures.map((f) => ({ side, ...f })));
  const unavailable = sides.flatMap(([side, r]) =>
    r.unavailable ? [{ side, unavailable: r.unavailable }] : [],
  );
  const counted = sides
    .map(
      ([side, r]) =>
        `${r.indexes} B-tree indexes on the ${side === 'source' ? 'temporary instance' : 'restored copy'}`,
    )
    .join(' and ');
  if (failures.length > 0) {
    const first = failures[0];
    return {
      name: 'amcheck',
      status: 'failed',
      summary: `${failures.length} corrupt or inconsistent indexes (first: ${first?.index} on the ${first?.side}: ${first?.error})`,
      details: [...failures, ...unavailable],
    };
  }
  if (unavailable.length > 0) {
    return {
      name: 'amcheck',
      status: 'warned',
      summary: `amcheck could not run: ${unavailable[0]?.unavailable}`,
      details: unavailable,
    };
  }
  return {
    name: 'amcheck',
    status: 'passed',
    summary: `${counted}: structure and heap entries sound`,
    details: [],
  };
}

/** The restored-side checks that do not need amcheck's extension, each a deferred verdict. */
function phaseOne(pool: SessionPool, input: RestoredChecksInput, emit: (c: CheckReport) => void) {
  const { config, source, snapshotAt } = input;
  const v = config.verify;
  const tasks: { name: string; sourceMs: number; run: () => Promise<Verdict> }[] = [];
  if (!v.checksums.enabled) emit(skipped('checksums', 'disabled (verify.checksums.enabled: false)'));
  else if (!source?.checksums) emit(skipped('checksums', NO_SOURCE));
  else {
    const src = source.checksums;
    tasks.push({
      name: 'checksums',
      sourceMs: src.durationMs,
      run: async () => {
        const restored = await readRestoredChecksums(pool, src);
        input.onRowsCounted?.(new Map([...restored].map(([table, c]) => [table, c.rows])));
        return reconcileChecksums(src, restored);
      },
    });
  }
  if (!v.schema.enabled) emit(skipped('schema', 'disabled (verify.schema.enabled: false)'));
  else if (!source?.schema) emit(skipped('schema', NO_SOURCE));
  else {
    const src = source.schema;
    tasks.push({
      name: 'schema',
      sourceMs: src.durationMs,
      run: async () => compareSchemas(src, await readSchemaFingerprint(pool), { ownership: input.ownership }),
    });
  }
  if (!v.sequences.enabled) emit(skipped('sequences', 'disabled (verify.sequences.enabled: false)'));
  else if (!source?.sequences) emit(skipped('sequences', NO_SOURCE));
  else {
    const src = source.sequences;
    tasks.push({ name: 'sequences', sourceMs: src.durationMs, run: () => checkSequences(pool, src.states) });
  }
  const fresh = v.freshness;
  if (!fresh) emit(skipped('freshness', 'no verify.freshness.column configured'));
  else if (!snapshotAt) emit(skipped('freshness', 'the snapshot time is unknown'));
  else tasks.push({ name: 'freshness', sourceMs: 0, run: () => checkFreshness(pool, fresh, snapshotAt) });
  for (const a of v.assertions) {
    const run = async () =>
      judgeAssertion(a, await evaluateAssertion(pool, a.query), source?.assertions[a.name]);
    tasks.push({ name: `sql:${a.name}`, sourceMs: 0, run });
  }
  return tasks;
}

/**
 * Runs every enabled check against the restored copy, in parallel up to verify.concurrency
 * connections, and hands each to onCheck as it finishes. A check that throws is a failed check
 * (its error in the summary), never a crashed stage. amcheck runs once every check but the
 * checksums is done: the extension it creates would otherwise show up as a schema difference.
 */
export async function runRestoredChecks(input: RestoredChecksInput): Promise<void> {
  const v = input.config.verify;
  const pool = openSessionPool(input.connect, input.target, v.concurrency);
  const settle = async (name: string, sourceMs: number, run: () => Promise<Verdict>) => {
    const started = Date.now();
    let verdict: Verdict;
    try {
      verdict = await run();
    } catch (err) {
      verdict = {
        name,
        status: 'failed',
        summary: `the check could not run: ${(err as Error).message}`,
        details: [],
      };
    }
    // The source side's time counts too: it is what this check cost the run.
    input.onCheck({ ...verdict, durationMs: Date.now() - started + sourceMs });
  };
  try {
    const tasks = phaseOne(pool, input, input.onCheck);
    const running = new Map(tasks.map((t) => [t.name, settle(t.name, t.sourceMs, t.run)]));
    const amcheck = async () => {
      if (!v.amcheck.enabled) {
        input.onCheck(skipped('amcheck', 'disabled (verify.amcheck.enabled: false)'));
        return;
      }
      // The schema fingerprint and the SQL assertions (a query may count schemas) must not see
      // amcheck's extension; the checksums, the long part, only read table rows and go on beside it.
      await Promise.all([...running].filter(([name]) => name !== 'checksums').map(([, p]) => p));
      const onSource = input.source?.amcheck;
      await settle('amcheck', onSource?.durationMs ?? 0, async () =>
        amcheckVerdict(await runAmcheck(pool), onSource),
      );
    };
    await Promise.all([...running.values(), amcheck()]);
  } finally {
    await pool.close();
  }
}
