/** AddTagsToResource / RemoveTagsFromResource / ListTagsForResource, by ARN. */
import {
  listParam,
  type Params,
  RdsError,
  requireParam,
  stringList,
  type XmlFields,
  xmlList,
} from './query-protocol.ts';
import type { EmulatorState } from './state.ts';

function tagsOf(state: EmulatorState, arn: string): Map<string, string> {
  const match = /^arn:aws:rds:([^:]+):(\d{12}):(db|snapshot):(.+)$/.exec(arn);
  if (!match || match[1] !== state.region) {
    throw new RdsError(
      'InvalidParameterValue',
      `The specified resource name ${arn} does not match an RDS resource in this region.`,
    );
  }
  const id = match[4] ?? '';
  return match[3] === 'db' ? state.instance(id).tags : state.snapshot(id).tags;
}

export function addTagsToResource(state: EmulatorState, params: Params): undefined {
  const tags = tagsOf(state, requireParam(params, 'ResourceName'));
  for (const tag of listParam(params, 'Tags')) {
    const key = tag['Key'];
    if (!key) throw new RdsError('InvalidParameterValue', 'Tag keys must not be empty.');
    tags.set(key, tag['Value'] ?? '');
  }
  return undefined;
}

export function removeTagsFromResource(state: EmulatorState, params: Params): undefined {
  const tags = tagsOf(state, requireParam(params, 'ResourceName'));
  for (const key of stringList(params, 'TagKeys')) tags.delete(key);
  return undefined;
}

export function listTagsForResource(state: EmulatorState, params: Params): XmlFields {
  const tags = tagsOf(state, requireParam(params, 'ResourceName'));
  return {
    TagList: xmlList(
      'Tag',
      [...tags].map(([Key, Value]) => ({ Key, Value })),
    ),
  };
}
