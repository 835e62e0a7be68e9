import { z } from 'zod';
import { instanceClass } from './field-formats.ts';

/**
 * Prices a run's report states its cost in (US dollars). Every price has a default from the
 * provider's published list (src/report/cost.ts says which and when); set your own here when your
 * region, contract or the list differs. Estimates: taxes, free allowances and credits are ignored.
 */
export const costsSchema = z.strictObject({
  /**
   * On-demand price per hour of the temporary instance, by class (RDS for PostgreSQL, Single-AZ),
   * over the built-in defaults for us-east-1 (e.g. `db.t3.micro: 0.018`).
   */
  instanceHourly: z
    .record(z.string(), z.number().nonnegative())
    // Each key checked as a class, so the message names the key and the fix (not "invalid key").
    .superRefine((prices, ctx) => {
      for (const key of Object.keys(prices)) {
        const checked = instanceClass.safeParse(key);
        if (!checked.success)
          ctx.addIssue({ code: 'custom', path: [key], message: checked.error.issues[0]!.message });
      }
    })
    .default({}),
  /** The store's price per GB (10^9 bytes) and month. Default: B2's $0.006. */
  storagePerGbMonth: z.number().nonnegative().default(0.006),
  /** Price per 10,000 requests by B2's classes: A (uploads, deletes), B (downloads, heads), C (lists). */
  requestsPer10k: z
    .strictObject({
      classA: z.number().nonnegative().default(0),
      classB: z.number().nonnegative().default(0.004),
      /** B2 publishes $0.004 per 1,000 class C calls: $0.04 per 10,000. */
      classC: z.number().nonnegative().default(0.04),
    })
    .default(() => ({ classA: 0, classB: 0.004, classC: 0.04 })),
});

/** The `costs:` section after defaults. */
export type CostsConfig = z.infer<typeof costsSchema>;
