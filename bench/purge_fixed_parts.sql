-- bench/purge_fixed_parts.sql: the parts of purge()'s fixed cost (the
-- profile in BENCHMARKS.md, "purge: where the fixed cost goes"), each timed
-- alone in the server, 30 turns, medians, ms.  Run in a database set up
-- as bench/purge.sh sets it up (bench/purge.sql, then bench.restore(kind,
-- side) for both kinds and both sides: 50 tagged tables):
--   psql -d DB -v rows=2000000 -f bench/purge.sql
--   for k in delete nullify; do for s in purge hand; do psql -d DB -c "SELECT bench.restore('$k', '$s')"; done; done
--   psql -d DB -f bench/purge_fixed_parts.sql
SET jit = off;
SET client_min_messages = notice;
SELECT count(*) FROM privacy_tags.purge(NULL, as_of => '2000-01-01') \g /dev/null
DO $$
DECLARE t0 timestamptz; a float8[] := '{}'; b float8[] := '{}'; c float8[] := '{}'; d float8[] := '{}'; e float8[] := '{}'; f float8[] := '{}'; n bigint;
BEGIN
  FOR i IN 1..30 LOOP
    t0 := clock_timestamp();
    SELECT count(*) INTO n FROM privacy_tags.purge(NULL, as_of => '2000-01-01');
    a := a || 1000 * extract(epoch FROM clock_timestamp() - t0);
    t0 := clock_timestamp();
    SELECT count(*) INTO n FROM privacy_tags._purge_due(NULL, '2000-01-01');
    b := b || 1000 * extract(epoch FROM clock_timestamp() - t0);
    t0 := clock_timestamp();
    PERFORM privacy_tags._complete_deferred(NULL, NULL); PERFORM privacy_tags._purge_requests();
    c := c || 1000 * extract(epoch FROM clock_timestamp() - t0);
    t0 := clock_timestamp();
    PERFORM privacy_tags._purge_unprobed('2000-01-01');
    d := d || 1000 * extract(epoch FROM clock_timestamp() - t0);
  END LOOP;
  FOR i IN 1..30 LOOP
    EXECUTE format('ALTER TABLE bench.fx_2 SET (autovacuum_vacuum_threshold = %s)', 100 + i);
    t0 := clock_timestamp();
    SELECT count(*) INTO n FROM privacy_tags._purge_due(NULL, '2000-01-01');
    e := e || 1000 * extract(epoch FROM clock_timestamp() - t0);
    EXECUTE format('ALTER TABLE bench.fx_2 SET (autovacuum_vacuum_threshold = %s)', 200 + i);
    t0 := clock_timestamp();
    SELECT count(*) INTO n FROM privacy_tags._purge_table_columns('bench.fx_2');
    f := f || 1000 * extract(epoch FROM clock_timestamp() - t0);
  END LOOP;
  RAISE NOTICE 'purge() % | _purge_due() % | _complete_deferred + _purge_requests % | _purge_unprobed % | _purge_due() after a change of bench.fx_2 % | _purge_table_columns(bench.fx_2) %',
    (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(a) x),
    (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(b) x),
    (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(c) x),
    (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(d) x),
    (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(e) x),
    (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(f) x);
END $$;
