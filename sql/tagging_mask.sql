-- Tagging-time checks of masks: a NOT NULL column with a mask may be
-- nullified on expiry, a literal must be a value of the column's type, and
-- redact and hash apply only to the types that have a value for them.
SET search_path = public, privacy_tags;
\set VERBOSITY default

CREATE DOMAIN tm_email AS text NOT NULL CHECK (VALUE LIKE '%@%');
CREATE DOMAIN tm_code AS varchar(8);
CREATE DOMAIN tm_int AS int;
CREATE TYPE tm_mood AS ENUM ('sad', 'happy');
CREATE TYPE tm_pair AS (a int, b int);
CREATE TABLE tm (
    id int PRIMARY KEY, seen timestamptz,
    email text NOT NULL, demail tm_email, code tm_code, short varchar(8),
    long varchar(40), ch char(32), n int, amount numeric(10,2), f float8,
    ok boolean, born date, at timestamp, att timestamptz, uid uuid, ip inet,
    net cidr, doc jsonb, js json, mood tm_mood, pair tm_pair, spot point,
    tags text[], moods tm_mood[], ints tm_int[], span int4range, di tm_int,
    t time);

-- NOT NULL and nullify: refused without a mask, allowed with one
SELECT tag('tm', 'email', 'contact.email; retain=1 year after seen; on_expiry=nullify');
SELECT tag('tm', 'email', 'contact.email; retain=1 year after seen; on_expiry=nullify; mask=redact');
SELECT tag('tm', 'demail', 'contact.email; retain=1 year after seen; on_expiry=nullify');
SELECT tag('tm', 'demail', 'contact.email; retain=1 year after seen; on_expiry=nullify; mask=hash');
SECURITY LABEL FOR privacy_tags ON COLUMN tm.email IS
    $$contact.email; retain=1 year after seen; on_expiry=nullify; mask='erased@example.invalid'$$;
SECURITY LABEL FOR privacy_tags ON COLUMN tm.email IS
    'contact.email; retain=1 year after seen; on_expiry=nullify; mask=null';
-- a domain's CHECK constraints are not run on the literal: they are the
-- table owner's code (this one would refuse 'nobody')
SELECT tag('tm', 'demail', $$contact.email; retain=1 year after seen; on_expiry=nullify; mask='nobody'$$);
SELECT relation, column_name, tag, mask(tag) FROM columns WHERE relation = 'tm'::regclass ORDER BY 2;

-- each mask on each column: accepted (00000) or refused, and why
CREATE TEMP TABLE tm_cases (n serial, col name, mask text);
INSERT INTO tm_cases (col, mask) VALUES
  -- literals: converted with the base type's input function and typmod
  ('n', $$'0'$$), ('n', $$'-1'$$), ('n', $$'n/a'$$), ('n', $$''$$),
  ('amount', $$'12345678.9'$$), ('amount', $$'123456789'$$),
  ('short', $$'n/a'$$), ('short', $$'much too long'$$),
  ('code', $$'n/a'$$), ('code', $$'much too long'$$),
  ('di', $$'7'$$), ('di', $$'seven'$$),
  ('mood', $$'sad'$$), ('mood', $$'meh'$$),
  ('uid', $$'00000000-0000-0000-0000-000000000001'$$), ('uid', $$'n/a'$$),
  ('att', $$'2000-01-01 00:00:00+00'$$), ('att', $$'not a time'$$),
  ('ip', $$'192.0.2.1'$$), ('ip', $$'256.0.0.1'$$),
  ('doc', $$'{"erased": true}'$$), ('doc', $$'{erased}'$$),
  ('spot', $$'(0,0)'$$), ('spot', $$'here'$$),
  ('tags', $$'{}'$$), ('tags', $$'{a,"b c"}'$$), ('tags', $$'nope'$$),
  ('moods', $$'{sad}'$$), ('moods', $$'{meh}'$$),
  ('ints', $$'{1}'$$),
  ('pair', $$'(1,2)'$$),
  ('span', $$'empty'$$),
  -- redact: the types with a fixed value
  ('email', 'redact'), ('short', 'redact'), ('ch', 'redact'), ('code', 'redact'),
  ('n', 'redact'), ('amount', 'redact'), ('f', 'redact'), ('di', 'redact'),
  ('ok', 'redact'), ('born', 'redact'), ('at', 'redact'), ('att', 'redact'),
  ('uid', 'redact'), ('ip', 'redact'), ('doc', 'redact'), ('js', 'redact'),
  ('net', 'redact'), ('mood', 'redact'), ('spot', 'redact'), ('tags', 'redact'),
  ('pair', 'redact'), ('t', 'redact'),
  -- hash: text types long enough for the pseudonym, and uuid
  ('email', 'hash'), ('long', 'hash'), ('ch', 'hash'), ('uid', 'hash'),
  ('short', 'hash'), ('code', 'hash'), ('n', 'hash'), ('doc', 'hash'),
  ('mood', 'hash'), ('tags', 'hash'),
  -- null: anything
  ('pair', 'null'), ('spot', 'null');
SELECT c.n, c.col, c.mask, r.state, r.message, r.detail, r.hint
  FROM tm_cases c,
       try(format('SELECT privacy_tags.tag(%L, %L, %L)', 'tm', c.col,
                  'contact.email; mask=' || c.mask)) r
 ORDER BY c.n;
