-- bench/subject_access.sql: set-up of bench/subject_access.sh (everything
-- but the tables, which bench/subject_access_tables.sql builds).  Run with
-- -v rows=N -v tables=T -v customers=C -v grow=G.
--
-- Two sets of T tables alike, both present at once so that they can be
-- measured interleaved:
--   small.t1 .. small.tT  N rows each, customers 1 .. C, subject type
--                         'customer_small'
--   big.t1 .. big.tT      G * N rows each, customers 1 .. G * C, subject
--                         type 'customer_big'
-- Each table has a customer_id column (btree index, the subject column),
-- four tagged columns (two text, one text with a retention window anchored
-- on a timestamptz, one timestamptz) and four untagged ones.  The rows are
-- copies of bench.template: row i belongs to customer 1 + hash(i) mod C, so
-- a customer has about N/C rows in every table, scattered over the heap; the
-- big tables hold G copies, copy c for customers c * C + 1 .. (c + 1) * C,
-- so a customer has as many rows there as in the small tables.
--
-- Three ways to get a subject's data, each a function of the size and the
-- customer id:
--   bench.ext(size, id)     privacy_tags.subject_access('customer_' || size, id)
--   bench.hand(q, id)       the hand-written query q of the size
--                           (bench.hand_sql: jsonb_build_object of a
--                           jsonb_agg(to_jsonb(t)) subquery per table), sent
--                           as text: parsed and planned on every call
--                           (EXECUTE ... USING), as a client's query would be
--   bench.hand_cached_<size>(id)  the same query as static SQL in PL/pgSQL,
--                           its plan cached by the session
-- bench.measure() times them call by call, interleaved; bench.components()
-- times the parts of subject_access() one by one.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET jit = off;
SET max_parallel_workers_per_gather = 0;

CREATE EXTENSION privacy_tags;
CREATE SCHEMA bench;
CREATE SCHEMA small;
CREATE SCHEMA big;

CREATE TABLE bench.params AS
SELECT :rows::bigint AS rows, :tables::int AS tables, :customers::bigint AS customers, :grow::int AS grow;

-- size -> factor of the template, customers
CREATE VIEW bench.sizes AS
SELECT 'small' AS size, 1 AS factor, customers FROM bench.params
UNION ALL
SELECT 'big', grow, grow * customers FROM bench.params;

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

-- The few customers of the template without rows (about e^-10 of them):
-- they, and their copies, are never asked for.
CREATE TABLE bench.absent AS
SELECT c FROM generate_series(1, :customers) c
EXCEPT SELECT customer_id FROM bench.template;

