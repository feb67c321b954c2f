-- purge()'s probe (src/purge.c): before it builds a column's statements,
-- purge() asks one statement per table whether the column has any expired
-- row, and skips it when it has none.  A column is due exactly when the
-- rows _purge_plan() selects as expired ("bound AND expired") exist: anchors
-- of each type, windows with months, days and hours, time zones with and
-- without changes of offset, as_of in steps of 6 hours around each cut-off.
SET search_path = public, privacy_tags;
CREATE SCHEMA probe;
CREATE TABLE probe.mismatches (tz text, win text, rel regclass, as_of timestamptz, due boolean, expired bigint);
DO $$
DECLARE
    v_anchor text;
    v_type text;
BEGIN
    -- one row a table: the column is due from the moment its window passes
    FOREACH v_anchor IN ARRAY ARRAY['2024-01-31', '2024-03-10', '2024-10-27'] LOOP
        FOREACH v_type IN ARRAY ARRAY['date', 'timestamp', 'timestamptz'] LOOP
            EXECUTE format('CREATE TABLE probe.%I (id int, v text, a %s)',
                           v_type || '_' || replace(v_anchor, '-', ''), v_type);
            EXECUTE format('CREATE INDEX ON probe.%I (a)', v_type || '_' || replace(v_anchor, '-', ''));
            EXECUTE format('INSERT INTO probe.%I VALUES (1, %L, %L::%s)',
                           v_type || '_' || replace(v_anchor, '-', ''), 'x',
                           v_anchor || CASE WHEN v_type = 'date' THEN '' ELSE ' 01:30' END, v_type);
        END LOOP;
    END LOOP;
END
$$;
DO $$
DECLARE
    v_tz text;
    v_win text;
    r record;
    p record;
    v_as_of timestamptz;
    v_due boolean;
    v_n bigint;
    v_checks integer := 0;
    v_dues integer := 0;
