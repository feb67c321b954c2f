-- Tagging-time checks of subject keys and tags, labels that follow renames
-- of their anchor and collected_at columns, and error messages that quote
-- at most 200 bytes of the input.
SET search_path = public, privacy_tags;
\set VERBOSITY default

-- Rejected input is quoted whole up to 200 bytes, then cut at a character
-- boundary and followed by "...".
CREATE FUNCTION tc_error(stmt text) RETURNS TABLE (state text, bytes int, message text)
LANGUAGE plpgsql AS $$
DECLARE
    m text;
BEGIN
    EXECUTE stmt;
    RETURN QUERY SELECT '00000'::text, 0, ''::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, m = MESSAGE_TEXT;
    RETURN QUERY SELECT state, octet_length(m), m;
END
$$;
CREATE TABLE tc_echo (id int);
SELECT state, bytes, bytes <= 260 AS capped, right(message, 12) AS message_end
  FROM tc_error($$SELECT repeat('a', 1000000)::privacy_tag$$);
SELECT state, bytes, bytes <= 260 AS capped, right(message, 12) AS message_end
  FROM tc_error($$SELECT repeat('é', 500000)::privacy_tag$$);
SELECT state, bytes, bytes <= 260 AS capped, right(message, 12) AS message_end
  FROM tc_error($$SELECT subject_label_type(repeat('p', 1000000) || ';')$$);
SELECT state, bytes, bytes <= 260 AS capped, right(message, 12) AS message_end
  FROM tc_error($$SECURITY LABEL FOR privacy_tags_subject ON COLUMN tc_echo.id IS 'x;$$ || repeat('y', 1000000) || $$'$$);
-- a DO block catching the error, as a client would see it
DO $$
DECLARE
    m text;
BEGIN
    PERFORM ('contact.email; ' || repeat('x', 1048576))::privacy_tag;
EXCEPTION WHEN invalid_text_representation THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT;
    RAISE NOTICE 'length %: %', octet_length(m), m;
END
$$;
-- input of 200 bytes is quoted whole, without "..."
SELECT state, bytes, right(message, 6) AS message_end
  FROM tc_error($$SELECT (repeat('b', 199) || '!')::privacy_tag$$);
SELECT state, bytes, right(message, 6) AS message_end
  FROM tc_error($$SELECT (repeat('b', 200) || '!')::privacy_tag$$);

-- Subject keys: a type with equality, scalar (through domains)
CREATE DOMAIN tc_code AS text;
CREATE DOMAIN tc_small AS smallint;
CREATE DOMAIN tc_js AS json;
CREATE TYPE tc_pair AS (a int, b int);
CREATE TYPE tc_mood AS ENUM ('sad', 'happy');
CREATE TABLE tc_keys (
    id int PRIMARY KEY, doc json, spot point, x xml, js tc_js, pair tc_pair,
    ids int[], span int4range, mood tc_mood, code tc_code,
    small tc_small, big bigint, uuid uuid, seen timestamptz);
SELECT set_subject('tc_keys', 'doc', 'tc_person');
SECURITY LABEL FOR privacy_tags_subject ON COLUMN tc_keys.spot IS 'tc_person';
SELECT set_subject('tc_keys', 'x', 'tc_person');
SELECT set_subject('tc_keys', 'js', 'tc_person');
SELECT set_subject('tc_keys', 'pair', 'tc_person');
SECURITY LABEL FOR privacy_tags_subject ON COLUMN tc_keys.ids IS 'tc_person';
SELECT set_subject('tc_keys', 'span', 'tc_person');
-- (multiranges, 14 on: tagging_multirange)
SELECT count(*) AS subject_keys FROM subjects WHERE relation = 'tc_keys'::regclass;
-- allowed: base types with a btree opclass, enums, domains over them
SELECT set_subject('tc_keys', 'mood', 'tc_mood');
SELECT set_subject('tc_keys', 'code', 'tc_code');
SELECT set_subject('tc_keys', 'uuid', 'tc_device');

