/** Fault injection: throttling, failed or stuck restores, slow transitions, failed or hanging deletes. */
import { RdsError } from './query-protocol.ts';
import type { DeadEndStatus, RdsFaults } from './types.ts';

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
  outcome: 'available' | DeadEndStatus;
  stuck: boolean;
  endpoint: RdsFaults['endpoint'];
}

export function planRestore(faults: RdsFaults): RestorePlan {
  return {
    outcome: faults.restoreOutcome ?? 'available',
    stuck: faults.stuckInCreating === true,
    endpoint: faults.endpoint,
  };
}

/** Throws the AccessDenied RDS answers when the IAM policy does not allow an action. */
export function denyIfInjected(faults: RdsFaults, action: string): void {
  if (!faults.denyActions?.includes(action)) return;
  throw new RdsError(
    'AccessDenied',
    `User: arn:aws:sts::123456789012:assumed-role/offsite/emulated is not authorized to perform: rds:${action} because no identity-based policy allows the rds:${action} action`,
    403,
  );
}

/**
 * Where an instance restored under an `endpoint` fault says it is. Port 1 (tcpmux) has no
 * listener on any machine these tests run on, so connecting is refused at once; `.invalid`
 * never resolves (RFC 6761).
 */
export function unreachableEndpoint(
  fault: 'refuses' | 'unresolvable',
  id: string,
): { host: string; port: number } {
  return fault === 'refuses'
    ? { host: '127.0.0.1', port: 1 }
    : { host: `${id}.unresolvable.invalid`, port: 5432 };
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
