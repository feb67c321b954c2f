-- bench/type_io.sql: text input and output of privacy_tag against contrib
-- ltree, on the same strings.  Run by bench/type_io.sh, which passes
-- -v rows=N -v rounds=R and reads the results from bench.results.
--
-- Every measured query scans a table built beforehand (so nothing can be
-- constant-folded) and aggregates over the converted value (so the
-- conversion cannot be dropped): count(s::T) runs T's input function once a
-- row, sum(octet_length(v::text)) runs the output function once a row
-- (octet_length, not length: length counts the characters of every result,
-- which costs about as much as the output function itself).  Times are
-- taken inside the server (clock_timestamp() around EXECUTE), so nothing
-- crosses to the client.  Each round runs every case on both types, the
-- order of the two sides swapping from one round to the next.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
-- Keep plans simple and alike: no JIT (it would compile the queries of one
-- side and not the other's at random), no parallel workers.
SET jit = off;
SET max_parallel_workers_per_gather = 0;

CREATE EXTENSION ltree;
CREATE EXTENSION privacy_tags;
CREATE SCHEMA bench;

-- Category paths: level k of row i is a letter and 5 hex digits of md5, so
-- every level is 6 bytes: 4 levels make 27 bytes, 8 levels 55.  The strings
-- are distinct (md5 of the row number).
CREATE TABLE bench.paths4 AS
SELECT i, (SELECT string_agg(chr(97 + (i + k) % 26) || substr(h, 5 * k - 4, 5), '.' ORDER BY k)
		   FROM generate_series(1, 4) k) AS s
FROM (SELECT i, md5(i::text) || md5((-i)::text) AS h FROM generate_series(1, :rows) i) g;

CREATE TABLE bench.paths8 AS
SELECT i, (SELECT string_agg(chr(97 + (i + k) % 26) || substr(h, 5 * k - 4, 5), '.' ORDER BY k)
		   FROM generate_series(1, 8) k) AS s
FROM (SELECT i, md5(i::text) || md5((-i)::text) AS h FROM generate_series(1, :rows) i) g;

-- Full tags: a 4-level path and clauses.  The ltree side is a path of the
-- same byte length: the clauses written as three more levels.
CREATE TABLE bench.fulltags AS
SELECT i,
	   s || '; basis=consent; purpose=newsletter; retain=3 years after last_contact_at' AS tag_s,
	   s || '.xbasis_consent.xpurpose_newsletter.xretain_3_years_after_last_contact_at' AS lt_s
FROM bench.paths4;

-- The stored values the output cases read.
CREATE TABLE bench.stored4 AS
SELECT s::privacy_tags.privacy_tag AS pt, s::ltree AS lt FROM bench.paths4;
CREATE TABLE bench.stored8 AS
SELECT s::privacy_tags.privacy_tag AS pt, s::ltree AS lt FROM bench.paths8;
CREATE TABLE bench.storedfull AS
SELECT tag_s::privacy_tags.privacy_tag AS pt, lt_s::ltree AS lt FROM bench.fulltags;

VACUUM (FREEZE, ANALYZE) bench.paths4, bench.paths8, bench.fulltags,
	bench.stored4, bench.stored8, bench.storedfull;

-- The same strings on both sides, byte for byte in length.
DO $$
BEGIN
	IF EXISTS (SELECT FROM bench.fulltags WHERE octet_length(tag_s) <> octet_length(lt_s)) THEN
		RAISE EXCEPTION 'full tag and ltree strings differ in length';
	END IF;
END $$;

-- One case: a query per side returning one bigint; base_q (or NULL) does
-- the same scan and the text-to-cstring half of the cast, without the
-- type's input function.
CREATE TABLE bench.cases (
	ord			int PRIMARY KEY,
	name		text NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('input', 'output')),
	bytes		text NOT NULL,		-- byte length of the text, as shown
	nrows		bigint NOT NULL,
	pt_q		text NOT NULL,
	lt_q		text NOT NULL,
	base_q		text
);

