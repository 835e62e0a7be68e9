import pg from 'pg';

/** How much data to create: scale 1 ≈ 10 MB of table data, linear; 0.05 is tiny, for fast tests. */
export interface DatasetOptions {
  scale: number;
  /** Same seed, same data (on a fresh database); 1 by default. */
  seed?: number;
  /** The instant of day 0 (see datasetDate); DEFAULT_EPOCH by default. */
  epoch?: Date;
}

/** What seedDataset created: exact row counts per table and the tables' on-disk size. */
export interface DatasetSummary {
  tables: Record<string, number>;
  /** Sum of pg_table_size (heap + TOAST, no indexes) over DATASET_TABLES. */
  bytes: number;
}

/** Rows touched by one applyDayOfChange, per schema-qualified table. */
export interface ChangeSummary {
  inserted: Record<string, number>;
  updated: Record<string, number>;
  deleted: Record<string, number>;
}

/** Every table the dataset creates, schema-qualified, parents before children. */
export const DATASET_TABLES: readonly string[] = ['users', 'events', 'payments', 'notes', 'audit_log'].map(
  (t) => `app.${t}`,
);

const DAY_MS = 86_400_000;

/** Day 0 of the simulated calendar unless a caller picks another epoch: 2026-11-20T00:00Z. */
export const DEFAULT_EPOCH = new Date(Date.UTC(2026, 10, 20));

/**
 * The simulated "as of" instant of a day: the epoch (day 0) plus `day` days. Seeding fills the
 * year before day 0; applyDayOfChange(day) fills (datasetDate(day - 1), datasetDate(day)), so the
 * newest events.created_at is always just before datasetDate(day) — what a freshness check expects.
 * The local world passes an epoch that puts datasetDate(day) just before snapshot `day`'s time.
 */
export function datasetDate(day: number, epoch: Date = DEFAULT_EPOCH): Date {
  return new Date(epoch.getTime() + day * DAY_MS);
}

// Rows per table at scale 1, sized so that events is the biggest table (~2/3 of the bytes).
const ROWS_AT_SCALE_1 = { users: 3000, events: 23000, payments: 5000, notes: 1500, audit_log: 7000 };

// Word lists. Skewed picks (`skew`) favour the first entries, as real vocabularies do: that gives the
// data a real compression ratio, between random noise and repeated padding.
const w = (s: string) => s.split('|');
const FIRST = w(
  'Olivia|Liam|Emma|Noah|Ava|Elijah|Sofia|Lucas|Mia|Amara|Yusuf|Chen|Hana|Kofi|Ingrid|Rahul|Zoe|Diego',
);
const LAST = w(
  'Smith|Garcia|Nguyen|Müller|Rossi|Kim|Okafor|Silva|Novak|Haddad|Jensen|Tanaka|Dubois|Patel|Cohen',
);
const DOMAINS = w('gmail.com|outlook.com|yahoo.com|icloud.com|proton.me|example.org|fastmail.com|acme.io');
const CITIES = w(
  'London|Berlin|Lagos|Austin|Toronto|Madrid|Seoul|Mumbai|Lisbon|Nairobi|Warsaw|Osaka|Denver|Lyon',
);
const PLANS = w('free|free|free|pro|pro|team|enterprise');
const KINDS = w('page_view|page_view|search|page_view|add_to_cart|login|api_call|checkout|email_open|logout');
const PATHS = w('/products|/products|/cart|/search|/account|/checkout|/blog|/pricing|/docs|/support|/orders');
const REFERRERS = w(
  'direct|direct|google.com|newsletter|bing.com|twitter.com|partner.example|duckduckgo.com',
);
const CLIENTS = w('web/chrome|web/safari|ios/app|android/app|web/firefox|web/edge|api/python|api/node');
const NOUNS = w(
  'invoice|order|refund|shipment|account|password|subscription|discount|delivery|address|report',
);
const VERBS = w('asked about|complained about|confirmed|updated|cancelled|requested|reported|praised');
const TAILS = w('yesterday|by phone|via chat|after the outage|for the second time|before renewal|on Monday');
const ACTIONS = w(
  'user.login|user.update|payment.capture|payment.refund|note.create|settings.change|export.run',
);

const lit = (list: readonly string[]) =>
  `ARRAY[${list.map((s) => `'${s.replaceAll("'", "''")}'`).join(',')}]`;
