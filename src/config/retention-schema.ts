import { z } from 'zod';

/** A duration such as `36h`, `30d`, `2w`, `6m` (months) or `1y`: a number and one unit. */
export const DURATION = /^([1-9]\d{0,4})(h|d|w|m|y)$/;

const keepCount = z.int().min(0).max(100_000).optional();

/**
 * `retention:` of a pipeline: which backups `offsite prune` keeps. The keep rules add up (a
 * backup kept by any rule stays), as restic's `forget` does; the newest backup is never removed.
 * docs and README "Retention and prune" describe each field.
 */
export const retentionSchema = z
  .strictObject({
    /** The newest N backups. */
    keepLast: keepCount,
    /** The newest backup of each of the last N days that have one (UTC days of the snapshot time). */
    keepDaily: keepCount,
    /** The newest backup of each of the last N ISO weeks that have one. */
    keepWeekly: keepCount,
    /** The newest backup of each of the last N months that have one. */
    keepMonthly: keepCount,
    /** The newest backup of each of the last N years that have one. */
    keepYearly: keepCount,
    /** Every backup whose snapshot is younger than this (`30d`, `2w`, `6m`, `1y`, `36h`). */
    keepWithin: z
      .string()
      .regex(DURATION, 'expected a number and a unit (h, d, w, m for months, y), e.g. 30d or 2w')
      .optional(),
    /**
     * Every backup whose reason (`offsite run --reason`) matches one of these regular expressions
     * (JavaScript syntax, unanchored, case-sensitive), e.g. `^before release`.
     */
    keepTagged: z
      .array(
        z
          .string()
          .min(1)
          .superRefine((pattern, ctx) => {
            try {
              new RegExp(pattern);
            } catch (err) {
              ctx.addIssue({
                code: 'custom',
                message: `not a regular expression (${(err as Error).message}); e.g. ^before release`,
              });
            }
          }),
      )
      .default([]),
    /** Days a removed backup stays in trash/ (offsite undelete brings it back) before its data goes. */
    trashDays: z.int().min(0).max(3650).default(7),
    /** A pack with at least this share of unused bytes is rewritten with its used chunks only. */
    repackThreshold: z.number().gt(0).max(1).default(0.3),
    /**
     * Packs younger than this are never deleted nor rewritten: a run that holds no lock (a crashed
     * one, another tool) may still be about to name them. 0 only when nothing else writes the store.
     */
    graceHours: z
      .number()
      .min(0)
      .max(24 * 365)
      .default(24),
    /** `offsite run` prunes after it published its backup. */
    pruneAfterRun: z.boolean().default(false),
  })
  .refine(
    (r) =>
      [r.keepLast, r.keepDaily, r.keepWeekly, r.keepMonthly, r.keepYearly].some((n) => (n ?? 0) > 0) ||
      r.keepWithin !== undefined ||
      r.keepTagged.length > 0,
    'name at least one keep rule (keepLast, keepDaily, keepWeekly, keepMonthly, keepYearly, keepWithin or keepTagged), e.g. keepDaily: 7',
  );

/** The `retention:` section after defaults. */
export type RetentionConfig = z.infer<typeof retentionSchema>;
