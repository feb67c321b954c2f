-- bench/purge.sql: set-up of bench/purge.sh.  Run with -v rows=N (rows of
-- each table, half of them expired as of bench.as_of()).
--
-- Two kinds of purge, each with a template table the measured tables are
-- recreated from before every measurement (bench.restore()), one for each
-- side (<table>_purge, <table>_hand):
--   delete:  bench.purge_del, email tagged retain=3 years after last_contact
--            (date), index on last_contact; expired rows are deleted;
--   nullify: bench.purge_nul, ip tagged retain=30 days after seen_at
--            (timestamptz); on_expiry=nullify, index on seen_at; expired
--            values are set to NULL.
-- Rows are in anchor order (rows appended over time), and no anchor lies
-- within 4 days of the cut-off (as_of - window), so purge() and a
-- hand-written "anchor <= cut-off" select the same rows even where a
-- cut-off is not exact: the same row sets on both sides.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE EXTENSION privacy_tags;
CREATE SCHEMA bench;
-- date anchors become timestamptz in the session's time zone: make it fixed
SELECT format('ALTER DATABASE %I SET TimeZone = %L', current_database(), 'UTC') \gexec
SET TimeZone = 'UTC';

CREATE FUNCTION bench.as_of() RETURNS timestamptz IMMUTABLE LANGUAGE sql
	AS $$ SELECT timestamptz '2025-01-01 00:00:00+00' $$;

CREATE TABLE bench.kinds (
	kind		text PRIMARY KEY,
	rel			text NOT NULL,		-- the measured tables: rel_purge, rel_hand
	template	text NOT NULL,
	anchor		text NOT NULL,
	anchor_type	text NOT NULL,
	col			text NOT NULL,
	tag			text NOT NULL,
	win			interval NOT NULL,	-- the window
	hand_where	text NOT NULL,		-- the hand-written condition: anchor <= as_of - window
	hand		text NOT NULL		-- the hand-written statement (%s: the table)
);
INSERT INTO bench.kinds VALUES
	('delete', 'bench.purge_del', 'bench.purge_del_src', 'last_contact', 'date', 'email',
	 'contact.email; basis=consent; retain=3 years after last_contact', '3 years',
	 'last_contact <= ''2022-01-01''::date',
	 'DELETE FROM %s WHERE last_contact <= ''2022-01-01''::date'),
	('nullify', 'bench.purge_nul', 'bench.purge_nul_src', 'seen_at', 'timestamptz', 'ip',
	 'network.ip_address; basis=legitimate_interests; retain=30 days after seen_at; on_expiry=nullify', '30 days',
	 'seen_at <= ''2024-12-02 00:00:00+00''::timestamptz AND ip IS NOT NULL',
	 'UPDATE %s SET ip = NULL WHERE seen_at <= ''2024-12-02 00:00:00+00''::timestamptz AND ip IS NOT NULL');

-- delete: the expired half spread over 2016-01-01 .. 2021-12-28 (cut-off
-- 2022-01-01 minus 4 days), the rest over 2022-01-05 .. 2024-12-31.
CREATE TABLE bench.purge_del_src AS
SELECT i AS id,
	   'user' || ((i * 2654435761) % 10000000) || '@example.com' AS email,
	   CASE WHEN i <= :rows / 2
			THEN date '2016-01-01' + ((i - 1) * 2188::bigint / (:rows / 2))::int
			ELSE date '2022-01-05' + ((i - :rows / 2 - 1) * 1092::bigint / (:rows - :rows / 2))::int
	   END AS last_contact
FROM generate_series(1, :rows) i;

-- nullify: the expired half seen over the year before 2024-11-28 (cut-off
-- 2024-12-02 minus 4 days), the rest from 2024-12-06 to as_of; one row in
-- ten of the unexpired half has no ip (the expired half always has one).
CREATE TABLE bench.purge_nul_src AS
SELECT i AS id,
	   CASE WHEN i > :rows / 2 AND i % 10 = 0 THEN NULL
			ELSE '10.0.0.0'::inet + ((i * 2654435761) % 16777216) END AS ip,
	   CASE WHEN i <= :rows / 2
			THEN timestamptz '2023-11-28 00:00:00+00' + (i - 1) * (interval '366 days' / (:rows / 2))
			ELSE timestamptz '2024-12-06 00:00:00+00' + (i - :rows / 2 - 1) * (interval '25 days 23:59:59' / (:rows - :rows / 2))
	   END AS seen_at