// Indexing a constant array inline costs far less than calling a helper function per value.
const pick = (list: readonly string[]) => `(${lit(list)})[1 + floor(random() * ${list.length})::int]`;
const skew = (list: readonly string[]) => `(${lit(list)})[1 + floor(random() ^ 2 * ${list.length})::int]`;
const ts = (ms: number) => `'${new Date(ms).toISOString()}'::timestamptz`;

// A session-local (pg_temp) helper, so the dataset's schema holds only what an application would.
const HELPERS = `CREATE FUNCTION pg_temp.sentences(n int) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT string_agg('Customer ' || ${pick(VERBS)} || ' the ' || ${skew(NOUNS)} || ' ' || ${pick(TAILS)} || '.', ' ')
  FROM generate_series(1, n) $$;`;

const SCHEMA = `
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SCHEMA app;
CREATE TABLE app.users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL,
  profile jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE app.events (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES app.users ON DELETE CASCADE,
  kind text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL);
CREATE INDEX events_user_created_idx ON app.events (user_id, created_at);
CREATE TABLE app.payments (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES app.users ON DELETE CASCADE,
  amount numeric(12,2) NOT NULL, currency char(3) NOT NULL, external_ref text NOT NULL,
  status text NOT NULL CONSTRAINT payments_status_check CHECK (status IN ('pending','succeeded','failed','refunded')),
  created_at timestamptz NOT NULL);
CREATE TABLE app.notes (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES app.users ON DELETE CASCADE,
  body text NOT NULL, created_at timestamptz NOT NULL);
CREATE INDEX notes_body_trgm_idx ON app.notes USING gin (body gin_trgm_ops);
-- No primary key on purpose: verification and row ordering must cope with such tables.
CREATE TABLE app.audit_log (at timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL,
  target_table text, target_id bigint, detail jsonb NOT NULL);
-- Keeps an explicitly set updated_at (the generator's simulated clock), stamps now() otherwise.
CREATE FUNCTION app.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN NEW.updated_at := now(); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER users_touch_updated_at BEFORE UPDATE ON app.users
  FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();
CREATE VIEW app.user_revenue AS
  SELECT u.id, u.email, p.currency, sum(p.amount) AS revenue, count(*) AS payments
  FROM app.users u JOIN app.payments p ON p.user_id = u.id WHERE p.status = 'succeeded'
  GROUP BY u.id, u.email, p.currency;`;

// Row generators, shared by seeding and the daily change: rows i = 1..n spread over [from, to) in
// time order, as an application appends them; `uid` is an SQL expression picking an existing user.
// OFFSET 0 keeps Postgres from inlining a subquery, which would draw a random column again at each use.
// Rows grow denser towards `to` (a growing app), which also keeps the newest row within minutes of
// `to` at any scale (a freshness check compares it with the snapshot time).
const timeAt = (from: number, to: number, n: number) =>
  `${ts(to)} - (${to - from} * ((${n} - i + random()) / ${n}) ^ 1.25) * interval '1 millisecond'`;
const IP = `'10.' || (uid % 250) || '.' || (uid / 250 % 250) || '.' || (uid % 7 + 10)`;

const insertUsers = (n: number, from: number, to: number, lastId: number) => `
INSERT INTO app.users (email, name, profile, created_at, updated_at)
SELECT lower(f || '.' || l) || (${lastId} + i) || '@' || d, f || ' ' || l,
  jsonb_build_object('plan', ${skew(PLANS)}, 'city', ${pick(CITIES)}, 'marketing_opt_in', random() < 0.3,
    'locale', ${skew(w('en-US|en-GB|de-DE|es-ES|fr-FR|pt-BR|ja-JP'))}, 'referrer', ${skew(REFERRERS)}), c, c
FROM (SELECT i, ${pick(FIRST)} f, ${pick(LAST)} l, ${skew(DOMAINS)} d, ${timeAt(from, to, n)} c
      FROM generate_series(1, ${n}) i OFFSET 0) s`;

