-- Citus ------------------------------------------------------------------------

-- On a Citus cluster the retention trigger fires on the workers, on the
-- shards of distributed tables, and reads the extension's tables there:
-- consents and restrictions for its checks, the audit key for hash masks.
-- These, and the tables of holds and suppressions, become reference tables
-- (a copy on every node, written through the coordinator), so that every
-- shard's trigger sees the coordinator's writes.  The audit log stays on the
-- coordinator.  Nothing here does anything without Citus.

CREATE FUNCTION privacy_tags._citus_loaded()
RETURNS boolean
AS 'MODULE_PATHNAME', 'privacy_tags_citus_loaded' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags._citus_loaded() IS
    'Whether the citus library is loaded in this session.';

-- Is rel in Citus's metadata (a distributed, reference or Citus local table)?
CREATE FUNCTION privacy_tags._citus_table(rel regclass)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_found boolean;
BEGIN
    IF NOT privacy_tags._citus_loaded() OR to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    -- (Citus's catalog exists only with Citus: not named in the function's text)
    EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid OPERATOR(pg_catalog.=) $1)'
       INTO v_found USING rel;
    RETURN v_found;
END
$$;

-- The extension's tables that every node reads, as Citus reference tables.
-- Called by enforce() (and a tag change) on a table in Citus's metadata;
-- callable on its own.  Returns how many tables it made reference tables.
CREATE FUNCTION privacy_tags.citus_setup()
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
    v_rel regclass;
    v_n integer := 0;
BEGIN
    IF NOT privacy_tags._citus_loaded() OR NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'citus is not installed in database "%"', current_database()
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Without Citus there is nothing to set up. With it: add citus (first) to shared_preload_libraries on every node, restart, and run CREATE EXTENSION citus.';
    END IF;
    FOREACH v_rel IN ARRAY ARRAY['privacy_tags.consents', 'privacy_tags.restrictions', 'privacy_tags.legal_holds',
                                 'privacy_tags.suppressions', 'privacy_tags.audit_key']::regclass[] LOOP
        CONTINUE WHEN privacy_tags._citus_table(v_rel);
        EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING v_rel;
        -- (the rows now live in the shards; the coordinator's own copy goes)
        EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)' USING v_rel;
        v_n := v_n + 1;
    END LOOP;
    IF v_n > 0 THEN
        INSERT INTO privacy_tags.audit_log (action, details)
        VALUES ('citus_setup', jsonb_build_object('reference_tables', v_n));
    END IF;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION privacy_tags.citus_setup() IS
    'On a Citus cluster: makes the extension''s tables that the workers'' retention triggers read (consents, restrictions, legal holds, suppressions, the audit key) reference tables; returns how many it changed. enforce() calls it.';
REVOKE ALL ON FUNCTION privacy_tags.citus_setup() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.citus_setup() TO privacy_admin;

