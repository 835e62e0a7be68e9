import { OffsiteError } from '../errors.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import { runRestoredChecks, sortChecks } from '../verify/restored-checks.ts';
import { readRowCounts, reconcileRowCounts } from '../verify/row-counts.ts';
import { readDatabaseExtras } from './database-extras.ts';
import { createScratchDatabase } from './scratch-database.ts';
import { scratchServerFor } from './scratch-server-early.ts';
import { assertScratchSuits } from './scratch-suitability.ts';

/**
 * restore-test: pg_restore the dump into a scratch database and reconcile it with the source
 * facts. A backup is only published when this passes.
 */
export const verifyRestoreStage: StageDefinition = {
  name: 'restore-test',
  failureCode: 'PG_RESTORE_FAILED',
  // Checks run after pg_restore, on the same scratch database, before it is dropped.
  async run(ctx) {
    const facts = ctx.facts!;
    const started = Date.now();
    const { server, releaser: serverReleaser } = await scratchServerFor(
      ctx,
      Math.floor(facts.serverVersionNum / 10_000),
    );
    ctx.log.info({ scratchServer: server.description }, 'scratch server ready');
    assertScratchSuits(facts, server);
    // The roles and the database's properties come from the backup's own files: what a restore
    // from the store would have.
    const extras = await readDatabaseExtras(ctx.dump!.dir);
    const scratch = await createScratchDatabase(
      ctx.deps.connect,
      server.admin,
      `offsite_restore_${ctx.runId.replaceAll('-', '_')}`,
      extras,
      server.majorVersion,
    );
    const databaseReleaser = ctx.teardown.push('scratch database', () => scratch.drop());
    const tables = facts.rowCounts.size;
    ctx.progress?.update('restore-test', { status: 'pg_restore', total: tables, unit: 'tables' });
    await ctx.pgTools!.restore({
      target: scratch.target,
      dumpDir: ctx.dump!.dir,
      jobs: ctx.config.dump.jobs,
      ownership: scratch.ownership,
      signal: ctx.signal,
    });
    ctx.restoreTest = {
      durationMs: Date.now() - started,
      scratchServerVersion: server.serverVersion,
      scratchServer: server.description,
    };

    // Row counts after the other checks: the checksums count the rows of every table they hash,
    // in the same pass, and only the tables they left out are counted again.
    let countedByChecksums = new Map<string, number>();
    // How many of the source's tables the restored copy holds, once its rows are counted.
    let restoredTables: number | undefined;
    const checked = () => {
      const failed = ctx.checks.filter((c) => c.status === 'failed').length;
      const restoredText =
        restoredTables === undefined ? 'restored' : `${restoredTables}/${tables} tables restored`;
      ctx.progress?.update('restore-test', {
        status: `${restoredText}; checks${failed > 0 ? `, ${failed} failed` : ''}`,
        done: ctx.checks.length,
        total: undefined,
        unit: 'checks',
      });
    };
    checked();
    await runRestoredChecks({
      connect: ctx.deps.connect,
      target: scratch.target,
      config: ctx.config,
      source: facts.verify,
      snapshotAt: ctx.snapshot?.createdAt,
      ownership: scratch.ownership,
      onCheck: (c) => {
        ctx.checks.push(c);
        checked();
        const log =
          c.status === 'failed' ? ctx.log.error : c.status === 'warned' ? ctx.log.warn : ctx.log.info;
        log.call(
          ctx.log,
          { check: c.name, status: c.status, durationMs: c.durationMs },
          `check ${c.name} ${c.status}: ${c.summary}`,
        );
      },
      onRowsCounted: (rows) => {
        countedByChecksums = rows;
      },
    });
    const checkStarted = Date.now();
    const session = await ctx.deps.connect(scratch.target);
    let restored: Map<string, number>;
    try {
      restored = await readRowCounts(session, countedByChecksums);
    } finally {
      await session.close();
    }
    const check = reconcileRowCounts(facts.rowCounts, restored, ctx.config.dump.excludeTableData);
    ctx.checks.push({ ...check, durationMs: Date.now() - checkStarted });
    restoredTables = restored.size;
    checked();
    sortChecks(
      ctx.checks,
      ctx.config.verify.assertions.map((a) => a.name),
    );
    await databaseReleaser.release();
    await serverReleaser.release();

    const failed = ctx.checks.filter((c) => c.status === 'failed');
    if (failed.length > 0) {
      throw new OffsiteError(
        'VERIFY_MISMATCH',
        `the restored copy does not match the source: ${failed.map((c) => `${c.name}: ${c.summary}`).join('; ')}`,
        { hint: 'nothing was published; the report lists each difference' },
      );
    }
    ctx.log.info({ restoreMs: ctx.restoreTest.durationMs }, 'restore test passed');
    return undefined;
  },
};
