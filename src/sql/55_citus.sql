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
