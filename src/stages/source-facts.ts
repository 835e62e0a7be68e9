import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import { readRowCounts } from '../verify/row-counts.ts';

/** source-facts: what the frozen temporary instance holds, to reconcile the restored copy against. */
export const sourceFactsStage: StageDefinition = {
  name: 'source-facts',
  failureCode: 'SOURCE_FACTS_FAILED',
  async run(ctx) {
    const session = await ctx.deps.connect(ctx.instance!.target!);
    try {
      const [version] = await session.query<{ v: string; n: string }>(
        "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
      );
      const extensions = await session.query<{ name: string; version: string }>(
        'SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY 1',
      );
      const rowCounts = await readRowCounts(session);
      ctx.facts = {
        serverVersion: version?.v ?? 'unknown',
        serverVersionNum: Number(version?.n ?? 0),
        extensions,
        rowCounts,
      };
      ctx.log.info({ tables: rowCounts.size, server: version?.v }, 'source facts recorded');
    } finally {
      await session.close();
    }
    return undefined;
  },
};
