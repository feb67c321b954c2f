-- Data-subject rights ----------------------------------------------------------

CREATE TABLE privacy_tags.consents (
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    purpose      text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
    granted_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    withdrawn_at timestamptz,
    withdrawn_reason text CHECK (withdrawn_reason IN ('withdrawn', 'erased', 'suppressed')),
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

-- The tagged columns of a relation, with the facts the export and erasure
-- need.  Reads pg_seclabel through its index on the relation (not the
-- inventory view, which decodes every label of the database).
CREATE FUNCTION privacy_tags._tagged_columns(rel regclass)
RETURNS TABLE (column_name name, tag privacy_tags.privacy_tag, basis text, notnull boolean,
               is_key boolean, anchor name)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- (PL/pgSQL keeps these queries' plans for the session; NOT NULL counts
    -- through domains)
    IF (SELECT k.relkind FROM pg_class k WHERE k.oid = rel) <> 'p' THEN
        RETURN QUERY
        SELECT a.attname, t.tag, privacy_tags.legal_basis(t.tag),
               a.attnotnull OR privacy_tags._type_not_null(a.atttypid),
               EXISTS (SELECT FROM pg_constraint k
                        WHERE k.conrelid = rel AND k.contype IN ('p', 'u', 'f') AND a.attnum = ANY (k.conkey))
               OR EXISTS (SELECT FROM pg_seclabel k
                           WHERE k.objoid = rel AND k.classoid = 'pg_class'::regclass
                             AND k.objsubid = a.attnum AND k.provider = 'privacy_tags_subject'),
               privacy_tags.retention_anchor(t.tag)
          FROM pg_seclabel s
          JOIN pg_attribute a ON a.attrelid = s.objoid AND a.attnum = s.objsubid
          CROSS JOIN LATERAL (SELECT s.label::privacy_tags.privacy_tag AS tag) t
         WHERE s.objoid = rel AND s.classoid = 'pg_class'::regclass AND s.provider = 'privacy_tags'
           AND s.objsubid > 0 AND NOT a.attisdropped
         ORDER BY a.attnum;
        RETURN;
    END IF;
    -- a partitioned table: a partition's own tag counts for its tree where
    -- the root has none (a table tagged before it was attached is never
    -- invisible)
    RETURN QUERY
    SELECT x.attname, x.tag, privacy_tags.legal_basis(x.tag), x.attnotnull,
           EXISTS (SELECT FROM pg_constraint k
                    WHERE k.conrelid = rel AND k.contype IN ('p', 'u', 'f') AND x.attnum = ANY (k.conkey))
           OR EXISTS (SELECT FROM pg_seclabel k
                       WHERE k.objoid = rel AND k.classoid = 'pg_class'::regclass
                         AND k.objsubid = x.attnum AND k.provider = 'privacy_tags_subject'),
           privacy_tags.retention_anchor(x.tag)
      FROM (SELECT DISTINCT ON (ra.attnum) ra.attname, ra.attnum,
                   ra.attnotnull OR privacy_tags._type_not_null(ra.atttypid) AS attnotnull,
                   s.label::privacy_tags.privacy_tag AS tag
              FROM pg_partition_tree(rel) p
              JOIN pg_seclabel s ON s.objoid = p.relid
              JOIN pg_attribute a ON a.attrelid = s.objoid AND a.attnum = s.objsubid
              JOIN pg_attribute ra ON ra.attrelid = rel AND ra.attname = a.attname AND NOT ra.attisdropped
             WHERE s.classoid = 'pg_class'::regclass AND s.provider = 'privacy_tags'
               AND s.objsubid > 0 AND NOT a.attisdropped
             ORDER BY ra.attnum, p.level, s.objoid) x
     ORDER BY x.attnum;
END
$$;

-- The right of access (C: src/subject_graph.c): the subject's rows in every
-- table of the graph, one kept statement per table run as its owner (the id
-- a parameter), each row's jsonb written once into the document; what is
-- said about the tables put together in C, the subject's state and the
-- declarations' facts by one kept statement, and the audit entry.
CREATE FUNCTION privacy_tags.subject_access(subject_type text, subject_id text,
                                            since timestamptz DEFAULT NULL,
                                            portable_only boolean DEFAULT false, request bigint DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'privacy_tags_subject_access'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean, bigint) IS
    'Right of access and portability: one JSON document with the subject''s rows in every table, found through subject columns and foreign keys, and the Art. 15 facts about them.';
REVOKE ALL ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean, bigint) TO privacy_admin;

-- "col = <what a kept row gets>" for a tagged column of rel: NULL, the
-- tag's redact value or literal (a constant of the column's type), or a
-- keyed hash of the value (a stable pseudonym, 32 hex digits or a uuid),
-- keyed with the audit key, which the statement gets as parameters
-- $<key_param> and the next (never written into its text).
CREATE FUNCTION privacy_tags._mask_expr(rel regclass, col name, tag privacy_tags.privacy_tag,
                                        key_param integer DEFAULT 2)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_type regtype;
    v_typ text;
    v_mask text := privacy_tags.mask(tag);