-- CREATE or DROP TRIGGER privacy_tags_retention on rel as its owner.  On a
-- distributed or reference table Citus copies the statement to every shard
-- once citus.enable_unsafe_triggers allows it (for this statement only), and
-- the tables the shards' triggers read become reference tables first.
CREATE FUNCTION privacy_tags._trigger_ddl(rel regclass, stmt text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_old text;
BEGIN
    IF NOT privacy_tags._citus_table(rel) THEN
        PERFORM privacy_tags._owner_exec(rel, stmt);
        RETURN;
    END IF;
    PERFORM privacy_tags.citus_setup();
    v_old := current_setting('citus.enable_unsafe_triggers');
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    PERFORM privacy_tags._owner_exec(rel, stmt);
    PERFORM set_config('citus.enable_unsafe_triggers', v_old, true);
END
$$;

-- The purge's exact test of an anchor, "anchor + window <= as_of" in the
-- session's time zone, in IMMUTABLE terms: Citus refuses a STABLE function
-- of a column (timestamptz + interval) in an UPDATE or DELETE, which the
-- shards evaluate.  timestamptz + interval adds the months in local time,
-- converts to UTC, adds the days in local time, converts to UTC, and adds
-- the time; AT TIME ZONE with the zone written out does each conversion,
-- and the time is taken off as_of instead.  The same result, also across
-- changes of UTC offset (both resolve local times as DetermineTimeZoneOffset
-- does).
CREATE FUNCTION privacy_tags._citus_expiry_test(anchor name, anchor_type regtype, w interval, as_of timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_zone text := current_setting('TimeZone');
    v_months integer := (extract(year FROM w) * 12 + extract(month FROM w))::integer;
    v_days integer := extract(day FROM w)::integer;
    v_expr text;
BEGIN
    v_expr := CASE anchor_type WHEN 'date'::regtype THEN format('(t.%I::timestamp AT TIME ZONE %L)', anchor, v_zone)
                               WHEN 'timestamp'::regtype THEN format('(t.%I AT TIME ZONE %L)', anchor, v_zone)
                               ELSE format('t.%I', anchor) END;
    IF v_months <> 0 THEN
        v_expr := format('((%s AT TIME ZONE %L) + %L::interval) AT TIME ZONE %L',
                         v_expr, v_zone, make_interval(months => v_months), v_zone);
    END IF;
    IF v_days <> 0 THEN
        v_expr := format('((%s AT TIME ZONE %L) + %L::interval) AT TIME ZONE %L',
                         v_expr, v_zone, make_interval(days => v_days), v_zone);
    END IF;
    RETURN format('%s <= %L::timestamptz', v_expr, as_of - (w - make_interval(months => v_months, days => v_days)));
END
$$;

-- One batch of a purge of a Citus table (see _purge_column): the expired
-- rows of the next range of its distribution column (or, for a reference
-- table, its primary key's first column) that holds batch_size of them
-- (the last key's rows all: a batch can be a little larger), or all of
-- them when fewer are left.  Returns the condition and the range's last
-- key, the statement's parameter $param (NULL: no range); the statement
-- runs on every shard at once.
CREATE FUNCTION privacy_tags._citus_batch(p record, target regclass, batch_size integer, keep text, param integer)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key name;
    v_type text;
    v_last jsonb;
BEGIN
    EXECUTE 'SELECT a.attname, format_type(a.atttypid, a.atttypmod)
               FROM pg_catalog.pg_dist_partition d
               JOIN pg_attribute a ON a.attrelid = d.logicalrelid
                AND a.attname = pg_catalog.column_to_column_name(d.logicalrelid, d.partkey)
              WHERE d.logicalrelid = $1 AND d.partmethod = ''h'''
       INTO v_key, v_type USING target;
    IF v_key IS NULL THEN
        SELECT a.attname, format_type(a.atttypid, a.atttypmod) INTO v_key, v_type
          FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.conrelid = target AND c.contype = 'p';
    END IF;
    IF v_key IS NULL THEN
        -- no key to range over: the whole column in one statement
        RETURN ARRAY[format('%s AND %s', p.bound, p.expired), NULL];
    END IF;
    v_last := privacy_tags._owner_query(target,
                  format('SELECT to_jsonb(t.%1$I::text) FROM %2$s t WHERE %3$s AND %4$s AND NOT (%5$s) '
                         'ORDER BY t.%1$I LIMIT 1 OFFSET %6$s',
                         v_key, target, p.bound, p.expired, keep, batch_size - 1),
                  p.held_ids);
    IF v_last IS NULL THEN
        RETURN ARRAY[format('%s AND %s', p.bound, p.expired), NULL];
    END IF;
    -- (a key can be a subject's id: a parameter, never in the statement's text)
    RETURN ARRAY[format('t.%I OPERATOR(pg_catalog.<=) $%s::%s AND %s AND %s', v_key, param, v_type, p.bound, p.expired),
                 v_last ->> 0];
END
$$;