FROM generate_series(1, :rows) i;
VACUUM (FREEZE, ANALYZE) bench.purge_del_src, bench.purge_nul_src;

-- No anchor within 4 days of a cut-off, and half of the rows expired.
DO $$
BEGIN
	IF EXISTS (SELECT FROM bench.purge_del_src
			   WHERE last_contact > date '2022-01-01' - 4 AND last_contact < date '2022-01-01' + 4)
	   OR EXISTS (SELECT FROM bench.purge_nul_src
				  WHERE seen_at > timestamptz '2024-12-02 00:00:00+00' - interval '4 days'
					AND seen_at < timestamptz '2024-12-02 00:00:00+00' + interval '4 days')
	   OR (SELECT count(*) FROM bench.purge_del_src WHERE last_contact <= date '2022-01-01')
		  <> (SELECT count(*) / 2 FROM bench.purge_del_src)
	   OR (SELECT count(*) FROM bench.purge_nul_src
		   WHERE seen_at <= timestamptz '2024-12-02 00:00:00+00' AND ip IS NOT NULL)
		  <> (SELECT count(*) / 2 FROM bench.purge_nul_src)
	THEN
		RAISE EXCEPTION 'purge bench data: anchors too close to a cut-off, or not half expired';
	END IF;
END $$;