BEGIN
    SELECT a.atttypid, format_type(a.atttypid, a.atttypmod) INTO v_type, v_typ
      FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col AND NOT a.attisdropped;
    IF v_mask IS NULL OR v_mask = 'null' THEN
        RETURN 'NULL';
    ELSIF v_mask = 'hash' THEN
        -- (as a uuid: version 8, variant 8, so that a pseudonym is told
        -- from an original and never hashed again; see _unmasked())
        RETURN format('(%2$sleft(encode(sha256(decode($%5$s, ''hex'') || sha256(decode($%4$s, ''hex'') || '
                      'convert_to(t.%1$I::text, ''UTF8''))), ''hex''), 32)%3$s)',
                      col,
                      CASE WHEN privacy_tags._base_type(v_type) = 'uuid'::regtype THEN 'overlay(overlay(' ELSE '' END,
                      CASE WHEN privacy_tags._base_type(v_type) = 'uuid'::regtype
                           THEN ' placing ''8'' from 13 for 1) placing ''8'' from 17 for 1)::uuid' ELSE '' END,
                      key_param, key_param + 1);
    END IF;
    RETURN format('%L::%s', privacy_tags._mask_value(tag, v_type), v_typ);
END
$$;

-- "col = <what a kept row gets>": _mask_expr() assigned.
CREATE FUNCTION privacy_tags._mask_assignment(rel regclass, col name, tag privacy_tags.privacy_tag,
                                              key_param integer DEFAULT 2)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%I = %s', col, privacy_tags._mask_expr(rel, col, tag, key_param))
$$;

-- "t.col has a value that is not its mask yet" for a tagged column of rel:
-- what a purge's nullify or an erasure still has to change.  A value equal
-- to the tag's redact value or literal (compared as text), or a pseudonym
-- of mask=hash (32 hexadecimal digits; a uuid of version 8), is done: a
-- second purge or erasure leaves it, and a pseudonym stays stable.
CREATE FUNCTION privacy_tags._unmasked(rel regclass, col name, tag privacy_tags.privacy_tag)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_type regtype;
    v_typ text;
    v_mask text := privacy_tags.mask(tag);
BEGIN
    SELECT a.atttypid, format_type(a.atttypid, a.atttypmod) INTO v_type, v_typ
      FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col AND NOT a.attisdropped;
    IF v_mask IS NULL OR v_mask = 'null' THEN
        RETURN format('t.%I IS NOT NULL', col);
    ELSIF v_mask = 'hash' THEN
        IF privacy_tags._base_type(v_type) = 'uuid'::regtype THEN
            RETURN format('(t.%1$I IS NOT NULL AND substr(t.%1$I::text, 15, 1) <> ''8'')', col);
        END IF;
        RETURN format('(t.%1$I IS NOT NULL AND t.%1$I::text !~ ''^[0-9a-f]{32}$'')', col);
    END IF;
    RETURN format('(t.%1$I IS NOT NULL AND t.%1$I::text IS DISTINCT FROM (%2$L::%3$s)::text)',
                  col, privacy_tags._mask_value(tag, v_type), v_typ);
END
$$;

-- What refused an erasure's change of rel, for its one error: the column
-- and the constraint (a CHECK or domain constraint, a NOT NULL that the
-- mask does not satisfy).
CREATE FUNCTION privacy_tags._erase_blocker(rel regclass, sqlstate text, constraint_name text, column_name text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%s%s (%s)', rel, CASE WHEN coalesce(column_name, '') <> '' THEN '.' || quote_ident(column_name) ELSE '' END,
                  CASE sqlstate
                      WHEN '23514' THEN format('check constraint %s', coalesce(nullif(constraint_name, ''), 'of a domain'))
                      WHEN '23502' THEN 'NOT NULL'
                      ELSE sqlstate END)
$$;

