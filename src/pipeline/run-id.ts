import { randomBytes } from 'node:crypto';

/** A sortable, RDS-identifier-safe run id: 20261125t031500z-a1b2c3. */
export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '').toLowerCase();
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
