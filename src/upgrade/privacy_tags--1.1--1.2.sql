-- privacy_tags 1.1 -> 1.2
--
-- Trust (issue 10): every statement the extension runs on a user table runs
-- as the table's owner in a security-restricted operation (the library's
-- _owner_exec/_owner_query), subject ids travel as bound parameters and are
-- normalised by the subject type's key type, internal functions are
-- executable by the extension's owner alone, purge goes on past a failing
-- table, run_purge() runs until nothing expired is left (purge_batch()), the
-- audit log's guard fires in every session_replication_role.
-- Stored subject ids (consents, restrictions, legal holds, suppressions) are
-- normalised below; tags, labels, triggers and user tables are kept as they
-- are.  The C library is the same for every version.

\echo Use "ALTER EXTENSION privacy_tags UPDATE TO '1.2'" to load this file. \quit

-- Functions whose arguments or results changed, and the one that is gone.
DROP FUNCTION privacy_tags._check_subject(text, text, text);
DROP FUNCTION privacy_tags._subject_tables(text, text);
DROP FUNCTION privacy_tags._refresh_enforcement(regclass, int2, text, boolean);
DROP FUNCTION privacy_tags._delete_retrying(text);
DROP FUNCTION privacy_tags._purge_batch(regclass, regclass, name, timestamptz, integer);
DROP FUNCTION privacy_tags._purge_plan(regclass, timestamptz);
DROP PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer);
DROP FUNCTION privacy_tags.erase(text, text, boolean);

-- Declared links (link()), for schemas without foreign keys.
CREATE TABLE privacy_tags.links (
    child          regclass NOT NULL,
    child_columns  name[] NOT NULL,
    parent         regclass NOT NULL,
    parent_columns name[] NOT NULL,
    created_by     name NOT NULL DEFAULT SESSION_USER,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (child, child_columns, parent, parent_columns),
    CHECK (pg_catalog.cardinality(child_columns) OPERATOR(pg_catalog.=) pg_catalog.cardinality(parent_columns))
);
COMMENT ON TABLE privacy_tags.links IS
    'Declared references (link()): child_columns of child point at parent_columns of parent, like a foreign key.';
REVOKE ALL ON privacy_tags.links FROM PUBLIC;
GRANT SELECT ON privacy_tags.links TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.links', '');

-- Why a consent ended: withdrawn, erased (erase() ends every consent), suppressed.
ALTER TABLE privacy_tags.consents
    ADD COLUMN withdrawn_reason text CHECK (withdrawn_reason IN ('withdrawn', 'erased', 'suppressed'));
UPDATE privacy_tags.consents SET withdrawn_reason = 'withdrawn' WHERE withdrawn_at IS NOT NULL;

-- New and changed functions, as in a fresh install of 1.2.