-- a refused tag changes nothing: each column keeps the last accepted one
SELECT column_name, mask(tag) FROM columns WHERE relation = 'tm'::regclass ORDER BY 1;

-- the input of some types depends on settings: a literal is judged by the
-- settings of the session that tags; a restore (check_function_bodies =
-- off, as pg_dump sets it) does not judge it again
SET DateStyle = 'ISO, DMY';
SELECT tag('tm', 'born', $$contact.email; mask='31/01/2020'$$);
RESET DateStyle;
SELECT tag('tm', 'born', $$contact.email; mask='31/01/2020'$$);
SET check_function_bodies = off;
SELECT tag('tm', 'born', $$contact.email; mask='31/01/2020'$$);
-- but the kind of type is always checked
SELECT tag('tm', 'pair', $$contact.email; mask='(1,2)'$$);
RESET check_function_bodies;

-- _mask_value: the text a kept row gets for redact and literals, through
-- domains; NULL for null and hash (the engine computes the pseudonym)
-- (each redact value converts to its type; a domain's CHECK may still
-- refuse it, as tm_email's does: see above)
SELECT ty AS type, v.redact, r.state AS cast_state
  FROM unnest(ARRAY['text', 'character varying', 'character', 'smallint', 'integer', 'bigint',
                    'numeric', 'real', 'double precision', 'boolean', 'date', 'timestamp',
                    'timestamp with time zone', 'uuid', 'inet', 'json', 'jsonb', 'tm_int',
                    'tm_email']) WITH ORDINALITY u(ty, i),
       LATERAL (SELECT _mask_value('contact.email; mask=redact', ty::regtype)) v(redact),
       LATERAL try(format('SELECT %L::%s', v.redact, ty)) r
 ORDER BY u.i;
SELECT _mask_value($$contact.email; mask='n/a'$$, 'text') AS literal,
       _mask_value($$contact.email; mask='it''s'$$, 'integer') AS unchecked_literal,
       _mask_value('contact.email; mask=hash', 'text') IS NULL AS hash_is_null,
       _mask_value('contact.email', 'text') IS NULL AS null_is_null,
       _mask_value('contact.email; mask=null', 'point') IS NULL AS null_any_type;
SELECT _mask_value('contact.email; mask=redact', 'point');
SELECT _mask_value('contact.email; mask=redact', 'tm_mood');
DROP TABLE tm;
DROP TYPE tm_pair, tm_mood;
DROP DOMAIN tm_email, tm_code, tm_int;

-- under expired_writes = 'apply', an expired value of a nullify column is
-- written as the column's mask, as a purge would write it: NULL, the
-- redact value, the literal, the keyed hash (the same pseudonym as purge's)
CREATE TABLE tm_apply (id int PRIMARY KEY, a text, b integer NOT NULL, c text NOT NULL, d text, e uuid,
                       seen date);
SELECT tag('tm_apply', 'a', 'contact.email; retain=1 year after seen; on_expiry=nullify');
SELECT tag('tm_apply', 'b', 'contact.phone; retain=1 year after seen; on_expiry=nullify; mask=redact');
SELECT tag('tm_apply', 'c', $$identifiers.name; retain=1 year after seen; on_expiry=nullify; mask='(gone)'$$);
SELECT tag('tm_apply', 'd', 'identifiers.username; retain=1 year after seen; on_expiry=nullify; mask=hash');
SELECT tag('tm_apply', 'e', 'device.device_id; retain=1 year after seen; on_expiry=nullify; mask=hash');
SELECT enforce('tm_apply');
SELECT state, message, hint FROM try($$INSERT INTO tm_apply VALUES (1, 'x', 5, 'Ann', 'ann', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2000-01-01')$$);
SET privacy_tags.expired_writes = 'apply';
INSERT INTO tm_apply VALUES (1, 'x', 5, 'Ann', 'ann', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2000-01-01');
RESET privacy_tags.expired_writes;
INSERT INTO tm_apply VALUES (2, 'y', 6, 'Bo', 'ann', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', current_date);
SELECT relation, column_name, action, rows FROM purge('tm_apply', as_of => now() + interval '2 years')
 ORDER BY column_name;
SELECT id, a, b, c, d ~ '^[0-9a-f]{32}$' AS d_pseudonym, d = (SELECT d FROM tm_apply WHERE id = 2) AS d_same_as_purge,
       e IS NOT NULL AND e <> 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS e_pseudonym,
       e = (SELECT e FROM tm_apply WHERE id = 2) AS e_same_as_purge
  FROM tm_apply ORDER BY id;
-- a value that is its mask already is done: a second purge changes nothing,
-- and a pseudonym is not hashed again (a uuid pseudonym is of version 8)
SELECT relation, column_name, action, rows FROM purge('tm_apply', as_of => now() + interval '2 years')
 ORDER BY column_name;
SELECT count(DISTINCT d) AS one_pseudonym, count(DISTINCT e) AS one_uuid_pseudonym,
       bool_and(substr(e::text, 15, 1) = '8' AND substr(e::text, 20, 1) = '8') AS version_8
  FROM tm_apply;
DROP TABLE tm_apply;