const insertEvents = (n: number, from: number, to: number, uid: string) => `
INSERT INTO app.events (user_id, kind, payload, created_at)
SELECT uid, kind, jsonb_build_object('path', ${pick(PATHS)} || CASE WHEN random() < 0.6
    THEN '/' || floor(random() ^ 2 * 20000)::int ELSE '' END, 'referrer', ${skew(REFERRERS)},
    'client', ${skew(CLIENTS)} || '/' || (120 + floor(random() ^ 4 * 14)), 'request_id', md5(i || '/' || random()),
    'session', substr(md5(uid || '-' || floor(i / 7)), 1, 12), 'ip', ${IP}, 'duration_ms', floor(random() * 20000)::int,
    'bytes', floor(random() ^ 2 * 2e6)::int, 'trace_id', substr(md5(random()::text), 1, 16))
  || CASE kind WHEN 'search' THEN jsonb_build_object('query', ${skew(NOUNS)} || ' ' || ${pick(CITIES)})
     WHEN 'checkout' THEN jsonb_build_object('items', 1 + floor(random() ^ 2 * 6)::int) ELSE '{}' END, c
FROM (SELECT i, ${uid} AS uid, ${skew(KINDS)} kind, ${timeAt(from, to, n)} c
      FROM generate_series(1, ${n}) i OFFSET 0) s`;

const insertPayments = (n: number, from: number, to: number, uid: string, status: string) => `
INSERT INTO app.payments (user_id, amount, currency, external_ref, status, created_at)
SELECT ${uid}, round((4.99 + random() ^ 3 * 495)::numeric, 2), ${skew(w('USD|USD|EUR|GBP|CAD'))},
  'ch_' || substr(md5(i || '/' || random()), 1, 14), ${status}, ${timeAt(from, to, n)}
FROM generate_series(1, ${n}) i`;

const insertNotes = (n: number, from: number, to: number, uid: string) => `
INSERT INTO app.notes (user_id, body, created_at)
SELECT ${uid}, pg_temp.sentences(1 + floor(random() * 4)::int), ${timeAt(from, to, n)}
FROM generate_series(1, ${n}) i`;

const insertAudit = (n: number, from: number, to: number, uid: string) => `
INSERT INTO app.audit_log (at, actor, action, target_table, target_id, detail)
SELECT c, CASE WHEN random() < 0.8 THEN 'user:' || uid ELSE 'system' END, a, split_part(a, '.', 1) || 's', uid,
  jsonb_build_object('request_id', substr(md5(i || '/' || random()), 1, 16), 'ip', ${IP},
    'via', ${skew(w('web|web|api|mobile|admin'))})
FROM (SELECT i, ${uid} AS uid, ${skew(ACTIONS)} a, ${timeAt(from, to, n)} c
      FROM generate_series(1, ${n}) i OFFSET 0) s`;

// A small, stable set of users does most of the updating, as the most active users of an app do.
const HOT = 'id % 50 = 7';
// `k` rows of `from` (a query yielding ids), chosen at random but deterministically: ids are
// sorted before random() is drawn, so the physical row order (vacuum, free space) plays no part.
const sample = (from: string, k: number) =>
  `SELECT id FROM (${from} ORDER BY id) s ORDER BY random() LIMIT ${k}`;