-- Recreate the table of a kind and side from the template: fresh table,
-- index on the anchor, the tag.  VACUUM and CHECKPOINT follow (bench/purge.sh).
-- Returns the table's name.
CREATE FUNCTION bench.restore(kind text, side text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	k bench.kinds;
	rel text;
BEGIN
	SELECT * INTO STRICT k FROM bench.kinds WHERE bench.kinds.kind = restore.kind;
	rel := k.rel || '_' || side;
	EXECUTE format('DROP TABLE IF EXISTS %s', rel);
	-- copy in the template's order (a synchronized scan could start midway)
	PERFORM set_config('synchronize_seqscans', 'off', true);
	EXECUTE format('CREATE TABLE %s WITH (autovacuum_enabled = off) AS SELECT * FROM %s',
				   rel, k.template);
	EXECUTE format('CREATE INDEX ON %s (%I)', rel, k.anchor);
	PERFORM privacy_tags.tag(rel::regclass, k.col::name, k.tag::privacy_tags.privacy_tag);
	RETURN rel;
END $$;

-- The statement a side runs on its table: purge(), or the hand-written one.
CREATE FUNCTION bench.statement(kind text, side text) RETURNS text LANGUAGE sql AS $$
	SELECT CASE side
		WHEN 'purge' THEN format('SELECT sum(rows) FROM privacy_tags.purge(%L, as_of => %L) WHERE action = %L',
								 k.rel || '_purge', bench.as_of(), k.kind)
		ELSE format(k.hand, k.rel || '_hand') END
	FROM bench.kinds k WHERE k.kind = statement.kind
$$;

CREATE TABLE bench.results (
	kind		text NOT NULL,		-- delete or nullify
	side		text NOT NULL,		-- purge or hand
	round		int NOT NULL,
	ms			float8 NOT NULL,
	nrows		bigint NOT NULL		-- rows deleted or updated
);

-- Time one side on its freshly restored table, in the server.
CREATE FUNCTION bench.run(kind text, side text, round int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
	q text := bench.statement(kind, side);
	t0 timestamptz;
	ms float8;
	n bigint;
BEGIN
	t0 := clock_timestamp();
	IF side = 'purge' THEN
		EXECUTE q INTO n;
	ELSE
		EXECUTE q;
		GET DIAGNOSTICS n = ROW_COUNT;
	END IF;
	ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
	IF round > 0 THEN	-- round 0: the runs under auto_explain, not counted
		INSERT INTO bench.results VALUES (kind, side, round, ms, coalesce(n, 0));
	END IF;
	RETURN ms;
END $$;

-- What the condition alone costs: SELECT count(*) through the same index
-- scan (no index-only scan, no bitmap, no parallel workers) with the
-- condition of each side, on a restored, unchanged table, the two taking
-- turns:
--   hand:  the hand-written condition;
--   purge: purge()'s own, taken from privacy_tags._purge_plan() (its
--          cut-off, and its recheck where the cut-off is not exact),
--          recorded in bench.purge_conditions.
CREATE TABLE bench.conditions (
	kind		text NOT NULL,
	cond		text NOT NULL,		-- hand or purge
	rep			int NOT NULL,
	ms			float8 NOT NULL
);
CREATE TABLE bench.purge_conditions (
	kind		text PRIMARY KEY,
	bound		text NOT NULL,
	expired		text NOT NULL,	-- purge()'s condition: the cut-off's
	recheck		text			-- and, where it is not exact, the recheck's
);
CREATE FUNCTION bench.condition_costs(kind text, reps int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	k bench.kinds;
	p record;
	rel text;
	conds text[] := '{hand,purge}';
	qs text[];
	i int;
	t0 timestamptz;
	n bigint;
	half bigint;
BEGIN
	SELECT * INTO STRICT k FROM bench.kinds WHERE bench.kinds.kind = condition_costs.kind;
	rel := k.rel || '_purge';
	EXECUTE format('SELECT count(*) / 2 FROM %s', rel) INTO half;
	SELECT * INTO STRICT p FROM privacy_tags._purge_plan(rel::regclass, bench.as_of()) x
	 WHERE x.column_name = k.col::name;
	DELETE FROM bench.purge_conditions c WHERE c.kind = k.kind;
	INSERT INTO bench.purge_conditions VALUES (k.kind, p.bound, p.cutoff, p.recheck);
	qs := ARRAY[format('SELECT count(*) FROM %s t WHERE %s', rel, k.hand_where),
				format('SELECT count(*) FROM %s t WHERE %s', rel,
					   p.cutoff || coalesce(' OR ' || p.recheck, ''))];
	PERFORM set_config('enable_indexonlyscan', 'off', true);
	PERFORM set_config('enable_bitmapscan', 'off', true);
	PERFORM set_config('enable_seqscan', 'off', true);
	PERFORM set_config('max_parallel_workers_per_gather', '0', true);
	FOR r IN 0..reps LOOP		-- 0: warm-up
		FOR j IN 0..1 LOOP
			i := (j + r) % 2 + 1;
			t0 := clock_timestamp();
			EXECUTE qs[i] INTO n;
			IF n <> half THEN
				RAISE EXCEPTION 'condition % of % counted % rows', conds[i], kind, n;
			END IF;
			IF r > 0 THEN
				INSERT INTO bench.conditions
				VALUES (kind, conds[i], r, 1000 * extract(epoch FROM clock_timestamp() - t0));
			END IF;
		END LOOP;
	END LOOP;
END $$;

-- purge()'s fixed cost: a call that finds nothing to purge (as_of long
-- before every anchor), on the same table, as the first call of a session,
-- like the measured calls (its PL/pgSQL functions are compiled then).
CREATE TABLE bench.fixed (
	kind		text NOT NULL,
	ms			float8 NOT NULL
);
CREATE FUNCTION bench.fixed_cost(kind text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	k bench.kinds;
	t0 timestamptz;
	n bigint;
BEGIN
	SELECT * INTO STRICT k FROM bench.kinds WHERE bench.kinds.kind = fixed_cost.kind;
	t0 := clock_timestamp();
	SELECT coalesce(sum(rows), 0) INTO n
	  FROM privacy_tags.purge((k.rel || '_purge')::regclass, as_of => timestamptz '2000-01-01 00:00:00+00');
	IF n <> 0 THEN
		RAISE EXCEPTION 'purge() as of 2000-01-01 changed % rows of %', n, kind;
	END IF;
	INSERT INTO bench.fixed VALUES (kind, 1000 * extract(epoch FROM clock_timestamp() - t0));
END $$;

-- The fixed cost of a purge() that finds nothing, on a database with 50
-- tagged tables: 46 small ones (1,000 rows, an index on each anchor, a
-- delete column with a date anchor and a nullify column with a timestamptz
-- anchor, like the measured tables) besides the four measured ones.
DO $$
BEGIN
	FOR i IN 1..46 LOOP
		EXECUTE format('CREATE TABLE bench.fx_%s (id int PRIMARY KEY, email text, last_contact date, ip inet, seen_at timestamptz)', i);
		EXECUTE format('INSERT INTO bench.fx_%s SELECT g, ''u'' || g || ''@example.com'', date ''2022-01-05'' + g %% 1000, '
					   '''10.0.0.1'', timestamptz ''2024-12-06 00:00:00+00'' + g * interval ''1 minute'' FROM generate_series(1, 1000) g', i);
		EXECUTE format('CREATE INDEX ON bench.fx_%s (last_contact)', i);
		EXECUTE format('CREATE INDEX ON bench.fx_%s (seen_at)', i);
		PERFORM privacy_tags.tag(format('bench.fx_%s', i)::regclass, 'email',
								 'contact.email; basis=consent; retain=3 years after last_contact');
		PERFORM privacy_tags.tag(format('bench.fx_%s', i)::regclass, 'ip',
								 'network.ip_address; basis=legitimate_interests; retain=30 days after seen_at; on_expiry=nullify');
	END LOOP;
END $$;
ANALYZE;

-- mode first: one call, the first of the session (first_hand: the two
-- hand-written statements for the same table instead); warm: reps calls after
-- one, each timed; all: reps calls of purge() of every table (NULL),
-- after one; inval: the same, each right after a change of one tagged
-- table (ALTER TABLE bench.fx_2 SET (...), a relcache invalidation, as an
-- ANALYZE that changes its statistics makes).  Each as of bench.as_of():
-- the fx_ tables have nothing expired then.
CREATE TABLE bench.fixed50 (
	mode		text NOT NULL,
	ms			float8 NOT NULL
);
CREATE FUNCTION bench.fixed_cost50(mode text, reps int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	n bigint;
	rel regclass := CASE WHEN mode IN ('all', 'inval') THEN NULL ELSE 'bench.fx_1'::regclass END;
BEGIN
	FOR i IN CASE WHEN mode IN ('first', 'first_hand') THEN 1 ELSE 0 END .. reps LOOP
		IF mode = 'inval' THEN
			EXECUTE format('ALTER TABLE bench.fx_2 SET (autovacuum_vacuum_threshold = %s)', 100 + i);
		END IF;
		t0 := clock_timestamp();
		IF mode = 'first_hand' THEN
			-- what a client sends for the same table: its two statements,
			-- the cut-offs as constants, the first of the session
			EXECUTE format('DELETE FROM bench.fx_1 WHERE last_contact <= %L::date',
						   (bench.as_of() - interval '3 years')::date);
			GET DIAGNOSTICS n = ROW_COUNT;
			EXECUTE format('UPDATE bench.fx_1 SET ip = NULL WHERE seen_at <= %L::timestamptz AND ip IS NOT NULL',
						   bench.as_of() - interval '30 days');
		ELSE
			SELECT coalesce(sum(rows), 0) INTO n
			  FROM privacy_tags.purge(rel, as_of => CASE WHEN mode IN ('all', 'inval') THEN timestamptz '2000-01-01 00:00:00+00'
														 ELSE bench.as_of() END);
		END IF;
		IF n <> 0 THEN
			RAISE EXCEPTION 'purge() of %, mode %, changed % rows', rel, mode, n;
		END IF;
		IF i > 0 THEN
			INSERT INTO bench.fixed50 VALUES (mode, 1000 * extract(epoch FROM clock_timestamp() - t0));
		END IF;
	END LOOP;
END $$;
