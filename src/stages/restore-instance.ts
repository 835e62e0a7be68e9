import { OffsiteError } from '../errors.ts';
import type { InstanceInfo, PgTarget } from '../pipeline/ports.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';
import { deleteTemporaryInstance } from './teardown-instance.ts';
import { waitForInstance } from './wait-for-instance.ts';

/** Tag keys that mark an instance as this tool's; the guard and any janitor rely on them. */
export const TAGS = {
  tool: 'offsite:tool',
  pipeline: 'offsite:pipeline',
  runId: 'offsite:run-id',
  snapshot: 'offsite:snapshot',
  expiresAt: 'offsite:expires-at',
} as const;

/** The temporary instance's identifier: unique per run, valid for RDS (≤ 63 chars, no `--`). */
export function temporaryInstanceId(pipeline: string, runId: string): string {
  return `offsite-${pipeline}-${runId}`.toLowerCase().replace(/-+/g, '-').slice(0, 63).replace(/-$/, '');
}

/**
 * restore: a private, tagged, temporary instance from the snapshot, with a fresh master
 * password, and the guard that makes sure we only ever dump that instance.
 */
export const restoreStage: StageDefinition = {
  name: 'restore',
  failureCode: 'RESTORE_FAILED',
  async run(ctx) {
    const snapshot = ctx.snapshot!;
    const temp = ctx.config.source.tempInstance;
    const id = temporaryInstanceId(ctx.config.name, ctx.runId);
    const now = ctx.deps.now();
    const tags = {
      [TAGS.tool]: 'offsite',
      [TAGS.pipeline]: ctx.config.name,
      [TAGS.runId]: ctx.runId,
      [TAGS.snapshot]: snapshot.id,
      [TAGS.expiresAt]: new Date(now.getTime() + temp.ttlHours * 3_600_000).toISOString(),
    };

    // Registered before the restore call: if it times out after RDS accepted it, we still delete.
    const releaser = ctx.teardown.push(`temporary instance ${id}`, () => deleteTemporaryInstance(ctx, id));
    ctx.instance = { id, createdAt: now, deletedAt: null, target: null, releaser };
    ctx.log.info({ instance: id, snapshot: snapshot.id }, 'restoring temporary instance');
    await ctx.deps.rds.restoreFromSnapshot(
      {
        instanceId: id,
        snapshotId: snapshot.id,
        instanceClass: temp.instanceClass,
        subnetGroup: temp.subnetGroup,
        securityGroupIds: temp.securityGroupIds,
        tags,
      },
      ctx.signal,
    );
    await waitForInstance(ctx, id, 'the restore');

    // PostgreSQL on RDS cannot take a password at restore: set a fresh one, then wait until it works.
    const password = ctx.deps.newPassword();
    await ctx.deps.rds.setMasterPassword(id, password, ctx.signal);
    const info = await waitForInstance(ctx, id, 'the new master password', (i) =>
      passwordWorks(ctx, i, password),
    );
    ctx.instance.target = guardTarget(ctx, info, password);
    return undefined;
  },
};

async function passwordWorks(ctx: RunContext, info: InstanceInfo, password: string): Promise<boolean> {
  if (!info.endpoint) return false;
  try {
    const session = await ctx.deps.connect(targetOf(ctx, info, password));
    await session.close();
    return true;
  } catch {
    return false; // the reset is applied asynchronously; RDS may still say available meanwhile
  }
}

function targetOf(ctx: RunContext, info: InstanceInfo, password: string): PgTarget {
  return {
    host: info.endpoint!.address,
    port: info.endpoint!.port,
    user: info.masterUsername,
    password,
    database: ctx.config.source.database,
  };
}

/**
 * The guard: the only endpoint we ever connect to is the one RDS reports for the instance this
 * run created and tagged (a name mismatch once made a shell pipeline dump live production).
 */
export function guardTarget(ctx: RunContext, info: InstanceInfo, password: string): PgTarget {
  const expected = ctx.instance!.id;
  const problems: string[] = [];
  if (info.id !== expected) problems.push(`described instance is ${info.id}, not ${expected}`);
  if (info.id === ctx.config.source.instanceId) problems.push('it is the source instance');
  if (info.tags[TAGS.runId] !== ctx.runId) problems.push(`its ${TAGS.runId} tag is not ${ctx.runId}`);
  if (info.tags[TAGS.tool] !== 'offsite') problems.push(`its ${TAGS.tool} tag is missing`);
  if (!info.endpoint) problems.push('it has no endpoint');
  if (problems.length > 0) {
    throw new OffsiteError('GUARD_FAILED', `refusing to dump: ${problems.join('; ')}`, {
      hint: 'offsite only dumps the temporary instance it created and tagged in this run',
    });
  }
  return targetOf(ctx, info, password);
}
