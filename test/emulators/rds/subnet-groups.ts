/** DescribeDBSubnetGroups: the emulator knows a fixed list of subnet groups (RdsEmulatorOptions.subnetGroups). */
import { type Params, RdsError, type XmlFields, xmlList } from './query-protocol.ts';
import { ACCOUNT_ID, type EmulatorState, paginate } from './state.ts';

/** What every account has, and the demo pipeline's private group. */
export const DEFAULT_SUBNET_GROUPS = ['default', 'offsite-demo-private'];

function subnetGroupFields(state: EmulatorState, name: string): XmlFields {
  return {
    DBSubnetGroupName: name,
    DBSubnetGroupDescription: `emulated subnet group ${name}`,
    VpcId: 'vpc-0emulator',
    SubnetGroupStatus: 'Complete',
    DBSubnetGroupArn: `arn:aws:rds:${state.region}:${ACCOUNT_ID}:subgrp:${name}`,
  };
}

export function describeDBSubnetGroups(state: EmulatorState, params: Params): XmlFields {
  const name = params['DBSubnetGroupName'];
  // RDS matches subnet group names case-insensitively and stores them lowercased.
  const wanted = name?.toLowerCase();
  if (wanted !== undefined && !state.subnetGroups.has(wanted)) {
    throw new RdsError('DBSubnetGroupNotFoundFault', `DB subnet group '${name}' does not exist.`, 404);
  }
  const names = wanted !== undefined ? [wanted] : [...state.subnetGroups].sort();
  const { page, marker } = paginate(names, params);
  return {
    Marker: marker,
    DBSubnetGroups: xmlList(
      'DBSubnetGroup',
      page.map((n) => subnetGroupFields(state, n)),
    ),
  };
}
