// Damages done to a faithful restored copy of the torture database, one per object class, and the
// restore-test check that must catch each (test/verify/torture-damage.test.ts).
import { LARGE_OBJECTS } from '../support/torture-data.ts';
import { TORTURE_TRUTHS } from '../support/torture-db.ts';

/** One damage: SQL run on a fresh copy, the checks that must fail, and what their details must name. */
export interface Damage {
  what: string;
  /** `{db}` stands for the copy's quoted name. */
  sql: string;
  /** The failing checks; 'one check' where no check is designated yet (any single one naming it). */
  fails: string[] | 'one check';
  /** Text a new failing detail of each of those checks must contain (as the check names things). */
  names: string;
}

const rows = ['row-counts', 'checksums'];
const content = ['checksums'];
const schema = ['schema'];
const sequences = ['sequences'];

/** Every damage of the suite, one a line: a table reads better than objects spread over six lines each. */
// biome-ignore format: one damage per line
export const DAMAGES: Damage[] = [
  // Rows and values.
  { what: 'a deleted row', sql: `DELETE FROM "My Schema"."COPY x FROM stdin;" WHERE id = 2`, fails: rows, names: 'My Schema.COPY x FROM stdin;' },
  { what: 'a deleted row of a sub-partition', sql: 'DELETE FROM app.measurements WHERE id = 4', fails: rows, names: 'app.measurements_eu_2024' },
  { what: 'a deleted row of an inheritance parent (not its children)', sql: 'DELETE FROM ONLY app.vehicles WHERE id = 1', fails: rows, names: 'app.vehicles' },
  { what: 'one of two duplicate rows of a table without a key', sql: 'DELETE FROM app.keyless WHERE ctid = (SELECT min(ctid) FROM app.keyless WHERE a = 1)', fails: rows, names: 'app.keyless' },
  { what: 'a changed character in a compressed multi-MB TOAST value', sql: `UPDATE app.docs SET body = overlay(body placing 'X' from 2000000 for 1) WHERE id = 'compressible'`, fails: content, names: 'app.docs' },
  { what: 'a changed byte in an incompressible TOASTed bytea', sql: `UPDATE app.docs SET blob = set_byte(blob, 1500000, get_byte(blob, 1500000) # 1) WHERE id = 'incompressible'`, fails: content, names: 'app.docs' },
  { what: 'a changed value in the lz4 column', sql: `UPDATE app.docs SET lz = lz || '.' WHERE id = 'lz4'`, fails: content, names: 'app.docs' },
  { what: 'a changed jsonb value', sql: `UPDATE app.people SET profile = jsonb_set(profile, '{n}', '2.5') WHERE name = 'Ada Lovelace'`, fails: content, names: 'app.people' },
  { what: 'a changed bytea holding NUL bytes', sql: `UPDATE app.value_zoo SET b = '\\x00ff00000a0d5c01' WHERE id = 1`, fails: content, names: 'app.value_zoo' },
  { what: 'a float -0 turned into 0', sql: 'UPDATE app.value_zoo SET f8 = 0 WHERE id = 3', fails: content, names: 'app.value_zoo' },
  { what: 'changed bytes of a large object', sql: `SELECT lo_put(${LARGE_OBJECTS.big}, 1000, '\\xdeadbeef')`, fails: content, names: '(large objects)' },
  // The only large object owned by app_writer with its grant: its owner and ACL go with it.
  { what: 'a missing large object', sql: `SELECT lo_unlink(${LARGE_OBJECTS.small})`, fails: [...content, ...schema], names: 'large' },
  { what: 'a materialized view left unpopulated', sql: 'REFRESH MATERIALIZED VIEW app.people_per_mood WITH NO DATA', fails: 'one check', names: 'app.people_per_mood' },
  // Schema objects.
  { what: 'a dropped index (gin, an extension opclass)', sql: 'DROP INDEX app.people_name_trgm', fails: schema, names: 'app.people_name_trgm' },
  { what: 'the invalid partitioned index dropped', sql: 'DROP INDEX app.measurements_reading_idx', fails: schema, names: TORTURE_TRUTHS.invalidIndex },
  { what: 'a dropped trigger', sql: 'DROP TRIGGER people_touch ON app.people', fails: schema, names: 'people_touch' },
  { what: 'a disabled trigger enabled', sql: 'ALTER TABLE app.measurements ENABLE TRIGGER measurements_touch', fails: schema, names: 'measurements_touch' },
  { what: 'a dropped constraint trigger', sql: 'DROP TRIGGER orders_not_empty ON app.orders', fails: schema, names: 'orders_not_empty' },
  { what: "a policy's roles changed", sql: 'ALTER POLICY docs_writers ON app.docs TO app_writer', fails: schema, names: 'docs_writers' },
  { what: 'a dropped policy', sql: 'DROP POLICY docs_readers ON app.docs', fails: schema, names: 'docs_readers' },
  { what: 'row level security disabled', sql: 'ALTER TABLE app.docs DISABLE ROW LEVEL SECURITY', fails: schema, names: 'app.docs' },
  { what: 'row level security no longer forced', sql: 'ALTER TABLE app.docs NO FORCE ROW LEVEL SECURITY', fails: schema, names: 'app.docs' },
  { what: 'a dropped check constraint', sql: 'ALTER TABLE app.orders DROP CONSTRAINT orders_price_nonnegative', fails: schema, names: 'orders_price_nonnegative' },
  { what: 'the NOT VALID constraint dropped', sql: 'ALTER TABLE app.orders DROP CONSTRAINT orders_qty_small', fails: schema, names: 'orders_qty_small' },
  { what: 'a deferrable foreign key made immediate', sql: 'ALTER TABLE app.orders ALTER CONSTRAINT orders_person_fk NOT DEFERRABLE', fails: schema, names: 'orders_person_fk' },
  { what: 'a dropped self-referencing foreign key', sql: 'ALTER TABLE app.orders DROP CONSTRAINT orders_parent_id_fkey', fails: schema, names: 'orders_parent_id_fkey' },
  { what: 'a dropped exclusion constraint (btree_gist)', sql: 'ALTER TABLE app.bookings DROP CONSTRAINT bookings_no_overlap', fails: schema, names: 'bookings_no_overlap' },
  { what: "a dropped domain's check", sql: 'ALTER DOMAIN app.email DROP CONSTRAINT email_check', fails: schema, names: 'email_check' },
  { what: 'a dropped column default', sql: 'ALTER TABLE app.people ALTER COLUMN updated_at DROP DEFAULT', fails: schema, names: 'app.people.updated_at' },
  { what: 'a generated column turned plain', sql: 'ALTER TABLE app.orders ALTER COLUMN total DROP EXPRESSION', fails: schema, names: 'app.orders.total' },
  { what: "a column's collation changed", sql: 'ALTER TABLE app.people ALTER COLUMN handle TYPE text COLLATE "C"', fails: schema, names: 'app.people.handle' },
  { what: 'an enum value added', sql: `ALTER TYPE app.mood ADD VALUE 'ecstatic'`, fails: schema, names: 'app.mood' },
  { what: 'a view definition changed', sql: `CREATE OR REPLACE VIEW app.adults WITH (security_barrier) AS SELECT id, name, born FROM app.people WHERE born < '2007-01-01'`, fails: schema, names: 'app.adults' },
  { what: 'a function body changed', sql: 'CREATE OR REPLACE FUNCTION app.clamp(v numeric, lo numeric DEFAULT 0, hi numeric DEFAULT 100) RETURNS numeric LANGUAGE plpgsql IMMUTABLE STRICT AS $$ BEGIN RETURN greatest(lo, least(hi, v)) + 0; END $$', fails: schema, names: 'app.clamp' },
  { what: 'a dropped aggregate', sql: 'DROP AGGREGATE app.concat_all(text)', fails: schema, names: 'app.concat_all' },
  { what: 'a dropped procedure', sql: 'DROP PROCEDURE app.archive_orders(date)', fails: schema, names: 'app.archive_orders' },
  { what: 'a dropped rule', sql: 'DROP RULE keyless_no_delete ON app.keyless', fails: schema, names: 'keyless_no_delete' },
  { what: 'a partition detached', sql: 'ALTER TABLE app.measurements DETACH PARTITION app.measurements_us', fails: schema, names: 'app.measurements_us' },
  { what: 'an inheritance child detached', sql: 'ALTER TABLE app.trucks NO INHERIT app.vehicles', fails: schema, names: 'app.trucks' },
  { what: 'a dropped extended statistics object', sql: 'DROP STATISTICS app.people_mood_born', fails: schema, names: 'people_mood_born' },
  { what: 'a dropped operator', sql: 'DROP OPERATOR app.~~~ (text, text)', fails: schema, names: '~~~' },
  { what: 'a dropped text search configuration', sql: 'DROP TEXT SEARCH CONFIGURATION app.english_simple', fails: schema, names: 'english_simple' },
  { what: 'a foreign table pointed elsewhere', sql: `ALTER FOREIGN TABLE app.remote_things OPTIONS (SET table_name 'other_things')`, fails: schema, names: 'app.remote_things' },
  { what: 'a dropped event trigger', sql: 'DROP EVENT TRIGGER torture_ddl_audit', fails: schema, names: 'torture_ddl_audit' },
  { what: 'a dropped publication', sql: 'DROP PUBLICATION torture_pub', fails: schema, names: 'torture_pub' },
  { what: "a table's comment changed", sql: `COMMENT ON TABLE app.people IS 'changed'`, fails: schema, names: 'app.people' },
  { what: "an extension's member function dropped", sql: 'ALTER EXTENSION pg_trgm DROP FUNCTION public.similarity(text, text); DROP FUNCTION public.similarity(text, text)', fails: schema, names: 'similarity' },
  // Owners and privileges.
  { what: "a table's owner changed", sql: 'ALTER TABLE app.orders OWNER TO app_reader', fails: schema, names: 'app.orders' },
  { what: "a schema's owner changed", sql: 'ALTER SCHEMA "My Schema" OWNER TO app_writer', fails: schema, names: 'My Schema' },
  { what: 'a revoked table grant', sql: 'REVOKE SELECT ON app.people FROM app_reader', fails: schema, names: 'app.people' },
  { what: 'a revoked column grant', sql: 'REVOKE UPDATE (name) ON app.people FROM app_writer', fails: schema, names: 'app.people' },
  { what: 'a revoked function grant', sql: 'REVOKE EXECUTE ON FUNCTION app.whoami() FROM app_reader', fails: schema, names: 'app.whoami' },
  // Sequences.
  { what: 'a free-standing sequence moved', sql: `SELECT setval('app.invoice_numbers', 2000)`, fails: sequences, names: 'app.invoice_numbers' },
  { what: 'an identity sequence set back', sql: `SELECT setval('app.orders_id_seq', 150)`, fails: sequences, names: 'app.orders_id_seq' },
  { what: 'a never-called sequence called', sql: `SELECT nextval('app.not_yet_used')`, fails: sequences, names: 'app.not_yet_used' },
  { what: 'the descending sequence moved', sql: `SELECT nextval('app.countdown')`, fails: sequences, names: 'app.countdown' },
  // The database's own properties.
  { what: 'a database setting changed', sql: `ALTER DATABASE {db} SET work_mem = '16MB'`, fails: 'one check', names: 'work_mem' },
  { what: 'a database setting removed', sql: 'ALTER DATABASE {db} RESET search_path', fails: 'one check', names: 'search_path' },
  { what: "a role's setting in the database changed", sql: `ALTER ROLE app_reader IN DATABASE {db} SET work_mem = '3MB'`, fails: 'one check', names: 'app_reader' },
  { what: 'the database comment changed', sql: `COMMENT ON DATABASE {db} IS 'changed'`, fails: 'one check', names: TORTURE_TRUTHS.comment },
];
