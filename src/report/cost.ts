// What a run cost and what the store costs a month, at the prices of the pipeline's `costs:`
// (config/costs-schema.ts) over published list prices. Estimates for people, not an invoice:
// taxes, free tiers, daily free allowances and credits are left out. Pure.
import type { CostsConfig } from '../config/costs-schema.ts';
import { counted, formatChange, formatCount } from './format.ts';
import type { RunReport } from './run-report.ts';
import type { RequestCounts } from './store-requests.ts';

/**
 * On-demand $/hour of RDS for PostgreSQL, Single-AZ, us-east-1, from AWS's published price list
 * (aws.amazon.com/rds/postgresql/pricing, as of 2025). Other regions cost more or less: set
 * `costs.instanceHourly` for your region and class.
 */
export const DEFAULT_INSTANCE_HOURLY: Readonly<Record<string, number>> = {
  'db.t3.micro': 0.018,
  'db.t3.small': 0.036,
  'db.t3.medium': 0.072,
  'db.t3.large': 0.145,
  'db.t3.xlarge': 0.29,
  'db.t3.2xlarge': 0.579,
  'db.t4g.micro': 0.016,
  'db.t4g.small': 0.032,
  'db.t4g.medium': 0.065,
  'db.t4g.large': 0.129,
  'db.t4g.xlarge': 0.258,
  'db.t4g.2xlarge': 0.517,
  'db.m5.large': 0.178,
  'db.m5.xlarge': 0.356,
  'db.m5.2xlarge': 0.712,
  'db.m5.4xlarge': 1.424,
  'db.m6g.large': 0.159,
  'db.m6g.xlarge': 0.318,
  'db.m6g.2xlarge': 0.636,
  'db.m6i.large': 0.178,
  'db.m6i.xlarge': 0.356,
  'db.m6i.2xlarge': 0.712,
  'db.r5.large': 0.25,
  'db.r5.xlarge': 0.5,
  'db.r5.2xlarge': 1,
  'db.r6g.large': 0.225,
  'db.r6g.xlarge': 0.45,
  'db.r6g.2xlarge': 0.899,
  'db.r6i.large': 0.25,
  'db.r6i.xlarge': 0.5,
  'db.r6i.2xlarge': 1,
};

/** RDS bills an instance by the second with a minimum of 10 minutes. */
export const RDS_MINIMUM_HOURS = 10 / 60;

const GB = 1e9;
const HOUR_MS = 3_600_000;

/** The `cost` of a RunReport. */
export type RunCost = NonNullable<RunReport['cost']>;

/** What a run's cost is computed from. */
export interface CostInputs {
  /** The temporary instance: its class (null: the snapshot's, which offsite does not know) and lifetime. */
  instance: { instanceClass: string | null; lifetimeMs: number } | null;
  /** Store requests of the run (null: not counted). */
  requests: RequestCounts | null;
  /** B2 prices apply to an S3/B2 store; a directory store has no provider price. */
  storeKind: 's3' | 'dir';
  /** The store's total bytes after the run (null: unknown), and what the run uploaded. */
  storedBytes: number | null;
  uploadedBytes: number;
  /** The store's size at the oldest run of the last 30 days, for the trend (null: no such run). */
  earlier: { date: string; storedBytes: number } | null;
}

