-- Data-subject rights ----------------------------------------------------------

CREATE TABLE privacy_tags.consents (
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    purpose      text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
    granted_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    withdrawn_at timestamptz,
    PRIMARY KEY (subject_type, subject_id, purpose)
);
COMMENT ON TABLE privacy_tags.consents IS
    'Consent per subject and purpose; a withdrawn consent keeps its row with withdrawn_at set.';
REVOKE ALL ON privacy_tags.consents FROM PUBLIC;
GRANT SELECT ON privacy_tags.consents TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.consents', '');

CREATE TABLE privacy_tags.restrictions (
    id           bigserial PRIMARY KEY,
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    reason       text NOT NULL,
    created_by   name NOT NULL DEFAULT SESSION_USER,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    lifted_by    name,
    lifted_at    timestamptz
);
CREATE INDEX ON privacy_tags.restrictions (subject_type, subject_id) WHERE lifted_at IS NULL;
COMMENT ON TABLE privacy_tags.restrictions IS
    'Restriction of processing (GDPR Art. 18): the retention trigger refuses writes to the rows of a restricted subject.';
REVOKE ALL ON privacy_tags.restrictions FROM PUBLIC;
GRANT SELECT ON privacy_tags.restrictions TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.restrictions', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.restrictions_id_seq', '');

CREATE TABLE privacy_tags.suppressions (
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (subject_type, subject_id)
);
COMMENT ON TABLE privacy_tags.suppressions IS
    '"Do not contact": the minimum kept to honour it, the subject''s type and id.';
REVOKE ALL ON privacy_tags.suppressions FROM PUBLIC;
GRANT SELECT ON privacy_tags.suppressions TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.suppressions', '');

-- The tables that hold a subject's rows: the tables with a subject column of
-- the type (roots), and the tables reached from them through foreign keys
-- (children pointing at them, at any depth; cycles and tables that are
-- roots themselves are not entered twice).  pred selects the subject's rows
-- of the table under the alias t; height orders children before parents.
CREATE FUNCTION privacy_tags._subject_tables(p_type text, p_id text)
RETURNS TABLE (relation regclass, pred text, depth integer, height integer,
               collected_at name, is_root boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_nodes jsonb := '{}';      -- relid -> {pred, depth, collected_at, root}
    v_frontier oid[] := '{}';
    v_next oid[];
    r record;
    f record;
    v_pred text;
    v_ok boolean;
    v_level integer := 0;
    v_roots oid[];
BEGIN
    -- roots: one predicate per subject column, ORed per table
    FOR r IN
        SELECT s.relation::oid AS relid, s.column_name, s.collected_at,
               format_type(a.atttypid, a.atttypmod) AS typ
          FROM privacy_tags.subjects s
          JOIN pg_attribute a ON a.attrelid = s.relation AND a.attname = s.column_name
          JOIN pg_class k ON k.oid = s.relation
         WHERE s.subject_type = p_type AND NOT k.relispartition
         ORDER BY s.relation::text, s.column_name
    LOOP
        -- an id that is not a value of the column's type cannot be there
        BEGIN
            EXECUTE format('SELECT %L::%s IS NOT NULL', p_id, r.typ) INTO v_ok;
        EXCEPTION WHEN data_exception THEN
            v_ok := false;
        END;
        v_pred := CASE WHEN v_ok THEN format('t.%I = %L::%s', r.column_name, p_id, r.typ) ELSE 'false' END;
        IF v_nodes ? r.relid::text THEN
            v_nodes := jsonb_set(v_nodes, ARRAY[r.relid::text, 'pred'],
                                 to_jsonb((v_nodes -> r.relid::text ->> 'pred') || ' OR ' || v_pred));
        ELSE
            v_nodes := v_nodes || jsonb_build_object(r.relid::text,
                          jsonb_build_object('pred', v_pred, 'depth', 0, 'collected_at', r.collected_at, 'root', true));
            v_frontier := v_frontier || r.relid;
        END IF;
    END LOOP;
    v_roots := v_frontier;

    -- children, breadth first
    WHILE cardinality(v_frontier) > 0 AND v_level < 16 LOOP
        v_level := v_level + 1;
        v_next := '{}';
        FOR f IN
            SELECT c.conrelid AS child, c.confrelid AS parent,
                   (SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.n)
                      FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS fk_cols,
                   (SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.n)
                      FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS ref_cols
              FROM pg_constraint c
             WHERE c.contype = 'f' AND c.confrelid = ANY (v_frontier) AND c.conparentid = 0
               AND c.conrelid <> c.confrelid
               AND NOT c.conrelid = ANY (v_roots)
             ORDER BY c.conrelid, c.conname
        LOOP
            v_pred := format('(%s) IN (SELECT %s FROM %s t WHERE %s)',
                             f.fk_cols, f.ref_cols, f.parent::regclass, v_nodes -> f.parent::text ->> 'pred');
            IF v_nodes ? f.child::text THEN
                -- a second way in at the same depth widens the set; a deeper one is a cycle
                IF (v_nodes -> f.child::text ->> 'depth')::int = v_level THEN
                    v_nodes := jsonb_set(v_nodes, ARRAY[f.child::text, 'pred'],
                                         to_jsonb((v_nodes -> f.child::text ->> 'pred') || ' OR ' || v_pred));
                END IF;
            ELSE
                v_nodes := v_nodes || jsonb_build_object(f.child::text,
                              jsonb_build_object('pred', v_pred, 'depth', v_level, 'collected_at', NULL, 'root', false));
                v_next := v_next || f.child;
            END IF;
        END LOOP;
        v_frontier := v_next;
    END LOOP;

    FOR r IN SELECT key::oid AS relid, value AS v FROM jsonb_each(v_nodes) LOOP
        relation := r.relid::regclass;
        pred := r.v ->> 'pred';
        depth := (r.v ->> 'depth')::int;
        collected_at := r.v ->> 'collected_at';
        is_root := (r.v ->> 'root')::boolean;
        -- children of a table are purged and erased before it
        WITH RECURSIVE up(relid, h) AS (
            SELECT r.relid, 0
            UNION
            SELECT c.conrelid, up.h + 1 FROM up JOIN pg_constraint c
                ON c.confrelid = up.relid AND c.contype = 'f' AND c.conrelid <> up.relid
             WHERE up.h < 16 AND v_nodes ? c.conrelid::text)
        SELECT max(h) INTO height FROM up;
        RETURN NEXT;
    END LOOP;
END
$$;

-- The tagged columns of a relation, with the facts the export and erasure need.
CREATE FUNCTION privacy_tags._tagged_columns(rel regclass)
RETURNS TABLE (column_name name, tag privacy_tags.privacy_tag, basis text, notnull boolean,
               is_key boolean, anchor name)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.column_name, c.tag, c.legal_basis, a.attnotnull,
           EXISTS (SELECT FROM pg_constraint k
                    WHERE k.conrelid = c.relation AND k.contype IN ('p', 'u', 'f')
                      AND a.attnum = ANY (k.conkey)) OR c.is_subject_key,
           c.anchor
      FROM privacy_tags.columns c
      JOIN pg_attribute a ON a.attrelid = c.relation AND a.attname = c.column_name
     WHERE c.relation = rel
     ORDER BY a.attnum
$$;

CREATE FUNCTION privacy_tags.subject_access(subject_type text, subject_id text,
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
COMMENT ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean) IS
    'Right of access and portability: one JSON document with the subject''s rows in every table, found through subject columns and foreign keys, and the Art. 15 facts about them.';
REVOKE ALL ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean) TO privacy_admin;
