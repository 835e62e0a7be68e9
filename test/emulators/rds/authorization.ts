/**
 * What IAM would evaluate for each request the emulator serves: the action, the resource ARNs it
 * touches, the tags the request carries (aws:RequestTag/…) and the tags each existing resource
 * has (aws:ResourceTag/…, rds:db-tag/…), taken before the action runs. Recorded on every request
 * and, when OFFSITE_EMULATOR_ACTION_LOG names a directory, appended there as JSON lines (one file
 * per emulator), so a test can check infra/iam-policy.json against what the code really asked.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { listParam, type Params } from './query-protocol.ts';
import { type EmulatorState, normalizeId } from './state.ts';

/** One resource of a request, as IAM sees it. */
export interface AuthorizedResource {
  arn: string;
  /** The resource's tags when the request arrived (none for one it creates or a '*'). */
  tags: Record<string, string>;
  /** The instance this request creates (tagged on create: rds:AddTagsToResource is checked too). */
  creates?: true;
}

/** What IAM evaluates for one request. */
export interface ActionRecord {
  /** `rds:<Action>`. */
  action: string;
  resources: AuthorizedResource[];
  /** Tags the request asks to set (aws:RequestTag/<key>). */
  requestTags: Record<string, string>;
  status?: number;
  errorCode?: string;
}

const ACCOUNT_ID = '123456789012';

/** The IAM view of a request, before it runs. */
export function authorizationOf(state: EmulatorState, action: string, params: Params): ActionRecord {
  const arn = (type: string, id: string) => `arn:aws:rds:${state.region}:${ACCOUNT_ID}:${type}:${id}`;
  const instance = (id: string | undefined): AuthorizedResource => {
    const key = normalizeId(id ?? '');
    const found = state.instances.get(key);
    return { arn: arn('db', key), tags: found ? Object.fromEntries(found.tags) : {} };
  };
  const subnetGroup = (): AuthorizedResource[] =>
    params['DBSubnetGroupName'] ? [{ arn: arn('subgrp', params['DBSubnetGroupName']), tags: {} }] : [];
  const requestTags = Object.fromEntries(
    listParam(params, 'Tags').map((tag) => [tag['Key'] ?? '', tag['Value'] ?? '']),
  );
  let resources: AuthorizedResource[];
  switch (action) {
    case 'RestoreDBInstanceFromDBSnapshot': {
      const snapshotId = normalizeId(
        (params['DBSnapshotIdentifier'] ?? '').replace(/^arn:aws:rds:[^:]*:\d+:snapshot:/, ''),
      );
      const snapshot = state.snapshots.get(snapshotId);
      resources = [
        { ...instance(params['DBInstanceIdentifier']), creates: true },
        { arn: arn('snapshot', snapshotId), tags: snapshot ? Object.fromEntries(snapshot.tags) : {} },
        ...subnetGroup(),
      ];
      break;
    }
    case 'RestoreDBInstanceToPointInTime':
      resources = [
        instance(params['SourceDBInstanceIdentifier']),
        { ...instance(params['TargetDBInstanceIdentifier']), creates: true },
        ...subnetGroup(),
      ];
      break;
    case 'ModifyDBInstance':
    case 'DeleteDBInstance':
      resources = [instance(params['DBInstanceIdentifier'])];
      break;
    case 'AddTagsToResource':
    case 'RemoveTagsFromResource':
    case 'ListTagsForResource': {
      const name = params['ResourceName'] ?? '';
      const id = name.replace(/^arn:aws:rds:[^:]*:\d+:db:/, '');
      resources = name.includes(':db:') ? [instance(id)] : [{ arn: name, tags: {} }];
      break;
    }
    default:
      // Describe* calls: RDS authorizes them on '*' (the policy grants them on every resource).
      resources = [{ arn: '*', tags: {} }];
  }
  return { action: `rds:${action}`, resources, requestTags };
}

const logFile = new WeakMap<EmulatorState, string>();
let emulatorsLogged = 0;

/** Appends the record to this emulator's JSON-lines file when OFFSITE_EMULATOR_ACTION_LOG is set. */
export function logAction(state: EmulatorState, record: ActionRecord): void {
  const dir = process.env.OFFSITE_EMULATOR_ACTION_LOG;
  if (!dir) return;
  let file = logFile.get(state);
  if (!file) {
    mkdirSync(dir, { recursive: true });
    file = join(dir, `rds-emulator-${process.pid}-${++emulatorsLogged}.jsonl`);
    logFile.set(state, file);
  }
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}
