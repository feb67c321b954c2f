-- bench/subject_access.sql: set-up of bench/subject_access.sh.  Run with
-- -v rows=N -v tables=T -v customers=C.
--
-- T tables bench.t1 .. bench.tT of N rows each, alike: a customer_id column
-- (btree index, the subject column of subject type 'customer'), four tagged
-- columns (two text, one text with a retention window anchored on a
-- timestamptz, one timestamptz) and three untagged ones.  Row i belongs to
-- customer 1 + hash(i) mod C, so a customer has about N/C rows in every
-- table, scattered over the heap.  The tables are UNLOGGED (no WAL while
-- loading; reading them is the same as reading logged tables) and copies of
-- one template, so that loading stays within the time budget.
--
-- Three ways to get a subject's data, each a function of the customer id:
--   bench.ext(id)          privacy_tags.subject_access('customer', id)
--   bench.hand(id)         one hand-written query (jsonb_build_object of a
--                          jsonb_agg(to_jsonb(t)) subquery per table), sent
--                          as text: parsed and planned on every call
--                          (EXECUTE ... USING), as a client's query would be
--   bench.hand_cached(id)  the same query as static SQL in PL/pgSQL, its plan
--                          cached by the session
-- bench.measure() times them call by call, interleaved; bench.components()
-- times the parts of subject_access() one by one.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET jit = off;
SET max_parallel_workers_per_gather = 0;

CREATE EXTENSION privacy_tags;
CREATE SCHEMA bench;

CREATE TABLE bench.params AS
SELECT :rows::bigint AS rows, :tables::int AS tables, :customers::bigint AS customers;

CREATE UNLOGGED TABLE bench.template (
	id			bigint NOT NULL,
	customer_id	bigint NOT NULL,
	email		text,
	phone		text,
	ip			text,
	created_at	timestamptz NOT NULL,
	last_seen	timestamptz,
	amount		numeric(10, 2),
	note		text
) WITH (autovacuum_enabled = off);

INSERT INTO bench.template
SELECT i,
	   1 + (hashint8(i) & 2147483647) % :customers,
	   'user' || i || '@example.com',
	   '+49 30 ' || lpad((i % 10000000)::text, 7, '0'),
	   '10.' || (i % 250) || '.' || (i % 199) || '.' || (i % 97),
	   '2024-01-01'::timestamptz + i * interval '17 seconds',
	   '2025-01-01'::timestamptz + (i % 1000) * interval '1 hour',
	   (i % 100000) / 100.0,
	   CASE WHEN i % 3 = 0 THEN 'order ' || i END
FROM generate_series(1, :rows) i;

SELECT format('CREATE UNLOGGED TABLE bench.t%s (LIKE bench.template) WITH (autovacuum_enabled = off)', k),
	   format('INSERT INTO bench.t%s SELECT * FROM bench.template', k),
	   format('CREATE INDEX t%s_customer_id_idx ON bench.t%s (customer_id)', k, k),
	   format($$SELECT privacy_tags.set_subject('bench.t%s', 'customer_id', 'customer', collected_at => 'created_at')$$, k),
	   format($$SELECT privacy_tags.tag('bench.t%s', 'email', 'contact.email; basis=consent; purpose=newsletter')$$, k),
	   format($$SELECT privacy_tags.tag('bench.t%s', 'phone', 'contact.phone; basis=contract; purpose=support')$$, k),
	   format($$SELECT privacy_tags.tag('bench.t%s', 'ip', 'network.ip_address; basis=legitimate_interests; purpose=security; retain=90 days after last_seen; on_expiry=nullify')$$, k),
	   format($$SELECT privacy_tags.tag('bench.t%s', 'last_seen', 'network.login; basis=legitimate_interests; purpose=security')$$, k)
FROM generate_series(1, :tables) k
\gexec

-- The hand-written query: the data part of subject_access()'s document.
CREATE TABLE bench.hand_sql AS
SELECT 'SELECT jsonb_build_object(' ||
	   string_agg(format('%L, (SELECT jsonb_agg(to_jsonb(t)) FROM bench.t%s t WHERE t.customer_id = $1)',
						 'bench.t' || k, k), ', ' ORDER BY k) || ')' AS q
