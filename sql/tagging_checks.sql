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
    ids int[], span int4range, spans int4multirange, mood tc_mood, code tc_code,
    small tc_small, big bigint, uuid uuid, seen timestamptz);
SELECT set_subject('tc_keys', 'doc', 'tc_person');
SECURITY LABEL FOR privacy_tags_subject ON COLUMN tc_keys.spot IS 'tc_person';
SELECT set_subject('tc_keys', 'x', 'tc_person');
SELECT set_subject('tc_keys', 'js', 'tc_person');
SELECT set_subject('tc_keys', 'pair', 'tc_person');
SECURITY LABEL FOR privacy_tags_subject ON COLUMN tc_keys.ids IS 'tc_person';
SELECT set_subject('tc_keys', 'span', 'tc_person');
SELECT set_subject('tc_keys', 'spans', 'tc_person');
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
