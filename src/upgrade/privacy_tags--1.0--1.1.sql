-- privacy_tags 1.0 -> 1.1
--
-- Hardening (issue 6): every function that takes a table checks that it
-- exists and is a table; subject functions refuse unknown subject types,
-- over-long ids and empty reasons; enforce() handles partitions whose parent
-- is enforced; discover() reads one sample per column and no foreign values;
-- run_purge() purges children before parents like purge(); purges and
-- erasures take one lock so that they never deadlock each other, and run a
-- DELETE again when a concurrent session added a referrer.
-- Nothing stored changes: tags, labels, triggers and tables are kept as they
-- are.  The C library is the same for both versions.

\echo Use "ALTER EXTENSION privacy_tags UPDATE TO '1.1'" to load this file. \quit

-- New functions.

CREATE FUNCTION privacy_tags._check_subject(fn text, p_type text, p_id text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_known text;
BEGIN
    IF octet_length(p_id) > 1000 THEN
        RAISE EXCEPTION '%: subject_id is longer than 1000 bytes', fn
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_seclabel s
                    WHERE s.provider = 'privacy_tags_subject'
                      AND privacy_tags.subject_label_type(s.label) = p_type) THEN
        SELECT string_agg(DISTINCT privacy_tags.subject_label_type(s.label), ', ')
          INTO v_known
          FROM pg_seclabel s WHERE s.provider = 'privacy_tags_subject';
        RAISE EXCEPTION '%: unknown subject type "%"', fn, left(p_type, 63)
            USING ERRCODE = 'undefined_object',
                  HINT = coalesce('Known subject types: ' || v_known || '.',
                                  'No column identifies a data subject yet: mark one with set_subject().');
    END IF;
END
$$;


