import type { PipelineConfig } from './schema.ts';

/**
 * What a report must say about where the temporary copy of production was reachable from. Pure.
 * A public temporary instance is allowed only when the pipeline spells out
 * network.publicAccess: true (a runner outside the VPC); it is then said in every report, so a
 * reviewer sees it on every night, not once in a file.
 */
export function networkWarnings(config: Pick<PipelineConfig, 'network' | 'source'>): string[] {
  if (!config.network.publicAccess) return [];
  const groups = config.source.tempInstance.securityGroupIds.join(', ') || 'none';
  return [
    `network.publicAccess is true: the temporary instance (a full copy of production) was created PubliclyAccessible, ` +
      `with a public address reachable by whatever its security groups (${groups}) admit; ` +
      `run offsite inside the VPC and remove network.publicAccess to keep it private`,
  ];
}