FROM generate_series(1, :tables) k;

CREATE FUNCTION bench.ext(id bigint) RETURNS jsonb
LANGUAGE sql AS $$ SELECT privacy_tags.subject_access('customer', id::text) $$;

CREATE FUNCTION bench.hand(id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v jsonb;
BEGIN
	EXECUTE (SELECT q FROM bench.hand_sql) INTO v USING id;
	RETURN v;
END $$;

SELECT format($f$CREATE FUNCTION bench.hand_cached(cust bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$ BEGIN RETURN (%s); END $$$f$, replace(q, '$1', 'cust'))
FROM bench.hand_sql
\gexec

-- Per-call latencies.  size: '1M', '10M', ...
CREATE TABLE bench.calls (
	size		text NOT NULL,
	round		int NOT NULL,
	side		text NOT NULL,
	id			bigint NOT NULL,
	ms			float8 NOT NULL,
	records		int
);

-- Milliseconds of one call of side s for customer id.
CREATE FUNCTION bench.time_call(s text, id bigint, OUT ms float8, OUT records int)
LANGUAGE plpgsql AS $$
DECLARE
	t0	timestamptz;
	v	jsonb;
BEGIN
	t0 := clock_timestamp();
	CASE s
		WHEN 'ext' THEN v := bench.ext(id);
		WHEN 'hand' THEN v := bench.hand(id);
		WHEN 'hand_cached' THEN v := bench.hand_cached(id);
	END CASE;
	ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
	records := CASE s WHEN 'ext' THEN (v #>> '{summary,records}')::int
				 ELSE (SELECT sum(jsonb_array_length(value))::int FROM jsonb_each(v) WHERE jsonb_typeof(value) = 'array') END;
END $$;

-- Rounds 1..rounds (round 0 warms up and is not kept) of `calls` calls a
-- side.  Every call asks for another random customer (no customer twice in
-- a round, so no side reads pages another side has just brought in for the
-- same customer); the sides take turns call by call, the order rotating.
-- Each round commits (audit_log rows of subject_access() included).
CREATE PROCEDURE bench.measure(size text, rounds int, calls int)
LANGUAGE plpgsql AS $$
DECLARE
	sides	text[] := '{ext,hand,hand_cached}';
	ns		int := 3;
	ids		bigint[];
	ncust	bigint;
	s		text;
	t		record;
BEGIN
	SELECT max(customer_id) INTO ncust FROM bench.t1;
	FOR r IN 0..rounds LOOP
		PERFORM setseed(0.5 / (r + 2));
		SELECT array_agg(x ORDER BY random()) INTO ids
		  FROM (SELECT DISTINCT 1 + floor(random() * ncust)::bigint AS x
				  FROM generate_series(1, ns * calls + 100)) d;
		FOR i IN 1..calls LOOP
			FOR j IN 0..ns - 1 LOOP
				s := sides[1 + (i + j + r) % ns];
				t := bench.time_call(s, ids[(i - 1) * ns + 1 + j]);
				IF r > 0 THEN
					INSERT INTO bench.calls VALUES (size, r, s, ids[(i - 1) * ns + 1 + j], t.ms, t.records);
				END IF;
			END LOOP;
		END LOOP;
		COMMIT;
		RAISE NOTICE 'subject_access %: round % of % done%', size, r, rounds,
			CASE WHEN r = 0 THEN ' (warm-up, not counted)' ELSE '' END;
	END LOOP;
END $$;

-- The parts of subject_access(), timed one by one for the same customers,
-- each part running the statements the function runs (as of privacy_tags
-- 1.0, src/sql/50_subject_rights.sql), call by call:
--   subject_tables  SELECT * FROM privacy_tags._subject_tables(...) ORDER BY ...
--   data            per table, the dynamic query reading the rows (EXECUTE)
--   tagged_columns  per table, FOR c IN SELECT * FROM privacy_tags._tagged_columns(rel)
--   expiry          per table, the dynamic max(anchor + window) of the `ip` column
--   ext             the whole function, for the remainder
CREATE TABLE bench.parts (
	size		text NOT NULL,
	round		int NOT NULL,
	part		text NOT NULL,
	id			bigint NOT NULL,
	ms			float8 NOT NULL
);

CREATE PROCEDURE bench.components(size text, rounds int, calls int)
LANGUAGE plpgsql AS $$
DECLARE
	parts	text[] := '{ext,subject_tables,data,tagged_columns,expiry}';
	ids		bigint[];
	ncust	bigint;
	p		text;
	t0		timestamptz;
	ms		float8;
	tabs	record;
	c		record;
	v		jsonb;
	e		timestamptz;
	rels	regclass[];
	preds	text[];
BEGIN
	SELECT max(customer_id) INTO ncust FROM bench.t1;
	FOR r IN 0..rounds LOOP
		PERFORM setseed(0.25 / (r + 2));
		SELECT array_agg(x ORDER BY random()) INTO ids
		  FROM (SELECT DISTINCT 1 + floor(random() * ncust)::bigint AS x
				  FROM generate_series(1, calls + 20)) d;
		FOR i IN 1..calls LOOP
			-- the tables and predicates, found outside the timed parts
			SELECT array_agg(relation ORDER BY depth, relation::text), array_agg(pred ORDER BY depth, relation::text)
			  INTO rels, preds
			  FROM privacy_tags._subject_tables('customer', ids[i]::text);
			FOR j IN 0..array_length(parts, 1) - 1 LOOP
				p := parts[1 + (i + j + r) % array_length(parts, 1)];
				t0 := clock_timestamp();
				CASE p
					WHEN 'ext' THEN
						v := privacy_tags.subject_access('customer', ids[i]::text);
					WHEN 'subject_tables' THEN
						FOR tabs IN SELECT * FROM privacy_tags._subject_tables('customer', ids[i]::text)
									 ORDER BY depth, relation::text LOOP
							NULL;
						END LOOP;
					WHEN 'data' THEN
						FOR k IN 1..array_length(rels, 1) LOOP
							EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(t) - %L::text[] ORDER BY t.ctid), ''[]'') FROM %s t WHERE %s',
										   '{}'::text[], rels[k], preds[k]) INTO v;
						END LOOP;
					WHEN 'tagged_columns' THEN
						FOR k IN 1..array_length(rels, 1) LOOP
							FOR c IN SELECT * FROM privacy_tags._tagged_columns(rels[k]) LOOP
								NULL;
							END LOOP;
						END LOOP;
					WHEN 'expiry' THEN
						FOR k IN 1..array_length(rels, 1) LOOP
							EXECUTE format('SELECT max(t.%I::timestamptz + %L::interval) FROM %s t WHERE %s',
										   'last_seen', interval '90 days', rels[k], preds[k]) INTO e;
						END LOOP;
				END CASE;
				ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
				IF r > 0 THEN
					INSERT INTO bench.parts VALUES (size, r, p, ids[i], ms);
				END IF;
			END LOOP;
		END LOOP;
		COMMIT;
		RAISE NOTICE 'subject_access %: parts, round % of % done%', size, r, rounds,
			CASE WHEN r = 0 THEN ' (warm-up, not counted)' ELSE '' END;
	END LOOP;
END $$;

VACUUM (ANALYZE);

-- The hand-written query builds the same data as subject_access() (same
-- rows, same order; subject_access() leaves out tables without rows, where
-- the hand-written query has NULL).
DO $$
DECLARE
	bad int;
BEGIN
	SELECT count(*) INTO bad
	  FROM generate_series(1, 20) g, LATERAL (SELECT 1 + (hashint8(g * 7919) & 2147483647) % (SELECT customers FROM bench.params) AS id) x
	 WHERE bench.ext(x.id) -> 'data' IS DISTINCT FROM
			   (SELECT jsonb_object_agg(key, value) FROM jsonb_each(bench.hand(x.id)) WHERE value <> 'null')
		OR bench.hand(x.id) IS DISTINCT FROM bench.hand_cached(x.id)
		OR bench.ext(x.id) -> 'data' = '{}';
	IF bad > 0 THEN
		RAISE EXCEPTION 'subject_access and the hand-written query differ for % of 20 customers', bad;
	END IF;
END $$;