CREATE FUNCTION privacy_tags._check_purpose(purpose text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF purpose !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid purpose "%"', left(purpose, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Purposes are written like in tags: lower-case letters, digits and "_", starting with a letter, at most 63 bytes.';
    END IF;
END
$$;


CREATE FUNCTION privacy_tags._check_table(fn text, rel regclass)
RETURNS "char"
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_kind "char";
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION '%: relation must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT relkind INTO v_kind FROM pg_class WHERE oid = rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', rel::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF v_kind NOT IN ('r', 'p', 'f') THEN
        RAISE EXCEPTION '"%" is not a table', rel
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Retention is enforced on tables, partitioned tables and foreign tables.';
    END IF;
    RETURN v_kind;
END
$$;


CREATE FUNCTION privacy_tags._serialize_changes()
RETURNS void
LANGUAGE sql
AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(1886680947, 1);	-- 'ptag', 1
$$;

REVOKE ALL ON FUNCTION privacy_tags._serialize_changes() FROM PUBLIC;


CREATE FUNCTION privacy_tags._delete_retrying(stmt text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n bigint;
BEGIN
    FOR v_try IN 1..5 LOOP
        BEGIN
            EXECUTE stmt;
            GET DIAGNOSTICS v_n = ROW_COUNT;
            RETURN v_n;
        EXCEPTION WHEN foreign_key_violation THEN
            IF v_try = 5 THEN
                RAISE;
            END IF;
        END;
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION privacy_tags._delete_retrying(text) FROM PUBLIC;


CREATE FUNCTION privacy_tags._check_purge_target(fn text, rel regclass)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM privacy_tags._check_table(fn, rel);
    IF NOT EXISTS (SELECT FROM privacy_tags.columns c
                    WHERE c.relation = rel AND c.retention IS NOT NULL) THEN
        RAISE EXCEPTION 'relation "%" has no column with a retention window', rel
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Tag a column with retain=<interval> after <column> first.';
    END IF;
END
$$;


-- Functions whose checks changed (their grants and comments are kept).

CREATE OR REPLACE FUNCTION privacy_tags._install_trigger(rel regclass, changed_attnum int2, changed_label text,
                                              changed_subject boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_args text;
    v_n integer;
    v_part regclass;
BEGIN
    -- windowed and consent-based columns: ('column', 'tag'); subject keys:
    -- ('column', '@subject <type>')
    SELECT string_agg(x.arg, ', ' ORDER BY x.attnum, x.kind),
           count(*) FILTER (WHERE x.kind = 0 AND x.windowed)
      INTO v_args, v_n
      FROM (SELECT a.attnum, 0 AS kind, format('%L, %L', a.attname, t.tag::text) AS arg,
                   privacy_tags.retention(t.tag) IS NOT NULL AS windowed
              FROM pg_attribute a
              LEFT JOIN pg_seclabel s
                     ON s.objoid = a.attrelid AND s.objsubid = a.attnum
                    AND s.classoid = 'pg_class'::regclass AND s.provider = 'privacy_tags'
              CROSS JOIN LATERAL (
                    SELECT (CASE WHEN a.attnum = changed_attnum AND NOT changed_subject THEN changed_label
                                 ELSE s.label END)::privacy_tags.privacy_tag AS tag) t
             WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
               AND t.tag IS NOT NULL
               AND (privacy_tags.retention(t.tag) IS NOT NULL OR privacy_tags.legal_basis(t.tag) = 'consent')
            UNION ALL
            SELECT a.attnum, 1, format('%L, %L', a.attname, '@subject ' || privacy_tags.subject_label_type(l.label)), false
              FROM pg_attribute a
              LEFT JOIN pg_seclabel s
                     ON s.objoid = a.attrelid AND s.objsubid = a.attnum
                    AND s.classoid = 'pg_class'::regclass AND s.provider = 'privacy_tags_subject'
              CROSS JOIN LATERAL (
                    SELECT CASE WHEN a.attnum = changed_attnum AND changed_subject THEN changed_label
                                ELSE s.label END AS label) l
             WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND l.label IS NOT NULL) x;
    IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = rel AND tgname = 'privacy_tags_retention') THEN
        EXECUTE format('DROP TRIGGER privacy_tags_retention ON %s', rel);
    END IF;
    -- a partition enforced on its own before its parent gives way: the
    -- parent's trigger is cloned onto every partition
    FOR v_part IN
        SELECT t.tgrelid::regclass
          FROM pg_partition_tree(rel) p
          JOIN pg_trigger t ON t.tgrelid = p.relid
         WHERE p.level > 0 AND t.tgname = 'privacy_tags_retention' AND t.tgparentid = 0
    LOOP
        EXECUTE format('DROP TRIGGER privacy_tags_retention ON %s', v_part);
    END LOOP;
    EXECUTE format('CREATE TRIGGER privacy_tags_retention BEFORE INSERT OR UPDATE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger(%s)',
                   rel, coalesce(v_args, ''));
    RETURN v_n;
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.enforce(rel regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parent regclass;
    v_n integer;
BEGIN
    PERFORM privacy_tags._check_table('enforce', rel);
    SELECT c.oid::regclass INTO v_parent
      FROM pg_trigger t
      JOIN pg_trigger pt ON pt.oid = t.tgparentid
      JOIN pg_class c ON c.oid = pt.tgrelid
     WHERE t.tgrelid = rel AND t.tgname = 'privacy_tags_retention';
    IF FOUND THEN
        RAISE EXCEPTION '"%" is a partition of "%", whose retention trigger it inherits', rel, v_parent
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Tag and enforce the partitioned table: its trigger checks every partition.';
    END IF;
    v_n := privacy_tags._install_trigger(rel, 0::int2, NULL);
    IF v_n = 0 THEN
        RAISE NOTICE 'no column of "%" has a retention window yet', rel
            USING HINT = 'The trigger picks up windows as soon as columns are tagged with retain=.';
    END IF;
    RETURN v_n;
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.unenforce(rel regclass)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_had boolean;
BEGIN
    PERFORM privacy_tags._check_table('unenforce', rel);
    v_had := EXISTS (SELECT FROM pg_trigger
                      WHERE tgrelid = rel AND tgname = 'privacy_tags_retention' AND tgparentid = 0);
    IF v_had THEN
        EXECUTE format('DROP TRIGGER privacy_tags_retention ON %s', rel);
    END IF;
    RETURN v_had;
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.purge(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT now(), dry_run boolean DEFAULT false)
RETURNS TABLE (relation regclass, column_name name, action text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    p record;
    v_n bigint;
    v_keep text;
    v_logged boolean := false;
    v_results jsonb := '[]';
BEGIN
    IF as_of IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'purge: as_of and dry_run must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF purge.rel IS NOT NULL THEN
        PERFORM privacy_tags._check_purge_target('purge', purge.rel);
    END IF;

    IF dry_run THEN
        -- The real run, in a subtransaction that is then rolled back: what it
        -- reports is exactly what the real run would do, foreign keys,
        -- cascades and user triggers included.
        BEGIN
            SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') INTO v_results
              FROM privacy_tags.purge(purge.rel, purge.as_of, false) x;
            RAISE EXCEPTION USING ERRCODE = 'PTDRY';
        EXCEPTION WHEN SQLSTATE 'PTDRY' THEN
            NULL;
        END;
        FOR p IN SELECT * FROM jsonb_to_recordset(v_results)
                   AS x(relation regclass, column_name name, action text, rows bigint) LOOP
            relation := p.relation;
            column_name := p.column_name;
            action := p.action;
            rows := p.rows;
            RETURN NEXT;
            IF p.action IN ('delete', 'nullify') AND p.rows > 0 THEN
                INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                VALUES ('purge', p.relation::text, p.column_name, p.rows,
                        jsonb_build_object('on_expiry', p.action, 'as_of', as_of, 'dry_run', true));
                v_logged := true;
            END IF;
        END LOOP;
    ELSE
        PERFORM privacy_tags._serialize_changes();
        FOR p IN SELECT * FROM privacy_tags._purge_plan(purge.rel, purge.as_of) LOOP
            v_keep := coalesce(p.held, 'false') || CASE WHEN p.blocked IS NULL THEN '' ELSE ' OR ' || p.blocked END;
            relation := p.relation;
            column_name := p.column_name;
            IF p.action = 'delete' THEN
                v_n := privacy_tags._delete_retrying(format('DELETE FROM %s t WHERE %s AND %s AND NOT (%s)',
                                                            p.relation, p.bound, p.expired, v_keep));
            ELSE
                EXECUTE format('UPDATE %s t SET %I = NULL WHERE %s AND %s AND NOT (%s)',
                               p.relation, p.column_name, p.bound, p.expired, v_keep);
                GET DIAGNOSTICS v_n = ROW_COUNT;
            END IF;
            action := p.action;
            rows := v_n;
            RETURN NEXT;
            IF v_n > 0 THEN
                INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                VALUES ('purge', p.relation::text, p.column_name, v_n,
                        jsonb_build_object('on_expiry', p.action, 'as_of', as_of, 'dry_run', false));
                v_logged := true;
            END IF;

            -- expired rows left alone: held subjects, rows other rows point at
            IF p.held IS NOT NULL THEN
                EXECUTE format('SELECT count(*) FROM %s t WHERE %s AND %s AND (%s)',
                               p.relation, p.bound, p.expired, p.held) INTO v_n;
                IF v_n > 0 THEN
                    action := 'held';
                    rows := v_n;
                    RETURN NEXT;
                END IF;
            END IF;
            IF p.blocked IS NOT NULL THEN
                EXECUTE format('SELECT count(*) FROM %s t WHERE %s AND %s AND NOT (%s) AND (%s)',
                               p.relation, p.bound, p.expired, coalesce(p.held, 'false'), p.blocked) INTO v_n;
                IF v_n > 0 THEN
                    action := 'referenced';
                    rows := v_n;
                    RETURN NEXT;
                END IF;
            END IF;
        END LOOP;
    END IF;
    IF NOT v_logged THEN
        -- nothing was due: the run is on record all the same
        INSERT INTO privacy_tags.audit_log (action, relation, rows, details)
        VALUES ('purge', purge.rel::text, 0, jsonb_build_object('as_of', as_of, 'dry_run', dry_run));
    END IF;
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags._purge_batch(target regclass, parent regclass, col name,
                                          as_of timestamptz, batch_size integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    p record;
    v_keep text;
    v_n bigint;
BEGIN
    PERFORM privacy_tags._serialize_changes();
    SELECT * INTO p FROM privacy_tags._purge_plan(parent, as_of) x WHERE x.column_name = col;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    v_keep := coalesce(p.held, 'false') || CASE WHEN p.blocked IS NULL THEN '' ELSE ' OR ' || p.blocked END;
    IF p.action = 'delete' THEN
        v_n := privacy_tags._delete_retrying(
                   format('DELETE FROM %1$s t WHERE t.ctid = ANY (ARRAY(SELECT t.ctid FROM %1$s t '
                          'WHERE %2$s AND %3$s AND NOT (%4$s) LIMIT %5$s)) AND %3$s AND NOT (%4$s)',
                          target, p.bound, p.expired, v_keep, batch_size));
    ELSE
        EXECUTE format('UPDATE %1$s t SET %6$I = NULL WHERE t.ctid = ANY (ARRAY(SELECT t.ctid FROM %1$s t '
                       'WHERE %2$s AND %3$s AND NOT (%4$s) LIMIT %5$s)) AND %3$s AND NOT (%4$s)',
                       target, p.bound, p.expired, v_keep, batch_size, col);
        GET DIAGNOSTICS v_n = ROW_COUNT;
    END IF;
    IF v_n > 0 THEN
        INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
        VALUES ('purge', target::text, col, v_n,
                jsonb_build_object('on_expiry', p.action, 'as_of', as_of, 'batch', true));
    END IF;
    RETURN v_n;
END
$$;


CREATE OR REPLACE PROCEDURE privacy_tags.run_purge(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT NULL,
                                        batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    v_as_of timestamptz := coalesce(as_of, now());
    c record;
    v_n bigint;
    v_total bigint := 0;
BEGIN
    IF batch_size IS NULL THEN
        RAISE EXCEPTION 'run_purge: batch_size must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF batch_size < 1 THEN
        RAISE EXCEPTION 'run_purge: batch_size must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF rel IS NOT NULL THEN
        PERFORM privacy_tags._check_purge_target('run_purge', rel);
    END IF;
    FOR c IN
        -- in the plan's order, as purge(): tables that point at others first
        SELECT x.relation AS parent, x.column_name, x.action,
               coalesce(leaf.relid, x.relation) AS target, k.relkind, pg_catalog.min(x.ord) AS ord
          FROM privacy_tags._purge_plan(rel, v_as_of)
               WITH ORDINALITY x(relation, column_name, action, expired, bound, held, blocked, ord)
          JOIN pg_catalog.pg_class k ON k.oid OPERATOR(pg_catalog.=) x.relation
          LEFT JOIN LATERAL pg_catalog.pg_partition_tree(x.relation) leaf
                 ON k.relkind OPERATOR(pg_catalog.=) 'p' AND leaf.isleaf
         GROUP BY 1, 2, 3, 4, 5
         ORDER BY 6, 4
    LOOP
        IF c.relkind OPERATOR(pg_catalog.=) 'f' THEN
            -- no ctid to batch by on a foreign table: one statement
            SELECT coalesce(pg_catalog.sum(p.rows), 0) INTO v_n
              FROM privacy_tags.purge(c.parent, v_as_of) p
             WHERE p.column_name OPERATOR(pg_catalog.=) c.column_name
               AND p.action OPERATOR(pg_catalog.=) c.action;
            COMMIT;
            CONTINUE;
        END IF;
        LOOP
            v_n := privacy_tags._purge_batch(c.target, c.parent, c.column_name, v_as_of, batch_size);
            COMMIT;
            v_total := v_total OPERATOR(pg_catalog.+) v_n;
            EXIT WHEN v_n OPERATOR(pg_catalog.<) batch_size;
        END LOOP;
    END LOOP;
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.hold(subject_type text, subject_id text, reason text, until timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF hold.subject_type IS NULL OR hold.subject_id IS NULL OR hold.reason IS NULL THEN
        RAISE EXCEPTION 'hold: subject_type, subject_id and reason must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF btrim(hold.reason) = '' THEN
        RAISE EXCEPTION 'hold: reason must not be empty' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Name the claim or obligation the data is held for: it goes into the record.';
    END IF;
    PERFORM privacy_tags._check_subject('hold', hold.subject_type, hold.subject_id);
    IF hold.until IS NOT NULL AND hold.until <= now() THEN
        RAISE EXCEPTION 'hold: until must be in the future'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave until out for a hold that lasts until release().';
    END IF;
    INSERT INTO privacy_tags.legal_holds (subject_type, subject_id, reason, held_until)
    VALUES (hold.subject_type, hold.subject_id, hold.reason, hold.until)
    RETURNING id INTO v_id;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('hold', hold.subject_type, privacy_tags.subject_hash(hold.subject_type, hold.subject_id),
            jsonb_build_object('hold_id', v_id, 'until', hold.until));
    RETURN v_id;
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.subject_access(subject_type text, subject_id text,
                                            since timestamptz DEFAULT NULL,
                                            portable_only boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    c record;
    v_data jsonb := '{}';
    v_fields jsonb := '{}';
    v_rows jsonb;
    v_tfields jsonb;
    v_drop text[];
    v_where text;
    v_records bigint := 0;
    v_unlimited text[] := '{}';
    v_categories text[] := '{}';
    v_bases jsonb := '{}';
    v_retention jsonb := '[]';
    v_purposes text[] := '{}';
    v_expires timestamptz;
    v_name text;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR portable_only IS NULL THEN
        RAISE EXCEPTION 'subject_access: subject_type, subject_id and portable_only must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('subject_access', subject_access.subject_type, subject_access.subject_id);

    FOR t IN SELECT * FROM privacy_tags._subject_tables(subject_type, subject_id) ORDER BY depth, relation::text LOOP
        v_name := t.relation::text;
        v_where := t.pred;
        IF since IS NOT NULL THEN
            IF t.collected_at IS NOT NULL THEN
                v_where := format('(%s) AND t.%I >= %L::timestamptz', v_where, t.collected_at, since);
            ELSE
                v_unlimited := v_unlimited || v_name;
            END IF;
        END IF;
        -- columns left out of a portable export: everything not provided on
        -- the basis of consent or contract
        v_drop := '{}';
        IF portable_only THEN
            SELECT coalesce(array_agg(a.attname::text), '{}') INTO v_drop
              FROM pg_attribute a
             WHERE a.attrelid = t.relation AND a.attnum > 0 AND NOT a.attisdropped
               AND NOT EXISTS (SELECT FROM privacy_tags._tagged_columns(t.relation) x
                                WHERE x.column_name = a.attname AND x.basis IN ('consent', 'contract'));
            IF NOT EXISTS (SELECT FROM privacy_tags._tagged_columns(t.relation) x
                            WHERE x.basis IN ('consent', 'contract')) THEN
                CONTINUE;
            END IF;
        END IF;
        EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(t) - %L::text[] ORDER BY t.ctid), ''[]'') FROM %s t WHERE %s',
                       v_drop, t.relation, v_where) INTO v_rows;
        IF jsonb_array_length(v_rows) = 0 THEN
            CONTINUE;
        END IF;
        v_records := v_records + jsonb_array_length(v_rows);
        v_data := v_data || jsonb_build_object(v_name, v_rows);

        v_tfields := '{}';
        FOR c IN SELECT * FROM privacy_tags._tagged_columns(t.relation) LOOP
            CONTINUE WHEN c.column_name::text = ANY (v_drop);
            v_expires := NULL;
            IF privacy_tags.retention(c.tag) IS NOT NULL THEN
                EXECUTE format('SELECT max(t.%I::timestamptz + %L::interval) FROM %s t WHERE %s',
                               c.anchor, privacy_tags.retention(c.tag), t.relation, v_where) INTO v_expires;
            END IF;
            v_tfields := v_tfields || jsonb_build_object(c.column_name, jsonb_strip_nulls(jsonb_build_object(
                'category', privacy_tags.category(c.tag),
                'basis', c.basis,
                'special', privacy_tags.special_condition(c.tag),
                'purposes', to_jsonb(privacy_tags.purposes(c.tag)),
                'retain', CASE WHEN privacy_tags.retention(c.tag) IS NOT NULL THEN
                               substring(c.tag::text from 'retain=([^;]*)') END,
                'on_expiry', privacy_tags.expiry_action(c.tag),
                'expires_at', v_expires)));
            v_categories := v_categories || privacy_tags.category(c.tag);
            v_purposes := v_purposes || privacy_tags.purposes(c.tag);
            IF c.basis IS NOT NULL THEN
                v_bases := jsonb_set(v_bases, ARRAY[c.basis],
                                     coalesce(v_bases -> c.basis, '[]') || to_jsonb(privacy_tags.category(c.tag)));
            END IF;
            IF privacy_tags.retention(c.tag) IS NOT NULL THEN
                v_retention := v_retention || jsonb_build_object(
                    'relation', v_name, 'column', c.column_name, 'category', privacy_tags.category(c.tag),
                    'retain', substring(c.tag::text from 'retain=([^;]*)'), 'expires_at', v_expires);
            END IF;
        END LOOP;
        v_fields := v_fields || jsonb_build_object(v_name, v_tfields);
    END LOOP;

    -- de-duplicate and sort the lists of the summary
    SELECT coalesce(jsonb_object_agg(key, (SELECT jsonb_agg(DISTINCT x ORDER BY x) FROM jsonb_array_elements_text(value) x)), '{}')
      INTO v_bases FROM jsonb_each(v_bases);

    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES ('access', subject_type, privacy_tags.subject_hash(subject_type, subject_id), v_records,
            jsonb_build_object('since', since, 'portable_only', portable_only, 'tables', (SELECT count(*) FROM jsonb_object_keys(v_data))));

    RETURN jsonb_build_object(
        'format', 'privacy_tags.subject_access/1',
        'subject', jsonb_build_object('type', subject_type, 'id', subject_id),
        'generated_at', now(),
        'since', since,
        'portable_only', portable_only,
        'restricted', EXISTS (SELECT FROM privacy_tags.restrictions r
                               WHERE r.subject_type = subject_access.subject_type
                                 AND r.subject_id = subject_access.subject_id AND r.lifted_at IS NULL),
        'legal_hold', EXISTS (SELECT FROM privacy_tags.legal_holds h
                               WHERE h.subject_type = subject_access.subject_type
                                 AND h.subject_id = subject_access.subject_id AND h.released_at IS NULL
                                 AND (h.held_until IS NULL OR h.held_until > now())),
        'suppressed', EXISTS (SELECT FROM privacy_tags.suppressions s
                               WHERE s.subject_type = subject_access.subject_type
                                 AND s.subject_id = subject_access.subject_id),
        'consents', coalesce((SELECT jsonb_agg(jsonb_build_object('purpose', k.purpose, 'granted_at', k.granted_at,
                                                                'withdrawn_at', k.withdrawn_at) ORDER BY k.purpose)
                                FROM privacy_tags.consents k
                               WHERE k.subject_type = subject_access.subject_type
                                 AND k.subject_id = subject_access.subject_id), '[]'),
        'summary', jsonb_build_object(
            'categories', coalesce((SELECT jsonb_agg(DISTINCT x ORDER BY x) FROM unnest(v_categories) x), '[]'),
            'purposes', coalesce((SELECT jsonb_agg(DISTINCT x ORDER BY x) FROM unnest(v_purposes) x), '[]'),
            'legal_bases', v_bases,
            'retention', v_retention,
            'records', v_records,
            'not_limited_by_since', to_jsonb(v_unlimited)),
        'fields', v_fields,
        'data', v_data);
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags._erase_audited(p_action text, p_type text, p_id text, p_scope text,
                                            p_purposes text[], p_dry_run boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_held boolean;
    v_tables jsonb;
    v_report jsonb;
    v_rows bigint;
    v_try integer;
BEGIN
    PERFORM privacy_tags._serialize_changes();
    v_held := EXISTS (SELECT FROM privacy_tags.legal_holds h
                       WHERE h.subject_type = p_type AND h.subject_id = p_id AND h.released_at IS NULL
                         AND (h.held_until IS NULL OR h.held_until > now()));
    -- A row that another session made a referrer of after a statement's
    -- snapshot fails the foreign key check: the erasure is run again (its
    -- statements' new snapshots see the referrer).  A dry run is always
    -- rolled back.
    FOR v_try IN 1..5 LOOP
        BEGIN
            v_tables := privacy_tags._erase(p_type, p_id, p_scope, p_purposes, v_held);
            IF p_dry_run THEN
                RAISE EXCEPTION USING ERRCODE = 'PTDRY';
            END IF;
            EXIT;
        EXCEPTION
            WHEN SQLSTATE 'PTDRY' THEN
                EXIT;
            WHEN foreign_key_violation THEN
                IF v_try = 5 THEN
                    RAISE;
                END IF;
        END;
    END LOOP;
    v_report := jsonb_build_object('legal_hold', v_held, 'tables', v_tables);
    SELECT coalesce(sum((value->>'deleted')::bigint + (value->>'nulled')::bigint), 0) INTO v_rows
      FROM jsonb_each(v_report->'tables');
    v_report := jsonb_build_object('format', 'privacy_tags.erasure/1',
                                   'subject', jsonb_build_object('type', p_type),
                                   'dry_run', p_dry_run) || v_report;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES (p_action, p_type, privacy_tags.subject_hash(p_type, p_id), v_rows,
            jsonb_build_object('dry_run', p_dry_run, 'purposes', p_purposes, 'tables', v_report->'tables',
                               'legal_hold', v_report->'legal_hold'));
    RETURN v_report;
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.erase(subject_type text, subject_id text, dry_run boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'erase: subject_type, subject_id and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('erase', erase.subject_type, erase.subject_id);
    RETURN privacy_tags._erase_audited('erase', subject_type, subject_id, 'erase', NULL, dry_run);
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.grant_consent(subject_type text, subject_id text, purpose text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR purpose IS NULL THEN
        RAISE EXCEPTION 'grant_consent: subject_type, subject_id and purpose must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('grant_consent', grant_consent.subject_type, grant_consent.subject_id);
    PERFORM privacy_tags._check_purpose(purpose);
    INSERT INTO privacy_tags.consents AS k (subject_type, subject_id, purpose)
    VALUES (grant_consent.subject_type, grant_consent.subject_id, grant_consent.purpose)
    ON CONFLICT ON CONSTRAINT consents_pkey
    DO UPDATE SET granted_at = now(), withdrawn_at = NULL;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('grant_consent', grant_consent.subject_type,
            privacy_tags.subject_hash(grant_consent.subject_type, grant_consent.subject_id),
            jsonb_build_object('purpose', grant_consent.purpose));
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.withdraw_consent(subject_type text, subject_id text, purpose text DEFAULT NULL,
                                              dry_run boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'withdraw_consent: subject_type, subject_id and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('withdraw_consent', withdraw_consent.subject_type, withdraw_consent.subject_id);
    PERFORM privacy_tags._check_purpose(purpose);
    RETURN privacy_tags._erase_audited('withdraw_consent', subject_type, subject_id, 'withdraw',
                                       CASE WHEN purpose IS NULL THEN NULL ELSE ARRAY[purpose] END, dry_run);
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.restrict(subject_type text, subject_id text, reason text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR reason IS NULL THEN
        RAISE EXCEPTION 'restrict: subject_type, subject_id and reason must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF btrim(reason) = '' THEN
        RAISE EXCEPTION 'restrict: reason must not be empty' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Say why processing is restricted (Art. 18(1)): it goes into the record.';
    END IF;
    PERFORM privacy_tags._check_subject('restrict', restrict.subject_type, restrict.subject_id);
    INSERT INTO privacy_tags.restrictions (subject_type, subject_id, reason)
    VALUES (restrict.subject_type, restrict.subject_id, restrict.reason) RETURNING id INTO v_id;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('restrict', restrict.subject_type, privacy_tags.subject_hash(restrict.subject_type, restrict.subject_id),
            jsonb_build_object('restriction_id', v_id));
    RETURN v_id;
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.suppress(subject_type text, subject_id text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL THEN
        RAISE EXCEPTION 'suppress: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('suppress', suppress.subject_type, suppress.subject_id);
    INSERT INTO privacy_tags.suppressions (subject_type, subject_id)
    VALUES (suppress.subject_type, suppress.subject_id) ON CONFLICT DO NOTHING;
    -- keep the minimum: every consent ends, and its data with it
    RETURN privacy_tags._erase_audited('withdraw_consent', subject_type, subject_id, 'withdraw', NULL, false)
           || '{"suppressed": true}';
END
$$;


CREATE OR REPLACE FUNCTION privacy_tags.discover(schema_name name DEFAULT 'public', sample_size integer DEFAULT 200)
RETURNS TABLE (relation regclass, column_name name, suggested_tag privacy_tags.privacy_tag,
               rule text, evidence text, sampled integer, matched integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    v_norm text;
    v_hint record;
    v_pages float8;
    v_pct float8;
    v_mode text;
    v_sampled integer;
    v_category text;
BEGIN
    IF schema_name IS NULL OR sample_size IS NULL THEN
        RAISE EXCEPTION 'discover: schema_name and sample_size must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF sample_size < 1 OR sample_size > 100000 THEN
        RAISE EXCEPTION 'discover: sample_size must be between 1 and 100000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = schema_name) THEN
        RAISE EXCEPTION 'schema "%" does not exist', schema_name USING ERRCODE = 'invalid_schema_name';
    END IF;

    FOR c IN
        SELECT k.oid::regclass AS rel, k.relkind, k.relpages, k.reltuples, a.attname, a.atttypid,
               format_type(a.atttypid, a.atttypmod) AS typ
          FROM pg_class k
          JOIN pg_namespace n ON n.oid = k.relnamespace
          JOIN pg_attribute a ON a.attrelid = k.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = schema_name AND k.relkind IN ('r', 'p', 'f') AND NOT k.relispartition
           AND has_table_privilege(k.oid, 'SELECT')
           AND NOT EXISTS (SELECT FROM pg_seclabel s
                            WHERE s.objoid = k.oid AND s.objsubid = a.attnum
                              AND s.classoid = 'pg_class'::regclass
                              AND s.provider IN ('privacy_tags', 'privacy_tags_subject'))
         ORDER BY k.oid::regclass::text, a.attnum
    LOOP
        relation := c.rel;
        column_name := c.attname;
        suggested_tag := NULL;
        rule := NULL;
        evidence := NULL;
        sampled := NULL;
        matched := NULL;

        -- by the column's type
        IF c.atttypid IN ('inet'::regtype, 'cidr'::regtype) THEN
            suggested_tag := 'network.ip_address; basis=legitimate_interests';
            rule := 'type';
            evidence := format('column type %s holds IP addresses', c.typ);
        ELSIF c.atttypid IN ('macaddr'::regtype, 'macaddr8'::regtype) THEN
            suggested_tag := 'device.mac_address; basis=legitimate_interests';
            rule := 'type';
            evidence := format('column type %s holds MAC addresses', c.typ);
        END IF;

        -- by sampled values (text-like columns), a bounded block sample; a
        -- foreign table's values are not fetched from its server
        IF suggested_tag IS NULL AND c.relkind <> 'f'
           AND (c.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)
                OR format_type(c.atttypid, NULL) = 'citext') THEN
            -- enough blocks for about 4 x sample_size rows, never the whole of a large table
            v_pct := CASE WHEN c.reltuples <= 0 OR c.reltuples <= 4 * sample_size THEN 100
                          ELSE least(100, greatest(0.01, 400.0 * sample_size / c.reltuples)) END;
            -- one sample, read once: what was sampled and what matched come
            -- from the same rows
            EXECUTE format('WITH s AS MATERIALIZED (SELECT privacy_tags.value_kind(t.%1$I::text) AS k '
                           'FROM %2$s t %3$s WHERE t.%1$I IS NOT NULL LIMIT %4$s), '
                           'm AS (SELECT mode() WITHIN GROUP (ORDER BY k) AS mode FROM s) '
                           'SELECT (SELECT count(*)::int FROM s), m.mode, '
                           '(SELECT count(*)::int FROM s WHERE s.k = m.mode) FROM m',
                           c.attname, c.rel,
                           CASE WHEN v_pct < 100 THEN format('TABLESAMPLE SYSTEM (%s)', v_pct) ELSE '' END,
                           sample_size)
               INTO v_sampled, v_mode, matched;
            -- a majority of the sampled values, and at least 3 of them
            IF v_sampled > 0 AND v_mode IS NOT NULL AND matched >= 3 AND matched * 2 >= v_sampled THEN
                v_category := CASE v_mode
                                  WHEN 'email' THEN 'contact.email'
                                  WHEN 'phone' THEN 'contact.phone'
                                  WHEN 'ipv4' THEN 'network.ip_address'
                                  WHEN 'ipv6' THEN 'network.ip_address'
                                  WHEN 'card' THEN 'financial.payment_card'
                                  WHEN 'personnummer' THEN 'identifiers.national_id' END;
                suggested_tag := v_category::privacy_tags.privacy_tag;
                rule := 'values: ' || v_mode;
                sampled := v_sampled;
                evidence := format('%s of %s sampled values look like %s', matched, v_sampled,
                                   CASE v_mode WHEN 'email' THEN 'email addresses'
                                                     WHEN 'phone' THEN 'phone numbers'
                                                     WHEN 'ipv4' THEN 'IPv4 addresses'
                                                     WHEN 'ipv6' THEN 'IPv6 addresses'
                                                     WHEN 'card' THEN 'payment card numbers (Luhn check passed)'
                                                     WHEN 'personnummer' THEN 'Swedish personal identity numbers (check digit valid)' END);
            ELSE
                sampled := v_sampled;
                matched := coalesce(matched, 0);
            END IF;
        END IF;

        -- by the column's name
        IF suggested_tag IS NULL THEN
            -- lower case, Swedish letters folded (lön, ålder, födelsedatum), separators as "_"
            v_norm := translate(lower(c.attname), 'åäöéüÅÄÖÉÜ', 'aaoeuaaoeu');
            v_norm := regexp_replace(v_norm, '[^a-z0-9]+', '_', 'g');
            SELECT h.* INTO v_hint FROM privacy_tags.name_hints h
             WHERE (h.match = 'exact' AND h.pattern = v_norm)
                OR (h.match = 'fragment' AND strpos(v_norm, h.pattern) > 0)
             ORDER BY h.match = 'exact' DESC, length(h.pattern) DESC, h.pattern
             LIMIT 1;
            IF FOUND THEN
                suggested_tag := v_hint.category::privacy_tags.privacy_tag;
                rule := 'name: ' || v_hint.match;
                evidence := format('column name "%s" %s "%s"', c.attname,
                                   CASE v_hint.match WHEN 'exact' THEN 'is' ELSE 'contains' END, v_hint.pattern);
                sampled := NULL;
                matched := NULL;
            END IF;
        END IF;

        IF suggested_tag IS NOT NULL THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
