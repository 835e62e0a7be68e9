import { OffsiteError } from '../errors.ts';
import type { InstanceInfo } from '../pipeline/ports.ts';
import type { RunContext } from '../pipeline/run-context.ts';

const PROGRESS_EVERY_MS = 5 * 60_000;

/** Why an instance in a status it never leaves by itself is stuck there, and what to do. */
interface DeadEnd {
  /** ACCESS_DENIED where the fix is a key or a permission, RESTORE_FAILED otherwise. */
  code: 'RESTORE_FAILED' | 'ACCESS_DENIED';
  hint: string;
}

const KMS_HINT =
  'the KMS key that encrypts the snapshot is disabled, scheduled for deletion, or not usable by this role: ' +
  'enable it, and allow kms:CreateGrant and kms:DescribeKey on it (infra/iam-policy.json, the KMS statement; ' +
  "the key's policy must allow the role too)";

// Statuses from which an RDS instance never becomes available by itself (RDS's "DB instance
// status" table). Waiting them out only bills the instance until waitTimeoutMinutes.
const DEAD_ENDS: Record<string, DeadEnd> = {
  failed: {
    code: 'RESTORE_FAILED',
    hint: 'RDS could not create the instance: its events say why (aws rds describe-events --source-type db-instance --source-identifier <instance>)',
  },
  'restore-error': {
    code: 'RESTORE_FAILED',
    hint: 'RDS failed while restoring the snapshot; run again, and if it repeats, restore the snapshot by hand and read its events',
  },
  'incompatible-restore': {
    code: 'RESTORE_FAILED',
    hint: 'the instance class or parameters do not fit the snapshot: try another source.tempInstance.instanceClass',
  },
  'incompatible-parameters': {
    code: 'RESTORE_FAILED',
    hint: "the parameter group's memory settings do not fit the instance class: use a bigger source.tempInstance.instanceClass",
  },
  'incompatible-option-group': {
    code: 'RESTORE_FAILED',
    hint: 'the option group the snapshot carries cannot be applied: see the instance events',
  },
  'incompatible-network': {
    code: 'RESTORE_FAILED',
    hint:
      'the instance cannot be placed in source.tempInstance.subnetGroup: its subnets lack free IP addresses, ' +
      "or a subnet or security group is not in the group's VPC; free addresses or name another subnet group",
  },
  'incompatible-credentials': {
    code: 'ACCESS_DENIED',
    hint: 'RDS cannot use the credentials the instance needs (a directory or CloudHSM login the snapshot carries): see the instance events',
  },
  'insufficient-capacity': {
    code: 'RESTORE_FAILED',
    hint: 'AWS has no capacity for this instance class in that availability zone now: set source.tempInstance.instanceClass to another class (or a subnet group in other zones), or run again later',
  },
  'inaccessible-encryption-credentials': { code: 'ACCESS_DENIED', hint: KMS_HINT },
  'inaccessible-encryption-credentials-recoverable': {
    code: 'ACCESS_DENIED',
    hint: `${KMS_HINT}; RDS recovers the instance once the key is usable again, but offsite does not wait for that`,
  },
  'storage-full': {
    code: 'RESTORE_FAILED',
    hint: 'the instance ran out of storage while starting from the snapshot: restore it by hand with more allocated storage and read its events',
  },
  deleting: {
    code: 'RESTORE_FAILED',
    hint: 'someone (or a janitor) is deleting the temporary instance while the run uses it',
  },
};

/** Statuses from which an instance never becomes available by itself. */
export const DEAD_END_STATUSES: readonly string[] = Object.keys(DEAD_ENDS);

/**
 * Polls until the instance is `available` and `ready` accepts it, bounded by the configured
 * timeout, logging each status change (a restore of a big snapshot takes a while; silence
 * looks like a hang).
 */
export async function waitForInstance(
  ctx: RunContext,
  instanceId: string,
  what: string,
  ready: (info: InstanceInfo) => Promise<boolean> = async () => true,
): Promise<InstanceInfo> {
  const temp = ctx.config.source.tempInstance;
  const started = Date.now();
  const deadline = started + temp.waitTimeoutMinutes * 60_000;
  let lastStatus = '';
  let lastLog = 0;
  for (;;) {
    const info = await ctx.deps.rds.describeInstance(instanceId, ctx.signal);
    const status = info?.status ?? 'missing';
    ctx.progress?.update('restore', { status: `waiting for ${what}: ${status}` });
    // A change is logged at once, an unchanged status every few minutes: a long restore (big
    // snapshots load lazily) must never look like a hang.
    if (status !== lastStatus || Date.now() - lastLog >= PROGRESS_EVERY_MS) {
      ctx.log.info(
        { instance: instanceId, status, waitedMs: Date.now() - started },
        `waiting for ${what}: ${status}`,
      );
      lastStatus = status;
      lastLog = Date.now();
    }
    const deadEnd = info && Object.hasOwn(DEAD_ENDS, status) ? DEAD_ENDS[status] : undefined;
    if (!info || deadEnd) {
      throw new OffsiteError(
        deadEnd?.code ?? 'RESTORE_FAILED',
        `temporary instance ${instanceId} is ${status} while waiting for ${what}`,
        { hint: (deadEnd?.hint ?? 'it was deleted by someone else').replace('<instance>', instanceId) },
      );
    }
    if (status === 'available' && (await ready(info))) return info;
    if (Date.now() >= deadline) {
      throw new OffsiteError(
        'WAIT_TIMEOUT',
        `temporary instance ${instanceId} was still ${status} after ${temp.waitTimeoutMinutes} min waiting for ${what}`,
        { hint: 'raise source.tempInstance.waitTimeoutMinutes if restores of this size are this slow' },
      );
    }
    const remaining = deadline - Date.now();
    await ctx.deps.sleep(Math.min(temp.pollIntervalSeconds * 1000, Math.max(remaining, 0)), ctx.signal);
  }
}