-- Erase (or, with p_purposes, withdraw consent): the shared engine, over the
-- subject graph (_subject_graph()).  Own rows of tagged tables: a row goes
-- when nothing in it must be kept and no row points at it, otherwise its
-- erasable values are nulled; rows the subject's rows point at (parents)
-- are locked and remembered first, while they can still be reached, and
-- dealt with the same way after what points at them.  Shared rows (they
-- also belong to another subject) are never deleted: the subject's
-- references in them are masked where the column allows, and they are kept
-- with reason shared.  Rows of untagged tables are never changed
-- (unclassified).  Every erasable value in a NOT NULL column of a row that
-- must stay is named in one error at the end (so nothing changes).
-- p_scope: 'erase', 'withdraw' (p_purposes: the purposes withdrawn) or
-- 'partial' (p_purposes: the categories to erase; no row is deleted).
CREATE FUNCTION privacy_tags._erase(p_type text, p_id text, p_scope text, p_purposes text[],
                                    p_held boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    m jsonb;
    v_report jsonb := '{}';
    v_erasable text[];          -- columns whose values go
    v_all boolean;              -- every tagged column of the table goes
    v_legal text;
    v_refs text;
    v_keep text;
    v_own text;
    v_set text;
    v_any text;
    v_counts jsonb;
    v_n_deleted bigint;
    v_n_nulled bigint;
    v_n_legal bigint;
    v_n_refs bigint;
    v_n_shared bigint;
    v_n_masked bigint;
    v_masked text[];
    v_bad text[];
    v_blockers text[] := '{}';
    v_n bigint;
    v_params text[];
    v_tparams text[];
    v_other_blockers text[] := '{}';
    v_refused boolean;
    v_state text;
    v_cname text;
    v_ccol text;
    v_pred text;
    v_deletable boolean;
    v_parent_rows jsonb := '{}';
    v_links boolean;
BEGIN
    -- $1 the id; $2, $3 the key of hash masks
    SELECT ARRAY[p_id, encode(k.ipad, 'hex'), encode(k.opad, 'hex')] INTO v_params
      FROM privacy_tags.audit_key k ORDER BY k.generated_at LIMIT 1;
    -- a withdrawal is recorded even for a held subject, whose data then stays
    IF p_scope = 'withdraw' THEN
        UPDATE privacy_tags.consents k SET withdrawn_at = now(), withdrawn_reason = 'withdrawn'
         WHERE k.subject_type = p_type AND k.subject_id = p_id AND k.withdrawn_at IS NULL
           AND (p_purposes IS NULL OR k.purpose = ANY (p_purposes));
    END IF;
    IF p_held THEN
        RETURN '{}';
    END IF;
    -- the subject's root rows first: writers that reference them through
    -- foreign keys wait until the erasure is done
    FOR t IN SELECT * FROM privacy_tags._subject_graph(p_type) g WHERE g.kind = 'root' AND g.tagged LOOP
        PERFORM privacy_tags._owner_exec(t.relation,
                    format('SELECT FROM %s t WHERE %s FOR UPDATE', t.relation, t.pred), v_params);
    END LOOP;
    -- rows reached through a link (no foreign key) are not protected by
    -- those locks: when the graph has links, its children are read a second
    -- time at the end, and rows written meanwhile are erased too ("late")
    v_links := EXISTS (SELECT FROM privacy_tags._subject_graph(p_type) g WHERE g.via ~ '(^|; )link ');
    -- the rows the subject's rows point at (parents: an address), locked
    -- and remembered while they can be reached; they are dealt with after
    -- the rows that point at them, and go when nothing points at them any
    -- more (else their erasable values are nulled)
    IF p_scope <> 'partial' THEN
        FOR t IN SELECT * FROM privacy_tags._subject_graph(p_type) g WHERE g.kind = 'parent' AND g.tagged LOOP
            v_parent_rows := v_parent_rows || jsonb_build_object(t.relation::text, privacy_tags._owner_query(t.relation,
                format('SELECT jsonb_build_array(coalesce(jsonb_agg(s.tid), ''[]''), coalesce(jsonb_agg(s.k), ''[]'')) '
                       'FROM (SELECT t.ctid::text AS tid, t.tableoid::oid::text || ''/'' || t.ctid::text AS k '
                       'FROM %s t WHERE %s FOR UPDATE) s', t.relation, t.pred), v_params));
        END LOOP;
    END IF;
    -- (every statement on a user table runs as its owner, the id as $1;
    -- children before what they point at)
    FOR t IN SELECT g.*, x.pass FROM privacy_tags._subject_graph(p_type) g,
                    LATERAL (VALUES (1), (2)) x(pass)
              WHERE x.pass = 1 OR (v_links AND g.kind = 'child' AND g.tagged AND p_scope <> 'partial')
              ORDER BY x.pass, g.erase_order, g.depth DESC, g.relation::text LOOP
        -- (after a blocker nothing is changed: no second pass)
        CONTINUE WHEN t.pass = 2 AND cardinality(v_blockers) + cardinality(v_other_blockers) > 0;
        -- a parent's rows are the ones locked at the start (the subject's
        -- rows that pointed at them may be gone by now)
        v_pred := t.pred;
        v_tparams := v_params;
        v_deletable := t.kind <> 'parent';
        IF t.kind = 'parent' AND v_parent_rows ? t.relation::text THEN
            v_pred := 't.ctid = ANY ($4::tid[]) AND (t.tableoid::oid::text || ''/'' || t.ctid::text) = ANY ($5::text[])';
            v_tparams := v_params || ARRAY[ARRAY(SELECT jsonb_array_elements_text(v_parent_rows -> t.relation::text -> 0))::text,
                                           ARRAY(SELECT jsonb_array_elements_text(v_parent_rows -> t.relation::text -> 1))::text];
            v_deletable := true;
        END IF;
        v_own := CASE WHEN t.shared IS NULL THEN 'true' ELSE format('NOT coalesce(%s, false)', t.shared) END;
        IF NOT t.tagged THEN
            -- unclassified: never changed
            v_n := privacy_tags._owner_query(t.relation,
                       format('SELECT to_jsonb(count(*)) FROM %s t WHERE %s', t.relation, v_pred), v_tparams);
            IF v_n > 0 THEN
                v_report := v_report || jsonb_build_object(t.relation::text, jsonb_build_object(
                    'deleted', 0, 'nulled', 0, 'kept', v_n, 'kept_because', jsonb_build_object('unclassified', v_n)));
            END IF;
            CONTINUE;
        END IF;
        IF p_scope = 'partial' THEN
            -- only the columns of the categories, in place: no row goes
            SELECT coalesce(array_agg(c.column_name::text)
                              FILTER (WHERE c.basis IS DISTINCT FROM 'legal_obligation' AND NOT c.is_key
                                        AND EXISTS (SELECT FROM unnest(p_purposes) k
                                                     WHERE c.tag OPERATOR(privacy_tags.<@) k)), '{}'),
                   'false', false
              INTO v_erasable, v_legal, v_all
              FROM privacy_tags._tagged_columns(t.relation) c;
            CONTINUE WHEN cardinality(v_erasable) = 0;
        ELSIF p_scope = 'erase' THEN
            -- (a key column that is itself personal data, an email, is masked
            -- in kept rows when its tag gives a mask)
            SELECT coalesce(array_agg(c.column_name::text)
                              FILTER (WHERE c.basis IS DISTINCT FROM 'legal_obligation'
                                        AND (NOT c.is_key OR privacy_tags.mask(c.tag) <> 'null')), '{}'),
                   coalesce(string_agg(format('t.%I IS NOT NULL', c.column_name), ' OR ') FILTER (WHERE c.basis = 'legal_obligation'), 'false'),
                   coalesce(bool_and(c.basis IS DISTINCT FROM 'legal_obligation'), true)
              INTO v_erasable, v_legal, v_all
              FROM privacy_tags._tagged_columns(t.relation) c;
        ELSIF p_scope = 'object' THEN
            -- columns whose every purpose the subject objects to (see
            -- _objected(): legitimate interests, and the opt-out purposes
            -- whatever the basis)
            SELECT coalesce(array_agg(c.column_name::text) FILTER (WHERE c.erasable AND NOT c.is_key), '{}'),
                   coalesce(string_agg(format('t.%I IS NOT NULL', c.column_name), ' OR ') FILTER (WHERE NOT c.erasable), 'false'),
                   coalesce(bool_and(c.erasable), true)
              INTO v_erasable, v_legal, v_all
              FROM (SELECT x.column_name, x.is_key, privacy_tags._objected(p_type, p_id, x.tag) AS erasable
                      FROM privacy_tags._tagged_columns(t.relation) x) c;
            IF cardinality(v_erasable) = 0 AND NOT v_all THEN
                CONTINUE;
            END IF;
        ELSE
            -- consent-based columns whose purposes no remaining consent covers
            SELECT coalesce(array_agg(c.column_name::text) FILTER (WHERE c.erasable AND NOT c.is_key), '{}'),
                   coalesce(string_agg(format('t.%I IS NOT NULL', c.column_name), ' OR ') FILTER (WHERE NOT c.erasable), 'false'),
                   coalesce(bool_and(c.erasable), true)
              INTO v_erasable, v_legal, v_all
              FROM (SELECT x.column_name, x.is_key,
                           x.basis = 'consent'
                           AND (p_purposes IS NULL OR cardinality(privacy_tags.purposes(x.tag)) = 0
                                OR privacy_tags.purposes(x.tag) && p_purposes)
                           AND NOT EXISTS (SELECT FROM privacy_tags.consents k
                                            WHERE k.subject_type = p_type AND k.subject_id = p_id
                                              AND k.withdrawn_at IS NULL
                                              AND (cardinality(privacy_tags.purposes(x.tag)) = 0
                                                   OR k.purpose = ANY (privacy_tags.purposes(x.tag)))) AS erasable
                      FROM privacy_tags._tagged_columns(t.relation) x) c;
            IF cardinality(v_erasable) = 0 AND NOT v_all THEN
                CONTINUE;
            END IF;
        END IF;
        -- rows that other rows point at stay (children were handled first:
        -- what still points at a row is kept data, or another subject's)
        v_refs := CASE WHEN p_scope = 'partial' THEN 'false'
                       ELSE coalesce(privacy_tags._referenced_by(t.relation, false), 'false') END;
        v_keep := format('(%s) OR (%s)', v_legal, v_refs);

        v_counts := privacy_tags._owner_query(t.relation,
                        format('SELECT jsonb_build_array(count(*) FILTER (WHERE (%1$s) AND (%2$s)), '
                               'count(*) FILTER (WHERE (%1$s) AND NOT (%2$s) AND (%3$s)), '
                               'count(*) FILTER (WHERE NOT (%1$s))) '
                               'FROM %4$s t WHERE %5$s', v_own, v_legal, v_refs, t.relation, v_pred), v_tparams);
        v_n_legal := (v_counts ->> 0)::bigint;
        v_n_refs := (v_counts ->> 1)::bigint;
        v_n_shared := (v_counts ->> 2)::bigint;

        -- shared rows: the subject's references in them go where the column allows
        v_n_masked := 0;
        v_masked := '{}';
        IF v_n_shared > 0 AND p_scope = 'erase' THEN
            FOR m IN SELECT * FROM jsonb_array_elements(t.masks) LOOP
                BEGIN
                    v_n := privacy_tags._owner_exec(t.relation,
                               format('UPDATE %s t SET %s WHERE (%s) AND NOT (%s) AND (%s)',
                                      t.relation, m ->> 'set', v_pred, v_own, m ->> 'where'), v_tparams);
                EXCEPTION WHEN not_null_violation OR check_violation THEN
                    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_cname = CONSTRAINT_NAME, v_ccol = COLUMN_NAME;
                    v_other_blockers := v_other_blockers || privacy_tags._erase_blocker(t.relation, v_state, v_cname, v_ccol);
                    v_n := 0;
                END;
                IF v_n > 0 THEN
                    v_n_masked := v_n_masked + v_n;
                    v_masked := v_masked || ARRAY(SELECT jsonb_array_elements_text(m -> 'columns'));
                END IF;
            END LOOP;
        END IF;

        v_n_deleted := 0;
        IF v_all AND v_deletable THEN
            v_n_deleted := privacy_tags._owner_exec(t.relation,
                               format('DELETE FROM %s t WHERE (%s) AND (%s) AND NOT (%s)', t.relation, v_pred, v_own, v_keep),
                               v_tparams);
        END IF;

        v_n_nulled := 0;
        -- (after a DELETE of every own row, no own row is left to null)
        IF cardinality(v_erasable) > 0 AND NOT (v_all AND v_deletable AND v_n_legal + v_n_refs = 0) THEN
            -- NULL, or the column's mask
            -- (a value that is its mask already is left as it is: a
            -- pseudonym is not hashed again)
            SELECT string_agg(format('%I = CASE WHEN %s THEN %s ELSE t.%I END', c.column_name,
                                     privacy_tags._unmasked(t.relation, c.column_name, c.tag),
                                     privacy_tags._mask_expr(t.relation, c.column_name, c.tag), c.column_name), ', '),
                   string_agg(privacy_tags._unmasked(t.relation, c.column_name, c.tag), ' OR ')
              INTO v_set, v_any
              FROM privacy_tags._tagged_columns(t.relation) c WHERE c.column_name::text = ANY (v_erasable);
            -- values that must go from rows that must stay, in NOT NULL
            -- columns without a mask
            SELECT array_agg(c.column_name::text ORDER BY c.column_name) INTO v_bad
              FROM privacy_tags._tagged_columns(t.relation) c
             WHERE c.column_name::text = ANY (v_erasable) AND c.notnull AND privacy_tags.mask(c.tag) = 'null';
            v_n := 0;
            IF v_bad IS NOT NULL THEN
                v_n := privacy_tags._owner_query(t.relation,
                           format('SELECT to_jsonb(count(*)) FROM %s t WHERE (%s) AND (%s) AND (%s)', t.relation, v_pred, v_own,
                                  CASE WHEN v_all AND v_deletable THEN v_keep ELSE 'true' END), v_tparams);
                IF v_n > 0 THEN
                    v_blockers := v_blockers || ARRAY(SELECT format('%s.%I (%s rows)', t.relation, b, v_n) FROM unnest(v_bad) b);
                END IF;
            END IF;
            v_refused := v_n > 0;
            IF NOT v_refused THEN
                BEGIN
                    v_n_nulled := privacy_tags._owner_exec(t.relation,
                                      format('UPDATE %s t SET %s WHERE (%s) AND (%s) AND (%s)', t.relation, v_set, v_pred, v_own, v_any),
                                      v_tparams);
                EXCEPTION WHEN not_null_violation OR check_violation THEN
                    v_refused := true;
                END;
            END IF;
            IF v_refused THEN
                -- something refuses: each column on its own, in a
                -- subtransaction rolled back, so that every constraint that
                -- refuses (a CHECK, a domain) is named in the one error
                FOR m IN SELECT to_jsonb(c) FROM privacy_tags._tagged_columns(t.relation) c
                          WHERE c.column_name::text = ANY (v_erasable) AND c.column_name::text <> ALL (coalesce(v_bad, '{}'))
                          ORDER BY c.column_name LOOP
                    BEGIN
                        PERFORM privacy_tags._owner_exec(t.relation,
                                    format('UPDATE %s t SET %I = %s WHERE (%s) AND (%s) AND (%s)', t.relation, m ->> 'column_name',
                                           privacy_tags._mask_expr(t.relation, (m ->> 'column_name')::name,
                                                                   (m ->> 'tag')::privacy_tags.privacy_tag),
                                           v_pred, v_own,
                                           privacy_tags._unmasked(t.relation, (m ->> 'column_name')::name,
                                                                  (m ->> 'tag')::privacy_tags.privacy_tag)),
                                    v_tparams);
                        RAISE EXCEPTION USING ERRCODE = 'PTPRB';
                    EXCEPTION
                        WHEN SQLSTATE 'PTPRB' THEN
                            NULL;
                        WHEN not_null_violation OR check_violation THEN
                            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_cname = CONSTRAINT_NAME;
                            v_other_blockers := v_other_blockers
                                || privacy_tags._erase_blocker(t.relation, v_state, v_cname, m ->> 'column_name');
                    END;
                END LOOP;
                CONTINUE;
            END IF;
        END IF;

        IF t.pass = 2 THEN
            -- the second reading: only what changed now counts, as late rows
            IF v_n_deleted + v_n_nulled + v_n_masked > 0 THEN
                m := coalesce(v_report -> t.relation::text, '{"deleted": 0, "nulled": 0, "kept": 0}');
                v_report := v_report || jsonb_build_object(t.relation::text, m || jsonb_strip_nulls(jsonb_build_object(
                    'deleted', (m ->> 'deleted')::bigint + v_n_deleted,
                    'nulled', (m ->> 'nulled')::bigint + v_n_nulled,
                    'nulled_columns', CASE WHEN v_n_nulled > 0 THEN to_jsonb(v_erasable) ELSE m -> 'nulled_columns' END,
                    'masked', nullif(coalesce((m ->> 'masked')::bigint, 0) + v_n_masked, 0),
                    'late', v_n_deleted + v_n_nulled + v_n_masked)));
            END IF;
            CONTINUE;
        END IF;
        IF v_n_deleted + v_n_nulled + v_n_legal + v_n_refs + v_n_shared > 0 THEN
            v_report := v_report || jsonb_build_object(t.relation::text, jsonb_strip_nulls(jsonb_build_object(
                'deleted', v_n_deleted,
                'nulled', v_n_nulled,
                'nulled_columns', CASE WHEN v_n_nulled > 0 THEN to_jsonb(v_erasable) END,
                'masked', nullif(v_n_masked, 0),
                'masked_columns', CASE WHEN v_n_masked > 0 THEN to_jsonb(ARRAY(SELECT DISTINCT x FROM unnest(v_masked) x ORDER BY 1)) END,
                'kept', v_n_legal + v_n_refs + v_n_shared,
                'kept_because', CASE WHEN v_n_legal + v_n_refs + v_n_shared > 0 THEN jsonb_strip_nulls(jsonb_build_object(
                    CASE WHEN p_scope = 'erase' THEN 'legal_obligation' ELSE 'other_basis' END,
                    nullif(v_n_legal, 0),
                    'referenced', nullif(v_n_refs, 0),
                    'shared', nullif(v_n_shared, 0))) END)));
        END IF;
    END LOOP;
    IF cardinality(v_blockers) > 0 THEN
        IF cardinality(v_other_blockers) = 0 THEN
            RAISE EXCEPTION 'cannot erase %: NOT NULL in rows that must be kept', array_to_string(v_blockers, ', ')
                USING ERRCODE = 'not_null_violation',
                      DETAIL = 'Those rows stay because of legal_obligation data or rows pointing at them; nothing was changed.',
                      HINT = 'Give each column a mask (mask=redact or a literal) in its tag, drop its NOT NULL constraint, or tag it with the basis that keeps it.';
        END IF;
    END IF;
    IF cardinality(v_other_blockers) > 0 THEN
        RAISE EXCEPTION 'cannot erase %: constraints refuse the change in rows that must be kept',
                        array_to_string(v_blockers || v_other_blockers, ', ')
            USING ERRCODE = CASE WHEN cardinality(v_blockers) > 0 THEN 'not_null_violation' ELSE 'check_violation' END,
                  DETAIL = 'Those rows stay because of legal_obligation data, rows pointing at them or other subjects; nothing was changed.',
                  HINT = 'Give each column a mask that its constraints accept, change the constraint, or tag the column with the basis that keeps it.';
    END IF;
    -- after an erasure no consent of the subject is active
    IF p_scope = 'erase' THEN
        UPDATE privacy_tags.consents k SET withdrawn_at = now(), withdrawn_reason = 'erased'
         WHERE k.subject_type = p_type AND k.subject_id = p_id AND k.withdrawn_at IS NULL;
    END IF;
    RETURN v_report;
END
$$;

-- Run _erase for real, or as a dry run (in a subtransaction rolled back, so
-- the report is exactly what the real run does), and audit it.
CREATE FUNCTION privacy_tags._erase_audited(p_action text, p_type text, p_id text, p_scope text,
                                            p_purposes text[], p_dry_run boolean, p_request bigint DEFAULT NULL,
                                            p_ledger boolean DEFAULT true)
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
    IF NOT p_dry_run THEN
        IF v_held THEN
            -- kept only because of the hold: done when the hold ends
            -- (release(), or its until passing, picked up by run_purge())
            INSERT INTO privacy_tags.deferred_erasures (subject_type, subject_id, action, scope, purposes, request_id)
            SELECT p_type, p_id, p_action, p_scope, p_purposes, p_request
             WHERE NOT EXISTS (SELECT FROM privacy_tags.deferred_erasures d
                                WHERE d.subject_type = p_type AND d.subject_id = p_id AND d.completed_at IS NULL
                                  AND d.scope = p_scope AND d.purposes IS NOT DISTINCT FROM p_purposes);
            v_report := v_report || '{"deferred": true}';
        ELSIF p_ledger THEN
            -- the ledger that survives a restore (no personal data: the keyed hash)
            INSERT INTO privacy_tags.erasure_ledger (subject_type, subject_hash, scope, purposes, request_id)
            VALUES (p_type, privacy_tags.subject_hash(p_type, p_id), p_scope, p_purposes, p_request);
        END IF;
    END IF;
    v_report := jsonb_build_object('format', 'privacy_tags.erasure/2',
                                   'subject', jsonb_build_object('type', p_type),
                                   'dry_run', p_dry_run) || v_report
                || CASE WHEN p_scope = 'partial' THEN jsonb_build_object('categories', to_jsonb(p_purposes)) ELSE '{}' END
                || CASE WHEN p_request IS NOT NULL THEN jsonb_build_object('request', p_request) ELSE '{}' END;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES (p_action, p_type, privacy_tags.subject_hash(p_type, p_id), v_rows,
            jsonb_build_object('dry_run', p_dry_run, CASE WHEN p_scope = 'partial' THEN 'categories' ELSE 'purposes' END,
                               p_purposes, 'tables', v_report->'tables',
                               'legal_hold', v_report->'legal_hold')
            || CASE WHEN p_request IS NOT NULL THEN jsonb_build_object('request_id', p_request) ELSE '{}' END);
    -- the request is answered (a held subject's waits for the hold)
    IF p_request IS NOT NULL AND NOT p_dry_run AND NOT v_held THEN
        PERFORM privacy_tags._close_request(p_request, 'completed', NULL);
    END IF;
    RETURN v_report;
END
$$;

CREATE FUNCTION privacy_tags.erase(subject_type text, subject_id text, dry_run boolean DEFAULT false,
                                   categories text[] DEFAULT NULL, request bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    v_bad text;
    v_id text;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'erase: subject_type, subject_id and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF categories IS NOT NULL THEN
        IF cardinality(categories) = 0 OR array_position(categories, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'erase: categories must name at least one category, and no NULL'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Leave categories out for a full erasure.';
        END IF;
        SELECT c INTO v_bad FROM unnest(categories) c
         WHERE NOT EXISTS (SELECT FROM privacy_tags.categories k WHERE k.name = c) LIMIT 1;
        IF v_bad IS NOT NULL THEN
            RAISE EXCEPTION 'erase: unknown privacy category "%"', CASE WHEN length(v_bad) > 200 THEN left(v_bad, 200) || '...' ELSE v_bad END
                USING ERRCODE = 'undefined_object',
                      HINT = 'Name categories of privacy_tags.categories; a category takes every category below it.';
        END IF;
    END IF;
    v_id := privacy_tags._check_subject('erase', erase.subject_type, erase.subject_id);
    PERFORM privacy_tags._check_request('erase', request, '{erasure}', erase.subject_type, v_id);
    RETURN privacy_tags._erase_audited('erase', subject_type, v_id,
                                       CASE WHEN categories IS NULL THEN 'erase' ELSE 'partial' END,
                                       categories, dry_run, request);
END
$$;
COMMENT ON FUNCTION privacy_tags.erase(text, text, boolean, text[], bigint) IS
    'Right to erasure: deletes or nulls everything of the subject in one transaction (or, with categories, nulls only the columns of those categories), keeping legal_obligation data, shared and unclassified rows and held subjects; returns a report per table.';

-- A purpose as tags write it (grant_consent, withdraw_consent).
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

CREATE FUNCTION privacy_tags.grant_consent(subject_type text, subject_id text, purpose text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id text;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR purpose IS NULL THEN
        RAISE EXCEPTION 'grant_consent: subject_type, subject_id and purpose must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_id := privacy_tags._check_subject('grant_consent', grant_consent.subject_type, grant_consent.subject_id);
    PERFORM privacy_tags._check_purpose(purpose);
    INSERT INTO privacy_tags.consents AS k (subject_type, subject_id, purpose)
    VALUES (grant_consent.subject_type, v_id, grant_consent.purpose)
    ON CONFLICT ON CONSTRAINT consents_pkey
    -- (excluded's value, not now(): Citus takes no function here on a
    -- reference table)
    DO UPDATE SET granted_at = excluded.granted_at, withdrawn_at = NULL;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('grant_consent', grant_consent.subject_type,
            privacy_tags.subject_hash(grant_consent.subject_type, v_id),
            jsonb_build_object('purpose', grant_consent.purpose));
END
$$;
COMMENT ON FUNCTION privacy_tags.grant_consent(text, text, text) IS 'Records the subject''s consent for a purpose.';

CREATE FUNCTION privacy_tags.withdraw_consent(subject_type text, subject_id text, purpose text DEFAULT NULL,
                                              dry_run boolean DEFAULT false, request bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    v_id text;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'withdraw_consent: subject_type, subject_id and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_purpose(purpose);
    v_id := privacy_tags._check_subject('withdraw_consent', withdraw_consent.subject_type, withdraw_consent.subject_id);
    PERFORM privacy_tags._check_request('withdraw_consent', request, '{consent_withdrawal}',
                                        withdraw_consent.subject_type, v_id);
    RETURN privacy_tags._erase_audited('withdraw_consent', subject_type, v_id, 'withdraw',
                                       CASE WHEN purpose IS NULL THEN NULL ELSE ARRAY[purpose] END, dry_run, request);
END
$$;
COMMENT ON FUNCTION privacy_tags.withdraw_consent(text, text, text, boolean, bigint) IS
    'Withdraws consent for a purpose (all purposes when NULL) and erases the subject''s consent-based data no other consent covers; returns a report like erase().';

CREATE FUNCTION privacy_tags.restrict(subject_type text, subject_id text, reason text, request bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
    v_subject_id text;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR reason IS NULL THEN
        RAISE EXCEPTION 'restrict: subject_type, subject_id and reason must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF btrim(reason) = '' THEN
        RAISE EXCEPTION 'restrict: reason must not be empty' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Say why processing is restricted (Art. 18(1)): it goes into the record.';
    END IF;
    v_subject_id := privacy_tags._check_subject('restrict', restrict.subject_type, restrict.subject_id);
    PERFORM privacy_tags._check_request('restrict', request, '{restriction}', restrict.subject_type, v_subject_id);
    INSERT INTO privacy_tags.restrictions (subject_type, subject_id, reason)
    VALUES (restrict.subject_type, v_subject_id, restrict.reason) RETURNING id INTO v_id;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('restrict', restrict.subject_type, privacy_tags.subject_hash(restrict.subject_type, v_subject_id),
            jsonb_build_object('restriction_id', v_id)
            || CASE WHEN request IS NOT NULL THEN jsonb_build_object('request_id', request) ELSE '{}' END);
    IF request IS NOT NULL THEN
        PERFORM privacy_tags._close_request(request, 'completed', NULL);
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION privacy_tags.restrict(text, text, text, bigint) IS
    'Restriction of processing (Art. 18): enforced tables refuse writes to the subject''s rows until lift_restriction().';

CREATE FUNCTION privacy_tags.lift_restriction(subject_type text, subject_id text, reason text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
    v_subject_id text;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL THEN
        RAISE EXCEPTION 'lift_restriction: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_subject_id := privacy_tags._normalize_subject_id('lift_restriction', lift_restriction.subject_type,
                                                       lift_restriction.subject_id);
    UPDATE privacy_tags.restrictions r SET lifted_at = now(), lifted_by = session_user
     WHERE r.subject_type = lift_restriction.subject_type AND r.subject_id = v_subject_id
       AND r.lifted_at IS NULL;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES ('lift_restriction', lift_restriction.subject_type,
            privacy_tags.subject_hash(lift_restriction.subject_type, v_subject_id), v_n,
            CASE WHEN reason IS NOT NULL THEN jsonb_build_object('reason_given', true) END);
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION privacy_tags.lift_restriction(text, text, text) IS 'Lifts every active restriction of the subject; returns how many.';

CREATE FUNCTION privacy_tags.suppress(subject_type text, subject_id text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    v_id text;
    v_report jsonb;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL THEN
        RAISE EXCEPTION 'suppress: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_id := privacy_tags._check_subject('suppress', suppress.subject_type, suppress.subject_id);
    INSERT INTO privacy_tags.suppressions (subject_type, subject_id)
    VALUES (suppress.subject_type, v_id) ON CONFLICT DO NOTHING;
    -- keep the minimum: every consent ends, and its data with it
    v_report := privacy_tags._erase_audited('withdraw_consent', subject_type, v_id, 'withdraw', NULL, false);
    -- (the ledger puts the subject back on the list after a restore)
    INSERT INTO privacy_tags.erasure_ledger (subject_type, subject_hash, scope)
    VALUES (suppress.subject_type, privacy_tags.subject_hash(suppress.subject_type, v_id), 'suppress');
    RETURN v_report || '{"suppressed": true}';
END
$$;
COMMENT ON FUNCTION privacy_tags.suppress(text, text) IS
    '"Do not contact": records the subject on the suppression list and withdraws every consent (erasing consent-based data).';

CREATE FUNCTION privacy_tags.is_suppressed(subject_type text, subject_id text)
RETURNS boolean
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT FROM privacy_tags.suppressions s
                    WHERE s.subject_type = is_suppressed.subject_type
                      AND s.subject_id = privacy_tags._normalize_subject_id('is_suppressed', is_suppressed.subject_type,
                                                                            is_suppressed.subject_id))
$$;
COMMENT ON FUNCTION privacy_tags.is_suppressed(text, text) IS 'Whether the subject is on the "Do not contact" list.';

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['privacy_tags.erase(text, text, boolean, text[], bigint)',
                             'privacy_tags.grant_consent(text, text, text)',
                             'privacy_tags.withdraw_consent(text, text, text, boolean, bigint)',
                             'privacy_tags.restrict(text, text, text, bigint)',
                             'privacy_tags.lift_restriction(text, text, text)',
                             'privacy_tags.suppress(text, text)',
                             'privacy_tags.is_suppressed(text, text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO privacy_admin', f);
    END LOOP;
END
$$;

-- Internal functions: only for the extension's own SECURITY DEFINER code and
-- privacy_admin (run_purge calls _purge_plan as its caller).
REVOKE ALL ON FUNCTION privacy_tags._tagged_columns(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags._erase(text, text, text, text[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags._erase_audited(text, text, text, text, text[], boolean, bigint, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags._purge_plan(regclass, timestamptz) FROM PUBLIC;