-- All key columns of one subject type hold one kind of id: smallint,
-- integer and bigint go together (bigint), a domain counts as its base type.
SELECT subject_key_type('tc_person') AS before_any_key;
SELECT set_subject('tc_keys', 'id', 'tc_person');
SELECT subject_key_type('tc_person') AS integer_family;
CREATE TABLE tc_orders (id int, person_small tc_small, person_big bigint,
                        person_text text, person_code tc_code, person_num numeric,
                        "Person Code" varchar, placed_at date);
SELECT set_subject('tc_orders', 'person_small', 'tc_person');
SECURITY LABEL FOR privacy_tags_subject ON COLUMN tc_orders.person_big IS 'tc_person';
SELECT set_subject('tc_orders', 'person_text', 'tc_person');
SECURITY LABEL FOR privacy_tags_subject ON COLUMN tc_orders.person_num IS 'tc_person; collected_at=placed_at';
SELECT subject_key_type('tc_person') AS still_bigint;
-- text and a domain over text are one class; varchar is another
SELECT subject_key_type('tc_code') AS text_key;
SELECT set_subject('tc_orders', 'person_text', 'tc_code');
SELECT set_subject('tc_orders', 'Person Code', 'tc_code');
SELECT subject_key_type('tc_mood') AS enum_key, subject_key_type('tc_device') AS uuid_key,
       subject_key_type('tc_nobody') AS unknown_type, subject_key_type(NULL) AS null_type;
-- relabelling the only key of a subject type with a new type is fine:
-- the column itself is not "another" key
ALTER TABLE tc_keys ALTER COLUMN uuid TYPE text;
SELECT set_subject('tc_keys', 'uuid', 'tc_device', 'seen');
SELECT subject_key_type('tc_device') AS relabelled;
SELECT set_subject('tc_orders', 'person_num', 'tc_device');
-- a key in a schema off the search path is named with its schema
CREATE SCHEMA tc_hidden;
CREATE TABLE tc_hidden."Badges" ("Person" uuid);
SELECT set_subject('tc_hidden."Badges"', 'Person', 'tc_badge');
SELECT set_subject('tc_orders', 'person_code', 'tc_badge');
SELECT relation, column_name, subject_type, collected_at, subject_key_type(subject_type)
  FROM subjects WHERE relation::text ~ '^(tc_|tc_hidden)' ORDER BY 1, 2;

-- Tags of generated columns are refused (untag stays possible)
CREATE TABLE tc_gen (id int, email text, seen date,
                     domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED);
SELECT tag('tc_gen', 'domain', 'contact.email; basis=contract');
SECURITY LABEL FOR privacy_tags ON COLUMN tc_gen.domain IS 'contact.email; retain=1 year after seen';
SELECT untag('tc_gen', 'domain');
SELECT tag('tc_gen', 'email', 'contact.email; basis=contract');

-- on_expiry=nullify of a column whose domain forbids NULL
CREATE DOMAIN tc_email AS text NOT NULL;
CREATE DOMAIN tc_work_email AS tc_email CHECK (VALUE LIKE '%@%');
CREATE DOMAIN tc_any_email AS text;
CREATE TABLE tc_mail (id int, a tc_email, b tc_work_email, c tc_any_email, n text NOT NULL, seen date);
SELECT tag('tc_mail', 'a', 'contact.email; retain=1 year after seen; on_expiry=nullify');
SECURITY LABEL FOR privacy_tags ON COLUMN tc_mail.b IS 'contact.email; retain=1 year after seen; on_expiry=nullify';
SELECT tag('tc_mail', 'n', 'contact.email; retain=1 year after seen; on_expiry=nullify');
SELECT tag('tc_mail', 'b', 'contact.email; retain=1 year after seen');
SELECT tag('tc_mail', 'c', 'contact.email; retain=1 year after seen; on_expiry=nullify');
SELECT relation, column_name, tag FROM columns WHERE relation::text ~ '^tc_' ORDER BY 1, 2;

