// The DDL of the torture database (test/support/torture-db.ts): one or more objects of every kind
// PostgreSQL 15–17 offers that RDS allows, named to trip up anything that parses dumps or quotes
// identifiers. Everything is schema-qualified: pg_restore runs with search_path = ''.

/** A schema name of exactly 63 bytes, the longest PostgreSQL keeps (NAMEDATALEN - 1). */
export const LONG_SCHEMA = 'schema_name_of_sixty_three_bytes_the_longest_postgres_will_keep';
/** A schema whose name is not ASCII. */
export const UNICODE_SCHEMA = 'données_ü_日本';

/** Run first, in its own transaction: extensions and schemas. */
export const TORTURE_PRELUDE = `
CREATE EXTENSION pg_trgm;
CREATE EXTENSION hstore;
CREATE EXTENSION citext;
CREATE EXTENSION btree_gist;
CREATE EXTENSION postgres_fdw;

CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'The application''s schema';
CREATE SCHEMA "3.dat";
CREATE SCHEMA "My Schema" AUTHORIZATION "app owner";
CREATE SCHEMA "${LONG_SCHEMA}";
CREATE SCHEMA "${UNICODE_SCHEMA}";
GRANT USAGE ON SCHEMA app TO app_reader, app_writer, "app owner";

CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy', 'it''s "complicated"');
CREATE TYPE app.address AS (street text, city text, zip varchar(10));
CREATE TYPE app.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE DOMAIN app.email AS public.citext CHECK (VALUE ~ '^[^@[:space:]]+@[^@[:space:]]+$');
CREATE DOMAIN app.positive_int AS integer DEFAULT 1 CONSTRAINT positive CHECK (VALUE > 0);
CREATE COLLATION app.caseless (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TEXT SEARCH CONFIGURATION app.english_simple (COPY = pg_catalog.english);
`;

/** A value added to an enum after its creation (a separate transaction: it must commit before use). */
export const TORTURE_ENUM_ADDITION = `ALTER TYPE app.mood ADD VALUE 'meh' BEFORE 'ok'`;