CREATE OR REPLACE FUNCTION privacy_tags._owner_exec(rel regclass, stmt text, params text[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'privacy_tags_owner_exec' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags._owner_exec(regclass, text, text[]) IS
    'Runs a statement as the owner of rel in a security-restricted operation; returns the rows it processed.';

CREATE OR REPLACE FUNCTION privacy_tags._owner_query(rel regclass, stmt text, params text[] DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'privacy_tags_owner_query' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags._owner_query(regclass, text, text[]) IS
    'Runs a query of one jsonb column as the owner of rel in a security-restricted operation; returns its first value.';

CREATE OR REPLACE FUNCTION privacy_tags.mask(privacy_tags.privacy_tag) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tag_mask' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.mask(privacy_tags.privacy_tag) IS
    'What a kept row gets instead of the value when it is erased or expires with nullify: null, redact, hash, or the literal in single quotes.';

CREATE OR REPLACE FUNCTION privacy_tags._mask_value(tag privacy_tags.privacy_tag, col_type pg_catalog.regtype) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tag_mask_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags._mask_value(privacy_tags.privacy_tag, pg_catalog.regtype) IS
    'Internal: the text of the value a kept row of a column of the given type gets for the tag''s mask (the literal, or the type''s redact value); NULL for mask=null and mask=hash.';

CREATE OR REPLACE FUNCTION privacy_tags.add_category(
    name text,
    description text,
    special boolean DEFAULT NULL,
    ccpa text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parent text := nullif(regexp_replace(add_category.name, '\.?[a-z0-9_]+$', ''), '');
    v_parent_row privacy_tags.categories;
BEGIN
    IF add_category.name IS NULL OR add_category.description IS NULL THEN
        RAISE EXCEPTION 'add_category: name and description must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF add_category.name !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,15}$'
       OR octet_length(add_category.name) > 255 THEN
        RAISE EXCEPTION 'invalid category name "%"',
                        CASE WHEN length(add_category.name) > 200 THEN left(add_category.name, 200) || '...'
                             ELSE add_category.name END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A category is a dot-separated path of at most 16 names of lower-case letters, digits and "_", each starting with a letter, 255 bytes in all.';
    END IF;
    IF EXISTS (SELECT FROM privacy_tags.categories c WHERE c.name = add_category.name) THEN
        RAISE EXCEPTION 'category "%" already exists', add_category.name
            USING ERRCODE = 'unique_violation';
    END IF;
    IF v_parent IS NOT NULL THEN
        SELECT * INTO v_parent_row FROM privacy_tags.categories c WHERE c.name = v_parent;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'parent category "%" does not exist', v_parent
                USING ERRCODE = 'foreign_key_violation',
                      HINT = 'Add the parent category first.';
        END IF;
        IF v_parent_row.special AND add_category.special IS FALSE THEN
            RAISE EXCEPTION 'category "%" is below the special category "%" and must be special too',
                add_category.name, v_parent
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Leave special out; it is inherited from the parent.';
        END IF;
    END IF;
    IF add_category.ccpa IS NULL AND v_parent IS NULL THEN
        RAISE EXCEPTION 'top-level category "%" needs a CCPA letter', add_category.name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give ccpa => ''A'' .. ''K''; categories below a parent inherit its letter.';
    END IF;
    IF add_category.ccpa IS NOT NULL AND add_category.ccpa !~ '^[A-K]$' THEN
        RAISE EXCEPTION 'invalid CCPA letter "%"',
                        CASE WHEN length(add_category.ccpa) > 200 THEN left(add_category.ccpa, 200) || '...'
                             ELSE add_category.ccpa END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'CCPA categories are the letters A to K.';
    END IF;
    INSERT INTO privacy_tags.categories (name, parent, description, special, ccpa, builtin)
    VALUES (add_category.name, v_parent, add_category.description,
            coalesce(add_category.special, v_parent_row.special, false),
            coalesce(add_category.ccpa, v_parent_row.ccpa), false);
END
$$;
COMMENT ON FUNCTION privacy_tags.add_category(text, text, boolean, text) IS
    'Adds a custom category; special and ccpa default to the parent''s.';

CREATE OR REPLACE FUNCTION privacy_tags._base_type(regtype) RETURNS regtype
    AS 'MODULE_PATHNAME', 'privacy_tags_base_type' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION privacy_tags._type_not_null(regtype) RETURNS boolean
    AS 'MODULE_PATHNAME', 'privacy_tags_type_not_null' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION privacy_tags._normalize_id(type regtype, id text) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tags_normalize_id' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION privacy_tags._normalize_subject_id(fn text, p_type text, p_id text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key regtype := privacy_tags.subject_key_type(p_type);
    v_id text;
BEGIN
    IF v_key IS NULL OR v_key = 'text'::regtype THEN
        RETURN p_id;
    END IF;
    BEGIN
        -- (by the type's input and output functions: a cast could be a
        -- function of the type's owner)
        v_id := privacy_tags._normalize_id(v_key, p_id);
    EXCEPTION WHEN data_exception THEN
        -- (the id itself stays out of the message: it is personal data)
        RAISE EXCEPTION '%: subject_id is not a valid id of subject type "%"', fn, p_type
            USING ERRCODE = 'invalid_text_representation',
                  DETAIL = format('Ids of subject type "%s" are values of type %s.', p_type, v_key),
                  HINT = 'Give the id as the subject type''s key columns hold it.';
    END;
    RETURN v_id;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._check_subject(fn text, p_type text, p_id text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_known text;
    v_key regtype;
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
    -- statements give the id as $1::<key type>: a cast from text that is a
    -- function (of the type's owner) would run in them, as whoever they run as
    v_key := privacy_tags.subject_key_type(p_type);
    IF EXISTS (SELECT FROM pg_cast c
                WHERE c.castsource = 'text'::regtype AND c.casttarget = v_key AND c.castmethod = 'f') THEN
        RAISE EXCEPTION '%: the key type % of subject type "%" has a cast from text made by a function',
                        fn, v_key, left(p_type, 63)
            USING ERRCODE = 'invalid_object_definition',
                  DETAIL = 'The cast would run its owner''s code wherever the subject''s rows are looked up.',
                  HINT = 'Drop the cast, or mark columns of another type as the subject key.';
    END IF;
    RETURN privacy_tags._normalize_subject_id(fn, p_type, p_id);
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.subject_key_type(subject_type text) RETURNS pg_catalog.regtype
    AS 'MODULE_PATHNAME', 'privacy_tags_subject_key_type' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.subject_key_type(text) IS
    'The type subject ids of a subject type are normalised by: bigint for smallint, integer and bigint keys, else the base type of its key columns; NULL when no column has the subject type.';

CREATE OR REPLACE FUNCTION privacy_tags.hold(subject_type text, subject_id text, reason text, until timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
    v_subject_id text;
BEGIN
    IF hold.subject_type IS NULL OR hold.subject_id IS NULL OR hold.reason IS NULL THEN
        RAISE EXCEPTION 'hold: subject_type, subject_id and reason must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF btrim(hold.reason) = '' THEN
        RAISE EXCEPTION 'hold: reason must not be empty' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Name the claim or obligation the data is held for: it goes into the record.';
    END IF;
    v_subject_id := privacy_tags._check_subject('hold', hold.subject_type, hold.subject_id);
    IF hold.until IS NOT NULL AND hold.until <= now() THEN
        RAISE EXCEPTION 'hold: until must be in the future'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave until out for a hold that lasts until release().';
    END IF;
    INSERT INTO privacy_tags.legal_holds (subject_type, subject_id, reason, held_until)
    VALUES (hold.subject_type, v_subject_id, hold.reason, hold.until)
    RETURNING id INTO v_id;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('hold', hold.subject_type, privacy_tags.subject_hash(hold.subject_type, v_subject_id),
            jsonb_build_object('hold_id', v_id, 'until', hold.until));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION privacy_tags.hold(text, text, text, timestamptz) IS
    'Puts a subject under legal hold: purge and erasure skip their rows until release() or until.';

CREATE OR REPLACE FUNCTION privacy_tags.release(subject_type text, subject_id text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
    v_subject_id text;
BEGIN
    IF release.subject_type IS NULL OR release.subject_id IS NULL THEN
        RAISE EXCEPTION 'release: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_subject_id := privacy_tags._normalize_subject_id('release', release.subject_type, release.subject_id);
    UPDATE privacy_tags.legal_holds h
       SET released_at = now(), released_by = session_user
     WHERE h.subject_type = release.subject_type AND h.subject_id = v_subject_id
       AND h.released_at IS NULL;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows)
    VALUES ('release', release.subject_type,
            privacy_tags.subject_hash(release.subject_type, v_subject_id), v_n);
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION privacy_tags.release(text, text) IS
    'Releases every active legal hold of a subject; returns how many.';

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
             WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND l.label IS NOT NULL
            UNION ALL
            -- a column that points (foreign key, or a link between columns
            -- of one type) straight at a subject key holds that subject's
            -- id: restrictions and consents are checked through it too
            (SELECT DISTINCT ON (a.attnum) a.attnum, 1,
                   format('%L, %L', a.attname, '@subject ' || privacy_tags.subject_label_type(k.label)), false
              FROM (SELECT c.conkey[1] AS attnum, c.confrelid AS prel, c.confkey[1] AS pattnum
                      FROM pg_constraint c
                     WHERE c.conrelid = rel AND c.contype = 'f' AND cardinality(c.conkey) = 1
                    UNION ALL
                    SELECT ca.attnum, l.parent, pa.attnum
                      FROM privacy_tags.links l
                      JOIN pg_attribute ca ON ca.attrelid = l.child AND ca.attname = l.child_columns[1]
                      JOIN pg_attribute pa ON pa.attrelid = l.parent AND pa.attname = l.parent_columns[1]
                     WHERE l.child = rel AND cardinality(l.child_columns) = 1
                       AND privacy_tags._base_type(ca.atttypid) = privacy_tags._base_type(pa.atttypid)) r
              JOIN pg_attribute a ON a.attrelid = rel AND a.attnum = r.attnum AND NOT a.attisdropped
              JOIN pg_attribute pa ON pa.attrelid = r.prel AND pa.attnum = r.pattnum
              JOIN pg_seclabel k ON k.classoid = 'pg_class'::regclass AND k.provider = 'privacy_tags_subject'
                                AND k.objsubid > 0
                                AND k.objoid = coalesce(pg_partition_root(r.prel)::oid, r.prel)
              JOIN pg_attribute ka ON ka.attrelid = k.objoid AND ka.attnum = k.objsubid AND ka.attname = pa.attname
             WHERE NOT EXISTS (SELECT FROM pg_seclabel o
                                WHERE o.objoid = rel AND o.objsubid = a.attnum AND o.classoid = 'pg_class'::regclass
                                  AND o.provider = 'privacy_tags_subject')
               AND NOT (changed_subject AND a.attnum = changed_attnum)
             ORDER BY a.attnum, k.label)
            UNION ALL
            -- and a column that reaches a subject's key through other
            -- tables: the trigger looks the id up, when a check needs it
            SELECT a.attnum, 2,
                   format('%L, %L', a.attname, format('@subject %s via %s', p.subject_type, p.steps)), false
              FROM privacy_tags._subject_paths(rel) p
              JOIN pg_attribute a ON a.attrelid = rel AND a.attname = p.column_name AND NOT a.attisdropped
             WHERE NOT (changed_subject AND a.attnum = changed_attnum)) x;
    -- (the trigger is the table's: its owner changes it)
    IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = rel AND tgname = 'privacy_tags_retention') THEN
        PERFORM privacy_tags._trigger_ddl(rel, format('DROP TRIGGER privacy_tags_retention ON %s', rel));
    END IF;
    -- a partition enforced on its own before its parent gives way: the
    -- parent's trigger is cloned onto every partition
    FOR v_part IN
        SELECT t.tgrelid::regclass
          FROM pg_partition_tree(rel) p
          JOIN pg_trigger t ON t.tgrelid = p.relid
         WHERE p.level > 0 AND t.tgname = 'privacy_tags_retention' AND t.tgparentid = 0
    LOOP
        PERFORM privacy_tags._owner_exec(v_part, format('DROP TRIGGER privacy_tags_retention ON %s', v_part));
    END LOOP;
    PERFORM privacy_tags._trigger_ddl(rel, format('CREATE TRIGGER privacy_tags_retention BEFORE INSERT OR UPDATE ON %s '
                                                  'FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger(%s)',
                                                  rel, coalesce(v_args, '')));
    RETURN v_n;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._refresh_enforcement(rel regclass, changed_attnum int2, changed_label text,
                                                  changed_subject boolean, caller regrole)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_trigger
                WHERE tgrelid = rel AND tgname = 'privacy_tags_retention' AND tgparentid = 0) THEN
        PERFORM privacy_tags._install_trigger(rel, changed_attnum, changed_label, changed_subject);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._check_owner(fn text, rel regclass, caller regrole)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM privacy_tags._check_table(fn, rel);
    IF NOT pg_has_role(caller, (SELECT c.relowner FROM pg_class c WHERE c.oid = rel), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', rel
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('%s changes the table''s triggers: run it as the table''s owner.', fn);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.enforce(rel regclass)
RETURNS integer
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;
COMMENT ON FUNCTION privacy_tags.enforce(regclass) IS
    'Installs the retention trigger on a table (and its partitions); returns the number of windowed columns.';

CREATE OR REPLACE FUNCTION privacy_tags._enforce(rel regclass, caller regrole)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parent regclass;
    v_n integer;
BEGIN
    PERFORM privacy_tags._check_owner('enforce', rel, caller);
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
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;
COMMENT ON FUNCTION privacy_tags.unenforce(regclass) IS
    'Removes the retention trigger from a table; returns whether it was there.';

CREATE OR REPLACE FUNCTION privacy_tags._unenforce(rel regclass, caller regrole)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_had boolean;
BEGIN
    PERFORM privacy_tags._check_owner('unenforce', rel, caller);
    v_had := EXISTS (SELECT FROM pg_trigger
                      WHERE tgrelid = rel AND tgname = 'privacy_tags_retention' AND tgparentid = 0);
    IF v_had THEN
        PERFORM privacy_tags._trigger_ddl(rel, format('DROP TRIGGER privacy_tags_retention ON %s', rel));
    END IF;
    RETURN v_had;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._referenced_by(rel regclass, blocking_only boolean)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(format('EXISTS (SELECT FROM %s x WHERE (%s) = (%s))', f.conrelid::regclass,
                             (SELECT string_agg(format('x.%I', a.attname), ', ' ORDER BY k.n)
                                FROM unnest(f.conkey) WITH ORDINALITY k(attnum, n)
                                JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum),
                             (SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.n)
                                FROM unnest(f.confkey) WITH ORDINALITY k(attnum, n)
                                JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.attnum)),
                      ' OR ' ORDER BY f.conname)
      FROM pg_constraint f
     WHERE f.contype = 'f' AND f.confrelid = rel AND f.conparentid = 0
       AND (NOT blocking_only OR f.confdeltype IN ('a', 'r')
            -- a delete must not cascade into rows their own tags keep
            OR (f.confdeltype = 'c'
                AND EXISTS (SELECT FROM pg_seclabel s
                             WHERE s.classoid = 'pg_class'::regclass AND s.provider = 'privacy_tags'
                               AND s.objoid IN (f.conrelid, coalesce(pg_partition_root(f.conrelid)::oid, f.conrelid)))))
$$;

CREATE OR REPLACE FUNCTION privacy_tags._purge_plan(rel regclass, as_of timestamptz)
RETURNS TABLE (relation regclass, column_name name, action text, expired text, bound text, held text,
               blocked text, held_ids text[], problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    v_h record;
    v_pred text;
    v_in_graph boolean;
    v_anchor_type regtype;
    v_lo text;
    v_hi text;
BEGIN
    FOR r IN
        SELECT c.relation AS rel, c.column_name AS col, c.retention AS w, c.anchor AS anc, c.on_expiry AS act,
               c.tag
          FROM privacy_tags.columns c
          JOIN pg_class k ON k.oid = c.relation
          LEFT JOIN LATERAL (
                -- how many levels of tables point at this one through foreign
                -- keys: those are purged first, so that rows they stop
                -- pointing at can go in the same run
                WITH RECURSIVE up(relid, depth) AS (
                    SELECT c.relation::oid, 0
                    UNION
                    SELECT f.conrelid, up.depth + 1
                      FROM up JOIN pg_constraint f ON f.confrelid = up.relid AND f.contype = 'f'
                     WHERE up.depth < 16 AND f.conrelid <> up.relid)
                SELECT max(depth) AS height FROM up) h ON true
         WHERE c.retention IS NOT NULL AND c.anchor IS NOT NULL
           AND (_purge_plan.rel IS NULL OR c.relation = _purge_plan.rel)
           AND k.relkind IN ('r', 'p', 'f')
           -- a partition's own tag counts where its tree's root has none for
           -- the column (a table tagged before it was attached)
           AND (NOT k.relispartition
                OR NOT EXISTS (SELECT FROM privacy_tags.columns rc
                                WHERE rc.relation = pg_partition_root(c.relation)
                                  AND rc.column_name = c.column_name))
         ORDER BY h.height, c.relation::text, c.on_expiry, c.column_name
    LOOP
        -- (constants are written as values of the anchor's base type: a
        -- domain's checks are its owner's code)
        SELECT privacy_tags._base_type(a.atttypid) INTO v_anchor_type
          FROM pg_attribute a WHERE a.attrelid = r.rel AND a.attname = r.anc AND NOT a.attisdropped;
        relation := r.rel;
        column_name := r.col;
        action := r.act;
        expired := NULL;
        bound := NULL;
        held := NULL;
        blocked := NULL;
        held_ids := NULL;
        -- (the anchor's type is checked again here: it may have changed since
        -- the column was tagged, and the cut-offs are cast to it as the
        -- extension's owner)
        problem := CASE WHEN v_anchor_type IS NULL
                        THEN format('anchor column "%s" of relation "%s" does not exist', r.anc, r.rel)
                        WHEN v_anchor_type NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
                        THEN format('anchor column "%s" of relation "%s" is of type %s, not a date or timestamp',
                                    r.anc, r.rel, v_anchor_type) END;
        -- rows of held subjects, wherever the subject graph reaches them
        -- (a held customer's orders without a subject column of their own
        -- too): one parameter per subject type, the array of its held ids
        FOR v_h IN
            SELECT h.subject_type, array_agg(DISTINCT h.subject_id ORDER BY h.subject_id) AS ids
              FROM privacy_tags.legal_holds h
             WHERE problem IS NULL AND h.released_at IS NULL AND (h.held_until IS NULL OR h.held_until > as_of)
               AND EXISTS (SELECT FROM privacy_tags.subjects s WHERE s.subject_type = h.subject_type)
             GROUP BY h.subject_type ORDER BY h.subject_type
        LOOP
            SELECT g.pred, true INTO v_pred, v_in_graph
              FROM privacy_tags._subject_graph(v_h.subject_type, '$' || (coalesce(cardinality(held_ids), 0) + 1), true) g
             WHERE g.relation = coalesce(pg_partition_root(r.rel), r.rel);
            IF v_in_graph AND v_pred IS NULL THEN
                -- held subjects whose rows cannot be looked up safely: the
                -- table is not purged (reported)
                problem := format('held subjects of type "%s" cannot be looked up: its key type has a cast from text made by a function',
                                  v_h.subject_type);
            ELSIF v_pred IS NOT NULL THEN
                -- (a NULL reference is nobody's: false, never NULL, so that
                -- NOT held keeps the row in the purge)
                held := coalesce(held || ' OR ', '') || format('coalesce(%s, false)', v_pred);
                held_ids := coalesce(held_ids, '{}') || v_h.ids::text;
            END IF;
        END LOOP;
        IF problem IS NOT NULL THEN
            held := NULL;
            held_ids := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- exact test, evaluated on the row as it is when deleted/updated;
        -- anchors more than 4 days before the cut-off are expired whatever
        -- month ends and time zones do, and take one comparison with a
        -- constant (nearly all rows of a purge)
        -- (both cut-offs are computed here and written as constants of the
        -- anchor's type, so the statement compares with literals)
        EXECUTE format('SELECT ((%1$L::timestamptz - interval ''4 days'') - %2$L::interval)::%3$s::text, '
                       '(%1$L::timestamptz - %2$L::interval + interval ''3 days'')::%3$s::text',
                       as_of, r.w, v_anchor_type)
           INTO v_lo, v_hi;
        expired := format('(t.%1$I <= %4$L::%5$s'
                          ' OR t.%1$I::timestamptz + %2$L::interval <= %3$L::timestamptz)',
                          r.anc, r.w, as_of, v_lo, v_anchor_type)
                   -- (a value that is its mask already is done)
                   || CASE WHEN r.act = 'nullify' THEN ' AND ' || privacy_tags._unmasked(r.rel, r.col, r.tag) ELSE '' END;
        -- an index-friendly bound that every expired anchor satisfies (month
        -- arithmetic moves a date by at most 3 days at the end of a month)
        bound := format('t.%1$I <= %2$L::%3$s', r.anc, v_hi, v_anchor_type);
        -- rows that other rows point at with ON DELETE NO ACTION/RESTRICT
        IF r.act = 'delete' THEN
            blocked := privacy_tags._referenced_by(r.rel, true);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._delete_retrying(rel regclass, stmt text, params text[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    FOR v_try IN 1..5 LOOP
        BEGIN
            RETURN privacy_tags._owner_exec(rel, stmt, params);
        EXCEPTION WHEN foreign_key_violation THEN
            IF v_try = 5 THEN
                RAISE;
            END IF;
        END;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._purge_failed(rel regclass, col name, sqlstate text, message text,
                                           as_of timestamptz, dry_run boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_message text := CASE WHEN length(message) > 200 THEN left(message, 200) || '...' ELSE message END;
BEGIN
    RAISE WARNING 'could not purge column "%" of relation "%": %', col, rel, v_message
        USING DETAIL = format('SQLSTATE %s. The other tables were purged.', sqlstate),
              HINT = 'The audit log records the failure; fix the table and purge it again.';
    INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
    VALUES ('purge_failed', rel::text, col, 0,
            jsonb_build_object('sqlstate', sqlstate, 'message', v_message, 'as_of', as_of, 'dry_run', dry_run));
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._purge_column(p record, target regclass, batch_size integer)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_keep text := coalesce(p.held, 'false') || CASE WHEN p.blocked IS NULL THEN '' ELSE ' OR ' || p.blocked END;
    v_rows text := '';
    v_n bigint;
    v_key text[];
BEGIN
    IF batch_size IS NOT NULL THEN
        v_rows := format('t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT t.ctid FROM %s t '
                         'WHERE %s AND %s AND NOT (%s) LIMIT %s)) AND ',
                         target, p.bound, p.expired, v_keep, batch_size);
    END IF;
    IF p.action = 'delete' THEN
        v_n := privacy_tags._delete_retrying(target,
                   format('DELETE FROM %s t WHERE %s%s AND %s AND NOT (%s)', target, v_rows, p.bound, p.expired, v_keep),
                   p.held_ids);
    ELSE
        -- NULL, or the tag's mask (a hash mask's key follows the held ids)
        SELECT ARRAY[encode(k.ipad, 'hex'), encode(k.opad, 'hex')] INTO v_key
          FROM privacy_tags.audit_key k ORDER BY k.generated_at LIMIT 1;
        v_n := privacy_tags._owner_exec(target,
                   format('UPDATE %s t SET %s WHERE %s%s AND %s AND NOT (%s)',
                          target,
                          privacy_tags._mask_assignment(target, p.column_name,
                              (SELECT c.tag FROM privacy_tags.columns c
                                WHERE c.relation IN (p.relation, target) AND c.column_name = p.column_name
                                ORDER BY c.relation = p.relation DESC LIMIT 1),
                              coalesce(cardinality(p.held_ids), 0) + 1),
                          v_rows, p.bound, p.expired, v_keep),
                   coalesce(p.held_ids, '{}') || v_key);
    END IF;
    RETURN v_n;
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
    c record;
    v_n bigint;
    v_casc regclass[];
    v_before jsonb;
    v_logged boolean := false;
    v_results jsonb := '[]';
    v_state text;
    v_message text;
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
            IF p.action IN ('delete', 'nullify', 'cascade_delete', 'cascade_update') AND p.rows > 0 THEN
                INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                VALUES ('purge', p.relation::text, p.column_name, p.rows,
                        jsonb_build_object('on_expiry', p.action, 'as_of', as_of, 'dry_run', true));
                v_logged := true;
            ELSIF p.action = 'failed' THEN
                INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                VALUES ('purge_failed', p.relation::text, p.column_name, 0,
                        jsonb_build_object('as_of', as_of, 'dry_run', true));
                v_logged := true;
            END IF;
        END LOOP;
    ELSE
        PERFORM privacy_tags._serialize_changes();
        FOR p IN SELECT * FROM privacy_tags._purge_plan(purge.rel, purge.as_of) LOOP
            relation := p.relation;
            column_name := p.column_name;
            -- one table that cannot be purged fails alone: the rest goes on
            BEGIN
                IF p.problem IS NOT NULL THEN
                    RAISE EXCEPTION '%', p.problem USING ERRCODE = 'undefined_column';
                END IF;
                -- what its foreign keys cascade into is counted too
                v_casc := privacy_tags._cascade_tables(p.relation);
                v_before := CASE WHEN cardinality(v_casc) > 0 THEN privacy_tags._change_counts(v_casc) END;
                v_n := privacy_tags._purge_column(p, p.relation, NULL);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                PERFORM privacy_tags._purge_failed(p.relation, p.column_name, v_state, v_message, as_of, false);
                v_logged := true;
                action := 'failed';
                rows := 0;
                RETURN NEXT;
                CONTINUE;
            END;
            action := p.action;
            rows := v_n;
            RETURN NEXT;
            IF v_n > 0 THEN
                INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                VALUES ('purge', p.relation::text, p.column_name, v_n,
                        jsonb_build_object('on_expiry', p.action, 'as_of', as_of, 'dry_run', false));
                v_logged := true;
            END IF;
            IF v_before IS NOT NULL AND v_n > 0 THEN
                FOR c IN SELECT * FROM privacy_tags._cascaded(v_casc, v_before) LOOP
                    relation := c.relation;
                    column_name := NULL;
                    action := c.action;
                    rows := c.rows;
                    RETURN NEXT;
                    INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                    VALUES ('purge', c.relation::text, NULL, c.rows,
                            jsonb_build_object('on_expiry', c.action, 'cascaded_from', p.relation::text,
                                               'column', p.column_name, 'as_of', as_of, 'dry_run', false));
                END LOOP;
                relation := p.relation;
                column_name := p.column_name;
            END IF;

            -- expired rows left alone: held subjects, rows other rows point at
            IF p.held IS NOT NULL THEN
                v_n := privacy_tags._owner_query(p.relation,
                           format('SELECT to_jsonb(count(*)) FROM %s t WHERE %s AND %s AND (%s)',
                                  p.relation, p.bound, p.expired, p.held), p.held_ids);
                IF v_n > 0 THEN
                    action := 'held';
                    rows := v_n;
                    RETURN NEXT;
                END IF;
            END IF;
            IF p.blocked IS NOT NULL THEN
                v_n := privacy_tags._owner_query(p.relation,
                           format('SELECT to_jsonb(count(*)) FROM %s t WHERE %s AND %s AND NOT (%s) AND (%s)',
                                  p.relation, p.bound, p.expired, coalesce(p.held, 'false'), p.blocked), p.held_ids);
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
COMMENT ON FUNCTION privacy_tags.purge(regclass, timestamptz, boolean) IS
    'Deletes or nulls every value past its retention window as of as_of (dry_run: does it in a subtransaction it rolls back, and reports); skips held subjects and rows other rows point at; a table that fails is reported (action failed) and the rest goes on.';

CREATE OR REPLACE FUNCTION privacy_tags.purge_batch(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT now(),
                                         batch_size integer DEFAULT 10000, skip regclass[] DEFAULT '{}')
RETURNS TABLE (relation regclass, column_name name, action text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    p record;
    c record;
    v_target regclass;
    v_casc regclass[];
    v_before jsonb;
    v_n bigint;
    v_state text;
    v_message text;
BEGIN
    IF as_of IS NULL OR batch_size IS NULL THEN
        RAISE EXCEPTION 'purge_batch: as_of and batch_size must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF batch_size < 1 THEN
        RAISE EXCEPTION 'purge_batch: batch_size must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF purge_batch.rel IS NOT NULL THEN
        PERFORM privacy_tags._check_purge_target('purge_batch', purge_batch.rel);
    END IF;
    PERFORM privacy_tags._serialize_changes();
    FOR p IN SELECT * FROM privacy_tags._purge_plan(purge_batch.rel, purge_batch.as_of) LOOP
        CONTINUE WHEN p.relation = ANY (coalesce(skip, '{}'));
        relation := p.relation;
        column_name := p.column_name;
        FOR v_target IN
            SELECT coalesce(leaf.relid, p.relation)::regclass
              FROM pg_class k
              LEFT JOIN LATERAL pg_partition_tree(p.relation) leaf ON k.relkind = 'p' AND leaf.isleaf
             WHERE k.oid = p.relation
             ORDER BY 1
        LOOP
            BEGIN
                IF p.problem IS NOT NULL THEN
                    RAISE EXCEPTION '%', p.problem USING ERRCODE = 'undefined_column';
                END IF;
                -- no ctid to batch by on a foreign table: one statement
                v_casc := privacy_tags._cascade_tables(p.relation);
                v_before := CASE WHEN cardinality(v_casc) > 0 THEN privacy_tags._change_counts(v_casc) END;
                v_n := privacy_tags._purge_column(p, v_target,
                           CASE WHEN (SELECT k.relkind FROM pg_class k WHERE k.oid = v_target) = 'f'
                                THEN NULL ELSE batch_size END);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
                PERFORM privacy_tags._purge_failed(p.relation, p.column_name, v_state, v_message, as_of, false);
                action := 'failed';
                rows := 0;
                RETURN NEXT;
                RETURN;
            END;
            IF v_n > 0 THEN
                INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                VALUES ('purge', v_target::text, p.column_name, v_n,
                        jsonb_build_object('on_expiry', p.action, 'as_of', as_of, 'batch', true));
                action := p.action;
                rows := v_n;
                RETURN NEXT;
                -- then what its foreign keys cascaded into
                IF v_before IS NOT NULL THEN
                    FOR c IN SELECT * FROM privacy_tags._cascaded(v_casc, v_before) LOOP
                        relation := c.relation;
                        column_name := NULL;
                        action := c.action;
                        rows := c.rows;
                        RETURN NEXT;
                        INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                        VALUES ('purge', c.relation::text, NULL, c.rows,
                                jsonb_build_object('on_expiry', c.action, 'cascaded_from', v_target::text,
                                                   'column', p.column_name, 'as_of', as_of, 'batch', true));
                    END LOOP;
                END IF;
                RETURN;
            END IF;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION privacy_tags.purge_batch(regclass, timestamptz, integer, regclass[]) IS
    'One batch of a purge: at most batch_size expired rows of the first column (in purge order) that has any; no row when nothing is left. run_purge() calls it until then, committing each batch.';

CREATE OR REPLACE PROCEDURE privacy_tags.run_purge(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT NULL,
                                        batch_size integer DEFAULT 10000, max_rows bigint DEFAULT NULL,
                                        max_duration interval DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    v_as_of timestamptz := coalesce(as_of, pg_catalog.now());
    v_started timestamptz := pg_catalog.clock_timestamp();
    b record;
    v_total bigint := 0;
    v_batches bigint := 0;
    v_failed regclass[] := '{}';
BEGIN
    IF batch_size IS NULL THEN
        RAISE EXCEPTION 'run_purge: batch_size must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'run_purge: batch_size must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_rows OPERATOR(pg_catalog.<) 1 OR max_duration OPERATOR(pg_catalog.<=) '0'::pg_catalog.interval THEN
        RAISE EXCEPTION 'run_purge: max_rows and max_duration must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave them NULL for a run that ends only when nothing expired is left.';
    END IF;
    IF rel IS NOT NULL THEN
        PERFORM privacy_tags._check_purge_target('run_purge', rel);
    END IF;
    -- batch after batch, each committed, until no expired row is left (a
    -- short batch is no sign of the end: a concurrent update can make one)
    LOOP
        SELECT * INTO b FROM privacy_tags.purge_batch(rel, v_as_of, batch_size, v_failed);
        EXIT WHEN NOT FOUND;
        IF b.action OPERATOR(pg_catalog.=) 'failed' THEN
            v_failed := v_failed OPERATOR(pg_catalog.||) b.relation;
        ELSE
            v_total := v_total OPERATOR(pg_catalog.+) b.rows;
            v_batches := v_batches OPERATOR(pg_catalog.+) 1;
        END IF;
        COMMIT;
        IF (max_rows IS NOT NULL AND v_total OPERATOR(pg_catalog.>=) max_rows)
           OR (max_duration IS NOT NULL
               AND pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) v_started OPERATOR(pg_catalog.>=) max_duration) THEN
            RAISE NOTICE 'run_purge stopped after % rows in % batches: its budget is spent', v_total, v_batches
                USING HINT = 'Expired rows may be left; the next run purges them.';
            RETURN;
        END IF;
    END LOOP;
    IF pg_catalog.cardinality(v_failed) OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'run_purge could not purge %', pg_catalog.array_to_string(v_failed, ', ')
            USING DETAIL = pg_catalog.format('%s rows in %s batches were purged from the other tables.', v_total, v_batches),
                  HINT = 'The audit log records each failure (action purge_failed).';
    END IF;
END
$$;
COMMENT ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer, bigint, interval) IS
    'Purges like purge(), committing every batch_size rows, until no expired row is left or the budget (max_rows, max_duration) is spent.';

CREATE OR REPLACE FUNCTION privacy_tags._invalidate(rel regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'privacy_tags_invalidate' LANGUAGE C VOLATILE STRICT;

CREATE OR REPLACE FUNCTION privacy_tags._subject_graph(subject_type text, param text DEFAULT '$1', as_array boolean DEFAULT false)
RETURNS TABLE (relation regclass, kind text, via text, depth integer, erase_order integer, tagged boolean,
               collected_at name, pred text, shared text, other_columns text[], masks jsonb)
AS 'MODULE_PATHNAME', 'privacy_tags_subject_graph' LANGUAGE C STABLE;

CREATE OR REPLACE FUNCTION privacy_tags.subject_graph(subject_type text)
RETURNS TABLE (relation regclass, kind text, via text, depth integer, erase_order integer, classification text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF subject_graph.subject_type IS NULL THEN
        RAISE EXCEPTION 'subject_graph: subject_type must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('subject_graph', subject_graph.subject_type, NULL);
    RETURN QUERY
    SELECT g.relation, g.kind, g.via, g.depth, g.erase_order,
           CASE WHEN NOT g.tagged THEN 'unclassified'
                WHEN g.shared IS NULL THEN 'own'
                ELSE 'own or shared' END
      FROM privacy_tags._subject_graph(subject_graph.subject_type) g
     ORDER BY g.erase_order, g.depth, g.relation::text;
END
$$;
COMMENT ON FUNCTION privacy_tags.subject_graph(text) IS
    'The tables that hold a subject type''s rows: how each is reached (key, foreign key or link, either direction), whether its rows are the subject''s own, may be shared with other subjects, or are unclassified (no tags), and the order erasure works in.';

CREATE OR REPLACE FUNCTION privacy_tags.link(child regclass, child_columns name[], parent regclass, parent_columns name[])
RETURNS void
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;
COMMENT ON FUNCTION privacy_tags.link(regclass, name[], regclass, name[]) IS
    'Declares a reference the schema has no foreign key for (possibly across types): the subject graph follows it like a foreign key.';

CREATE OR REPLACE FUNCTION privacy_tags.unlink(child regclass, child_columns name[], parent regclass, parent_columns name[])
RETURNS boolean
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;
COMMENT ON FUNCTION privacy_tags.unlink(regclass, name[], regclass, name[]) IS
    'Removes a reference declared with link(); returns whether it was there.';

CREATE OR REPLACE FUNCTION privacy_tags._check_link(fn text, child regclass, child_columns name[], parent regclass,
                                         parent_columns name[], caller regrole)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c name;
BEGIN
    IF child IS NULL OR child_columns IS NULL OR parent IS NULL OR parent_columns IS NULL THEN
        RAISE EXCEPTION '%: child, child_columns, parent and parent_columns must not be NULL', fn
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_table(fn, child);
    PERFORM privacy_tags._check_table(fn, parent);
    IF cardinality(child_columns) NOT BETWEEN 1 AND 32 OR cardinality(child_columns) <> cardinality(parent_columns) THEN
        RAISE EXCEPTION '%: child_columns and parent_columns must name as many columns, 1 to 32', fn
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH c IN ARRAY child_columns LOOP
        IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = child AND a.attname = c AND a.attnum > 0
                                                    AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of relation "%" does not exist', left(c, 63), child
                USING ERRCODE = 'undefined_column';
        END IF;
    END LOOP;
    FOREACH c IN ARRAY parent_columns LOOP
        IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = parent AND a.attname = c AND a.attnum > 0
                                                    AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of relation "%" does not exist', left(c, 63), parent
                USING ERRCODE = 'undefined_column';
        END IF;
    END LOOP;
    IF NOT pg_has_role(caller, (SELECT k.relowner FROM pg_class k WHERE k.oid = child), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', child
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('%s changes what erasures do to the child table: run it as its owner.', fn);
    END IF;
    IF NOT pg_has_role(caller, (SELECT k.relowner FROM pg_class k WHERE k.oid = parent), 'USAGE')
       AND NOT has_table_privilege(caller, parent, 'REFERENCES') THEN
        RAISE EXCEPTION 'permission denied for table %', parent
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'A link needs the REFERENCES privilege on the parent table, as a foreign key does.';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._link(child regclass, child_columns name[], parent regclass, parent_columns name[],
                                   caller regrole)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM privacy_tags._check_link('link', child, child_columns, parent, parent_columns, caller);
    INSERT INTO privacy_tags.links (child, child_columns, parent, parent_columns, created_by)
    VALUES (child, child_columns, parent, parent_columns, caller::name)
    ON CONFLICT DO NOTHING;
    PERFORM privacy_tags._invalidate(child);
    PERFORM privacy_tags._invalidate(parent);
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._unlink(child regclass, child_columns name[], parent regclass, parent_columns name[],
                                     caller regrole)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    PERFORM privacy_tags._check_link('unlink', child, child_columns, parent, parent_columns, caller);
    DELETE FROM privacy_tags.links l
     WHERE l.child = _unlink.child AND l.child_columns = _unlink.child_columns
       AND l.parent = _unlink.parent AND l.parent_columns = _unlink.parent_columns;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    PERFORM privacy_tags._invalidate(child);
    PERFORM privacy_tags._invalidate(parent);
    RETURN v_n > 0;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._rename_link_columns(rel regclass, oldname name, newname name, caller regrole)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE privacy_tags.links l SET child_columns = array_replace(l.child_columns, oldname, newname)
     WHERE l.child = rel AND oldname = ANY (l.child_columns);
    UPDATE privacy_tags.links l SET parent_columns = array_replace(l.parent_columns, oldname, newname)
     WHERE l.parent = rel AND oldname = ANY (l.parent_columns);
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._tagged_columns(rel regclass)
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

CREATE OR REPLACE FUNCTION privacy_tags.subject_access(subject_type text, subject_id text,
                                            since timestamptz DEFAULT NULL,
                                            portable_only boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id text;
    v_doc jsonb;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR portable_only IS NULL THEN
        RAISE EXCEPTION 'subject_access: subject_type, subject_id and portable_only must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_id := privacy_tags._check_subject('subject_access', subject_access.subject_type, subject_access.subject_id);

    -- one set-based statement over the graph's tables: their rows (read
    -- as each table's owner, the id a parameter), the facts of their
    -- tagged columns, and the summary
    WITH a AS (
        SELECT x.relation, x.kind, x.via, x.depth, x.tagged, x.has_collected_at, x.columns,
               x.res -> 0 AS data_rows, jsonb_array_length(x.res -> 0) AS n, (x.res ->> 1)::bigint AS n_shared,
               x.res -> 2 AS expires
          FROM privacy_tags._access_rows(subject_access.subject_type, v_id, since, portable_only) x
    ), d AS (
        SELECT * FROM a WHERE a.n > 0
    ), c AS (
        -- the tagged columns of the exported tables (a portable export
        -- keeps those on consent or contract), with the expiry of the
        -- subject's values
        SELECT d.relation, d.depth, col.o, col.c ->> 'column' AS column_name, col.c ->> 'category' AS category,
               col.c ->> 'basis' AS basis, col.c ->> 'retain' AS retain,
               (col.c - 'column') || jsonb_strip_nulls(jsonb_build_object('expires_at', d.expires -> (col.c ->> 'column'))) AS facts,
               coalesce(d.expires -> (col.c ->> 'column'), 'null') AS expires_at,
               ARRAY(SELECT jsonb_array_elements_text(col.c -> 'purposes')) AS purposes
          FROM d, jsonb_array_elements(d.columns) WITH ORDINALITY col(c, o)
         WHERE NOT portable_only OR coalesce(col.c ->> 'basis' IN ('consent', 'contract'), false)
    ), s AS (
        SELECT coalesce((SELECT jsonb_object_agg(d.relation::text, d.data_rows) FROM d), '{}') AS data,
               coalesce((SELECT jsonb_object_agg(d.relation::text, jsonb_build_object(
                            'kind', d.kind, 'via', d.via, 'records', d.n, 'shared', d.n_shared,
                            'classification', CASE WHEN NOT d.tagged THEN 'unclassified'
                                                   WHEN d.n_shared = 0 THEN 'own'
                                                   WHEN d.n_shared = d.n THEN 'shared'
                                                   ELSE 'own and shared' END)) FROM d), '{}') AS tables,
               coalesce((SELECT jsonb_object_agg(d.relation::text,
                                   coalesce((SELECT jsonb_object_agg(c.column_name, c.facts) FROM c WHERE c.relation = d.relation), '{}'))
                           FROM d), '{}') AS fields,
               (SELECT coalesce(sum(d.n), 0) FROM d) AS records,
               (SELECT coalesce(sum(d.n_shared), 0) FROM d) AS shared_records,
               coalesce((SELECT jsonb_agg(DISTINCT c.category ORDER BY c.category) FROM c), '[]') AS categories,
               coalesce((SELECT jsonb_agg(DISTINCT p ORDER BY p) FROM c, unnest(c.purposes) p), '[]') AS purposes,
               coalesce((SELECT jsonb_object_agg(b.basis, b.categories)
                           FROM (SELECT c.basis, jsonb_agg(DISTINCT c.category ORDER BY c.category) AS categories
                                   FROM c WHERE c.basis IS NOT NULL GROUP BY c.basis) b), '{}') AS legal_bases,
               coalesce((SELECT jsonb_agg(jsonb_build_object('relation', c.relation::text, 'column', c.column_name,
                                                             'category', c.category, 'retain', c.retain,
                                                             'expires_at', c.expires_at)
                                          ORDER BY c.depth, c.relation::text, c.o)
                           FROM c WHERE c.retain IS NOT NULL), '[]') AS retention,
               coalesce((SELECT jsonb_agg(a.relation::text ORDER BY a.depth, a.relation::text)
                           FROM a WHERE since IS NOT NULL AND NOT a.has_collected_at), '[]') AS unlimited
    )
    SELECT jsonb_build_object(
        'format', 'privacy_tags.subject_access/2',
        'subject', jsonb_build_object('type', subject_type, 'id', v_id),
        'generated_at', now(),
        'since', since,
        'portable_only', portable_only,
        'restricted', EXISTS (SELECT FROM privacy_tags.restrictions r
                               WHERE r.subject_type = subject_access.subject_type
                                 AND r.subject_id = v_id AND r.lifted_at IS NULL),
        'legal_hold', EXISTS (SELECT FROM privacy_tags.legal_holds h
                               WHERE h.subject_type = subject_access.subject_type
                                 AND h.subject_id = v_id AND h.released_at IS NULL
                                 AND (h.held_until IS NULL OR h.held_until > now())),
        'suppressed', EXISTS (SELECT FROM privacy_tags.suppressions x
                               WHERE x.subject_type = subject_access.subject_type
                                 AND x.subject_id = v_id),
        'consents', coalesce((SELECT jsonb_agg(jsonb_build_object('purpose', k.purpose, 'granted_at', k.granted_at,
                                                                'withdrawn_at', k.withdrawn_at) ORDER BY k.purpose)
                                FROM privacy_tags.consents k
                               WHERE k.subject_type = subject_access.subject_type
                                 AND k.subject_id = v_id), '[]'),
        'summary', jsonb_build_object(
            'categories', s.categories,
            'purposes', s.purposes,
            'legal_bases', s.legal_bases,
            'retention', s.retention,
            'records', s.records,
            'shared_records', s.shared_records,
            'not_limited_by_since', s.unlimited),
        'tables', s.tables,
        'fields', s.fields,
        'data', s.data)
      INTO v_doc
      FROM s;

    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES ('access', subject_type, privacy_tags.subject_hash(subject_type, v_id), (v_doc #>> '{summary,records}')::bigint,
            jsonb_build_object('since', since, 'portable_only', portable_only,
                               'tables', (SELECT count(*) FROM jsonb_object_keys(v_doc -> 'tables'))));
    RETURN v_doc;
END
$$;
COMMENT ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean) IS
    'Right of access and portability: one JSON document with the subject''s rows in every table, found through subject columns and foreign keys, and the Art. 15 facts about them.';

CREATE OR REPLACE FUNCTION privacy_tags._mask_assignment(rel regclass, col name, tag privacy_tags.privacy_tag,
                                              key_param integer DEFAULT 2)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%I = %s', col, privacy_tags._mask_expr(rel, col, tag, key_param))
$$;

CREATE OR REPLACE FUNCTION privacy_tags._erase(p_type text, p_id text, p_scope text, p_purposes text[],
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
    v_report := jsonb_build_object('format', 'privacy_tags.erasure/2',
                                   'subject', jsonb_build_object('type', p_type),
                                   'dry_run', p_dry_run) || v_report
                || CASE WHEN p_scope = 'partial' THEN jsonb_build_object('categories', to_jsonb(p_purposes)) ELSE '{}' END;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES (p_action, p_type, privacy_tags.subject_hash(p_type, p_id), v_rows,
            jsonb_build_object('dry_run', p_dry_run, CASE WHEN p_scope = 'partial' THEN 'categories' ELSE 'purposes' END,
                               p_purposes, 'tables', v_report->'tables',
                               'legal_hold', v_report->'legal_hold'));
    RETURN v_report;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.erase(subject_type text, subject_id text, dry_run boolean DEFAULT false,
                                   categories text[] DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    v_bad text;
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
    RETURN privacy_tags._erase_audited('erase', subject_type,
                                       privacy_tags._check_subject('erase', erase.subject_type, erase.subject_id),
                                       CASE WHEN categories IS NULL THEN 'erase' ELSE 'partial' END,
                                       categories, dry_run);
END
$$;
COMMENT ON FUNCTION privacy_tags.erase(text, text, boolean, text[]) IS
    'Right to erasure: deletes or nulls everything of the subject in one transaction (or, with categories, nulls only the columns of those categories), keeping legal_obligation data, shared and unclassified rows and held subjects; returns a report per table.';

CREATE OR REPLACE FUNCTION privacy_tags.grant_consent(subject_type text, subject_id text, purpose text)
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
    PERFORM privacy_tags._check_purpose(purpose);
    RETURN privacy_tags._erase_audited('withdraw_consent', subject_type,
                                       privacy_tags._check_subject('withdraw_consent', withdraw_consent.subject_type,
                                                                   withdraw_consent.subject_id),
                                       'withdraw',
                                       CASE WHEN purpose IS NULL THEN NULL ELSE ARRAY[purpose] END, dry_run);
END
$$;
COMMENT ON FUNCTION privacy_tags.withdraw_consent(text, text, text, boolean) IS
    'Withdraws consent for a purpose (all purposes when NULL) and erases the subject''s consent-based data no other consent covers; returns a report like erase().';

CREATE OR REPLACE FUNCTION privacy_tags.restrict(subject_type text, subject_id text, reason text)
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
    INSERT INTO privacy_tags.restrictions (subject_type, subject_id, reason)
    VALUES (restrict.subject_type, v_subject_id, restrict.reason) RETURNING id INTO v_id;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('restrict', restrict.subject_type, privacy_tags.subject_hash(restrict.subject_type, v_subject_id),
            jsonb_build_object('restriction_id', v_id));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION privacy_tags.restrict(text, text, text) IS
    'Restriction of processing (Art. 18): enforced tables refuse writes to the subject''s rows until lift_restriction().';

CREATE OR REPLACE FUNCTION privacy_tags.lift_restriction(subject_type text, subject_id text, reason text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION privacy_tags.suppress(subject_type text, subject_id text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    v_id text;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL THEN
        RAISE EXCEPTION 'suppress: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_id := privacy_tags._check_subject('suppress', suppress.subject_type, suppress.subject_id);
    INSERT INTO privacy_tags.suppressions (subject_type, subject_id)
    VALUES (suppress.subject_type, v_id) ON CONFLICT DO NOTHING;
    -- keep the minimum: every consent ends, and its data with it
    RETURN privacy_tags._erase_audited('withdraw_consent', subject_type, v_id, 'withdraw', NULL, false)
           || '{"suppressed": true}';
END
$$;
COMMENT ON FUNCTION privacy_tags.suppress(text, text) IS
    '"Do not contact": records the subject on the suppression list and withdraws every consent (erasing consent-based data).';

CREATE OR REPLACE FUNCTION privacy_tags.is_suppressed(subject_type text, subject_id text)
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

CREATE OR REPLACE FUNCTION privacy_tags.discover(schema_name name DEFAULT 'public', sample_size integer DEFAULT 200)
RETURNS TABLE (relation regclass, column_name name, suggested_tag privacy_tags.privacy_tag,
               rule text, evidence text, sampled integer, matched integer)
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;
COMMENT ON FUNCTION privacy_tags.discover(name, integer) IS
    'Untagged columns that look like personal data, by type, by a bounded sample of their values, or by name; each with a suggested tag and the evidence.';

CREATE OR REPLACE FUNCTION privacy_tags._discover(schema_name name, sample_size integer, caller regrole)
RETURNS TABLE (relation regclass, column_name name, suggested_tag privacy_tags.privacy_tag,
               rule text, evidence text, sampled integer, matched integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_sample jsonb;
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
           AND has_schema_privilege(caller, n.oid, 'USAGE')
           AND has_table_privilege(caller, k.oid, 'SELECT')
           -- values are read as the owner, past row-level security: not for
           -- a caller the policies would hide rows from
           AND (NOT k.relrowsecurity OR pg_has_role(caller, k.relowner, 'USAGE')
                OR (SELECT r.rolbypassrls OR r.rolsuper FROM pg_roles r WHERE r.oid = caller))
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
            -- enough blocks for about 16 x sample_size rows (the blocks are
            -- drawn at random: fewer would now and then give fewer than
            -- sample_size rows), never the whole of a large table
            v_pct := CASE WHEN c.reltuples <= 0 OR c.reltuples <= 16 * sample_size THEN 100
                          ELSE least(100, greatest(0.01, 1600.0 * sample_size / c.reltuples)) END;
            -- one sample, read once: what was sampled and what matched come
            -- from the same rows
            -- (read as the table's owner, in a security-restricted operation)
            v_sample := privacy_tags._owner_query(c.rel,
                           format('WITH s AS MATERIALIZED (SELECT privacy_tags.value_kind(t.%1$I::text) AS k '
                                  'FROM %2$s t %3$s WHERE t.%1$I IS NOT NULL LIMIT %4$s), '
                                  'm AS (SELECT mode() WITHIN GROUP (ORDER BY k) AS mode FROM s) '
                                  'SELECT jsonb_build_array((SELECT count(*)::int FROM s), m.mode, '
                                  '(SELECT count(*)::int FROM s WHERE s.k = m.mode)) FROM m',
                                  c.attname, c.rel,
                                  CASE WHEN v_pct < 100 THEN format('TABLESAMPLE SYSTEM (%s)', v_pct) ELSE '' END,
                                  sample_size));
            v_sampled := (v_sample ->> 0)::int;
            v_mode := v_sample ->> 1;
            matched := (v_sample ->> 2)::int;
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
COMMENT ON FUNCTION privacy_tags._discover(name, integer, regrole) IS
    'The body of discover(), called as the extension''s owner with the calling role.';

CREATE OR REPLACE FUNCTION privacy_tags.processing_record()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_subjects jsonb := '{}';   -- relation -> [subject types]
    r record;
BEGIN
    -- which kinds of data subject each table holds data of
    FOR r IN SELECT DISTINCT s.subject_type FROM privacy_tags.subjects s ORDER BY 1 LOOP
        SELECT v_subjects || coalesce(jsonb_object_agg(t.relation::text,
                   coalesce(v_subjects -> t.relation::text, '[]') || to_jsonb(r.subject_type)), '{}')
          INTO v_subjects
          FROM privacy_tags._subject_graph(r.subject_type) t;
    END LOOP;

    RETURN jsonb_build_object(
        'format', 'privacy_tags.processing_record/1',
        'database', current_database(),
        'purposes', coalesce((
            SELECT jsonb_agg(p.doc ORDER BY p.purpose)
              FROM (SELECT x.purpose, jsonb_build_object(
                        'purpose', x.purpose,
                        'legal_bases', jsonb_agg(DISTINCT x.basis ORDER BY x.basis) FILTER (WHERE x.basis IS NOT NULL),
                        'special_conditions', coalesce(jsonb_agg(DISTINCT x.special ORDER BY x.special) FILTER (WHERE x.special IS NOT NULL), '[]'),
                        'data_categories', jsonb_agg(DISTINCT x.category ORDER BY x.category),
                        'special_categories', coalesce(jsonb_agg(DISTINCT x.category ORDER BY x.category) FILTER (WHERE x.is_special), '[]'),
                        'ccpa_categories', jsonb_agg(DISTINCT x.ccpa ORDER BY x.ccpa) FILTER (WHERE x.ccpa IS NOT NULL),
                        'data_subjects', coalesce((SELECT jsonb_agg(DISTINCT st ORDER BY st)
                                                     FROM unnest(array_agg(x.relation)) rel,
                                                          jsonb_array_elements_text(coalesce(v_subjects -> rel, '[]')) st), '[]'),
                        'retention', coalesce(jsonb_agg(DISTINCT jsonb_build_object(
                                         'relation', x.relation, 'column', x.column_name, 'category', x.category,
                                         'retain', x.retain, 'on_expiry', x.on_expiry)) FILTER (WHERE x.retain IS NOT NULL), '[]'),
                        'tables', jsonb_agg(DISTINCT x.relation ORDER BY x.relation)) AS doc
                      FROM (SELECT coalesce(p, 'unspecified') AS purpose, c.legal_basis AS basis, c.special,
                                   c.category, c.is_special, c.ccpa::text AS ccpa, c.relation::text AS relation,
                                   c.column_name, c.on_expiry,
                                   substring(c.tag::text from 'retain=([^;]*)') AS retain
                              FROM privacy_tags.columns c
                              LEFT JOIN LATERAL unnest(nullif(c.purposes, '{}')) p ON true) x
                     GROUP BY x.purpose) p), '[]'),
        'untagged_basis', coalesce((SELECT jsonb_agg(jsonb_build_object('relation', c.relation::text, 'column', c.column_name)
                                                     ORDER BY c.relation::text, c.column_name)
                                      FROM privacy_tags.columns c WHERE c.legal_basis IS NULL), '[]'));
END
$$;
COMMENT ON FUNCTION privacy_tags.processing_record() IS
    'GDPR Art. 30 record of processing built from the tags: per purpose, the categories of data and of data subjects, legal bases, Art. 9 conditions, retention and tables.';

CREATE OR REPLACE FUNCTION privacy_tags._cascade_tables(rel regclass)
RETURNS regclass[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE r(relid) AS (
        SELECT rel::oid
        UNION
        SELECT coalesce(pg_partition_root(f.conrelid), f.conrelid)::oid
          FROM r JOIN pg_constraint f
            ON f.contype = 'f' AND f.confdeltype IN ('c', 'n', 'd')
           AND (f.confrelid = r.relid
                OR f.confrelid IN (SELECT l.relid FROM pg_partition_tree(r.relid::regclass) l))
    )
    SELECT coalesce(array_agg(r.relid::regclass ORDER BY r.relid::regclass::text), '{}')
      FROM r WHERE r.relid <> rel::oid
$$;

CREATE OR REPLACE FUNCTION privacy_tags._change_counts(rels regclass[])
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN current_setting('track_counts')::boolean THEN
           coalesce(jsonb_object_agg(s.rel::text, jsonb_build_array(s.deleted, s.updated)), '{}') END
      FROM (SELECT r.rel, sum(pg_stat_get_xact_tuples_deleted(l.relid)) AS deleted,
                   sum(pg_stat_get_xact_tuples_updated(l.relid)) AS updated
              FROM unnest(rels) r(rel),
                   -- (a table that is not partitioned has no partition tree)
                   LATERAL (SELECT r.rel::oid AS relid
                             UNION
                            SELECT x.relid FROM pg_partition_tree(r.rel) x WHERE x.isleaf) l
             GROUP BY r.rel) s
$$;

CREATE OR REPLACE FUNCTION privacy_tags._cascaded(rels regclass[], before jsonb)
RETURNS TABLE (relation regclass, action text, rows bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.key::regclass, x.action, x.n
      FROM jsonb_each(privacy_tags._change_counts(rels)) a,
           LATERAL (VALUES ('cascade_delete', (a.value ->> 0)::bigint - coalesce((before -> a.key ->> 0)::bigint, 0)),
                           ('cascade_update', (a.value ->> 1)::bigint - coalesce((before -> a.key ->> 1)::bigint, 0))) x(action, n)
     WHERE x.n > 0
     ORDER BY a.key, x.action
$$;

CREATE OR REPLACE FUNCTION privacy_tags._subject_paths(rel regclass)
RETURNS TABLE (column_name name, subject_type text, steps text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE
    refs(crel, ccol, prel, pcol) AS (
        SELECT coalesce(pg_partition_root(c.conrelid), c.conrelid)::oid, ca.attname,
               coalesce(pg_partition_root(c.confrelid), c.confrelid)::oid, pa.attname
          FROM pg_constraint c
          JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = c.conkey[1]
          JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
         WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
           AND privacy_tags._base_type(ca.atttypid) = privacy_tags._base_type(pa.atttypid)
           AND (SELECT y.typnamespace FROM pg_type y WHERE y.oid = privacy_tags._base_type(ca.atttypid))
               = 'pg_catalog'::regnamespace
        UNION
        SELECT l.child::oid, ca.attname, l.parent::oid, pa.attname
          FROM privacy_tags.links l
          JOIN pg_attribute ca ON ca.attrelid = l.child AND ca.attname = l.child_columns[1]
          JOIN pg_attribute pa ON pa.attrelid = l.parent AND pa.attname = l.parent_columns[1]
         WHERE cardinality(l.child_columns) = 1
           AND privacy_tags._base_type(ca.atttypid) = privacy_tags._base_type(pa.atttypid)
           AND (SELECT y.typnamespace FROM pg_type y WHERE y.oid = privacy_tags._base_type(ca.atttypid))
               = 'pg_catalog'::regnamespace
    ),
    keys(krel, kcol, ktype) AS (
        SELECT coalesce(pg_partition_root(s.objoid), s.objoid)::oid, a.attname,
               privacy_tags.subject_label_type(s.label)
          FROM pg_seclabel s
          JOIN pg_attribute a ON a.attrelid = s.objoid AND a.attnum = s.objsubid
         WHERE s.classoid = 'pg_class'::regclass AND s.provider = 'privacy_tags_subject' AND s.objsubid > 0
    ),
    chain(start, steps, relid, col, depth, path) AS (
        SELECT r.ccol, ''::text, r.prel, r.pcol, 1, ARRAY[rel::oid, r.prel]
          FROM refs r WHERE r.crel = rel::oid
        UNION ALL
        SELECT c.start,
               (c.steps || CASE WHEN c.steps = '' THEN '' ELSE '.' END
                        || format('%s.%s.%s.%s', quote_ident(n.nspname), quote_ident(k.relname),
                                  quote_ident(c.col), quote_ident(r.ccol))) COLLATE "default",
               r.prel, r.pcol, c.depth + 1, c.path || r.prel
          FROM chain c
          JOIN refs r ON r.crel = c.relid AND r.ccol <> c.col
          JOIN pg_class k ON k.oid = c.relid
          JOIN pg_namespace n ON n.oid = k.relnamespace
         WHERE c.depth < 4 AND r.prel <> ALL (c.path)
           AND NOT EXISTS (SELECT FROM keys y WHERE y.krel = c.relid AND y.kcol = c.col)
    ),
    ends(start, ktype, steps, depth) AS (
        -- the chain arrives at a key column
        SELECT c.start, y.ktype, c.steps, c.depth
          FROM chain c JOIN keys y ON y.krel = c.relid AND y.kcol = c.col
         WHERE c.depth >= 2
        UNION ALL
        -- the chain arrives at a table that has a key column of its own
        SELECT c.start, y.ktype,
               c.steps || CASE WHEN c.steps = '' THEN '' ELSE '.' END
                       || format('%s.%s.%s.%s', quote_ident(n.nspname), quote_ident(k.relname),
                                 quote_ident(c.col), quote_ident(y.kcol)), c.depth
          FROM chain c
          JOIN keys y ON y.krel = c.relid AND y.kcol <> c.col
          JOIN pg_class k ON k.oid = c.relid
          JOIN pg_namespace n ON n.oid = k.relnamespace
         WHERE NOT EXISTS (SELECT FROM keys z WHERE z.krel = c.relid AND z.kcol = c.col)
    )
    SELECT DISTINCT ON (e.start, e.ktype) e.start, e.ktype, e.steps
      FROM ends e
     WHERE NOT EXISTS (SELECT FROM keys z WHERE z.krel = rel::oid AND z.kcol = e.start)
     ORDER BY e.start, e.ktype, e.depth, e.steps
$$;

CREATE OR REPLACE FUNCTION privacy_tags._mask_expr(rel regclass, col name, tag privacy_tags.privacy_tag,
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

CREATE OR REPLACE FUNCTION privacy_tags._unmasked(rel regclass, col name, tag privacy_tags.privacy_tag)
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

CREATE OR REPLACE FUNCTION privacy_tags._erase_blocker(rel regclass, sqlstate text, constraint_name text, column_name text)
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

CREATE OR REPLACE FUNCTION privacy_tags._access_rows(subject_type text, id text, since timestamptz, portable_only boolean)
RETURNS TABLE (relation regclass, kind text, via text, depth integer, tagged boolean, has_collected_at boolean,
               columns jsonb, res jsonb)
AS 'MODULE_PATHNAME', 'privacy_tags_access_rows' LANGUAGE C STABLE;

CREATE FUNCTION privacy_tags._citus_loaded()
RETURNS boolean
AS 'MODULE_PATHNAME', 'privacy_tags_citus_loaded' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags._citus_loaded() IS
    'Whether the citus library is loaded in this session.';
CREATE OR REPLACE FUNCTION privacy_tags._citus_table(rel regclass)
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

CREATE OR REPLACE FUNCTION privacy_tags.citus_setup()
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

CREATE OR REPLACE FUNCTION privacy_tags._trigger_ddl(rel regclass, stmt text)
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

-- New and changed functions: end

CREATE OR REPLACE VIEW privacy_tags.columns AS
SELECT c.oid::pg_catalog.regclass AS relation,
       a.attname AS column_name,
       t.tag,
       privacy_tags.category(t.tag) AS category,
       privacy_tags.legal_basis(t.tag) AS legal_basis,
       privacy_tags.special_condition(t.tag) AS special,
       privacy_tags.purposes(t.tag) AS purposes,
       privacy_tags.retention(t.tag) AS retention,
       privacy_tags.retention_anchor(t.tag) AS anchor,
       privacy_tags.expiry_action(t.tag) AS on_expiry,
       cat.ccpa,
       coalesce(cat.special, false) AS is_special,
       EXISTS (SELECT FROM pg_catalog.pg_seclabel k
                WHERE k.provider OPERATOR(pg_catalog.=) 'privacy_tags_subject'
                  AND k.classoid OPERATOR(pg_catalog.=) s.classoid
                  AND k.objoid OPERATOR(pg_catalog.=) s.objoid
                  AND k.objsubid OPERATOR(pg_catalog.=) s.objsubid) AS is_subject_key,
       privacy_tags.mask(t.tag) AS mask
  FROM pg_catalog.pg_seclabel s
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.objoid
  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) s.objoid
                                 AND a.attnum OPERATOR(pg_catalog.=) s.objsubid
  CROSS JOIN LATERAL (SELECT s.label::privacy_tags.privacy_tag AS tag) t
  LEFT JOIN privacy_tags.categories cat
         ON cat.name OPERATOR(pg_catalog.=) privacy_tags.category(t.tag)
 WHERE s.provider OPERATOR(pg_catalog.=) 'privacy_tags'
   AND s.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
   AND s.objsubid OPERATOR(pg_catalog.>) 0
   AND NOT a.attisdropped;

COMMENT ON TYPE privacy_tags.privacy_tag IS
    'The privacy policy of one column: category, legal basis, special-category condition, purposes, retention window, expiry action and mask.';
COMMENT ON FUNCTION privacy_tags.citus_setup() IS
    'On a Citus cluster: makes the extension''s tables that the workers'' retention triggers read (consents, restrictions, legal holds, suppressions, the audit key) reference tables; returns how many it changed. enforce() calls it.';
REVOKE ALL ON FUNCTION privacy_tags.citus_setup() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.citus_setup() TO privacy_admin;
REVOKE ALL ON FUNCTION privacy_tags.erase(text, text, boolean, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.erase(text, text, boolean, text[]) TO privacy_admin;
REVOKE ALL ON FUNCTION privacy_tags.purge_batch(regclass, timestamptz, integer, regclass[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.purge_batch(regclass, timestamptz, integer, regclass[]) TO privacy_admin;
REVOKE ALL ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer, bigint, interval) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer, bigint, interval) TO privacy_admin;

-- The audit log's guard, also under session_replication_role = replica.
ALTER TABLE privacy_tags.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE privacy_tags.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

-- Stored subject ids, normalised by their subject type's key type ('07' ->
-- '7').  An id that is not a valid key, or whose normalised form is already
-- there (two rows of one subject), is left as it is and counted.
DO $$
DECLARE
    r record;
    v_id text;
    v_changed integer := 0;
    v_left integer := 0;
BEGIN
    FOR r IN
        SELECT 'consents' AS tab, ctid, subject_type, subject_id FROM privacy_tags.consents
        UNION ALL SELECT 'restrictions', ctid, subject_type, subject_id FROM privacy_tags.restrictions
        UNION ALL SELECT 'legal_holds', ctid, subject_type, subject_id FROM privacy_tags.legal_holds
        UNION ALL SELECT 'suppressions', ctid, subject_type, subject_id FROM privacy_tags.suppressions
    LOOP
        BEGIN
            v_id := privacy_tags._normalize_subject_id('update', r.subject_type, r.subject_id);
            IF v_id IS DISTINCT FROM r.subject_id THEN
                EXECUTE pg_catalog.format('UPDATE privacy_tags.%I SET subject_id = $1 WHERE ctid = $2', r.tab)
                    USING v_id, r.ctid;
                v_changed := v_changed + 1;
            END IF;
        EXCEPTION WHEN invalid_text_representation OR unique_violation THEN
            v_left := v_left + 1;
        END;
    END LOOP;
    IF v_changed + v_left > 0 THEN
        INSERT INTO privacy_tags.audit_log (action, rows, details)
        VALUES ('update', v_changed, pg_catalog.jsonb_build_object('to', '1.2', 'subject_ids_normalised', v_changed,
                                                                   'subject_ids_left', v_left));
    END IF;
END
$$;

-- Privileges -------------------------------------------------------------------

-- Internal functions (names starting with "_") are executable by the
-- extension's owner alone: the public functions that need them are SECURITY
-- DEFINER (for privacy_admin), or call them through the library as the
-- extension's owner, passing the caller along (enforce, unenforce,
-- discover, the label hooks).  One rule for all of them, here, so that a new
-- internal function can never be left open; test/shell/privileges.sh
-- compares every function's privileges with the README's table.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure
               FROM pg_catalog.pg_proc p
              WHERE p.pronamespace OPERATOR(pg_catalog.=) 'privacy_tags'::regnamespace
                AND pg_catalog.starts_with(p.proname::text, '_')
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, privacy_admin', f);
    END LOOP;
END
$$;