-- Labels follow renames of the columns they name.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
-- a plain table: the anchor of a tag and the collected_at of a subject key,
-- quoted where the name needs it
CREATE TABLE tc_r_plain (id int, email text, phone text, "Last Contact" date, created date);
SELECT tag('tc_r_plain', 'email', 'contact.email; basis=contract; retain=1 year after "Last Contact"');
SELECT tag('tc_r_plain', 'phone', 'contact.phone; retain=2 years after "Last Contact"; on_expiry=nullify');
SELECT set_subject('tc_r_plain', 'id', 'tc_renamer', 'created');
ALTER TABLE tc_r_plain RENAME "Last Contact" TO last_contact;
ALTER TABLE tc_r_plain RENAME COLUMN created TO "Created At";
SELECT relation, column_name, anchor, tag FROM columns WHERE relation = 'tc_r_plain'::regclass ORDER BY 2;
SELECT relation, column_name, subject_type, collected_at FROM subjects WHERE relation = 'tc_r_plain'::regclass;
SELECT objsubid, provider, label FROM pg_seclabel
 WHERE objoid = 'tc_r_plain'::regclass ORDER BY objsubid, provider;
-- names are case-sensitive: "LAST_CONTACT" is not last_contact
ALTER TABLE tc_r_plain ADD COLUMN "LAST_CONTACT" date;
ALTER TABLE tc_r_plain RENAME "LAST_CONTACT" TO other;
SELECT column_name, anchor FROM columns WHERE relation = 'tc_r_plain'::regclass ORDER BY 1;
-- a renamed tagged column keeps its tag; renaming a column no label names changes nothing
ALTER TABLE tc_r_plain RENAME email TO e_mail;
ALTER TABLE tc_r_plain RENAME other TO unused;
SELECT column_name, anchor FROM columns WHERE relation = 'tc_r_plain'::regclass ORDER BY 1;
INSERT INTO tc_r_plain VALUES (1, 'old@example.com', '+46 1', '2000-01-01', '2000-01-01'),
                              (2, 'new@example.com', '+46 2', '2099-01-01', '2099-01-01');

-- a partitioned table: a rename on the parent reaches the partitions, and
-- the labels of each are rewritten
CREATE TABLE tc_r_part (id int, email text, note text, seen date) PARTITION BY RANGE (seen);
CREATE TABLE tc_r_part_old PARTITION OF tc_r_part FOR VALUES FROM ('1900-01-01') TO ('2050-01-01');
CREATE TABLE tc_r_part_new PARTITION OF tc_r_part FOR VALUES FROM ('2050-01-01') TO ('2200-01-01');
SELECT tag('tc_r_part', 'email', 'contact.email; retain=1 year after seen');
SELECT tag('tc_r_part_old', 'note', 'contact.email; retain=1 year after seen; on_expiry=nullify');
SELECT set_subject('tc_r_part', 'id', 'tc_renamer', 'seen');
SELECT enforce('tc_r_part');
ALTER TABLE tc_r_part RENAME seen TO seen_on;
SELECT relation, column_name, tag FROM columns WHERE relation::text ~ '^tc_r_part' ORDER BY 1, 2;
SELECT relation, column_name, subject_type, collected_at FROM subjects WHERE relation::text ~ '^tc_r_part' ORDER BY 1, 2;
SELECT tgrelid::regclass, tgparentid <> 0 AS cloned, pg_get_triggerdef(oid) FROM pg_trigger
 WHERE tgname = 'privacy_tags_retention' AND tgrelid::regclass::text ~ '^tc_r_part' ORDER BY 1;
INSERT INTO tc_r_part VALUES (1, 'old@example.com', 'n', '2000-01-01');
INSERT INTO tc_r_part VALUES (2, 'new@example.com', 'n', '2099-01-01');