/** A setseed() argument in [-1, 1) mixed from integers, so each (seed, day) gets its own stream. */
function seedValue(seed: number, day: number): number {
  let h = Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((day | 0) + 0x632be5ab, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 31 - 1;
}

async function withClient<T>(connectionString: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function inTransaction<T>(c: pg.Client, seed: number, day: number, fn: () => Promise<T>): Promise<T> {
  await c.query('BEGIN');
  try {
    await c.query(HELPERS);
    await c.query('SELECT setseed($1)', [seedValue(seed, day)]);
    const result = await fn();
    await c.query('COMMIT');
    return result;
  } catch (error) {
    await c.query('ROLLBACK');
    throw error;
  }
}

async function countRows(c: pg.Client): Promise<Record<string, number>> {
  const sql = DATASET_TABLES.map((t) => `SELECT '${t}' AS t, count(*)::int AS n FROM ${t}`).join(
    ' UNION ALL ',
  );
  const { rows } = await c.query<{ t: string; n: number }>(sql);
  return Object.fromEntries(rows.map((r) => [r.t, r.n]));
}

/** Creates the app schema (tables, indexes, trigger, view, pg_trgm) and its data in an empty database. */
export async function seedDataset(connectionString: string, opts: DatasetOptions): Promise<DatasetSummary> {
  const n = Object.fromEntries(
    Object.entries(ROWS_AT_SCALE_1).map(([t, rows]) => [t, Math.max(1, Math.round(rows * opts.scale))]),
  ) as typeof ROWS_AT_SCALE_1;
  const day0 = (opts.epoch ?? DEFAULT_EPOCH).getTime();
  const yearAgo = day0 - 365 * DAY_MS;
  // Long-standing (low id) users are the most active; row i of n only picks users that existed by then.
  const uid = (rows: number) =>
    `1 + floor(random() ^ 1.5 * ${n.users} * (0.6 + 0.4 * (i - 1) / ${rows}))::bigint`;
  return withClient(connectionString, async (c) => {
    await inTransaction(c, opts.seed ?? 1, 0, async () => {
      await c.query(SCHEMA);
      await c.query(insertUsers(n.users, day0 - 3 * 365 * DAY_MS, yearAgo, 0));
      await c.query(insertEvents(n.events, yearAgo, day0, uid(n.events)));
      const status = `CASE WHEN i > ${n.payments} * 0.99 THEN 'pending' ELSE ${skew(w('succeeded|succeeded|succeeded|failed|refunded'))} END`;
      await c.query(insertPayments(n.payments, yearAgo, day0, uid(n.payments), status));
      await c.query(insertNotes(n.notes, yearAgo, day0, uid(n.notes)));
      await c.query(insertAudit(n.audit_log, yearAgo, day0, uid(n.audit_log)));
    });
    await c.query('ANALYZE');
    const sizes = DATASET_TABLES.map((t) => `pg_table_size('${t}')`).join(' + ');
    const { rows } = await c.query<{ bytes: string }>(`SELECT (${sizes})::bigint AS bytes`);
    return { tables: await countRows(c), bytes: Number(rows[0]!.bytes) };
  });
}

/**
 * Simulates day `day` (≥ 1) of application traffic, about `changeFraction` of all rows in all:
 * scattered deletes (a few users with their rows, old events and notes), appends to every table
 * stamped within that day, then updates of recent rows and of a small hot set of users.
 */
export async function applyDayOfChange(
  connectionString: string,
  opts: { day: number; seed?: number; changeFraction?: number; epoch?: Date },
): Promise<ChangeSummary> {
  const { day } = opts;
  if (!Number.isInteger(day) || day < 1)
    throw new Error(`day must be an integer ≥ 1 (day 0 is the seed), got ${day}`);
  // Pass the epoch the database was seeded with, or the day's rows land on another calendar.
  const [from, to] = [datasetDate(day - 1, opts.epoch).getTime(), datasetDate(day, opts.epoch).getTime()];
  return withClient(connectionString, async (c) => {
    const total = Object.values(await countRows(c)).reduce((a, b) => a + b, 0);
    // Shares of the day's budget: ~60% appends, ~35% updates, ~5% deletes, like the reference day in docs/design.md.
    const k = (share: number) => Math.max(1, Math.round((opts.changeFraction ?? 0.01) * total * share));
    const sum: ChangeSummary = { inserted: {}, updated: {}, deleted: {} };
    const add = (kind: keyof ChangeSummary, table: string, rows: number | null) => {
      sum[kind][table] = (sum[kind][table] ?? 0) + (rows ?? 0);
    };
    const run = async (kind: keyof ChangeSummary, table: string, sql: string, values?: unknown[]) =>
      add(kind, table, (await c.query(sql, values)).rowCount);
    const recent = (t: string, n: number) =>
      `SELECT id FROM ${t} WHERE id > (SELECT max(id) FROM ${t}) - ${20 * n}`;
    const update = (t: string, set: string, from: string, n: number) =>
      run('updated', t, `UPDATE ${t} SET ${set} WHERE id IN (${sample(from, n)})`);
    const remove = (t: string, n: number) =>
      run('deleted', t, `DELETE FROM ${t} WHERE id IN (${sample(`SELECT id FROM ${t}`, n)})`);
    // A time within the day, drawn per row from its id, so that two columns can share it.
    const at = `${ts(from)} + (id * 7919 + ${day * 104_729}) % ${DAY_MS} * interval '1 millisecond'`;

    await inTransaction(c, opts.seed ?? 1, day, async () => {
      const gone = sample(`SELECT id FROM app.users WHERE NOT ${HOT}`, k(0.002));
      await c.query(`CREATE TEMP TABLE gone ON COMMIT DROP AS ${gone}`);
      for (const t of ['app.events', 'app.payments', 'app.notes', 'app.users']) {
        const key = t === 'app.users' ? 'id' : 'user_id'; // dependents first, counted, rather than by cascade
        await run('deleted', t, `DELETE FROM ${t} WHERE ${key} IN (SELECT id FROM gone)`);
      }
      await remove('app.events', k(0.02));
      await remove('app.notes', k(0.005));

      const { rows } = await c.query<{ last: string }>('SELECT last_value AS last FROM app.users_id_seq');
      await run('inserted', 'app.users', insertUsers(k(0.01), from, to, Number(rows[0]!.last)));
      // Ids go in as parameters: an array read from a table would be detoasted again for every row.
      const ids = await c.query<{ a: string[] | null; hot: string[] | null }>(
        `SELECT array_agg(id ORDER BY id) a, array_agg(id ORDER BY id) FILTER (WHERE ${HOT}) hot FROM app.users`,
      );
      const [all, hot] = [ids.rows[0]!.a ?? [], ids.rows[0]!.hot ?? []];
      const uid = `CASE WHEN ${hot.length} > 0 AND random() < 0.3 THEN ($2::bigint[])[1 + floor(random() * ${hot.length})::int]
        ELSE ($1::bigint[])[1 + floor(random() * ${all.length})::int] END`;
      const status = `CASE WHEN random() < 0.6 THEN 'succeeded' ELSE 'pending' END`;
      await run('inserted', 'app.events', insertEvents(k(0.45), from, to, uid), [all, hot]);
      await run('inserted', 'app.payments', insertPayments(k(0.05), from, to, uid, status), [all, hot]);
      await run('inserted', 'app.notes', insertNotes(k(0.02), from, to, uid), [all, hot]);
      await run('inserted', 'app.audit_log', insertAudit(k(0.08), from, to, uid), [all, hot]);

      const visits = `coalesce((profile->>'visits')::int, 0) + 1`;
      const seen = `updated_at = ${at}, profile = profile || jsonb_build_object('last_seen_at', ${at}, 'visits', ${visits})`;
      await update('app.users', seen, `SELECT id FROM app.users WHERE ${HOT}`, k(0.1));
      const processed = `payload = payload || jsonb_build_object('processed', true, 'processed_at', ${at})`;
      await update('app.events', processed, recent('app.events', k(0.1)), k(0.1));
      const settle = `status = CASE WHEN status = 'succeeded' THEN 'refunded' WHEN random() < 0.9 THEN 'succeeded' ELSE 'failed' END`;
      const open = `${recent('app.payments', k(0.08))} AND status IN ('pending', 'succeeded')`;
      await update('app.payments', settle, open, k(0.08));
      await update(
        'app.notes',
        `body = body || ' Update: ' || pg_temp.sentences(1)`,
        recent('app.notes', k(0.08)),
        k(0.08),
      );
    });
    return sum;
  });
}

// What a "uniform" update changes per table; audit_log has no key to spread updates by.
const UNIFORM_SET: Record<string, string> = {
  // updated_at set here, or the trigger would stamp now() and the content would depend on the clock.
  'app.users': `profile = profile || jsonb_build_object('rev', coalesce((profile->>'rev')::int, 0) + 1),
    updated_at = updated_at + interval '1 second'`,
  'app.events': `payload = payload || jsonb_build_object('rev', coalesce((payload->>'rev')::int, 0) + 1)`,
  'app.payments': 'amount = amount + 0.01',
  'app.notes': `body = body || ' (edited)'`,
};

/**
 * Worst case for day-over-day dedup: updates about `fraction` of `table`'s rows (`events` or
 * `app.events`), spread uniformly over its whole key range. Returns the number of rows updated.
 */
export async function uniformUpdate(
  connectionString: string,
  opts: { table: string; fraction: number; seed?: number },
): Promise<number> {
  const table = opts.table.includes('.') ? opts.table : `app.${opts.table}`;
  const set = UNIFORM_SET[table];
  if (set === undefined)
    throw new Error(`uniformUpdate: ${opts.table} is not one of ${Object.keys(UNIFORM_SET).join(', ')}`);
  if (!(opts.fraction >= 0 && opts.fraction <= 1))
    throw new Error(`uniformUpdate: fraction must be in [0, 1], got ${opts.fraction}`);
  return withClient(connectionString, (c) =>
    inTransaction(c, opts.seed ?? 1, -1, async () => {
      const sql = `UPDATE ${table} SET ${set} WHERE id IN (SELECT id FROM (SELECT id FROM ${table} ORDER BY id) s WHERE random() < $1)`;
      return (await c.query(sql, [opts.fraction])).rowCount ?? 0;
    }),
  );
}