-- Whether the customer has rows (is not a copy of an absent one).
CREATE FUNCTION bench.present(id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT NOT EXISTS (SELECT FROM bench.absent a, bench.params p WHERE a.c = (id - 1) % p.customers + 1)
$$;

-- The hand-written query of each size: the data part of subject_access()'s
-- document.
CREATE TABLE bench.hand_sql AS
SELECT s.size,
	   'SELECT jsonb_build_object(' ||
	   string_agg(format('%L, (SELECT jsonb_agg(to_jsonb(t)) FROM %I.t%s t WHERE t.customer_id = $1)',
						 s.size || '.t' || k, s.size, k), ', ' ORDER BY k) || ')' AS q
FROM bench.sizes s, generate_series(1, :tables) k
GROUP BY s.size;

CREATE FUNCTION bench.ext(size text, id bigint) RETURNS jsonb
LANGUAGE sql AS $$ SELECT privacy_tags.subject_access('customer_' || size, id::text) $$;

CREATE FUNCTION bench.hand(q text, id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v jsonb;
BEGIN
	EXECUTE q INTO v USING id;
	RETURN v;
END $$;

SELECT format($f$CREATE FUNCTION bench.hand_cached_%s(cust bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$ BEGIN RETURN (%s); END $$$f$, size, replace(q, '$1', 'cust'))
FROM bench.hand_sql
\gexec

-- Per-call latencies.
CREATE TABLE bench.calls (
	size		text NOT NULL,		-- small, big
	side		text NOT NULL,		-- ext, hand, hand_cached
	round		int NOT NULL,
	id			bigint NOT NULL,
	ms			float8 NOT NULL,
	records		int
);

-- Milliseconds of one call of side s at size z for customer id (q: the
-- hand-written query of the size).
CREATE FUNCTION bench.time_call(z text, s text, q text, id bigint, OUT ms float8, OUT records int)
LANGUAGE plpgsql AS $$
DECLARE
	t0	timestamptz;
	v	jsonb;
BEGIN
	t0 := clock_timestamp();
	CASE s || '_' || z
		WHEN 'ext_small' THEN v := bench.ext('small', id);
		WHEN 'ext_big' THEN v := bench.ext('big', id);
		WHEN 'hand_small' THEN v := bench.hand(q, id);
		WHEN 'hand_big' THEN v := bench.hand(q, id);
		WHEN 'hand_cached_small' THEN v := bench.hand_cached_small(id);
		WHEN 'hand_cached_big' THEN v := bench.hand_cached_big(id);
	END CASE;
	ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
	records := CASE s WHEN 'ext' THEN (v #>> '{summary,records}')::int
				 ELSE (SELECT sum(jsonb_array_length(value))::int FROM jsonb_each(v) WHERE jsonb_typeof(value) = 'array') END;
END $$;

-- n distinct random customers of a size that have rows.
CREATE FUNCTION bench.draw(z text, n int) RETURNS bigint[]
LANGUAGE sql AS $$
	SELECT array_agg(x ORDER BY random())
	  FROM (SELECT DISTINCT 1 + floor(random() * s.customers)::bigint AS x
			  FROM bench.sizes s, generate_series(1, n + 100)
			 WHERE s.size = z) d
	 WHERE bench.present(x)
$$;

-- Rounds 1..rounds (round 0 warms up and is not kept) of `calls` calls a
-- side and size.  Every call asks for another random customer (no customer
-- twice in a round, so no call reads pages another call has just brought in
-- for the same customer); the six (size, side) pairs take turns call by
-- call, the order rotating.  Each round commits (audit_log rows of
-- subject_access() included).
CREATE PROCEDURE bench.measure(rounds int, calls int)
LANGUAGE plpgsql AS $$
DECLARE
	pairs	text[] := '{small:ext,big:ext,small:hand,big:hand,small:hand_cached,big:hand_cached}';
	np		int := 6;
	ids_s	bigint[];
	ids_b	bigint[];
	q_s		text;
	q_b		text;
	z		text;
	s		text;
	id		bigint;
	t		record;
BEGIN
	SELECT q INTO q_s FROM bench.hand_sql WHERE size = 'small';
	SELECT q INTO q_b FROM bench.hand_sql WHERE size = 'big';
	FOR r IN 0..rounds LOOP
		PERFORM setseed(0.5 / (r + 2));
		ids_s := bench.draw('small', 3 * calls);
		ids_b := bench.draw('big', 3 * calls);
		FOR i IN 1..calls LOOP
			FOR j IN 0..np - 1 LOOP
				z := split_part(pairs[1 + (i + j + r) % np], ':', 1);
				s := split_part(pairs[1 + (i + j + r) % np], ':', 2);
				-- each side of a size has its own third of the customers
				id := (CASE z WHEN 'small' THEN ids_s ELSE ids_b END)
						[(i - 1) * 3 + array_position('{ext,hand,hand_cached}'::text[], s)];
				t := bench.time_call(z, s, CASE z WHEN 'small' THEN q_s ELSE q_b END, id);
				IF r > 0 THEN
					INSERT INTO bench.calls VALUES (z, s, r, id, t.ms, t.records);
				END IF;
			END LOOP;
		END LOOP;
		COMMIT;
		RAISE NOTICE 'subject_access: round % of % done%', r, rounds,
			CASE WHEN r = 0 THEN ' (warm-up, not counted)' ELSE '' END;
	END LOOP;
END $$;

-- The parts of subject_access(), timed for the same customers, call by
-- call, both sizes:
--   no_rows  subject_access() of a customer without rows: the fixed cost
--            of a call (checks, the kept statement of every table finding
--            nothing, the facts, the audit entry)
--   ext      the whole function, for the remainder (the customer's rows)
CREATE TABLE bench.parts (
	size		text NOT NULL,
	part		text NOT NULL,
	round		int NOT NULL,
	id			bigint NOT NULL,
	ms			float8 NOT NULL
);

CREATE PROCEDURE bench.components(rounds int, calls int)
LANGUAGE plpgsql AS $$
DECLARE
	parts	text[] := '{ext,no_rows}';
	np		int := 2;
	ids_s	bigint[];
	ids_b	bigint[];
	id		bigint;
	z		text;
	p		text;
	t0		timestamptz;
	ms		float8;
	tabs	record;
	c		record;
	v		jsonb;
	e		timestamptz;
	rels	regclass[];
	preds	text[];
	k		bigint;
BEGIN
	FOR r IN 0..rounds LOOP
		PERFORM setseed(0.25 / (r + 2));
		ids_s := bench.draw('small', calls);
		ids_b := bench.draw('big', calls);
		FOR i IN 1..calls LOOP
			FOREACH z IN ARRAY CASE WHEN (i + r) % 2 = 0 THEN '{small,big}'::text[] ELSE '{big,small}' END LOOP
				id := CASE z WHEN 'small' THEN ids_s[i] ELSE ids_b[i] END;
				-- the tables and predicates, found outside the timed parts
				SELECT array_agg(relation ORDER BY depth, relation::text), array_agg(pred ORDER BY depth, relation::text)
				  INTO rels, preds
				  FROM privacy_tags._subject_graph('customer_' || z);
				FOR j IN 0..np - 1 LOOP
					p := parts[1 + (i + j + r) % np];
					t0 := clock_timestamp();
					CASE p
						WHEN 'ext' THEN
							v := privacy_tags.subject_access('customer_' || z, id::text);
						WHEN 'no_rows' THEN
							v := privacy_tags.subject_access('customer_' || z, (-id)::text);
					END CASE;
					ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
					IF r > 0 THEN
						INSERT INTO bench.parts VALUES (z, p, r, id, ms);
					END IF;
				END LOOP;
			END LOOP;
		END LOOP;
		COMMIT;
		RAISE NOTICE 'subject_access: parts, round % of % done%', r, rounds,
			CASE WHEN r = 0 THEN ' (warm-up, not counted)' ELSE '' END;
	END LOOP;
END $$;

-- Run once the tables are there: the hand-written query builds the same
-- data as subject_access() (same rows, same order; subject_access() leaves
-- out tables without rows, where the hand-written query has NULL), for 20
-- customers of each size, with and without its plan cached.
CREATE PROCEDURE bench.check()
LANGUAGE plpgsql AS $$
DECLARE
	bad int;
BEGIN
	SELECT count(*) INTO bad
	  FROM bench.sizes s JOIN bench.hand_sql h USING (size), generate_series(1, 20) g,
		   LATERAL (SELECT 1 + (hashint8(g * 7919) & 2147483647) % s.customers AS id) x,
		   LATERAL (SELECT bench.ext(s.size, x.id) AS e, bench.hand(h.q, x.id) AS h,
						   CASE s.size WHEN 'small' THEN bench.hand_cached_small(x.id)
									   ELSE bench.hand_cached_big(x.id) END AS c) v
	 WHERE bench.present(x.id)
	   AND (v.e -> 'data' IS DISTINCT FROM
				(SELECT jsonb_object_agg(key, value) FROM jsonb_each(v.h) WHERE value <> 'null')
			OR v.h IS DISTINCT FROM v.c
			OR v.e -> 'data' = '{}');
	IF bad > 0 THEN
		RAISE EXCEPTION 'subject_access and the hand-written query differ for % of 40 customers', bad;
	END IF;
END $$;
