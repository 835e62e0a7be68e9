import { OffsiteError } from '../errors.ts';
import type { RestoreWindow, SnapshotInfo, SnapshotType } from '../pipeline/ports.ts';
import type { StageDefinition } from '../pipeline/run-pipeline.ts';

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function dateInZone(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/**
 * Picks the snapshot to back up: the newest available one (of the configured types), or the
 * newest of a given date (in the configured time zone). Pure, so the rules are tested without RDS.
 */
export function pickSnapshot(
  snapshots: SnapshotInfo[],
  opts: {
    date: string | null;
    timeZone: string;
    now: Date;
    maxAgeHours: number;
    instanceId: string;
    types?: readonly SnapshotType[];
  },
): SnapshotInfo {
  const kind = `${(opts.types ?? ['automated']).join(' or ')} snapshot`;
  const available = snapshots
    .filter((s) => s.status === 'available')
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const dates = [...new Set(available.map((s) => dateInZone(s.createdAt, opts.timeZone)))];

  if (opts.date) {
    const found = available.find((s) => dateInZone(s.createdAt, opts.timeZone) === opts.date);
    if (!found) {
      throw new OffsiteError(
        'SNAPSHOT_NOT_FOUND',
        `no available ${kind} of ${opts.instanceId} was taken on ${opts.date} (${opts.timeZone}); ` +
          `dates with one: ${dates.length > 0 ? dates.join(', ') : 'none'}`,
        {
          hint: 'pick one of the listed dates; RDS keeps automated snapshots for the retention period only (max 35 days)',
        },
      );
    }
    return found;
  }

  const newest = available[0];
  if (!newest) {
    throw new OffsiteError('SNAPSHOT_NOT_FOUND', `${opts.instanceId} has no available ${kind}`, {
      hint:
        'check source.instanceId and that automated backups are enabled on it; if AWS Backup manages its backups, ' +
        'set source.snapshot.types: [automated, awsbackup]',
    });
  }
  const ageHours = (opts.now.getTime() - newest.createdAt.getTime()) / 3_600_000;
  // The nightly run refuses a stale snapshot: backing up last week's data again looks like success.
  if (ageHours > opts.maxAgeHours) {
    throw new OffsiteError(
      'SNAPSHOT_TOO_OLD',
      `the newest available snapshot of ${opts.instanceId} (${newest.id}) is ${ageHours.toFixed(1)} h old, ` +
        `more than source.snapshot.maxSnapshotAgeHours (${opts.maxAgeHours})`,
      { hint: 'check that RDS automated backups still run; to back up an older day on purpose, pass --date' },
    );
  }
  return newest;
}

/**
 * The time a point-in-time backup restores to: `at` itself, or for 'now' the latest restorable
 * time. Refused, before anything is created, when it is outside RDS's restore window.
 */
export function pointInTimeOf(at: Date | 'now', window: RestoreWindow, instanceId: string): Date {
  const { earliest, latest } = window;
  if (!earliest || !latest) {
    throw new OffsiteError(
      'POINT_IN_TIME_OUTSIDE_WINDOW',
      `${instanceId} cannot be restored to a point in time: RDS keeps no automated backups of it`,
      { hint: 'enable automated backups on the source (a backup retention period of 1 day or more)' },
    );
  }
  if (at === 'now') return latest;
  if (at < earliest || at > latest) {
    throw new OffsiteError(
      'POINT_IN_TIME_OUTSIDE_WINDOW',
      `--at ${at.toISOString()} is outside the restore window of ${instanceId}: ` +
        `${earliest.toISOString()} to ${latest.toISOString()}`,
      {
        hint: 'pick a time inside the window (RDS keeps it for the backup retention period; the latest is a few minutes ago), or --at now',
      },
    );
  }
  return at;
}

/** The pseudo-snapshot of a point-in-time backup: named for the source and the restore time. */
async function locatePointInTime(
  ctx: Parameters<StageDefinition['run']>[0],
  at: Date | 'now',
): Promise<SnapshotInfo> {
  const instanceId = ctx.config.source.instanceId;
  const [window, source] = await Promise.all([
    ctx.deps.rds.restoreWindow(instanceId, ctx.signal),
    ctx.deps.rds.describeInstance(instanceId, ctx.signal),
  ]);
  if (!source) {
    throw new OffsiteError('SNAPSHOT_NOT_FOUND', `the source instance ${instanceId} does not exist`, {
      hint: 'check source.instanceId and source.region',
    });
  }
  const restoreTime = pointInTimeOf(at, window, instanceId);
  return {
    id: `pitr:${instanceId}:${restoreTime.toISOString()}`,
    instanceId,
    status: 'available',
    createdAt: restoreTime,
    engineVersion: source.engineVersion,
    snapshotType: 'automated',
    pointInTime: { latest: at === 'now' },
  };
}

/** The server's major version from an RDS engine version ("15.4" → 15, "9.6.22" → 9). */
export function majorOf(engineVersion: string): number {
  return Number.parseInt(engineVersion.split('.')[0] ?? '', 10);
}

/** locate: find the snapshot, and refuse early when this machine cannot dump or restore it. */
export const locateStage: StageDefinition = {
  name: 'locate',
  failureCode: 'SNAPSHOT_NOT_FOUND',
  async run(ctx) {
    const { source, dump, scratch } = ctx.config;
    const types = source.snapshot.types;
    const at = ctx.requestedPointInTime;
    const snapshot = at
      ? await locatePointInTime(ctx, at)
      : pickSnapshot(await ctx.deps.rds.listSnapshots(source.instanceId, types, ctx.signal), {
          date: ctx.requestedDate,
          timeZone: source.snapshot.timeZone,
          now: ctx.deps.now(),
          maxAgeHours: source.snapshot.maxSnapshotAgeHours,
          instanceId: source.instanceId,
          types,
        });
    ctx.snapshot = snapshot;
    ctx.log.info({ snapshot: snapshot.id, createdAt: snapshot.createdAt.toISOString() }, 'snapshot located');

    // Everything that can be known before paying for a restore is checked here.
    const major = majorOf(snapshot.engineVersion);
    ctx.pgTools = await ctx.deps.findPgTools(major, dump.pgBinDir);
    const scratchMajor = await ctx.deps.scratchMajorVersion(scratch, major);
    if (scratchMajor !== null && scratchMajor < major) {
      throw new OffsiteError(
        'SCRATCH_UNSUITABLE',
        `the scratch server is PostgreSQL ${scratchMajor} but the snapshot is PostgreSQL ${snapshot.engineVersion}; ` +
          (scratch.kind === 'docker'
            ? `a restore test needs a server of at least the source major version: set scratch.image to postgres:${major}`
            : `a restore test needs a server of at least the source major version: point scratch.urlEnv at a PostgreSQL ${major}+ server, ` +
              `or use scratch.kind: embedded with the system's server (Debian/Ubuntu: apt-get install postgresql-${major})`),
      );
    }
    return undefined;
  },
};