-- regular inheritance: the child is reached too, ONLY is refused by the server
CREATE TABLE tc_r_base (id int, email text, seen date);
CREATE TABLE tc_r_heir (extra text) INHERITS (tc_r_base);
SELECT tag('tc_r_base', 'email', 'contact.email; retain=1 year after seen');
SELECT tag('tc_r_heir', 'email', 'contact.email; retain=2 years after seen');
ALTER TABLE ONLY tc_r_base RENAME seen TO seen_at;
ALTER TABLE tc_r_base RENAME seen TO seen_at;
SELECT relation, column_name, tag FROM columns WHERE relation::text ~ '^tc_r_(base|heir)' ORDER BY 1, 2;

-- a foreign table; a view's columns and a table that is not there are left alone
CREATE FOREIGN DATA WRAPPER tc_fdw;
CREATE SERVER tc_srv FOREIGN DATA WRAPPER tc_fdw;
CREATE FOREIGN TABLE tc_r_foreign (id int, email text, seen date) SERVER tc_srv;
SELECT tag('tc_r_foreign', 'email', 'contact.email; retain=1 year after seen');
ALTER FOREIGN TABLE tc_r_foreign RENAME seen TO seen_at;
SELECT relation, column_name, tag FROM columns WHERE relation = 'tc_r_foreign'::regclass;
SELECT untag('tc_r_foreign', 'email');	-- purge cannot delete through this wrapper
CREATE VIEW tc_r_view AS SELECT id, seen_at FROM tc_r_base;
ALTER TABLE tc_r_view RENAME seen_at TO seen;
ALTER VIEW tc_r_view RENAME seen TO seen_at;
ALTER TABLE IF EXISTS tc_no_such RENAME seen TO seen_at;

-- an enforced table: the trigger is rewritten when the anchor or a tagged
-- column is renamed, and goes on checking writes
CREATE TABLE tc_r_enf (id int, email text, seen date);
SELECT tag('tc_r_enf', 'email', 'contact.email; retain=1 year after seen');
SELECT enforce('tc_r_enf');
ALTER TABLE tc_r_enf RENAME seen TO "Seen On";
SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'tc_r_enf'::regclass;
INSERT INTO tc_r_enf VALUES (1, 'old@example.com', '2000-01-01');
INSERT INTO tc_r_enf VALUES (2, 'new@example.com', '2099-01-01');
ALTER TABLE tc_r_enf RENAME email TO mail;
SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'tc_r_enf'::regclass;
INSERT INTO tc_r_enf VALUES (3, 'old@example.com', '2000-01-01');
INSERT INTO tc_r_enf VALUES (4, 'new@example.com', '2099-01-01');
UPDATE tc_r_enf SET "Seen On" = '2000-01-01' WHERE id = 2;
SELECT * FROM tc_r_enf ORDER BY id;

-- purge of every table works after the renames
SELECT * FROM purge(dry_run => true) WHERE relation::text ~ '^tc_' ORDER BY relation::text, column_name, action;
SELECT * FROM purge('tc_r_plain') ORDER BY relation::text, column_name, action;
SELECT * FROM purge('tc_r_part') ORDER BY relation::text, column_name, action;
SELECT * FROM purge('tc_r_part', as_of => '2101-01-01', dry_run => true);
SELECT * FROM purge('tc_r_enf', as_of => '2101-01-01', dry_run => true);
SELECT id, e_mail, phone FROM tc_r_plain ORDER BY id;
SELECT id, email, seen_on FROM tc_r_part ORDER BY id;

DROP TABLE tc_echo, tc_keys, tc_orders, tc_hidden."Badges", tc_gen, tc_mail,
           tc_r_plain, tc_r_part, tc_r_heir, tc_r_base CASCADE;
DROP TABLE tc_r_enf;
DROP FOREIGN TABLE tc_r_foreign;
DROP SERVER tc_srv;
DROP FOREIGN DATA WRAPPER tc_fdw;
DROP SCHEMA tc_hidden;
DROP TYPE tc_pair, tc_mood;
DROP DOMAIN tc_code, tc_small, tc_js, tc_work_email, tc_email, tc_any_email;
DROP FUNCTION tc_error(text);
SELECT count(*) AS labels_left FROM pg_seclabel s JOIN pg_class c ON c.oid = s.objoid
 WHERE c.relname ~ '^tc_';
