import { z } from 'zod';

/** The kinds of day-over-day finding; each can be made a failure in `anomalies.fail`. */
export const anomalyKinds = [
  'table-missing',
  'table-emptied',
  'row-count-drop',
  'schema-changed',
  'dump-size-jump',
] as const;
export type AnomalyKind = (typeof anomalyKinds)[number];

/** Day-over-day comparison with the previous verified backup of the same pipeline. */
export const anomaliesSchema = z.strictObject({
  /** Compare with the previous verified backup at all (false: the stage is skipped). */
  enabled: z.boolean().default(true),
  /** A table that lost more than this share of its rows (percent) since the previous backup is an anomaly. */
  rowCountDropPercent: z.number().min(0).max(100).default(20),
  /** Row-count drops of tables with fewer rows than this in the previous backup are ignored (emptied still counts). */
  minRowsForDrop: z.int().min(0).default(100),
  /** A dump grown by more than this percent is an anomaly (an encrypted database balloons). */
  dumpGrowthPercent: z.number().positive().default(50),
  /** A dump shrunk by more than this percent is an anomaly (silent data loss). */
  dumpShrinkPercent: z.number().positive().max(100).default(30),
  /** Tables expected to shrink or vanish (queues, sessions): schema.table or schema.* patterns. */
  ignoreTables: z.array(z.string().min(1)).default([]),
  /** Kinds that fail the run (nothing is published) instead of warning. */
  fail: z.array(z.enum(anomalyKinds)).default([]),
  /** How many previous reports (newest first) are read to find the previous verified backup. */
  lookback: z.int().min(1).max(1000).default(60),
});

/** The validated anomalies section of a pipeline. */
export type AnomaliesConfig = z.infer<typeof anomaliesSchema>;