BEGIN
    FOREACH v_win IN ARRAY ARRAY['1 month', '30 days', '36 hours', '1 year 2 months 3 days 4 hours'] LOOP
        -- (each retag reaches the backend's probes through the relcache)
        FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
                  WHERE c.relnamespace = 'probe'::regnamespace AND c.relkind = 'r' AND c.relname <> 'mismatches' LOOP
            PERFORM privacy_tags.tag(r.rel, 'v', format('contact.email; retain=%s after a', v_win)::privacy_tag);
        END LOOP;
        FOREACH v_tz IN ARRAY ARRAY['UTC', 'America/New_York', 'Australia/Lord_Howe', '+05:30'] LOOP
            PERFORM set_config('TimeZone', v_tz, true);
            FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
                      WHERE c.relnamespace = 'probe'::regnamespace AND c.relkind = 'r' AND c.relname <> 'mismatches' LOOP
                FOR h IN -120 .. 120 BY 6 LOOP
                    EXECUTE format('SELECT min(a)::timestamptz + %L::interval + %L::interval FROM %s', v_win, h || ' hours', r.rel)
                       INTO v_as_of;
                    SELECT d.due INTO v_due FROM privacy_tags._purge_due(r.rel, v_as_of) d;
                    SELECT * INTO p FROM privacy_tags._purge_plan(r.rel, v_as_of);
                    EXECUTE format('SELECT count(*) FROM %s t WHERE %s AND %s', r.rel, p.bound, p.expired) INTO v_n;
                    IF v_due IS DISTINCT FROM (v_n > 0) THEN
                        INSERT INTO probe.mismatches VALUES (v_tz, v_win, r.rel, v_as_of, v_due, v_n);
                    END IF;
                    v_checks := v_checks + 1;
                    v_dues := v_dues + v_due::int;
                END LOOP;
            END LOOP;
        END LOOP;
    END LOOP;
    -- (both answers, many times each)
    RAISE NOTICE 'checks: %, due: %', v_checks, v_dues;
END
$$;
SELECT * FROM probe.mismatches;

-- a nullify column: due while an expired value is not masked yet
CREATE TABLE probe.n (id int, ip inet, h text, seen date);
SELECT privacy_tags.tag('probe.n', 'ip', 'network.ip_address; retain=30 days after seen; on_expiry=nullify');
SELECT privacy_tags.tag('probe.n', 'h', 'contact.email; retain=30 days after seen; on_expiry=nullify; mask=hash');
INSERT INTO probe.n VALUES (1, NULL, NULL, '2020-01-01'), (2, NULL, 'a94a8fe5ccb19ba61c4c0873d391e987', '2020-01-01'),
                           (3, '192.0.2.1', 'x', current_date);
SELECT column_name, action, due FROM privacy_tags._purge_due('probe.n', now());
SELECT relation, column_name, action, rows FROM privacy_tags.purge('probe.n');
UPDATE probe.n SET ip = '192.0.2.2', h = 'y' WHERE id = 1;
SELECT column_name, action, due FROM privacy_tags._purge_due('probe.n', now());
SELECT relation, column_name, action, rows FROM privacy_tags.purge('probe.n');
SELECT column_name, action, due FROM privacy_tags._purge_due('probe.n', now());

-- a partitioned table: one probe over its partitions; a column whose
-- anchor is gone is always due (purge() reports it as before)
CREATE TABLE probe.p (id int, v text, a date) PARTITION BY RANGE (a);
CREATE TABLE probe.p1 PARTITION OF probe.p FOR VALUES FROM ('2000-01-01') TO ('2025-01-01');
CREATE TABLE probe.p2 PARTITION OF probe.p FOR VALUES FROM ('2025-01-01') TO (MAXVALUE);
SELECT privacy_tags.tag('probe.p', 'v', 'contact.email; retain=1 year after a');
INSERT INTO probe.p VALUES (1, 'x', '2025-06-01');
SELECT relation, column_name, due FROM privacy_tags._purge_due('probe.p', '2026-01-01');
SELECT relation, column_name, due FROM privacy_tags._purge_due('probe.p', '2026-06-02');
SELECT relation, column_name, action, rows FROM privacy_tags.purge('probe.p', as_of => '2026-06-02');
CREATE TABLE probe.gone (id int, v text, a date);
SELECT privacy_tags.tag('probe.gone', 'v', 'contact.email; retain=1 year after a');
ALTER TABLE probe.gone DROP COLUMN a;
SELECT relation, column_name, due FROM privacy_tags._purge_due('probe.gone', now());
SELECT relation, column_name, action, rows FROM privacy_tags.purge('probe.gone');

-- the backend keeps the order of a purge of all (src/purge.c) until an
-- invalidation may have changed it: a table tagged for the first time, a
-- foreign key that points at a tagged table, or one on the way to it
-- through untagged tables (the tables that point at others go first)
-- (the order of the tables probe.o* in _purge_due() and in _purge_plan())
CREATE FUNCTION probe.orders(OUT fast text, OUT plan text) LANGUAGE sql AS $$
    SELECT (SELECT string_agg(x.relation::text, ', ' ORDER BY x.n)
              FROM (SELECT d.relation, min(d.n) AS n
                      FROM privacy_tags._purge_due(NULL, now()) WITH ORDINALITY d(relation, column_name, action, due, n)
                     WHERE d.relation::text LIKE 'probe.o_' GROUP BY 1) x),
           (SELECT string_agg(x.relation::text, ', ' ORDER BY x.n)
              FROM (SELECT p.relation, min(p.n) AS n
                      FROM privacy_tags._purge_plan(NULL, now())
                           WITH ORDINALITY p(relation, column_name, action, expired, bound, held, blocked,
                                             held_ids, problem, cutoff, recheck, n)
                     WHERE p.relation::text LIKE 'probe.o_' GROUP BY 1) x)
$$;
CREATE TABLE probe.oa (id int PRIMARY KEY, v text, a date);
CREATE TABLE probe.ob (id int PRIMARY KEY, v text, a date);
SELECT privacy_tags.tag('probe.oa', 'v', 'contact.email; retain=1 year after a');
SELECT * FROM probe.orders();
SELECT privacy_tags.tag('probe.ob', 'v', 'contact.email; retain=1 year after a');
SELECT * FROM probe.orders();
-- untagged tables point at oa, one through the other: oa goes after ob
CREATE TABLE probe.c (id int PRIMARY KEY, oa int REFERENCES probe.oa);
CREATE TABLE probe.d (id int, c int REFERENCES probe.c);
SELECT * FROM probe.orders();
-- ANALYZE of a table without tags or foreign keys changes nothing
CREATE TABLE probe.lone (id int);
ANALYZE probe.lone;
SELECT * FROM probe.orders();
-- nor does a new index of a tagged table (its own entry is read again)
CREATE INDEX ON probe.oa (a);
SELECT * FROM probe.orders();
-- as many untagged tables on the way to ob, the second one's key added
-- last (it invalidates untagged tables only): oa goes first again
CREATE TABLE probe.e (id int PRIMARY KEY, ob int REFERENCES probe.ob);
CREATE TABLE probe.f (id int, e int);
SELECT * FROM probe.orders();
ALTER TABLE probe.f ADD FOREIGN KEY (e) REFERENCES probe.e;
SELECT * FROM probe.orders();
-- a rename
ALTER TABLE probe.oa RENAME TO oz;
SELECT * FROM probe.orders();
-- (the columns of a purge of all, of each table alone, and of each table as
-- the fast path reads them from the catalogs, say the same)
SELECT count(*) AS purge_columns, count(*) FILTER (WHERE a IS DISTINCT FROM b) AS differ,
       count(*) FILTER (WHERE a IS DISTINCT FROM c) AS differ_in_c
  FROM privacy_tags._purge_columns(NULL) a
  LEFT JOIN LATERAL (SELECT * FROM privacy_tags._purge_columns(a.relation) x
                      WHERE x.column_name = a.column_name) b ON true
  LEFT JOIN LATERAL (SELECT * FROM privacy_tags._purge_table_columns(a.relation) x
                      WHERE x.column_name = a.column_name) c ON true
 WHERE a.relation::text LIKE 'probe.%';
SELECT (SELECT array_agg(x ORDER BY x.column_name) FROM privacy_tags._purge_columns(r.oid) x)
       IS NOT DISTINCT FROM
       (SELECT array_agg(x ORDER BY x.column_name) FROM privacy_tags._purge_table_columns(r.oid) x) AS same,
       count(*)
  FROM pg_class r WHERE r.relnamespace = 'probe'::regnamespace AND r.relkind IN ('r', 'p', 'f', 'v')
 GROUP BY 1;

-- the probe orders by the anchor where an index starts with it (of the
-- table or of a partition): a probe that finds nothing then reads no row
CREATE TABLE probe.pi (id int, v text, a date) PARTITION BY RANGE (a);
CREATE TABLE probe.pi1 PARTITION OF probe.pi FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
CREATE INDEX ON probe.pi1 (a);
SELECT privacy_tags.tag('probe.pi', 'v', 'contact.email; retain=1 year after a');
SELECT relation, column_name, anchor_indexed FROM privacy_tags._purge_columns(NULL)
 WHERE relation::text IN ('probe.oz', 'probe.n', 'probe.p', 'probe.pi', 'probe.date_20240131') ORDER BY 1, 2;

-- nobody held: no table left to the usual path
SELECT privacy_tags._purge_unprobed(now()) AS unprobed;
-- a held subject whose rows cannot be looked up (its key type got a cast
-- from text made by a function after the hold): the tables its graph
-- reaches are left to the usual path, which reports them as before, even
-- with nothing expired
CREATE TYPE probe.kind AS ENUM ('1', '2');
CREATE TABLE probe.kinds (id probe.kind PRIMARY KEY, v text, a date);
SELECT privacy_tags.set_subject('probe.kinds', 'id', 'probe_kind');
SELECT privacy_tags.tag('probe.kinds', 'v', 'contact.email; retain=1 year after a');
INSERT INTO probe.kinds VALUES ('1', 'x', current_date);
-- (the hold written directly, outside the register's numbering, which the
-- tests that follow see)
INSERT INTO privacy_tags.legal_holds (id, subject_type, subject_id, reason) VALUES (-1, 'probe_kind', '1', 'a claim');
SELECT privacy_tags._purge_unprobed(now()) AS unprobed;
SELECT relation, column_name, due FROM privacy_tags._purge_due('probe.kinds', now());
CREATE FUNCTION probe.to_kind(text) RETURNS probe.kind LANGUAGE sql AS $$ SELECT $1::name::text::probe.kind $$;
CREATE CAST (text AS probe.kind) WITH FUNCTION probe.to_kind(text);
-- (in this session: the cast created drops the cached subject graphs)
SELECT problem FROM privacy_tags._purge_plan('probe.kinds', now());
SELECT privacy_tags._purge_unprobed(now()) AS unprobed;
SELECT relation, column_name, due FROM privacy_tags._purge_due('probe.kinds', now(), privacy_tags._purge_unprobed(now()));
SET client_min_messages = error;
SELECT relation, column_name, action, rows FROM privacy_tags.purge('probe.kinds');
RESET client_min_messages;
DROP CAST (text AS probe.kind);
DELETE FROM privacy_tags.legal_holds WHERE id = -1;
SELECT relation, column_name, action, rows FROM privacy_tags.purge('probe.kinds');

-- the probes are closed to everybody but the extension's owner
SET ROLE privacy_admin;
SELECT state, message FROM try($$SELECT * FROM privacy_tags._purge_due(NULL, now())$$);
SELECT state, message FROM try($$SELECT * FROM privacy_tags._purge_columns(NULL)$$);
SELECT state, message FROM try($$SELECT privacy_tags._purge_unprobed(now())$$);
RESET ROLE;

DROP SCHEMA probe CASCADE;
DELETE FROM privacy_tags.audit_log WHERE relation LIKE 'probe.%';