// Dollars to a millionth: a night's requests cost fractions of a cent.
function usd(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function instanceCost(input: CostInputs['instance'], prices: CostsConfig): RunCost['instance'] {
  if (!input) return null;
  const hours = input.lifetimeMs / HOUR_MS;
  const billedHours = Math.max(hours, RDS_MINIMUM_HOURS);
  const own = input.instanceClass === null ? undefined : prices.instanceHourly[input.instanceClass];
  const listed = input.instanceClass === null ? undefined : DEFAULT_INSTANCE_HOURLY[input.instanceClass];
  const price = own ?? listed ?? null;
  return {
    class: input.instanceClass,
    hours: Number(hours.toFixed(4)),
    billedHours: Number(billedHours.toFixed(4)),
    pricePerHour: price,
    priceFrom: own !== undefined ? 'pipeline' : listed !== undefined ? 'default' : null,
    cost: price === null ? null : usd(billedHours * price),
  };
}

/** The run's cost and the store's monthly cost, at `prices`. */
export function runCost(inputs: CostInputs, prices: CostsConfig): RunCost {
  const priced = inputs.storeKind === 's3';
  const instance = instanceCost(inputs.instance, prices);
  const r = inputs.requests;
  const p = prices.requestsPer10k;
  const requests = r
    ? {
        ...r,
        cost: priced ? usd((r.classA * p.classA + r.classB * p.classB + r.classC * p.classC) / 10_000) : null,
      }
    : null;
  const perGb = priced ? prices.storagePerGbMonth : null;
  const monthly = (bytes: number) => usd((bytes / GB) * (perGb ?? 0));
  return {
    currency: 'USD',
    run: usd((instance?.cost ?? 0) + (requests?.cost ?? 0)),
    instance,
    requests,
    storage: {
      storedBytes: inputs.storedBytes,
      uploadedBytes: inputs.uploadedBytes,
      pricePerGbMonth: perGb,
      monthly: perGb === null || inputs.storedBytes === null ? null : monthly(inputs.storedBytes),
      addedMonthly: perGb === null ? null : monthly(inputs.uploadedBytes),
      earlier:
        perGb === null || !inputs.earlier
          ? null
          : { ...inputs.earlier, monthly: monthly(inputs.earlier.storedBytes) },
    },
  };
}

/** The oldest stored size within `days` before `now`, from the pipeline's earlier runs. */
export function storeSizeEarlier(
  runs: RunReport[],
  now: Date,
  days = 30,
): { date: string; storedBytes: number } | null {
  const since = now.getTime() - days * 86_400_000;
  const candidates = runs
    .filter((r) => r.store && Date.parse(r.finishedAt) >= since && Date.parse(r.finishedAt) < now.getTime())
    .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  const oldest = candidates[0];
  return oldest?.store
    ? { date: oldest.finishedAt.slice(0, 10), storedBytes: oldest.store.totalBytes }
    : null;
}

/** Dollars for people: $1.23; below a dollar two significant digits ($0.062, $0.0042); then "< $0.0001". */
export function formatUsd(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n === 0) return '$0';
  if (Math.abs(n) < 0.0001) return '< $0.0001';
  if (Math.abs(n) < 0.01) return `$${Number(n.toPrecision(2))}`;
  if (Math.abs(n) < 1) return `$${n.toPrecision(2)}`;
  return `$${n.toFixed(2)}`;
}

/** The store's monthly cost at `perGb` $/GB-month for a run's stored bytes (the trend chart's series). */
export function storeMonthly(r: RunReport, perGb: number): number | null {
  return r.store ? usd((r.store.totalBytes / GB) * perGb) : null;
}

/**
 * The cost in words, for the Markdown and the HTML facts: what this run cost and what the store
 * costs a month, with its trend.
 */
export function costLines(c: RunCost): string[] {
  const lines: string[] = [];
  const parts: string[] = [];
  const i = c.instance;
  if (i) {
    const hours = `${i.hours.toFixed(2)} h${i.billedHours > i.hours ? ' (billed 10 min minimum)' : ''}`;
    parts.push(
      i.cost === null
        ? `temporary instance ${i.class ?? "of the snapshot's class"} ${hours}: no price (set ${i.class ? `costs.instanceHourly["${i.class}"]` : 'source.tempInstance.instanceClass'})`
        : `temporary instance ${i.class} ${hours} at $${i.pricePerHour}/h${i.priceFrom === 'default' ? ' (default price)' : ''}: ${formatUsd(i.cost)}`,
    );
  }
  if (c.requests) {
    const n = c.requests.classA + c.requests.classB + c.requests.classC;
    const split = `A ${formatCount(c.requests.classA)}, B ${formatCount(c.requests.classB)}, C ${formatCount(c.requests.classC)}`;
    parts.push(
      `${counted(n, 'store request')} (${split})${c.requests.cost === null ? '' : `: ${formatUsd(c.requests.cost)}`}`,
    );
  }
  lines.push(`this run: ${formatUsd(c.run)}${parts.length > 0 ? ` — ${parts.join('; ')}` : ''}`);
  const s = c.storage;
  if (s.pricePerGbMonth === null) {
    lines.push('store: a directory, no provider price');
  } else if (s.monthly !== null && s.storedBytes !== null) {
    const trend = s.earlier
      ? `; ${s.earlier.date}: ${formatUsd(s.earlier.monthly)}/month (now ${formatChange(s.earlier.monthly, s.monthly)})`
      : '';
    lines.push(
      `store: ${formatGb(s.storedBytes)} at $${s.pricePerGbMonth}/GB-month = ${formatUsd(s.monthly)}/month (this run uploaded ${formatGb(s.uploadedBytes)}, ${formatUsd(s.addedMonthly)}/month)${trend}`,
    );
  }
  return lines;
}

/** Bytes in B2's billing unit, decimal: 47.00 GB, 9.7 MB. */
export function formatGb(bytes: number): string {
  return bytes >= GB ? `${(bytes / GB).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
