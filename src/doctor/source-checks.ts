// offsite doctor, the RDS side: the source instance, its snapshots, where the temporary instance goes.
import type { PipelineConfig } from '../config/schema.ts';
import { OffsiteError } from '../errors.ts';
import type { InstanceInfo, RdsPort } from '../pipeline/ports.ts';
import { pickSnapshot } from '../stages/locate-snapshot.ts';

/** Where the source is, as one phrase for messages. */
function where(config: PipelineConfig): string {
  const rds = config.source.rds;
  return `${rds.region}${rds.endpoint ? ` at ${rds.endpoint}` : ''}`;
}

/** The source instance exists and these credentials may describe it; returns it for later checks. */
export async function checkSourceInstance(
  rds: RdsPort,
  config: PipelineConfig,
  signal: AbortSignal,
): Promise<InstanceInfo> {
  const { instanceId } = config.source;
  const found = await rds.describeInstance(instanceId, signal);
  if (!found) {
    throw new OffsiteError(
      'SNAPSHOT_NOT_FOUND',
      `source.instanceId ${instanceId}: no such DB instance in ${where(config)}`,
      { hint: 'fix source.instanceId, or source.rds.region / the account the credentials belong to' },
    );
  }
  return found;
}

/** The newest available automated snapshot is fresh (the nightly run's own rule); returns its detail. */
export async function checkSnapshots(
  rds: RdsPort,
  config: PipelineConfig,
  now: Date,
  signal: AbortSignal,
): Promise<{ detail: string; engineVersion: string }> {
  const { instanceId, snapshot: rules } = config.source;
  const snapshots = await rds.listSnapshots(instanceId, rules.types, signal);
  const newest = pickSnapshot(snapshots, {
    date: null,
    timeZone: rules.timeZone,
    now,
    maxAgeHours: rules.maxSnapshotAgeHours,
    instanceId,
  });
  const ageHours = (now.getTime() - newest.createdAt.getTime()) / 3_600_000;
  return {
    detail: `${snapshots.length} ${rules.types.join('/')} snapshot${snapshots.length === 1 ? '' : 's'}; the newest, ${newest.id}, is ${ageHours.toFixed(1)} h old (at most ${rules.maxSnapshotAgeHours} h)`,
    engineVersion: newest.engineVersion,
  };
}

/** The subnet group the temporary instance is placed in exists. */
export async function checkSubnetGroup(
  rds: RdsPort,
  config: PipelineConfig,
  name: string,
  signal: AbortSignal,
): Promise<string> {
  const group = await rds.describeSubnetGroup(name, signal);
  if (!group) {
    throw new OffsiteError(
      'PREFLIGHT_FAILED',
      `source.tempInstance.subnetGroup ${name}: no such DB subnet group in ${where(config)}`,
      {
        hint: 'name an existing DB subnet group of private subnets (aws rds describe-db-subnet-groups lists them)',
      },
    );
  }
  return `${group.name} in ${group.vpcId || 'its VPC'} (${group.status})`;
}
