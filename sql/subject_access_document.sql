-- The access document's binary form, written by subject_access() itself
-- (src/jsonb_write.c): every value must read back as jsonb built by
-- PostgreSQL would, in documents past jsonb's offset stride (32 children:
-- an array of 70 rows, a data object of 17 tables), with values of every
-- kind (numbers, strings, booleans, nulls, nested jsonb, arrays, rows
-- above and below 127 bytes, a toasted value), and two owners.
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
BEGIN;
CREATE SCHEMA bin;
CREATE ROLE bin_owner;
GRANT USAGE ON SCHEMA bin TO bin_owner;
DO $$
BEGIN
    FOR k IN 1..17 LOOP
        EXECUTE format('CREATE TABLE bin.t%s (id int PRIMARY KEY, customer_id bigint, email text, amount numeric,
                                             ok boolean, extra jsonb, tags text[], at timestamptz)', k);
        EXECUTE format('INSERT INTO bin.t%s SELECT g, 1 + g %% 3, CASE WHEN g %% 5 <> 0 THEN ''u'' || g || ''@example.com'' END,
                               g * 1.5, g %% 2 = 0, jsonb_build_object(''n'', g, ''deep'', jsonb_build_array(g, ''x'', null)),
                               ARRAY[''a'', ''b''], timestamptz ''2025-01-01'' + g * interval ''1 day''
                          FROM generate_series(1, CASE WHEN %s = 1 THEN 210 ELSE 6 END) g', k, k);
        EXECUTE format('SELECT privacy_tags.set_subject(''bin.t%s'', ''customer_id'', ''bin_customer'')', k);
        EXECUTE format('SELECT privacy_tags.tag(''bin.t%s'', ''email'', ''contact.email; basis=contract; purpose=account; retain=1 year after at'')', k);
    END LOOP;
    -- a long row (its value toasted in the table) and another owner's tables
    UPDATE bin.t2 SET extra = jsonb_build_object('long', repeat('abcdefghij', 1000)) WHERE id = 3;
    ALTER TABLE bin.t16 OWNER TO bin_owner;
    ALTER TABLE bin.t5 OWNER TO bin_owner;
END $$;
SELECT pg_column_size(extra) < 10000 AS compressed FROM bin.t2 WHERE id = 3;

CREATE TEMP TABLE doc AS SELECT subject_access('bin_customer', '1') AS d;
-- the data: what jsonb_agg(to_jsonb(t)) builds, table by table
SELECT d -> 'data' -> 'bin.t1' = (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.ctid)
                                    FROM bin.t1 t WHERE t.customer_id = 1) AS t1_same,
       jsonb_array_length(d -> 'data' -> 'bin.t1') AS t1_rows,
       (SELECT count(*) FROM jsonb_object_keys(d -> 'data')) AS data_tables,
       (SELECT count(*) FROM jsonb_object_keys(d)) AS keys
  FROM doc;
DO $$
DECLARE
    bad int := 0;
    v_doc jsonb := (SELECT d FROM doc);
    v_hand jsonb;
BEGIN
    FOR k IN 1..17 LOOP
        EXECUTE format('SELECT jsonb_agg(to_jsonb(t) ORDER BY t.ctid) FROM bin.t%s t WHERE t.customer_id = 1', k) INTO v_hand;
        IF v_doc -> 'data' -> format('bin.t%s', k) IS DISTINCT FROM v_hand THEN
            bad := bad + 1;
        END IF;
    END LOOP;
    RAISE NOTICE 'tables whose data differs from jsonb_agg(to_jsonb(t)): %', bad;
END $$;
-- every value reads back: through text, by path, by containment, by key,
-- past the offset stride
SELECT d::text::jsonb = d AS text_round_trip,
       d -> 'data' -> 'bin.t1' -> 69 ->> 'id' AS row_70_id,
       d -> 'data' -> 'bin.t1' -> 69 -> 'extra' -> 'deep' -> 1 AS nested,
       d #>> '{data,bin.t1,68,amount}' AS amount,
       d -> 'data' -> 'bin.t1' -> 69 -> 'ok' AS ok,
       d -> 'data' -> 'bin.t1' -> 0 -> 'email' AS null_email,
       length(jsonb_path_query_first(d, '$.data."bin.t2"[*] ? (@.id == 3).extra.long') #>> '{}') AS long_value,
       d @> '{"data": {"bin.t17": [{"id": 3}]}}' AS contains,
       d #>> '{summary,records}' AS records,
       jsonb_path_query_first(d, '$.data."bin.t9"[*] ? (@.id == 6).email') AS path
  FROM doc;
-- byte for byte the size PostgreSQL's own jsonb of it has (not stored: uncompressed)
SELECT pg_column_size(x.d) = pg_column_size(x.d::text::jsonb) AS same_size
  FROM (SELECT subject_access('bin_customer', '1') AS d OFFSET 0) x;
SELECT d ?& ARRAY['data', 'since', 'fields', 'format', 'rights', 'tables', 'sources', 'subject', 'summary',
                  'consents', 'controller', 'legal_hold', 'objections', 'recipients', 'restricted', 'suppressed',
                  'transfers', 'generated_at', 'portable_only', 'automated_decisions'] AS every_key,
       jsonb_typeof(d -> 'automated_decisions') AS last_key_type,
       d -> 'tables' -> 'bin.t5' AS other_owners_table
  FROM doc;
-- jsonb's own functions over it: the same as over its text parsed
SELECT (SELECT jsonb_pretty(d)) = (SELECT jsonb_pretty(d::text::jsonb)) AS pretty_same,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(d -> 'data') k) AS tables,
       jsonb_strip_nulls(d) = jsonb_strip_nulls(d::text::jsonb) AS strip_same
  FROM doc;
-- a subject with no rows: data is an empty object, the rest there
SELECT d -> 'data' AS data, d -> 'tables' AS tables, d #> '{summary,records}' AS records,
       d::text::jsonb = d AS text_round_trip
  FROM (SELECT subject_access('bin_customer', '404') AS d) x;
ROLLBACK;
