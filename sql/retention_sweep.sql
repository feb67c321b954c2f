-- The retention trigger and purge() agree exactly with
--     anchor::timestamptz + window <= now()
-- for anchors near the edge of the window and far from it, for windows with
-- months (month ends clamp), days and hours, for date, timestamp and
-- timestamptz anchors, and in time zones with DST (also of 30 minutes) and
-- without.  now() cannot be set, so the anchors are swept around
-- now() - window, and windows are made up so that now() - window falls on
-- the month ends of the past year and on each zone's last DST changes.
SET search_path = public, privacy_tags;
SET DateStyle = 'ISO, YMD';

CREATE TABLE sweep_enforced_date (k int, anchor date, v text);
CREATE TABLE sweep_enforced_timestamp (k int, anchor timestamp, v text);
CREATE TABLE sweep_enforced_timestamptz (k int, anchor timestamptz, v text);
CREATE TABLE sweep_purged_date (k int, anchor date, v text);
CREATE TABLE sweep_purged_timestamp (k int, anchor timestamp, v text);
CREATE TABLE sweep_purged_timestamptz (k int, anchor timestamptz, v text);
CREATE TABLE sweep_cases (
    scenario int, kind text, zone text, type text, win text, k int, anchor text,
    expected boolean,           -- anchor::timestamptz + window <= now()
    by_trigger boolean,         -- the trigger (expired_writes = apply) dropped the row
    by_purge boolean            -- purge(as_of => now()) deleted the row
);
SELECT count(*) FROM (
    SELECT tag(t, 'v', 'contact.email; retain=1 day after anchor')
      FROM unnest(ARRAY['sweep_enforced_date', 'sweep_enforced_timestamp', 'sweep_enforced_timestamptz',
                        'sweep_purged_date', 'sweep_purged_timestamp', 'sweep_purged_timestamptz']::regclass[]) t) s;
SELECT enforce('sweep_enforced_date') + enforce('sweep_enforced_timestamp') + enforce('sweep_enforced_timestamptz') AS enforced;

-- One scenario: window win, anchors center + k * step for k in kmin..kmax,
-- in the session's time zone, for each anchor type.
CREATE FUNCTION sweep(kind text, win text, center timestamptz, step interval, kmin int, kmax int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    typ text;
    scen int;
BEGIN
    FOREACH typ IN ARRAY ARRAY['date', 'timestamp', 'timestamptz'] LOOP
        SELECT coalesce(max(scenario), 0) + 1 INTO scen FROM sweep_cases;
        PERFORM tag(format('sweep_enforced_%s', typ)::regclass, 'v', format('contact.email; retain=%s after anchor', win)::privacy_tag);
        PERFORM tag(format('sweep_purged_%s', typ)::regclass, 'v', format('contact.email; retain=%s after anchor', win)::privacy_tag);
        EXECUTE format('TRUNCATE sweep_enforced_%1$s, sweep_purged_%1$s', typ);
        EXECUTE format($q$
            INSERT INTO sweep_cases (scenario, kind, zone, type, win, k, anchor, expected)
            SELECT $1, $2, current_setting('TimeZone'), %1$L, $3, k, a::text,
                   a::timestamptz + $3::interval <= now()
              FROM (SELECT k, ($4 + k * $5)::%1$s AS a FROM generate_series($6, $7) k) s$q$, typ)
            USING scen, kind, win, center, step, kmin, kmax;
        -- the trigger drops the expired rows
        EXECUTE format($q$
            INSERT INTO sweep_enforced_%1$s SELECT k, ($1 + k * $2)::%1$s, 'x' FROM generate_series($3, $4) k$q$, typ)
            USING center, step, kmin, kmax;
        -- purge() deletes them
        SET LOCAL privacy_tags.purging = on;
        EXECUTE format($q$
            INSERT INTO sweep_purged_%1$s SELECT k, ($1 + k * $2)::%1$s, 'x' FROM generate_series($3, $4) k$q$, typ)
            USING center, step, kmin, kmax;
        SET LOCAL privacy_tags.purging = off;
        PERFORM purge(format('sweep_purged_%s', typ)::regclass, as_of => now());
        EXECUTE format($q$
            UPDATE sweep_cases c
               SET by_trigger = NOT EXISTS (SELECT FROM sweep_enforced_%1$s e WHERE e.k = c.k),
                   by_purge = NOT EXISTS (SELECT FROM sweep_purged_%1$s p WHERE p.k = c.k)
             WHERE c.scenario = $1$q$, typ)
            USING scen;
    END LOOP;
END
$$;

-- A window of whole days and hours that is as long as d.
CREATE FUNCTION days_hours(d interval) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' ', CASE WHEN s >= 86400 THEN floor(s / 86400) || ' days' END,
                          CASE WHEN floor(s / 3600)::int % 24 > 0 THEN floor(s / 3600)::int % 24 || ' hours' END)
      FROM (SELECT extract(epoch FROM d) AS s) x
