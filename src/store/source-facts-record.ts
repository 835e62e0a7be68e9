// source-facts.json: what the restore test compared the restored copy with, stored beside the
// manifest so that a restore on another machine (no RDS access, no nightly pipeline file) runs the
// same checks against the same facts, with the check settings the nightly run used.
import { z } from 'zod';
import type { VerifyConfig } from '../config/verify-schema.ts';
import { verifySchema } from '../config/verify-schema.ts';
import { OffsiteError } from '../errors.ts';
import type { SourceVerifyFacts } from '../verify/source-verify-facts.ts';

/** The stored source facts of one backup. */
export interface SourceFactsRecord {
  formatVersion: 1;
  backupId: string;
  /** Exact row counts of the frozen instance, keyed "schema.table" (a Map in memory). */
  rowCounts: Record<string, number>;
  /** The source side of each enabled check; plain JSON (records and arrays, no Map, no bigint). */
  verify: SourceVerifyFacts | null;
  /** The settings the checks ran with: a restore judges by what the nightly run recorded. */
  settings: { verify: VerifyConfig; excludeTableData: string[] };
}

const recordSchema = z.object({
  formatVersion: z.literal(1),
  backupId: z.string(),
  rowCounts: z.record(z.string(), z.number().int().nonnegative()),
  // Checked as an object only: its parts are compared by the checks, which name what differs.
  verify: z.record(z.string(), z.unknown()).nullable(),
  settings: z.object({ verify: verifySchema, excludeTableData: z.array(z.string()) }),
});

/** Builds the record (Maps become objects: JSON.stringify would write a Map as {}). */
export function sourceFactsRecord(opts: {
  backupId: string;
  rowCounts: Map<string, number>;
  verify: SourceVerifyFacts | undefined;
  verifyConfig: VerifyConfig;
  excludeTableData: string[];
}): SourceFactsRecord {
  return {
    formatVersion: 1,
    backupId: opts.backupId,
    rowCounts: Object.fromEntries(opts.rowCounts),
    verify: opts.verify ?? null,
    settings: { verify: opts.verifyConfig, excludeTableData: opts.excludeTableData },
  };
}

/** Parses a stored record (STORE_CORRUPT naming the key when it is not one). */
export function parseSourceFactsRecord(body: Buffer, key: string): SourceFactsRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new OffsiteError('STORE_CORRUPT', `${key}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const result = recordSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new OffsiteError(
      'STORE_CORRUPT',
      `${key}: not a source-facts record: ${issue?.message} at ${issue?.path.join('.')}`,
    );
  }
  return result.data as SourceFactsRecord;
}