INSERT INTO bench.cases
SELECT 1, 'input, path of 4 levels', 'input',
	   (SELECT min(octet_length(s)) FROM bench.paths4)::text, count(*),
	   'SELECT count(s::privacy_tags.privacy_tag) FROM bench.paths4',
	   'SELECT count(s::ltree) FROM bench.paths4',
	   'SELECT count(s::cstring) FROM bench.paths4'
FROM bench.paths4
UNION ALL
SELECT 2, 'input, path of 8 levels', 'input',
	   (SELECT min(octet_length(s)) FROM bench.paths8)::text, count(*),
	   'SELECT count(s::privacy_tags.privacy_tag) FROM bench.paths8',
	   'SELECT count(s::ltree) FROM bench.paths8',
	   'SELECT count(s::cstring) FROM bench.paths8'
FROM bench.paths8
UNION ALL
SELECT 3, 'input, full tag', 'input',
	   (SELECT min(octet_length(tag_s)) FROM bench.fulltags)::text, count(*),
	   'SELECT count(tag_s::privacy_tags.privacy_tag) FROM bench.fulltags',
	   'SELECT count(lt_s::ltree) FROM bench.fulltags',
	   'SELECT count(tag_s::cstring) FROM bench.fulltags'
FROM bench.fulltags
UNION ALL
SELECT 4, 'output, path of 4 levels', 'output',
	   (SELECT min(octet_length(pt::text)) FROM bench.stored4)::text, count(*),
	   'SELECT sum(octet_length(pt::text)) FROM bench.stored4',
	   'SELECT sum(octet_length(lt::text)) FROM bench.stored4',
	   NULL
FROM bench.stored4
UNION ALL
SELECT 5, 'output, path of 8 levels', 'output',
	   (SELECT min(octet_length(pt::text)) FROM bench.stored8)::text, count(*),
	   'SELECT sum(octet_length(pt::text)) FROM bench.stored8',
	   'SELECT sum(octet_length(lt::text)) FROM bench.stored8',
	   NULL
FROM bench.stored8
UNION ALL
SELECT 6, 'output, full tag', 'output',
	   (SELECT min(octet_length(pt::text)) || ' / ' || min(octet_length(lt::text))
		FROM bench.storedfull), count(*),
	   'SELECT sum(octet_length(pt::text)) FROM bench.storedfull',
	   'SELECT sum(octet_length(lt::text)) FROM bench.storedfull',
	   NULL
FROM bench.storedfull;

CREATE TABLE bench.results (
	ord			int NOT NULL,
	round		int NOT NULL,
	side		text NOT NULL,		-- privacy_tag, ltree or base
	ms			float8 NOT NULL,
	result		bigint
);

-- Milliseconds one query takes, measured in the server.
CREATE FUNCTION bench.time_ms(q text, OUT ms float8, OUT result bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t0			timestamptz;
BEGIN
	t0 := clock_timestamp();
	EXECUTE q INTO result;
	ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
END $$;

-- Round 0 warms the caches and is not kept.
CREATE PROCEDURE bench.run(rounds int)
LANGUAGE plpgsql AS $$
DECLARE
	c			record;
	t			record;
	side		text;
	q			text;
BEGIN
	FOR r IN 0..rounds LOOP
		FOR c IN SELECT * FROM bench.cases ORDER BY ord LOOP
			FOREACH side IN ARRAY CASE WHEN r % 2 = 1
				THEN ARRAY['privacy_tag', 'ltree', 'base']
				ELSE ARRAY['ltree', 'privacy_tag', 'base'] END
			LOOP
				q := CASE side WHEN 'privacy_tag' THEN c.pt_q
					WHEN 'ltree' THEN c.lt_q ELSE c.base_q END;
				CONTINUE WHEN q IS NULL;
				t := bench.time_ms(q);
				IF r > 0 THEN
					INSERT INTO bench.results VALUES (c.ord, r, side, t.ms, t.result);
				END IF;
			END LOOP;
		END LOOP;
		RAISE NOTICE 'type_io: round % of % done%', r, rounds,
			CASE WHEN r = 0 THEN ' (warm-up, not counted)' ELSE '' END;
	END LOOP;
END $$;

SET client_min_messages = notice;
CALL bench.run(:rounds);
