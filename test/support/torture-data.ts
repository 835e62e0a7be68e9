// The rows of the torture database (test/support/torture-db.ts). Deterministic: the same SQL gives
// the same bytes every time (md5 of a counter stands in for randomness).
import { LONG_SCHEMA, UNICODE_SCHEMA } from './torture-schema.sql.ts';

/** Large object ids (fixed: pg_dump keeps them, and app.attachments refers to them). */
export const LARGE_OBJECTS = { small: 424_242, big: 424_243, empty: 424_244 } as const;

/** Rows of every table, in one transaction. */
export const TORTURE_DATA = `
INSERT INTO app.people (name, email, mood, home, tags, nicknames, attrs, profile, handle, born) VALUES
  ('Ada Lovelace', 'ada@example.org', 'happy', ROW('12 St James''s Sq', 'London', 'SW1Y 4JH'),
   '{math,"poet, maybe",NULL}', '{Ada,ADA}', 'title=>Countess, "key with space"=>"v\\"q"',
   '{"langs": ["en", "fr"], "n": 1.5, "nested": {"deep": [true, null]}}', 'ADA', '1815-12-10'),
  ('Zoë Ŝtraße 日本', 'zoe@EXAMPLE.org', 'it''s "complicated"', ROW(NULL, 'Zürich', NULL), '{}', NULL,
   '', '{"emoji": "🦀", "escaped": "tab\\tnewline\\n"}', 'zoe', '2010-02-28'),
  ('Tab	and "quotes" \\ backslash', NULL, NULL, NULL, NULL, '{}', NULL, 'null', 'Tab', NULL),
  (E'line one\\nline two\\r\\n\\\\.', 'multi@line.example', 'sad', ROW('', '', ''), '{"",NULL}', NULL,
   'a=>NULL', '[]', NULL, '1999-12-31'),
  ('\\N', 'backslash-n@example.org', 'ok', NULL, '{"\\\\N"}', NULL, NULL, '{}', '\\N', '0001-01-01');
INSERT INTO app.people (name, email, mood, born)
  SELECT 'person ' || i, 'p' || i || '@example.com', (ARRAY['sad','ok','happy'])[1 + i % 3]::app.mood,
         date '1950-01-01' + i * 97
  FROM generate_series(1, 200) i;

INSERT INTO app.value_zoo VALUES
  (1, 'NaN', 'NaN', 'NaN', 'NaN', 'infinity', 'infinity', 'infinity', '1 year 2 mons 3 days 04:05:06.789',
   '\\x00ff00000a0d5c00'::bytea, '[1,10)', '{[1,3), [5,7)}', '[0.5,1.5]', '{[-Infinity,0), (1,2]}',
   '{{1,2},{3,4}}', '{"a": 1e400, "b": "\\u00e9"}', '{"dup": 1, "dup": 2}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '2001:db8::1/64', B'1010', to_tsvector('english', 'The quick brown foxes jumped'), E'a\\x01b', 1, 'ab'),
  (2, 'Infinity', '-Infinity', '-1.5e-10', '-0.0000', '-infinity', '-infinity', '-infinity', '-1 day -00:00:01',
   ''::bytea, 'empty', '{}', '(,)', '{}', '{}', '{}', '[]', NULL, '10.0.0.0/8', B'', '', '', 2, '  '),
  (3, '-0', '-0', '0.1', '123456.7891', '2024-02-29 23:59:59.999999', '1970-01-01 00:00:00+00',
   '2024-02-29', '0', '\\x'::bytea, '(,5]', '{(,5], [7,)}', 'empty', '{[1,2]}', '{{NULL,NULL}}',
   '"just a string"', 'null', '00000000-0000-0000-0000-000000000000', '127.0.0.1', B'1111111111111111',
   NULL, repeat('ü', 3000), 3, NULL),
  (4, 1e308, 3.4e38, 1e-1000, NULL, '4713-01-01 00:00:00 BC', '294276-12-31 23:59:59+00', '5874897-12-31',
   '178000000 years', decode(repeat('00', 100), 'hex'), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, 4, 'xyz');

INSERT INTO app.docs (id, owner_role, secret, body, blob, lz) VALUES
  ('compressible', 'app_writer', false, repeat('All work and no play makes Jack a dull boy. ', 50000), NULL, NULL),
  ('incompressible', 'app_writer', true,
   (SELECT string_agg(md5(i::text), '' ORDER BY i) FROM generate_series(1, 16000) i),
   (SELECT string_agg(decode(md5('blob' || i), 'hex'), ''::bytea ORDER BY i) FROM generate_series(1, 120000) i),
   NULL),
  ('lz4', 'app owner', false, NULL, NULL, repeat('lz4 compresses this line well. ', 70000)),
  ('lz4-mixed', 'app owner', false, NULL, '\\x00'::bytea,
   (SELECT string_agg(md5('lz' || i) || repeat('-', i % 50), E'\\n' ORDER BY i) FROM generate_series(1, 10000) i)),
  ('Zürich ß', 'postgres', false, 'small', '\\x0001'::bytea, 'small'),
  ('zurich SS', 'postgres', false, 'ordering differs by collation', NULL, NULL);

INSERT INTO app.measurements
  SELECT i, (ARRAY['eu','us','ca','jp'])[1 + i % 4], date '2024-01-01' + (i * 7) % 700, round(i * 1.25, 2)
  FROM generate_series(1, 400) i;

INSERT INTO app.vehicles VALUES (1, 'bike', 2), (2, 'trike', 3);
INSERT INTO app.cars (id, name, wheels, doors) VALUES (10, 'sedan', 4, 4), (11, 'hatch', 4, NULL);
INSERT INTO app.trucks (payload_kg, wheels, name, id) VALUES (12000, 6, 'lorry', 20), (NULL, 18, 'rig', 21);

INSERT INTO app.pairs VALUES (1, 'a', 'first'), (1, 'b', NULL), (2, 'a', 'two-a');
INSERT INTO app.orders (person_id, parent_id, pair_a, pair_b, qty, price, placed)
  SELECT 1 + i % 50, NULL, CASE WHEN i % 3 = 0 THEN 1 END, CASE WHEN i % 3 = 0 THEN 'a' END, 1 + i % 7,
         (i * 3.17)::numeric(10, 2), date '2024-01-01' + i
  FROM generate_series(1, 120) i;
UPDATE app.orders SET parent_id = id - 10 WHERE id > 200 AND id % 30 = 0;
INSERT INTO app.orders (person_id, qty, price) VALUES (2, 500, 0.01);

INSERT INTO app.dropped_columns VALUES (1, 'a1', 'b1', 1, '{"x": 1}'), (2, 'a2', NULL, 2, NULL);
ALTER TABLE app.dropped_columns DROP COLUMN gone_b;
INSERT INTO app.dropped_columns VALUES (3, 'a3', 3, '[]');
ALTER TABLE app.dropped_columns DROP COLUMN gone_d;
INSERT INTO app.dropped_columns VALUES (4, NULL, 4);

INSERT INTO app.keyless VALUES (1, 'x', 1.0), (1, 'x', 1.0), (1, 'x', 1.00), (NULL, NULL, NULL),
  (NULL, NULL, NULL), (2, NULL, 'NaN'), (-1, 'guarded by a rule', 0);
INSERT INTO app.places VALUES (1, 'origin', '(0,0)'), (2, 'somewhere', '(1.5,-2.25)'), (3, 'nowhere', NULL);
INSERT INTO app.reg VALUES (1, 'app.people', 'app.mood'), (2, '"My Schema"."COPY x FROM stdin;"', 'app.address[]'),
  (3, 'pg_catalog.pg_class', 'integer'), (4, NULL, NULL);
INSERT INTO app.bookings VALUES (1, 101, '[2024-01-01 10:00+00, 2024-01-01 11:00+00)'),
  (2, 101, '[2024-01-01 11:00+00, 2024-01-01 12:00+00)'), (3, 102, '[2024-01-01 10:30+00,)');
INSERT INTO app.tickets (subject) VALUES ('first, from the sequence');
-- The source's own truth: a row inserted with an explicit id, so the sequence is behind its column.
INSERT INTO app.tickets VALUES (10, 'explicit id ahead of the sequence');
INSERT INTO app.invoices (amount) SELECT i * 10 FROM generate_series(1, 7) i;
SELECT nextval('app.countdown') FROM generate_series(1, 3);
SELECT lo_from_bytea(${LARGE_OBJECTS.small}, convert_to('a small large object', 'UTF8'));
SELECT lo_from_bytea(${LARGE_OBJECTS.big},
  (SELECT string_agg(decode(md5('lo' || i), 'hex'), ''::bytea ORDER BY i) FROM generate_series(1, 40000) i));
SELECT lo_from_bytea(${LARGE_OBJECTS.empty}, ''::bytea);
ALTER LARGE OBJECT ${LARGE_OBJECTS.small} OWNER TO app_writer;
GRANT SELECT ON LARGE OBJECT ${LARGE_OBJECTS.small} TO app_reader;
COMMENT ON LARGE OBJECT ${LARGE_OBJECTS.big} IS 'incompressible, several pages';
INSERT INTO app.attachments VALUES (1, 'small.txt', ${LARGE_OBJECTS.small}), (2, 'big.bin', ${LARGE_OBJECTS.big}),
  (3, 'empty', ${LARGE_OBJECTS.empty}), (4, 'small again', ${LARGE_OBJECTS.small});
INSERT INTO app.session_cache VALUES ('s1', '{"user": 1}'), ('s2', '{"user": 2}');
INSERT INTO app.ddl_log (tag, object) VALUES ('CREATE TABLE', 'app.people'), ('ALTER TABLE', 'app.people');

INSERT INTO public."TABLE DATA" VALUES (1, 'COPY public."TABLE DATA" (id) FROM stdin;', E'\\\\.'),
  (2, E'\\\\.\\n', 'FROM stdin;');
INSERT INTO "My Schema"."COPY x FROM stdin;" VALUES (1, 'TABLE DATA'), (2, '3.dat');
INSERT INTO "3.dat"."4.dat" VALUES (3, '3.dat'), (3, '3.dat'), (4, NULL);
INSERT INTO "${LONG_SCHEMA}"."${LONG_SCHEMA}" VALUES (1, 'the name is 63 bytes'), (2, NULL);
INSERT INTO "${UNICODE_SCHEMA}"."tâble_ñ" VALUES ('é', 'e acute'), ('e', 'plain e'), ('日本', '€ 10');
`;
