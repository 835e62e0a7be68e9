import type { SqlSession } from '../pipeline/ports.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import { readBackupCoverage } from '../verify/coverage.ts';
import { readRowCounts } from '../verify/row-counts.ts';
import { recordSourceAmcheck, recordSourceReadFacts } from '../verify/source-verify-facts.ts';
import { startDump } from './dump.ts';

/**
 * Whether any column is declared COMPRESSION lz4 (PostgreSQL 14+): pg_dump writes `ALTER COLUMN
 * … SET COMPRESSION lz4` for exactly those, which a server built without lz4 rejects. Values
 * compressed with lz4 only because default_toast_compression was lz4 need nothing: the dump
 * holds them as text and carries no default (checked with pg_dump 15), so that setting is not read.
 */
async function readUsesLz4(session: SqlSession, serverVersionNum: number): Promise<boolean> {
  if (serverVersionNum < 140_000) return false;
  const [row] = await session.query<{ lz4: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attcompression = 'l' AND NOT attisdropped) AS lz4",
  );
  return row?.lz4 === true;
}

/**
 * source-facts: what the frozen temporary instance holds, to reconcile the restored copy against.
 * Everything a check compares with the source is read here: the instance is gone by the restore test.
 * The dump is taken meanwhile: both are reads of a frozen database, and on RDS they use the
 * instance's cores rather than this machine's.
 */
export const sourceFactsStage: StageDefinition = {
  name: 'source-facts',
  failureCode: 'SOURCE_FACTS_FAILED',
  async run(ctx) {
    const target = ctx.instance!.target!;
    const session = await ctx.deps.connect(target);
    try {
      const [version] = await session.query<{ v: string; n: string }>(
        "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
      );
      const extensions = await session.query<{ name: string; version: string }>(
        'SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY 1',
      );
      const usesLz4 = await readUsesLz4(session, Number(version?.n ?? 0));
      // amcheck first: the extension it creates is dropped again before the dump starts. The
      // rest only reads, so the dump runs beside it (the dump stage waits for it).
      const amcheck = await recordSourceAmcheck(ctx.deps.connect, target, ctx.config.verify);
      startDump(ctx);
      const verify = { ...(await recordSourceReadFacts(ctx.deps.connect, target, ctx.config)), amcheck };
      // The checksums counted the rows of every table they hashed, in the same pass: only the
      // tables they left out are read again.
      const hashed = Object.entries(verify.checksums?.tables ?? {}).map(([t, c]) => [t, c.rows] as const);
      const rowCounts = await readRowCounts(session, new Map(hashed));
      const coverage = await readBackupCoverage(session);
      ctx.facts = {
        serverVersion: version?.v ?? 'unknown',
        serverVersionNum: Number(version?.n ?? 0),
        extensions,
        usesLz4,
        rowCounts,
        verify,
        coverage,
      };
      ctx.log.info(
        {
          tables: rowCounts.size,
          server: version?.v,
          checksummed: Object.keys(verify.checksums?.tables ?? {}).length,
          schemaObjects: Object.keys(verify.schema?.objects ?? {}).length,
          sequences: verify.sequences?.states.length ?? 0,
        },
        'source facts recorded',
      );
    } finally {
      await session.close();
    }
    return undefined;
  },
};
