import { OffsiteError } from '../errors.ts';
import type { InstanceInfo } from '../pipeline/ports.ts';
import type { RunContext } from '../pipeline/run-context.ts';

const PROGRESS_EVERY_MS = 5 * 60_000;

// Statuses from which an RDS instance never becomes available by itself.
const DEAD_ENDS = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'inaccessible-encryption-credentials',
  'storage-full',
  'deleting',
]);

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
    if (!info || DEAD_ENDS.has(status)) {
      throw new OffsiteError(
        'RESTORE_FAILED',
        `temporary instance ${instanceId} is ${status} while waiting for ${what}`,
        {
          hint: 'see the RDS events of the instance; an incompatible-restore often means the instance class or parameters do not fit the snapshot',
        },
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
