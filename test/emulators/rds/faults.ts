/** Fault injection: throttling, failed or stuck restores, slow transitions, failed or hanging deletes. */
import { RdsError } from './query-protocol.ts';
import type { RdsFaults } from './types.ts';

/** Throws RDS's throttling error, the way real RDS rate-limits, while the fault has calls left. */
export function throttleIfInjected(faults: RdsFaults, action: string): void {
  const throttle = faults.throttle;
  if (!throttle || throttle.times <= 0) return;
  if (!throttle.actions.includes(action) && !throttle.actions.includes('*')) return;
  throttle.times -= 1;
  if (throttle.times === 0) delete faults.throttle;
  throw new RdsError('Throttling', 'Rate exceeded');
}

/** What a restore requested now will do: captured at request time so later fault changes don't rewrite it. */
export interface RestorePlan {
  outcome: 'available' | 'incompatible-restore' | 'failed';
  stuck: boolean;
}

export function planRestore(faults: RdsFaults): RestorePlan {
  return { outcome: faults.restoreOutcome ?? 'available', stuck: faults.stuckInCreating === true };
}

/**
 * Throws the AccessDenied RDS answers when IAM does not allow the delete (a real, permanent
 * failure; a 500 would only be retried by the SDK until it happened to pass).
 */
export function denyDeleteIfInjected(faults: RdsFaults, arn: string): void {
  if (!faults.deleteFails) return;
  throw new RdsError(
    'AccessDenied',
    `User: arn:aws:sts::123456789012:assumed-role/offsite/emulated is not authorized to perform: rds:DeleteDBInstance on resource: ${arn} because no identity-based policy allows the rds:DeleteDBInstance action`,
    403,
  );
}
