import { z } from 'zod';

// Cheap checks (schema, sequences) are on by default. Checksums read every row twice (source and
// restored copy) but are the strongest proof a backup holds the data, so they are on too; amcheck
// costs CPU on top of the restore and mostly re-checks freshly built indexes, so it is opt-in.

const checksumsSchema = z.strictObject({
  /** Hash every row of the chosen tables on the source and on the restored copy; unequal fails. */
  enabled: z.boolean().default(true),
  /** `all`, or pg_dump-style table patterns (`app.events`, `public.*`, `orders`). */
  tables: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).default('all'),
  /** Tables bigger than this on the source (pg_table_size, MiB) are skipped and listed as such. */
  maxTableMb: z.number().positive().optional(),
});

const toggleSchema = z.strictObject({
  /** Whether this check runs. */
  enabled: z.boolean().default(true),
});

const amcheckSchema = z.strictObject({
  /** bt_index_check(heapallindexed) of every B-tree index of the restored copy. */
  enabled: z.boolean().default(false),
  /** Also check the temporary instance (the source's physical copy) before the dump. */
  onSource: z.boolean().default(false),
});

const freshnessSchema = z.strictObject({
  /** `schema.table.column` (or `table.column` in public) of a timestamp written by normal traffic. */
  column: z
    .string()
    .regex(/^[^.\s]+(\.[^.\s]+){1,2}$/, 'write schema.table.column, e.g. app.events.created_at'),
  /** Its newest value must lie at most this many hours before the snapshot time. */
  maxAgeHours: z.number().positive().default(24),
});

const scalar = z.union([z.number(), z.string(), z.boolean()]);

const assertionSchema = z.strictObject({
  /** Reported as `sql:<name>`. */
  name: z.string().regex(/^[A-Za-z0-9][\w.-]{0,62}$/, 'use letters, digits, _ . -'),
  /** A read-only query returning one row; its first column is the value checked. */
  query: z.string().min(1),
  /** What the value must satisfy (all given bounds must hold). */
  expect: z
    .strictObject({
      /** The value is a number at least this. */
      min: z.number().optional(),
      /** The value is a number at most this. */
      max: z.number().optional(),
      /** The value equals this (numbers compare numerically). */
      equals: scalar.optional(),
      /** The same query on the source (temporary instance) returns the same value. */
      equalsSource: z.boolean().optional(),
    })
    .refine((e) => e.min !== undefined || e.max !== undefined || e.equals !== undefined || e.equalsSource, {
      message: 'give at least one of min, max, equals, equalsSource: true',
    }),
});

/** A custom SQL assertion of a pipeline (see assertionSchema). */
export type SqlAssertionConfig = z.infer<typeof assertionSchema>;

/** Which restore-test checks run, beyond the exact row counts that always do. */
export const verifySchema = z.strictObject({
  /** Check queries run in parallel per database (each holds one connection). */
  concurrency: z.int().min(1).max(32).default(4),
  /** Content checksums of table rows. */
  checksums: checksumsSchema.default(() => checksumsSchema.parse({})),
  /** Schema fingerprint: tables, columns, indexes, constraints, triggers, views, functions, extensions. */
  schema: toggleSchema.default(() => toggleSchema.parse({})),
  /** Sequences equal to the source's and not behind the columns they feed. */
  sequences: toggleSchema.default(() => toggleSchema.parse({})),
  /** Physical B-tree checks with the amcheck extension. */
  amcheck: amcheckSchema.default(() => amcheckSchema.parse({})),
  /** The data is recent: catches backing up a stale or wrong database. Omitted: not checked. */
  freshness: freshnessSchema.optional(),
  /** Business invariants as SQL ("every payment has a user"). */
  assertions: z
    .array(assertionSchema)
    .default([])
    .refine((list) => new Set(list.map((a) => a.name)).size === list.length, {
      message: 'assertion names must be unique',
    }),
});

/** The validated `verify` section of a pipeline. */
export type VerifyConfig = z.infer<typeof verifySchema>;
