-- purge's cut-off: one constant per column (as_of minus the window,
-- computed once), the statement's index condition; a recheck only where
-- months and time zones make it inexact.  Whatever the form, purge()
-- removes exactly the anchors the window test finds expired
-- (anchor::timestamptz + window <= as_of, in the session's time zone).
SET search_path = public, privacy_tags;

CREATE TABLE cut (id serial PRIMARY KEY, v text, d date, ts timestamp, tz timestamptz);
SELECT tag('cut', 'v', 'contact.email; basis=consent; retain=1 month after d');
CREATE FUNCTION cut_case(anchor text, win text, as_of timestamptz, zone text, step interval)
RETURNS TABLE (tz_fixed boolean, exact_cutoff boolean, purged bigint, expected bigint, wrong bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_p record;
BEGIN
    PERFORM set_config('TimeZone', zone, true);
    TRUNCATE cut;
    -- anchors every step across 12 days around the cut-off, and far before and after it
    INSERT INTO cut (v, d, ts, tz)
    SELECT 'x', a::date, a::timestamp, a
      FROM generate_series((as_of - win::interval) - interval '6 days', (as_of - win::interval) + interval '6 days', step) a
    UNION ALL SELECT 'x', '2000-01-01', '2000-01-01', '2000-01-01'
    UNION ALL SELECT 'x', '2100-01-01', '2100-01-01', '2100-01-01';
    EXECUTE format('SECURITY LABEL FOR privacy_tags ON COLUMN cut.v IS %L',
                   format('contact.email; basis=consent; retain=%s after %s', win, anchor));
    SELECT * INTO v_p FROM _purge_plan('cut', as_of);
    tz_fixed := _fixed_timezone();
    exact_cutoff := v_p.recheck IS NULL;
    EXECUTE format('SELECT count(*) FROM cut t WHERE t.%1$I::timestamptz + %2$L::interval <= %3$L::timestamptz',
                   anchor, win, as_of) INTO expected;
    SELECT sum(x.rows) INTO purged FROM purge('cut', as_of) x WHERE x.action = 'delete';
    EXECUTE format('SELECT count(*) FROM cut t WHERE t.%1$I::timestamptz + %2$L::interval <= %3$L::timestamptz',
                   anchor, win, as_of) INTO wrong;
    RETURN NEXT;
END $$;

-- dates: exact in every time zone (the few dates near the cut-off are tested once)
SELECT 'date, 1 month, end of March' AS case_, * FROM cut_case('d', '1 month', '2023-03-31 00:00+00', 'UTC', '1 day');
SELECT 'date, 3 years, DST zone' AS case_, * FROM cut_case('d', '3 years', '2024-03-10 12:00-04', 'America/New_York', '1 day');
SELECT 'date, 30 days, zone changing at midnight' AS case_, * FROM cut_case('d', '30 days', '2023-04-29 12:00+00', 'Africa/Cairo', '1 day');
-- timestamptz: exact for a window of hours, or in a zone of one offset
SELECT 'timestamptz, 36 hours, DST zone' AS case_, * FROM cut_case('tz', '36 hours', '2024-03-11 01:30-04', 'America/New_York', '17 minutes');
SELECT 'timestamptz, 30 days, UTC' AS case_, * FROM cut_case('tz', '30 days', '2024-04-05 01:30+00', 'UTC', '17 minutes');
SELECT 'timestamptz, 30 days, +05:30' AS case_, * FROM cut_case('tz', '30 days', '2024-04-05 01:30+00', '<+0530>-05:30', '17 minutes');
-- ... else rechecked near the cut-off
SELECT 'timestamptz, 30 days, DST zone' AS case_, * FROM cut_case('tz', '30 days', '2024-04-05 02:30-04', 'America/New_York', '17 minutes');
SELECT 'timestamptz, 1 month, UTC' AS case_, * FROM cut_case('tz', '1 month', '2024-03-31 12:00+00', 'UTC', '17 minutes');
-- timestamp: exact in a zone of one offset and without months
SELECT 'timestamp, 2 days, UTC' AS case_, * FROM cut_case('ts', '2 days', '2024-11-03 06:30+00', 'UTC', '17 minutes');
SELECT 'timestamp, 2 days, DST zone' AS case_, * FROM cut_case('ts', '2 days', '2024-11-05 01:30-05', 'America/New_York', '7 minutes');
SELECT 'timestamp, 2 months, UTC' AS case_, * FROM cut_case('ts', '2 months', '2024-04-30 06:30+00', 'UTC', '17 minutes');

-- the statement's condition: the anchor and one constant
SET TimeZone = 'UTC';
SECURITY LABEL FOR privacy_tags ON COLUMN cut.v IS 'contact.email; basis=consent; retain=3 years after d';
SELECT bound, expired, cutoff, recheck FROM _purge_plan('cut', '2025-01-01 00:00+00');
SET TimeZone = 'America/New_York';
SECURITY LABEL FOR privacy_tags ON COLUMN cut.v IS 'contact.email; basis=consent; retain=30 days after tz';
SELECT bound, expired, cutoff, recheck FROM _purge_plan('cut', '2025-01-01 00:00+00');
RESET TimeZone;
DROP FUNCTION cut_case(text, text, timestamptz, text, interval);
DROP TABLE cut;