/** Tables, constraints, indexes, partitions, inheritance, functions, views, triggers, policies. */
export const TORTURE_SCHEMA = `
CREATE FUNCTION app.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := '2030-01-01 00:00:00+00';
  RETURN NEW;
END $$;
COMMENT ON FUNCTION app.touch_updated_at() IS 'Keeps updated_at current';

CREATE TABLE app.people (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  email app.email UNIQUE,
  mood app.mood,
  home app.address,
  tags text[] DEFAULT '{}',
  nicknames public.citext[],
  attrs public.hstore,
  profile jsonb,
  handle text COLLATE app.caseless,
  born date,
  updated_at timestamptz DEFAULT '2024-01-01 00:00:00+00'
);
COMMENT ON TABLE app.people IS 'Everyone, with every kind of column';
COMMENT ON COLUMN app.people.attrs IS 'free-form key/values (hstore)';
CREATE INDEX people_name_trgm ON app.people USING gin (name public.gin_trgm_ops);
CREATE INDEX people_attrs ON app.people USING gin (attrs);
CREATE INDEX people_lower_name ON app.people (lower(name)) WHERE born IS NOT NULL;
CREATE STATISTICS app.people_mood_born (dependencies, ndistinct) ON mood, born FROM app.people;
CREATE TRIGGER people_touch BEFORE UPDATE ON app.people
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION app.touch_updated_at();
ALTER TABLE app.people OWNER TO "app owner";
GRANT SELECT ON app.people TO app_reader;
GRANT SELECT (id, name), UPDATE (name) ON app.people TO app_writer;

CREATE TABLE app.value_zoo (
  id int PRIMARY KEY,
  f8 float8, f4 real, n numeric, n2 numeric(12, 4), ts timestamp, tstz timestamptz, d date,
  iv interval, b bytea, r int4range, mr int4multirange, fr app.floatrange, fmr app.floatmultirange,
  matrix int[][], j jsonb, js json, u uuid, ip inet, bits bit varying(16), tsv tsvector, t text,
  pos app.positive_int, c char(3)
);

CREATE TABLE app.docs (
  id text PRIMARY KEY,
  owner_role name NOT NULL DEFAULT current_user,
  secret boolean NOT NULL DEFAULT false,
  body text,
  blob bytea,
  lz text COMPRESSION lz4
);
ALTER TABLE app.docs ALTER COLUMN body SET STORAGE EXTENDED;
ALTER TABLE app.docs ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.docs FORCE ROW LEVEL SECURITY;
CREATE POLICY docs_readers ON app.docs FOR SELECT TO app_reader USING (NOT secret);
CREATE POLICY docs_writers ON app.docs TO app_writer, "app owner"
  USING (true) WITH CHECK (owner_role = current_user);
GRANT SELECT ON app.docs TO app_reader;
GRANT SELECT, INSERT, UPDATE ON app.docs TO app_writer;

CREATE TABLE app.measurements (
  id bigint NOT NULL, region text NOT NULL, at date NOT NULL, reading numeric,
  PRIMARY KEY (id, region, at)
) PARTITION BY LIST (region);
CREATE TABLE app.measurements_eu PARTITION OF app.measurements FOR VALUES IN ('eu') PARTITION BY RANGE (at);
CREATE TABLE app.measurements_eu_2024 PARTITION OF app.measurements_eu
  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE app.measurements_eu_2025 PARTITION OF app.measurements_eu
  FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE app.measurements_us PARTITION OF app.measurements FOR VALUES IN ('us', 'ca');
CREATE TABLE app.measurements_other PARTITION OF app.measurements DEFAULT;
-- ON ONLY the parent, never attached to the partitions' indexes: invalid by construction.
CREATE INDEX measurements_reading_idx ON ONLY app.measurements (reading);
CREATE TRIGGER measurements_touch BEFORE UPDATE ON app.measurements
  FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();
ALTER TABLE app.measurements DISABLE TRIGGER measurements_touch;

CREATE TABLE app.vehicles (id int PRIMARY KEY, name text NOT NULL, wheels int DEFAULT 4);
CREATE TABLE app.cars (doors int DEFAULT 5) INHERITS (app.vehicles);
-- Created on its own with another column order, then attached: pg_dump must keep the columns by name.
CREATE TABLE app.trucks (payload_kg int, wheels int DEFAULT 4, name text NOT NULL, id int NOT NULL);
ALTER TABLE app.trucks INHERIT app.vehicles;

CREATE TABLE app.pairs (a int, b text, note text, PRIMARY KEY (a, b));
CREATE TABLE app.orders (
  id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 10) PRIMARY KEY,
  person_id bigint NOT NULL,
  parent_id bigint REFERENCES app.orders (id) ON DELETE CASCADE,
  pair_a int, pair_b text,
  qty int NOT NULL,
  price numeric(10, 2) NOT NULL,
  total numeric GENERATED ALWAYS AS (qty * price) STORED,
  placed date NOT NULL DEFAULT '2024-06-01',
  CONSTRAINT orders_person_fk FOREIGN KEY (person_id) REFERENCES app.people (id) DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT orders_pair_fk FOREIGN KEY (pair_a, pair_b) REFERENCES app.pairs (a, b) ON UPDATE CASCADE,
  CONSTRAINT orders_price_nonnegative CHECK (price >= 0)
);
CREATE INDEX orders_person_placed ON app.orders (person_id, placed DESC) INCLUDE (qty);
CREATE FUNCTION app.check_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.qty = 0 THEN RAISE EXCEPTION 'empty order %', NEW.id; END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER orders_not_empty AFTER INSERT OR UPDATE ON app.orders
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION app.check_order();
ALTER TABLE app.orders OWNER TO app_writer;
GRANT SELECT ON app.orders TO app_reader;

CREATE TABLE app.dropped_columns (id int PRIMARY KEY, keep_a text, gone_b text, keep_c int, gone_d jsonb);
CREATE TABLE app.keyless (a int, b text, c numeric);
CREATE TABLE app.places (id int, name text, loc point, PRIMARY KEY (id) INCLUDE (loc));
CREATE TABLE app.reg (id int PRIMARY KEY, rel regclass, typ regtype);
CREATE TABLE app.bookings (
  id int PRIMARY KEY, room int NOT NULL, during tstzrange NOT NULL,
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)
);
CREATE TABLE app.tickets (id serial PRIMARY KEY, subject text NOT NULL);
CREATE TABLE app.attachments (id int PRIMARY KEY, name text NOT NULL, content oid NOT NULL);
CREATE UNLOGGED TABLE app.session_cache (k text PRIMARY KEY, v jsonb);
CREATE TABLE app.ddl_log (id bigserial PRIMARY KEY, tag text NOT NULL, object text);

CREATE SEQUENCE app.invoice_numbers AS integer INCREMENT BY 5 START WITH 1000 CACHE 1;
CREATE SEQUENCE app.countdown INCREMENT BY -1 MINVALUE -100 MAXVALUE 100 START WITH 100 CYCLE;
CREATE SEQUENCE app.not_yet_used START WITH 42;
CREATE TABLE app.invoices (
  no int PRIMARY KEY DEFAULT nextval('app.invoice_numbers'), amount numeric NOT NULL
);
GRANT USAGE ON SEQUENCE app.invoice_numbers TO app_writer;

CREATE TABLE public."TABLE DATA" (id int PRIMARY KEY, "COPY" text, "odd) FROM stdin; col" text);
CREATE TABLE "My Schema"."COPY x FROM stdin;" (id int PRIMARY KEY, "x y" text);
ALTER TABLE "My Schema"."COPY x FROM stdin;" OWNER TO "app owner";
CREATE TABLE "3.dat"."4.dat" (n int, label text);
CREATE TABLE "${LONG_SCHEMA}"."${LONG_SCHEMA}" (id int PRIMARY KEY, v text);
CREATE TABLE "${UNICODE_SCHEMA}"."tâble_ñ" ("clé" text PRIMARY KEY, "valeur €" text);

CREATE SERVER app_remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', dbname 'elsewhere');
CREATE USER MAPPING FOR app_reader SERVER app_remote OPTIONS (user 'remote_reader');
CREATE FOREIGN TABLE app.remote_things (id int, name text) SERVER app_remote
  OPTIONS (schema_name 'public', table_name 'things');

CREATE FUNCTION app.add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN a + b;
CREATE FUNCTION app.order_count(p bigint) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT count(*) FROM app.orders o WHERE o.person_id = p;
END;
CREATE FUNCTION app.people_named(pattern text, OUT id bigint, OUT name text) RETURNS SETOF record
  LANGUAGE sql STABLE AS $$ SELECT p.id, p.name FROM app.people p WHERE p.name ILIKE pattern $$;
CREATE FUNCTION app.clamp(v numeric, lo numeric DEFAULT 0, hi numeric DEFAULT 100) RETURNS numeric
  LANGUAGE plpgsql IMMUTABLE STRICT AS $$ BEGIN RETURN greatest(lo, least(hi, v)); END $$;
CREATE FUNCTION app.whoami() RETURNS text LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog AS $$ SELECT current_user::text $$;
ALTER FUNCTION app.whoami() OWNER TO app_writer;
REVOKE EXECUTE ON FUNCTION app.whoami() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.whoami() TO app_reader;
CREATE PROCEDURE app.archive_orders(before date) LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM app.orders WHERE placed < before;
END $$;
CREATE FUNCTION app.concat_step(acc text, v text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN acc = '' THEN v ELSE acc || ',' || v END $$;
CREATE AGGREGATE app.concat_all(text) (SFUNC = app.concat_step, STYPE = text, INITCOND = '');
CREATE OPERATOR app.~~~ (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_catalog.texticlike);

CREATE VIEW app.adults WITH (security_barrier) AS
  SELECT id, name, born FROM app.people WHERE born < '2006-01-01';
CREATE VIEW app.people_public WITH (security_invoker = true) AS
  SELECT id, name, mood FROM app.people WHERE mood IS NOT NULL WITH CASCADED CHECK OPTION;
CREATE RECURSIVE VIEW app.countdown_view (n) AS
  VALUES (5) UNION ALL SELECT n - 1 FROM countdown_view WHERE n > 1;
CREATE RULE keyless_no_delete AS ON DELETE TO app.keyless WHERE OLD.a = -1 DO INSTEAD NOTHING;
CREATE MATERIALIZED VIEW app.people_per_mood AS
  SELECT mood, count(*) AS people FROM app.people GROUP BY mood WITH NO DATA;
CREATE UNIQUE INDEX people_per_mood_mood ON app.people_per_mood (mood);
CREATE MATERIALIZED VIEW app.order_totals AS
  SELECT person_id, sum(total) AS total FROM app.orders GROUP BY person_id WITH NO DATA;
GRANT SELECT ON app.people_per_mood, app.adults TO app_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE app_writer IN SCHEMA app GRANT SELECT ON TABLES TO app_reader;
CREATE PUBLICATION torture_pub FOR TABLE app.orders, app.people WITH (publish = 'insert, update');
`;

/** After the data: constraints the rows must be loaded first for, and the event trigger (last, so it only sees later DDL). */
export const TORTURE_EPILOGUE = `
-- One row already violates it: NOT VALID keeps it, as on a real database mid-migration.
ALTER TABLE app.orders ADD CONSTRAINT orders_qty_small CHECK (qty < 100) NOT VALID;
REFRESH MATERIALIZED VIEW app.people_per_mood;

CREATE FUNCTION app.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
    INSERT INTO app.ddl_log (tag, object) VALUES (r.command_tag, r.object_identity);
  END LOOP;
END $$;
-- Table and index DDL only, as DDL audits usually are.
CREATE EVENT TRIGGER torture_ddl_audit ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE INDEX', 'DROP TABLE')
  EXECUTE FUNCTION app.log_ddl();
COMMENT ON EVENT TRIGGER torture_ddl_audit IS 'audits table DDL';
`;
