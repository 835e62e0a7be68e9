import { networkInterfaces } from 'node:os';
import { failureOf, toOffsiteError } from '../classify/classify-error.ts';
import { networkWarnings } from '../config/network.ts';
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
    const request = {
      instanceId: id,
      instanceClass: temp.instanceClass,
      subnetGroup: temp.subnetGroup,
      securityGroupIds: temp.securityGroupIds,
      tags,
      publiclyAccessible: ctx.config.network.publicAccess,
    };
    for (const warning of networkWarnings(ctx.config)) ctx.log.warn({ instance: id }, warning);
    if (snapshot.pointInTime) {
      const restoreTime = snapshot.pointInTime.latest ? 'latest' : snapshot.createdAt;
      await ctx.deps.rds.restoreToPointInTime(
        { ...request, sourceInstanceId: snapshot.instanceId, restoreTime },
        ctx.signal,
      );
    } else {
      await ctx.deps.rds.restoreFromSnapshot({ ...request, snapshotId: snapshot.id }, ctx.signal);
    }
    await waitForInstance(ctx, id, 'the restore');

    // PostgreSQL on RDS cannot take a password at restore: set a fresh one, then wait until it works.
    const password = ctx.deps.newPassword();
    await ctx.deps.rds.setMasterPassword(id, password, ctx.signal);
    const info = await waitForInstance(ctx, id, 'the new master password', passwordWorks(ctx, id, password));
    ctx.instance.target = guardTarget(ctx, info, password);
    return undefined;
  },
};

/** How long the new master password may be refused: RDS applies a change within minutes. */
const PASSWORD_APPLY_LIMIT_MS = 10 * 60_000;

/**
 * Whether the new master password lets us in yet. Only the answers that mean "not yet" are
 * retried, for PASSWORD_APPLY_LIMIT_MS: the password refused (28P01; RDS applies the change
 * asynchronously and may say available meanwhile) or the server starting (57P03). Anything else
 * (a wrong database, a security group or route that does not admit this machine, DNS) cannot
 * mend itself: it fails at once, before the instance bills for a wait that ends in a timeout.
 */
function passwordWorks(
  ctx: RunContext,
  id: string,
  password: string,
): (info: InstanceInfo) => Promise<boolean> {
  let refusedSince: number | undefined;
  return async (info) => {
    if (!info.endpoint) return false;
    try {
      const session = await ctx.deps.connect(targetOf(ctx, info, password));
      await session.close();
      return true;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const kind = failureOf(err)?.kind;
      if (kind !== 'password' && kind !== 'starting')
        throw await connectFailure(ctx, id, info, password, err);
      refusedSince ??= Date.now();
      if (Date.now() - refusedSince < PASSWORD_APPLY_LIMIT_MS) return false;
      const minutes = PASSWORD_APPLY_LIMIT_MS / 60_000;
      throw kind === 'password'
        ? new OffsiteError(
            'ACCESS_DENIED',
            `the temporary instance ${id} still refuses the new master password ${minutes} min after it was set`,
            {
              hint: 'RDS did not apply the ModifyDBInstance password change: see the instance events; a master password managed in Secrets Manager cannot be set this way',
              cause: err,
            },
          )
        : toOffsiteError(err, 'RESTORE_FAILED');
    }
  };
}

/** Why connecting to the temporary instance failed, as the error that ends the run. */
async function connectFailure(
  ctx: RunContext,
  id: string,
  info: InstanceInfo,
  password: string,
  err: unknown,
): Promise<OffsiteError> {
  const failure = failureOf(err);
  const { address, port } = info.endpoint!;
  const database = ctx.config.source.database;
  if (failure?.kind === 'no-database') {
    const names = await databasesOf(ctx, info, password);
    return new OffsiteError(
      'DATABASE_NOT_FOUND',
      `the snapshot has no database "${database}" (source.database; the server says: ${failure.reason}); ` +
        `the databases of the temporary instance ${id}: ${typeof names === 'string' ? names : names.join(', ') || 'none'}`,
      { hint: 'set source.database to the database to back up', cause: err },
    );
  }
  if (failure?.kind === 'unreachable') {
    const mine = thisMachineAddresses();
    return new OffsiteError(
      'UNREACHABLE',
      `cannot reach the temporary instance ${id} at ${address}:${port}: ${failure.reason}`,
      {
        hint:
          `RDS made the instance, but this machine cannot connect to it: the security groups ` +
          `(source.tempInstance.securityGroupIds) must admit this machine on port ${port}` +
          `${mine.length > 0 ? ` (its addresses: ${mine.join(', ')}; or its NAT's public address)` : ''}, ` +
          `and a route must lead from here to the VPC of source.tempInstance.subnetGroup (same VPC, peering or VPN, with DNS resolving the endpoint)` +
          `${ctx.config.network.publicAccess ? '' : '; a machine outside the VPC needs network.publicAccess: true in the pipeline (the instance then gets a public address)'}`,
        cause: err,
      },
    );
  }
  const error = toOffsiteError(err, 'RESTORE_FAILED');
  return new OffsiteError(error.code, `connecting to the temporary instance ${id}: ${error.message}`, {
    hint: error.hint,
    cause: err,
  });
}

/** The databases of the temporary instance (read from `postgres` or `template1`), or why not. */
async function databasesOf(
  ctx: RunContext,
  info: InstanceInfo,
  password: string,
): Promise<string[] | string> {
  let why = '';
  for (const database of ['postgres', 'template1']) {
    try {
      const session = await ctx.deps.connect({ ...targetOf(ctx, info, password), database });
      try {
        const rows = await session.query<{ datname: string }>(
          // rdsadmin is RDS's own, and no master user may connect to it.
          "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'rdsadmin' ORDER BY 1",
        );
        return rows.map((r) => r.datname);
      } finally {
        await session.close();
      }
    } catch (err) {
      why = (err as Error).message;
    }
  }
  return `not listed (${why})`;
}

/** This machine's own addresses, for a hint about what a security group must admit. */
function thisMachineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
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
