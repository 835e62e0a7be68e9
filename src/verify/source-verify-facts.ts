import type { PipelineConfig } from '../config/schema.ts';
import type { Connect, PgTarget } from '../pipeline/ports.ts';
import { type AmcheckResult, runAmcheck } from './amcheck.ts';
import { readSourceChecksums, type SourceChecksums } from './checksums.ts';
import { readSchemaFingerprint, type SchemaFingerprint } from './schema-fingerprint.ts';
import { readSequences, type SequenceState } from './sequences.ts';
import { openSessionPool } from './session-pool.ts';
import { type AssertionOutcome, evaluateAssertion } from './sql-assertions.ts';

/** What the checks need from the source, recorded on the frozen temporary instance. */
export interface SourceVerifyFacts {
  checksums?: SourceChecksums & { durationMs: number };
  schema?: SchemaFingerprint & { durationMs: number };
  sequences?: { states: SequenceState[]; durationMs: number };
  /** Only when verify.amcheck.onSource. */
  amcheck?: AmcheckResult;
  /** Values of the assertions with expect.equalsSource, by assertion name. */
  assertions: Record<string, AssertionOutcome>;
}

async function timed<T extends object>(fn: () => Promise<T>): Promise<T & { durationMs: number }> {
  const started = Date.now();
  const result = await fn();
  return { ...result, durationMs: Date.now() - started };
}

/**
 * Records the source side of every enabled check but amcheck, in parallel up to
 * verify.concurrency connections. Only reads: a dump taken meanwhile sees nothing of it.
 */
export async function recordSourceReadFacts(
  connect: Connect,
  target: PgTarget,
  config: Pick<PipelineConfig, 'verify' | 'dump'>,
): Promise<Omit<SourceVerifyFacts, 'amcheck'>> {
  const v = config.verify;
  const pool = openSessionPool(connect, target, v.concurrency);
  try {
    const sourced = v.assertions.filter((a) => a.expect.equalsSource);
    const [checksums, schema, sequences, outcomes] = await Promise.all([
      v.checksums.enabled
        ? timed(() =>
            readSourceChecksums(pool, {
              tables: v.checksums.tables,
              maxTableMb: v.checksums.maxTableMb,
              excludeTableData: config.dump.excludeTableData,
            }),
          )
        : undefined,
      v.schema.enabled ? timed(() => readSchemaFingerprint(pool)) : undefined,
      v.sequences.enabled ? timed(async () => ({ states: await readSequences(pool) })) : undefined,
      Promise.all(sourced.map(async (a) => [a.name, await evaluateAssertion(pool, a.query)] as const)),
    ]);
    return { checksums, schema, sequences, assertions: Object.fromEntries(outcomes) };
  } finally {
    await pool.close();
  }
}

/**
 * amcheck on the source, when verify.amcheck.onSource. It creates an extension (dropped again
 * when it returns): never run it beside a schema fingerprint or a dump of the same database.
 */
export async function recordSourceAmcheck(
  connect: Connect,
  target: PgTarget,
  verify: PipelineConfig['verify'],
): Promise<AmcheckResult | undefined> {
  if (!verify.amcheck.enabled || !verify.amcheck.onSource) return undefined;
  const pool = openSessionPool(connect, target, verify.concurrency);
  try {
    return await runAmcheck(pool);
  } finally {
    await pool.close();
  }
}

/** Both, amcheck last (after the schema fingerprint, which must not include its extension). */
export async function recordSourceVerifyFacts(
  connect: Connect,
  target: PgTarget,
  config: Pick<PipelineConfig, 'verify' | 'dump'>,
): Promise<SourceVerifyFacts> {
  const facts = await recordSourceReadFacts(connect, target, config);
  return { ...facts, amcheck: await recordSourceAmcheck(connect, target, config.verify) };
}