$$;

SET privacy_tags.expired_writes = apply;
DO $$
DECLARE
    z text;
    w text;
    tr timestamptz;
BEGIN
    FOREACH z IN ARRAY ARRAY['UTC', 'Europe/Stockholm', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Apia'] LOOP
        PERFORM set_config('TimeZone', z, true);
        -- fixed windows: anchors every 6 hours, 25 days either side of the edge
        FOREACH w IN ARRAY ARRAY['1 month 1 day', '1 month', '1 year', '3 years', '30 days',
                                 '2 months 12 hours', '1 day 1 hour'] LOOP
            PERFORM sweep('fixed windows', w, now() - w::interval, '6 hours', -100, 100);
        END LOOP;
        -- the edge on each of the last 12 month ends (one of them in February)
        FOR i IN 1..12 LOOP
            w := '1 month ' || ((now() - interval '1 month')::date
                                - (date_trunc('month', now() - interval '1 month') - (i - 1) * interval '1 month'
                                   - interval '1 day')::date) || ' days';
            PERFORM sweep('month ends', w, now() - w::interval, '3 hours', -40, 40);
        END LOOP;
        -- the edge on each of the zone's last two changes of UTC offset
        FOR tr IN SELECT t FROM generate_series(date_trunc('hour', now()) - interval '800 days',
                                                now() - interval '40 days', interval '1 hour') t
                   WHERE extract(timezone FROM t) <> extract(timezone FROM t - interval '1 hour')
                   ORDER BY t DESC LIMIT 2 LOOP
            w := days_hours(now() - tr);
            PERFORM sweep('offset changes', w, tr, '3 hours', -40, 40);
            PERFORM sweep('offset changes', w, tr, '10 minutes', -36, 36);
            w := '1 month ' || days_hours((now() - interval '1 month') - tr);
            PERFORM sweep('offset changes', w, tr, '3 hours', -40, 40);
            PERFORM sweep('offset changes', w, tr, '10 minutes', -36, 36);
        END LOOP;
    END LOOP;
END
$$;
RESET privacy_tags.expired_writes;

-- every case agrees; there are cases on both sides of the edge
SELECT kind, count(*) AS cases,
       bool_or(expected) AND bool_or(NOT expected) AS both_sides,
       count(*) FILTER (WHERE by_trigger IS DISTINCT FROM expected) AS trigger_disagrees,
       count(*) FILTER (WHERE by_purge IS DISTINCT FROM expected) AS purge_disagrees
  FROM sweep_cases GROUP BY kind ORDER BY kind;
SELECT count(DISTINCT (zone, win)) FILTER (WHERE kind = 'offset changes') AS offset_change_windows,
       count(DISTINCT zone) FILTER (WHERE kind = 'offset changes') AS zones_with_changes
  FROM sweep_cases;
-- the first disagreements, if any
SELECT zone, type, win, anchor, expected, by_trigger, by_purge
  FROM sweep_cases
 WHERE by_trigger IS DISTINCT FROM expected OR by_purge IS DISTINCT FROM expected
 ORDER BY scenario, k LIMIT 10;

DROP FUNCTION sweep(text, text, timestamptz, interval, int, int), days_hours(interval);
DROP TABLE sweep_cases, sweep_enforced_date, sweep_enforced_timestamp, sweep_enforced_timestamptz,
           sweep_purged_date, sweep_purged_timestamp, sweep_purged_timestamptz;
