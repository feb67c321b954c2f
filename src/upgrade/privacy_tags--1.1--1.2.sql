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
DROP FUNCTION privacy_tags._erase_audited(text, text, text, text, text[], boolean);
DROP FUNCTION privacy_tags.withdraw_consent(text, text, text, boolean);
DROP FUNCTION privacy_tags.restrict(text, text, text);
DROP FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean);
-- discover() gained min_confidence and the result columns confidence and subject_table
DROP FUNCTION privacy_tags.discover(name, integer);
-- add_category() gained fideslang
DROP FUNCTION privacy_tags.add_category(text, text, boolean, text);

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

-- Name hints of discover(): user names are identifiers.username; new hints.
UPDATE privacy_tags.name_hints SET category = 'identifiers.username'
 WHERE builtin AND match = 'exact' AND pattern IN ('username', 'user_name', 'anvandarnamn', 'användarnamn', 'login');
INSERT INTO privacy_tags.name_hints (pattern, match, category, builtin) VALUES
  ('born', 'exact', 'identifiers.date_of_birth', true),
  ('born_on', 'exact', 'identifiers.date_of_birth', true),
  ('fodd', 'exact', 'identifiers.date_of_birth', true),
  ('last_login', 'exact', 'network.login', true),
  ('last_login_at', 'exact', 'network.login', true),
  ('last_seen', 'exact', 'network.login', true),
  ('api_key', 'exact', 'credentials.token', true),
  ('apikey', 'exact', 'credentials.token', true),
  ('api_token', 'exact', 'credentials.token', true),
  ('access_token', 'exact', 'credentials.token', true),
  ('refresh_token', 'exact', 'credentials.token', true)
ON CONFLICT (pattern, match) DO NOTHING;

COMMENT ON FUNCTION privacy_tags.value_kind(text) IS
    'What a value looks like: email, ipv4, ipv6, personnummer (check digit valid), card (Luhn valid), phone, iban (mod-97 valid), orgnr (check digit valid), imei (Luhn valid), mac, geo, ssn, password_hash, jwt, api_key, person_name, street_address, postal_code; NULL otherwise.';

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
    ccpa text DEFAULT NULL,
    fideslang text DEFAULT NULL)
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
    -- a new top level may leave its CCPA letter unknown (NULL): the
    -- record of processing lists such categories under ccpa_unknown
    IF add_category.ccpa IS NOT NULL AND add_category.ccpa !~ '^[A-K]$' THEN
        RAISE EXCEPTION 'invalid CCPA letter "%"',
                        CASE WHEN length(add_category.ccpa) > 200 THEN left(add_category.ccpa, 200) || '...'
                             ELSE add_category.ccpa END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'CCPA categories are the letters A to K.';
    END IF;
    IF add_category.fideslang IS NOT NULL
       AND (add_category.fideslang !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' OR octet_length(add_category.fideslang) > 255) THEN
        RAISE EXCEPTION 'invalid fideslang data category "%"',
                        CASE WHEN length(add_category.fideslang) > 200 THEN left(add_category.fideslang, 200) || '...'
                             ELSE add_category.fideslang END
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A fideslang data category is a dot-separated key such as user.contact.email.';
    END IF;
    INSERT INTO privacy_tags.categories (name, parent, description, special, ccpa, builtin, fideslang)
    VALUES (add_category.name, v_parent, add_category.description,
            coalesce(add_category.special, v_parent_row.special, false),
            coalesce(add_category.ccpa, v_parent_row.ccpa), false, add_category.fideslang);
END
$$;
COMMENT ON FUNCTION privacy_tags.add_category(text, text, boolean, text, text) IS
    'Adds a custom category; special and ccpa default to the parent''s (a top level may leave ccpa unknown: NULL); fideslang names its fideslang equivalent, which import_fides_dataset() then maps to it.';

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
SET privacy_tags.purging = on
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
    -- what the hold kept from being erased goes now (unless another hold stays)
    IF v_n > 0 THEN
        PERFORM privacy_tags._complete_deferred(release.subject_type, v_subject_id);
    END IF;
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
    v_subjects integer := 0;
    v_pass integer;
    v_part regclass;
BEGIN
    -- windowed and consent-based columns: ('column', 'tag'); subject keys:
    -- ('column', '@subject <type>')
    -- (twice: the columns an objection covers go in only where the table
    -- has a subject argument, which the first pass finds)
    FOR v_pass IN 1..2 LOOP
        SELECT string_agg(x.arg, ', ' ORDER BY x.attnum, x.kind),
               count(*) FILTER (WHERE x.kind = 0 AND x.windowed),
               count(*) FILTER (WHERE x.kind > 0)
          INTO v_args, v_n, v_subjects
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
                   AND (privacy_tags.retention(t.tag) IS NOT NULL OR privacy_tags.legal_basis(t.tag) = 'consent'
                        -- what an objection covers, where the trigger can tell whose it is
                        OR (v_subjects > 0 AND privacy_tags.legal_basis(t.tag) IS DISTINCT FROM 'legal_obligation'
                            AND (privacy_tags.legal_basis(t.tag) = 'legitimate_interests'
                                 OR privacy_tags.purposes(t.tag) && privacy_tags.opt_out_purposes())))
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
        EXIT WHEN v_subjects = 0;
    END LOOP;
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
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- (PL/pgSQL: planned once per session, not at every call)
    RETURN (SELECT string_agg(format('EXISTS (SELECT FROM %s x WHERE (%s) = (%s))', f.conrelid::regclass,
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
                               AND s.objoid IN (f.conrelid, coalesce(pg_partition_root(f.conrelid)::oid, f.conrelid))))));
END
$$;

-- Whether the session's time zone keeps one offset from UTC for ever (UTC,
-- Etc/GMT-2, '+02:00'): then days added to a timestamp are exactly 24 hours
-- each, and a cut-off without months is exact.
CREATE OR REPLACE FUNCTION privacy_tags._fixed_timezone() RETURNS boolean
    AS 'MODULE_PATHNAME', 'privacy_tags_fixed_timezone' LANGUAGE C STABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION privacy_tags._purge_plan(rel regclass, as_of timestamptz)
RETURNS TABLE (relation regclass, column_name name, action text, expired text, bound text, held text,
               blocked text, held_ids text[], problem text, cutoff text, recheck text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    v_pred text;
    v_in_graph boolean;
    v_anchor_type regtype;
    v_hold_types text[];
    v_hold_ids text[];
    v_fixed boolean := privacy_tags._fixed_timezone();
    v_lo_ts timestamptz;
    v_hi_ts timestamptz;
    v_lo text;
    v_hi text;
    v_cut text;
    v_lo_d date;
    v_hi_d date;
    v_d date;
    v_cut_d date;
    v_gap boolean;
    v_exact boolean;
    v_unmasked text;
    v_test text;
    v_cols refcursor;
    v_citus boolean;
BEGIN
    -- the held subjects, once: one array of ids per subject type
    SELECT array_agg(x.subject_type ORDER BY x.subject_type), array_agg(x.ids::text ORDER BY x.subject_type)
      INTO v_hold_types, v_hold_ids
      FROM (SELECT h.subject_type, array_agg(DISTINCT h.subject_id ORDER BY h.subject_id) AS ids
              FROM privacy_tags.legal_holds h
             WHERE h.released_at IS NULL AND (h.held_until IS NULL OR h.held_until > as_of)
               AND EXISTS (SELECT FROM privacy_tags.subjects s WHERE s.subject_type = h.subject_type)
             GROUP BY h.subject_type) x;
    -- (one table's labels through the index; all of them, ordered by the
    -- tables' places among the foreign keys, only for a purge of all)
    IF rel IS NOT NULL THEN
        OPEN v_cols FOR
        SELECT c.relation AS rel, c.column_name AS col, c.retention AS w, c.anchor AS anc, c.on_expiry AS act,
               c.tag
          FROM privacy_tags.columns c
          JOIN pg_class k ON k.oid = c.relation
         WHERE c.relation = _purge_plan.rel AND c.retention IS NOT NULL AND c.anchor IS NOT NULL
           AND k.relkind IN ('r', 'p', 'f')
           AND (NOT k.relispartition
                OR NOT EXISTS (SELECT FROM privacy_tags.columns rc
                                WHERE rc.relation = pg_partition_root(c.relation)
                                  AND rc.column_name = c.column_name))
         ORDER BY c.on_expiry, c.column_name;
    ELSE
        OPEN v_cols FOR
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
           AND k.relkind IN ('r', 'p', 'f')
           -- a partition's own tag counts where its tree's root has none for
           -- the column (a table tagged before it was attached)
           AND (NOT k.relispartition
                OR NOT EXISTS (SELECT FROM privacy_tags.columns rc
                                WHERE rc.relation = pg_partition_root(c.relation)
                                  AND rc.column_name = c.column_name))
         ORDER BY h.height, c.relation::text, c.on_expiry, c.column_name;
    END IF;
    LOOP
        FETCH v_cols INTO r;
        EXIT WHEN NOT FOUND;
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
        cutoff := NULL;
        recheck := NULL;
        -- (the anchor's type is checked again here: it may have changed since
        -- the column was tagged, and the cut-offs are cast to it as the
        -- extension's owner)
        problem := CASE WHEN v_anchor_type IS NULL
                        THEN format('anchor column "%s" of relation "%s" does not exist', r.anc, r.rel)
                        WHEN v_anchor_type NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
                        THEN format('anchor column "%s" of relation "%s" is of type %s, not a date or timestamp',
                                    r.anc, r.rel, v_anchor_type) END;
        -- (the shards of a Citus table evaluate the statement's conditions:
        -- no STABLE function of a column there, see 55_citus.sql)
        v_citus := problem IS NULL AND privacy_tags._citus_table(r.rel);
        -- rows of held subjects, wherever the subject graph reaches them
        -- (a held customer's orders without a subject column of their own
        -- too): one parameter per subject type, the array of its held ids
        IF problem IS NULL THEN
            FOR i IN 1 .. coalesce(cardinality(v_hold_types), 0) LOOP
                v_pred := NULL;
                v_in_graph := NULL;
                SELECT g.pred, true INTO v_pred, v_in_graph
                  FROM privacy_tags._subject_graph(v_hold_types[i], '$' || (coalesce(cardinality(held_ids), 0) + 1), true) g
                 WHERE g.relation = coalesce(pg_partition_root(r.rel), r.rel);
                IF v_in_graph AND v_pred IS NULL THEN
                    -- held subjects whose rows cannot be looked up safely: the
                    -- table is not purged (reported)
                    problem := format('held subjects of type "%s" cannot be looked up: its key type has a cast from text made by a function',
                                      v_hold_types[i]);
                ELSIF v_pred IS NOT NULL THEN
                    -- (a NULL reference is nobody's: false, never NULL, so that
                    -- NOT held keeps the row in the purge)
                    held := coalesce(held || ' OR ', '')
                            || format(CASE WHEN v_citus THEN '(%s) IS TRUE' ELSE 'coalesce(%s, false)' END, v_pred);
                    held_ids := coalesce(held_ids, '{}') || v_hold_ids[i];
                END IF;
            END LOOP;
        END IF;
        IF problem IS NOT NULL THEN
            held := NULL;
            held_ids := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- Anchors more than 4 days before the cut-off are expired whatever
        -- month ends and time zones do, and anchors more than 3 days after
        -- it are not (month arithmetic moves a date by at most 3 days at
        -- the end of a month); in between, the exact test decides.  Both
        -- constants are computed here, once, and written as constants of
        -- the anchor's type, so the statement compares with literals.
        v_lo_ts := (as_of - interval '4 days') - r.w;
        v_hi_ts := as_of - r.w + interval '3 days';
        v_lo := CASE v_anchor_type WHEN 'date'::regtype THEN v_lo_ts::date::text
                                   WHEN 'timestamp'::regtype THEN v_lo_ts::timestamp::text
                                   ELSE v_lo_ts::text END;
        v_hi := CASE v_anchor_type WHEN 'date'::regtype THEN v_hi_ts::date::text
                                   WHEN 'timestamp'::regtype THEN v_hi_ts::timestamp::text
                                   ELSE v_hi_ts::text END;
        v_test := CASE WHEN v_citus THEN privacy_tags._citus_expiry_test(r.anc, v_anchor_type, r.w, as_of)
                       ELSE format('t.%1$I::timestamptz + %2$L::interval <= %3$L::timestamptz', r.anc, r.w, as_of) END;
        -- (a value that is its mask already is done)
        v_unmasked := CASE WHEN r.act = 'nullify' THEN privacy_tags._unmasked(r.rel, r.col, r.tag) END;
        -- The exact cut-off, where one constant says it: for a date, the
        -- last of the few dates in between that the exact test finds
        -- expired, when every date before it is expired too; for a
        -- timestamp, as_of minus a window without months, where no change
        -- of UTC offset can move it (a timestamp with time zone and a
        -- window of hours, or a time zone of one offset).
        v_cut := NULL;
        IF v_anchor_type = 'date'::regtype THEN
            v_lo_d := v_lo_ts::date;
            v_hi_d := v_hi_ts::date;
            IF isfinite(v_lo_d) AND isfinite(v_hi_d) THEN
                v_cut_d := v_lo_d;
                v_gap := false;
                v_exact := true;
                FOR i IN 1 .. v_hi_d - v_lo_d LOOP
                    v_d := v_lo_d + i;
                    IF v_d::timestamptz + r.w <= as_of THEN
                        v_exact := v_exact AND NOT v_gap;
                        v_cut_d := v_d;
                    ELSE
                        v_gap := true;
                    END IF;
                END LOOP;
                IF v_exact THEN
                    v_cut := v_cut_d::text;
                END IF;
            END IF;
        ELSIF extract(year FROM r.w) = 0 AND extract(month FROM r.w) = 0 AND isfinite(as_of)
              AND (v_fixed OR (v_anchor_type = 'timestamptz'::regtype AND extract(day FROM r.w) = 0)) THEN
            v_cut := CASE v_anchor_type WHEN 'timestamp'::regtype THEN (as_of - r.w)::timestamp::text
                                        ELSE (as_of - r.w)::text END;
        END IF;
        IF v_cut IS NOT NULL THEN
            cutoff := format('t.%1$I <= %2$L::%3$s', r.anc, v_cut, v_anchor_type);
            bound := cutoff;
            expired := coalesce(v_unmasked, 'true');
        ELSE
            cutoff := format('t.%1$I <= %2$L::%3$s', r.anc, v_lo, v_anchor_type);
            recheck := format('t.%1$I > %2$L::%3$s AND t.%1$I <= %4$L::%3$s AND %5$s',
                              r.anc, v_lo, v_anchor_type, v_hi, v_test);
            -- an index-friendly bound that every expired anchor satisfies
            bound := format('t.%1$I <= %2$L::%3$s', r.anc, v_hi, v_anchor_type);
            expired := format('(%s OR %s)', cutoff, v_test);
            IF v_unmasked IS NOT NULL THEN
                expired := expired || ' AND ' || v_unmasked;
                recheck := recheck || ' AND ' || v_unmasked;
            END IF;
        END IF;
        IF v_unmasked IS NOT NULL THEN
            cutoff := cutoff || ' AND ' || v_unmasked;
        END IF;
        -- rows that other rows point at with ON DELETE NO ACTION/RESTRICT
        IF r.act = 'delete' THEN
            blocked := privacy_tags._referenced_by(r.rel, true);
        END IF;
        RETURN NEXT;
    END LOOP;
    CLOSE v_cols;
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
    v_conds text[];
    v_cond text;
    v_set text;
    v_params text[];
    v_n bigint := 0;
    v_key text[];
    v_batch text[];
BEGIN
    IF batch_size IS NOT NULL AND privacy_tags._citus_table(target) THEN
        -- (a Citus table has no ctid to batch by: a range of keys, its last
        -- key a parameter after the others)
        v_batch := privacy_tags._citus_batch(p, target, batch_size, v_keep,
                       coalesce(cardinality(p.held_ids), 0) + CASE WHEN p.action = 'delete' THEN 1 ELSE 3 END);
        v_conds := ARRAY[v_batch[1]];
    ELSIF batch_size IS NOT NULL THEN
        v_conds := ARRAY[format('t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT t.ctid FROM %s t '
                                'WHERE %s AND %s AND NOT (%s) LIMIT %s)) AND %s AND %s',
                                target, p.bound, p.expired, v_keep, batch_size, p.bound, p.expired)];
    ELSE
        v_conds := ARRAY[p.cutoff] || CASE WHEN p.recheck IS NULL THEN '{}'::text[] ELSE ARRAY[p.recheck] END;
    END IF;
    IF p.action = 'delete' THEN
        FOREACH v_cond IN ARRAY v_conds LOOP
            v_n := v_n + privacy_tags._delete_retrying(target,
                       format('DELETE FROM %s t WHERE %s AND NOT (%s)', target, v_cond, v_keep),
                       CASE WHEN v_batch[2] IS NULL THEN p.held_ids ELSE coalesce(p.held_ids, '{}') || v_batch[2] END);
        END LOOP;
    ELSE
        -- NULL, or the tag's mask (a hash mask's key follows the held ids)
        SELECT ARRAY[encode(k.ipad, 'hex'), encode(k.opad, 'hex')] INTO v_key
          FROM privacy_tags.audit_key k ORDER BY k.generated_at LIMIT 1;
        v_set := privacy_tags._mask_assignment(target, p.column_name,
                     (SELECT c.tag FROM privacy_tags.columns c
                       WHERE c.relation IN (p.relation, target) AND c.column_name = p.column_name
                       ORDER BY c.relation = p.relation DESC LIMIT 1),
                     coalesce(cardinality(p.held_ids), 0) + 1);
        v_params := coalesce(p.held_ids, '{}') || v_key
                    || CASE WHEN v_batch[2] IS NULL THEN '{}'::text[] ELSE ARRAY[v_batch[2]] END;
        FOREACH v_cond IN ARRAY v_conds LOOP
            v_n := v_n + privacy_tags._owner_exec(target,
                       format('UPDATE %s t SET %s WHERE %s AND NOT (%s)', target, v_set, v_cond, v_keep),
                       v_params);
        END LOOP;
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
    d record;
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
        -- a whole purge also carries out the erasures whose legal hold has
        -- ended, and drops the requests closed long enough ago
        IF purge.rel IS NULL THEN
            PERFORM privacy_tags._complete_deferred(NULL, NULL);
            PERFORM privacy_tags._purge_requests();
        END IF;
        FOR d IN SELECT * FROM privacy_tags._purge_due(purge.rel, purge.as_of,
                                                         privacy_tags._purge_unprobed(purge.as_of)) LOOP
            relation := d.relation;
            column_name := d.column_name;
            -- nothing expired (the probe of src/purge.c): reported as
            -- always, without a statement or a subtransaction
            IF NOT d.due THEN
                action := d.action;
                rows := 0;
                RETURN NEXT;
                CONTINUE;
            END IF;
            FOR p IN SELECT * FROM privacy_tags._purge_plan(d.relation, purge.as_of) x
                      WHERE x.column_name OPERATOR(pg_catalog.=) d.column_name LOOP
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
    d record;
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
    -- (columns without expired rows, by the probe of src/purge.c, skipped)
    FOR d IN SELECT * FROM privacy_tags._purge_due(purge_batch.rel, purge_batch.as_of,
                                                     privacy_tags._purge_unprobed(purge_batch.as_of)) LOOP
        CONTINUE WHEN NOT d.due OR d.relation = ANY (coalesce(skip, '{}'));
        FOR p IN SELECT * FROM privacy_tags._purge_plan(d.relation, purge_batch.as_of) x
                  WHERE x.column_name OPERATOR(pg_catalog.=) d.column_name LOOP
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
    ELSE
        -- erasures whose legal hold has ended, closed requests past
        -- privacy_tags.request_retention
        PERFORM privacy_tags.complete_deferred_erasures();
        COMMIT;
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
                                            portable_only boolean DEFAULT false, request bigint DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'privacy_tags_subject_access'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean, bigint) IS
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

CREATE OR REPLACE FUNCTION privacy_tags._erase_audited(p_action text, p_type text, p_id text, p_scope text,
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

CREATE OR REPLACE FUNCTION privacy_tags.erase(subject_type text, subject_id text, dry_run boolean DEFAULT false,
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

CREATE OR REPLACE FUNCTION privacy_tags.restrict(subject_type text, subject_id text, reason text, request bigint DEFAULT NULL)
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

CREATE FUNCTION privacy_tags.discover(schema_name name DEFAULT 'public', sample_size integer DEFAULT 200,
                                      min_confidence real DEFAULT 0.5)
RETURNS TABLE (relation regclass, column_name name, suggested_tag privacy_tags.privacy_tag,
               rule text, evidence text, sampled integer, matched integer,
               confidence real, subject_table regclass)
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;

-- The rules (README, "discover()"):
--   type       inet/cidr, macaddr, point columns
--   values     a bounded sample of each table's rows, one read per table: the
--              recognisers of value_kind() on text columns, ages on date columns
--   name       privacy_tags.name_hints; generic names (name, title, city, ...)
--              count only in a table linked to a person
--   structure  person tables (recognised names, emails, national ids, dates
--              of birth, or set_subject() keys) and the tables that reference
--              them through foreign keys or link(), any depth, partitions as
--              their parent: their other columns are the person's data, their
--              referencing columns subject references
--   combined   two rules that agree: 1 - (1 - a)(1 - b)
CREATE OR REPLACE FUNCTION privacy_tags._discover(schema_name name, sample_size integer, min_confidence real, caller regrole)
RETURNS TABLE (relation regclass, column_name name, suggested_tag privacy_tags.privacy_tag,
               rule text, evidence text, sampled integer, matched integer,
               confidence real, subject_table regclass)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    v_parts jsonb[] := '{}';
    v_exprs text[];
    v_objs text[];
    v_pct float8;
    v_rows float8;
    v_stmt text;
    i integer;
BEGIN
    IF schema_name IS NULL OR sample_size IS NULL OR min_confidence IS NULL THEN
        RAISE EXCEPTION 'discover: schema_name, sample_size and min_confidence must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF sample_size < 1 OR sample_size > 100000 THEN
        RAISE EXCEPTION 'discover: sample_size must be between 1 and 100000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_confidence < 0 OR min_confidence > 1 THEN
        RAISE EXCEPTION 'discover: min_confidence must be between 0 and 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = schema_name) THEN
        RAISE EXCEPTION 'schema "%" does not exist', schema_name USING ERRCODE = 'invalid_schema_name';
    END IF;

    -- 1. one bounded sample of each table's rows, read once as its owner:
    -- per text column the commonest kind of value, per date column the ages
    FOR t IN
        SELECT k.oid, k.oid::regclass AS rel, k.relkind,
               -- a partitioned table's size is its partitions'
               -- (pg_partition_tree() of a plain table is empty)
               (SELECT sum(greatest(p.reltuples, 0))::float8 FROM pg_class p
                 WHERE p.oid = k.oid OR p.oid IN (SELECT pt.relid FROM pg_partition_tree(k.oid) pt)) AS tuples,
               (SELECT sum(pg_relation_size(p.oid))::float8 / current_setting('block_size')::int FROM pg_class p
                 WHERE p.oid = k.oid OR p.oid IN (SELECT pt.relid FROM pg_partition_tree(k.oid) pt)) AS pages,
               array_agg(a.attnum ORDER BY a.attnum) FILTER (WHERE a.kind = 't') AS text_cols,
               array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.kind = 't') AS text_names,
               array_agg(a.attnum ORDER BY a.attnum) FILTER (WHERE a.kind = 'd') AS date_cols,
               array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.kind = 'd') AS date_names
          FROM pg_class k
          JOIN pg_namespace n ON n.oid = k.relnamespace
          JOIN LATERAL (SELECT x.attnum, x.attname,
                               CASE WHEN x.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)
                                         OR format_type(x.atttypid, NULL) = 'citext' THEN 't'
                                    WHEN x.atttypid IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN 'd' END AS kind
                          FROM pg_attribute x
                         WHERE x.attrelid = k.oid AND x.attnum > 0 AND NOT x.attisdropped
                           AND NOT EXISTS (SELECT FROM pg_seclabel s
                                            WHERE s.objoid = k.oid AND s.objsubid = x.attnum
                                              AND s.classoid = 'pg_class'::regclass
                                              AND s.provider IN ('privacy_tags', 'privacy_tags_subject'))) a
            ON a.kind IS NOT NULL
         WHERE n.nspname = schema_name AND k.relkind IN ('r', 'p') AND NOT k.relispartition
           AND has_schema_privilege(caller, n.oid, 'USAGE')
           AND has_table_privilege(caller, k.oid, 'SELECT')
           AND (NOT k.relrowsecurity OR pg_has_role(caller, k.relowner, 'USAGE')
                OR (SELECT r.rolbypassrls OR r.rolsuper FROM pg_roles r WHERE r.oid = caller))
         -- (every column of k named: catalogs have no primary key before 14)
         GROUP BY k.oid, k.relkind
         ORDER BY k.oid
    LOOP
        -- enough blocks for about 16 x sample_size rows, never the whole of a
        -- large table; a table never analysed is taken at 50 rows a block
        v_rows := CASE WHEN t.tuples > 0 THEN t.tuples ELSE t.pages * 50 END;
        v_pct := CASE WHEN v_rows <= 16 * sample_size THEN 100
                      ELSE least(100, greatest(0.0001, 1600.0 * sample_size / v_rows)) END;
        v_exprs := '{}';
        FOR i IN 1 .. coalesce(cardinality(t.text_cols), 0) LOOP
            v_exprs := v_exprs || format(
                '%1$L, (SELECT jsonb_build_array(x.n, x.d, m.k, coalesce(m.c, 0)) '
                'FROM (SELECT count(*)::int AS n, count(DISTINCT s.%2$I)::int AS d FROM s WHERE s.%2$I IS NOT NULL) x '
                'LEFT JOIN LATERAL (SELECT y.k, count(*)::int AS c FROM (SELECT privacy_tags.value_kind(s.%2$I::text) AS k '
                'FROM s WHERE s.%2$I IS NOT NULL) y WHERE y.k IS NOT NULL GROUP BY y.k ORDER BY 2 DESC, 1 LIMIT 1) m ON true)',
                t.oid || ':' || t.text_cols[i], t.text_names[i]);
        END LOOP;
        FOR i IN 1 .. coalesce(cardinality(t.date_cols), 0) LOOP
            -- ages in years: how many between 0 and 110, the median, distinct days
            v_exprs := v_exprs || format(
                '%1$L, (SELECT jsonb_build_array(count(*)::int, count(DISTINCT a.d)::int, '
                'count(*) FILTER (WHERE a.age BETWEEN 0 AND 110)::int, '
                'round((percentile_cont(0.5) WITHIN GROUP (ORDER BY a.age))::numeric, 1)) '
                'FROM (SELECT s.%2$I::date AS d, (current_date - s.%2$I::date) / 365.25 AS age FROM s WHERE s.%2$I IS NOT NULL) a)',
                t.oid || ':' || t.date_cols[i], t.date_names[i]);
        END LOOP;
        IF cardinality(v_exprs) = 0 THEN
            CONTINUE;
        END IF;
        -- jsonb_build_object takes at most 50 pairs: 40 columns an object
        v_objs := '{}';
        FOR i IN 0 .. (cardinality(v_exprs) - 1) / 40 LOOP
            v_objs := v_objs || ('jsonb_build_object(' || array_to_string(v_exprs[i * 40 + 1 : i * 40 + 40], ', ') || ')');
        END LOOP;
        v_stmt := format('WITH s AS MATERIALIZED (SELECT * FROM %s t %s LIMIT %s) SELECT %s',
                         t.rel,
                         CASE WHEN v_pct < 100 THEN format('TABLESAMPLE SYSTEM (%s)', v_pct) ELSE '' END,
                         sample_size, array_to_string(v_objs, ' || '));
        -- read as the table's owner, in a security-restricted operation
        v_parts := v_parts || privacy_tags._owner_query(t.rel, v_stmt);
    END LOOP;

    -- 2. every untagged column, with what its type, its values and its name say
    RETURN QUERY
    WITH samples AS (
        SELECT split_part(e.key, ':', 1)::oid AS relid, split_part(e.key, ':', 2)::int2 AS attnum, e.value AS v
          FROM unnest(v_parts) p, jsonb_each(p) e
    ), tabs AS (
        SELECT k.oid AS relid, k.relname, k.relkind,
               translate(lower(k.relname), 'åäöéü', 'aaoeu') AS tnorm
          FROM pg_class k
          JOIN pg_namespace n ON n.oid = k.relnamespace
         WHERE n.nspname = schema_name AND k.relkind IN ('r', 'p', 'f') AND NOT k.relispartition
           AND has_schema_privilege(caller, n.oid, 'USAGE')
           AND has_table_privilege(caller, k.oid, 'SELECT')
           AND (NOT k.relrowsecurity OR pg_has_role(caller, k.relowner, 'USAGE')
                OR (SELECT r.rolbypassrls OR r.rolsuper FROM pg_roles r WHERE r.oid = caller))
    ), cols AS (
        SELECT tb.relid, tb.relname, tb.tnorm, a.attnum, a.attname, a.atttypid, a.attnotnull,
               format_type(a.atttypid, a.atttypmod) AS typ,
               regexp_replace(translate(lower(a.attname), 'åäöéüÅÄÖÉÜ', 'aaoeuaaoeu'), '[^a-z0-9]+', '_', 'g') AS norm,
               EXISTS (SELECT FROM pg_seclabel s
                        WHERE s.objoid = tb.relid AND s.objsubid = a.attnum
                          AND s.classoid = 'pg_class'::regclass
                          AND s.provider IN ('privacy_tags', 'privacy_tags_subject')) AS labelled,
               -- a surrogate key: an integer column of the primary key
               a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'uuid'::regtype)
               AND EXISTS (SELECT FROM pg_constraint c
                            WHERE c.conrelid = tb.relid AND c.contype = 'p' AND a.attnum = ANY (c.conkey)) AS is_pk,
               sm.v AS sample,
               a.atttypid NOT IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) AS is_text
          FROM tabs tb
          JOIN pg_attribute a ON a.attrelid = tb.relid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN samples sm ON sm.relid = tb.relid AND sm.attnum = a.attnum
    ), hinted AS (
        SELECT c.*, h.pattern AS h_pattern, h.match AS h_match, h.category AS h_category,
               h.pattern IN ('name', 'namn', 'title', 'titel', 'role', 'roll', 'country', 'land', 'city',
                             'town', 'ort', 'stad', 'login', 'description', 'status') AS h_generic
          FROM cols c
          LEFT JOIN LATERAL (SELECT h.* FROM privacy_tags.name_hints h
                              WHERE (h.match = 'exact' AND h.pattern = c.norm)
                                 OR (h.match = 'fragment' AND strpos(c.norm, h.pattern) > 0)
                              ORDER BY h.match = 'exact' DESC, length(h.pattern) DESC, h.pattern
                              LIMIT 1) h ON true
    ), judged AS (
        -- what each single rule says: category, confidence, evidence
        SELECT c.*,
               -- by type
               CASE WHEN c.atttypid IN ('inet'::regtype, 'cidr'::regtype) THEN 'network.ip_address'
                    WHEN c.atttypid IN ('macaddr'::regtype, 'macaddr8'::regtype) THEN 'device.mac_address'
                    WHEN c.atttypid = 'point'::regtype THEN 'location.precise' END AS ty_cat,
               -- by values: text kinds
               CASE WHEN c.is_text THEN c.sample ->> 2 END AS v_kind,
               CASE WHEN c.is_text THEN (c.sample ->> 0)::int END AS v_n,
               CASE WHEN c.is_text THEN (c.sample ->> 3)::int END AS v_m,
               CASE WHEN c.is_text THEN (c.sample ->> 1)::int END AS v_d
          FROM hinted c
    ), valued AS (
        SELECT j.*,
               CASE WHEN j.atttypid IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN
                        -- dates of birth: ages 0-110 for 90 %, a median age of 16 to 90, many distinct days
                        -- (plausible ages alone could be any past date: the name must say it)
                        CASE WHEN j.h_category = 'identifiers.date_of_birth' AND (j.sample ->> 0)::int >= 3
                                  AND (j.sample ->> 2)::int >= 0.9 * (j.sample ->> 0)::int
                                  AND (j.sample ->> 3)::numeric BETWEEN 16 AND 90
                                  AND (j.sample ->> 1)::int >= 0.5 * (j.sample ->> 0)::int
                             THEN 'date_of_birth' END
                    WHEN j.v_kind IS NOT NULL AND j.v_m >= 3 AND j.v_m * 2 >= j.v_n
                         -- a name dictionary needs enough values to tell names from a list of words
                         AND (j.v_kind <> 'person_name' OR j.v_n >= 10) THEN j.v_kind END AS val_kind
          FROM judged j
    ), singles AS (
        SELECT v.*,
               CASE v.val_kind
                   WHEN 'email' THEN 'contact.email' WHEN 'phone' THEN 'contact.phone'
                   WHEN 'ipv4' THEN 'network.ip_address' WHEN 'ipv6' THEN 'network.ip_address'
                   WHEN 'card' THEN 'financial.payment_card' WHEN 'personnummer' THEN 'identifiers.national_id'
                   WHEN 'iban' THEN 'financial.bank_account' WHEN 'orgnr' THEN 'identifiers.tax_id'
                   WHEN 'imei' THEN 'device.imei' WHEN 'mac' THEN 'device.mac_address'
                   WHEN 'geo' THEN 'location.precise' WHEN 'ssn' THEN 'identifiers.national_id'
                   WHEN 'password_hash' THEN 'credentials.password' WHEN 'jwt' THEN 'credentials.token'
                   WHEN 'api_key' THEN 'credentials.token' WHEN 'person_name' THEN 'identifiers.name'
                   WHEN 'street_address' THEN 'contact.postal_address.street'
                   WHEN 'postal_code' THEN 'contact.postal_address.postal_code'
                   WHEN 'date_of_birth' THEN 'identifiers.date_of_birth' END AS val_cat,
               -- a recogniser with a check digit is surer than one of shape alone
               CASE v.val_kind
                   WHEN 'card' THEN 0.95 WHEN 'personnummer' THEN 0.95 WHEN 'iban' THEN 0.95
                   WHEN 'password_hash' THEN 0.95 WHEN 'email' THEN 0.9 WHEN 'ipv4' THEN 0.9
                   WHEN 'ipv6' THEN 0.9 WHEN 'imei' THEN 0.9 WHEN 'mac' THEN 0.9 WHEN 'jwt' THEN 0.9
                   WHEN 'ssn' THEN 0.9 WHEN 'geo' THEN 0.85 WHEN 'street_address' THEN 0.85
                   WHEN 'person_name' THEN 0.8 WHEN 'api_key' THEN 0.8 WHEN 'phone' THEN 0.75
                   WHEN 'postal_code' THEN 0.75 WHEN 'orgnr' THEN 0.6
                   WHEN 'date_of_birth' THEN 0.6 END
                 * CASE WHEN v.val_kind = 'date_of_birth' THEN 1
                        ELSE 0.6 + 0.4 * v.v_m / greatest(v.v_n, 1) END AS val_conf
          FROM valued v
    ), persons AS (
        -- tables that look like a person's: a subject key, or a person's
        -- name, email, national id or date of birth (by values, or by a
        -- name that is not generic)
        SELECT DISTINCT s.relid FROM singles s
         WHERE s.val_cat IN ('identifiers.name', 'contact.email', 'identifiers.national_id', 'identifiers.date_of_birth')
            OR (NOT s.h_generic AND (s.h_category IN ('contact.email', 'identifiers.national_id', 'identifiers.date_of_birth')
                                     OR s.h_category LIKE 'identifiers.name%'))
        UNION
        SELECT (SELECT coalesce(pg_partition_root(x.relation), x.relation::oid)) FROM privacy_tags.subjects x
        UNION
        SELECT (SELECT coalesce(pg_partition_root(x.relation), x.relation::oid)) FROM privacy_tags.columns x
         WHERE x.category IN ('contact.email', 'identifiers.national_id', 'identifiers.date_of_birth')
            OR x.category LIKE 'identifiers.name%'
    ), edges AS (
        -- references between tables (foreign keys, declared on the table or
        -- on its partitions only, and link()), partitions as their parent
        SELECT DISTINCT coalesce(pg_partition_root(c.conrelid), c.conrelid)::oid AS child, c.conkey AS child_cols,
               coalesce(pg_partition_root(c.confrelid), c.confrelid)::oid AS parent, c.conname::text AS via
          FROM pg_constraint c
         WHERE c.contype = 'f'
        UNION
        SELECT coalesce(pg_partition_root(l.child), l.child::oid)::oid,
               ARRAY(SELECT a.attnum FROM unnest(l.child_columns) cn JOIN pg_attribute a
                                       ON a.attrelid = l.child AND a.attname = cn),
               coalesce(pg_partition_root(l.parent), l.parent::oid)::oid, 'link'
          FROM privacy_tags.links l
    ), reach AS (
        -- tables that reference a person table, any depth: the nearest person table
        WITH RECURSIVE r(relid, subject, depth, path) AS (
            SELECT p.relid::oid, p.relid::oid, 0, ARRAY[p.relid::oid] FROM persons p
            UNION ALL
            SELECT e.child, r.subject, r.depth + 1, r.path || e.child
              FROM r JOIN edges e ON e.parent = r.relid
             WHERE e.child <> ALL (r.path) AND r.depth < 16
        )
        SELECT DISTINCT ON (r.relid) r.relid, r.subject, r.depth FROM r ORDER BY r.relid, r.depth, r.subject
    ), refs AS (
        -- columns of a reached table that point toward its person table
        SELECT DISTINCT ON (rc.relid, x.attnum) rc.relid, x.attnum, e.parent, e.via, rp.subject
          FROM reach rc
          JOIN edges e ON e.child = rc.relid
          JOIN reach rp ON rp.relid = e.parent AND rp.depth < rc.depth
          CROSS JOIN LATERAL unnest(e.child_cols) AS x(attnum)
         WHERE rc.depth > 0
         ORDER BY rc.relid, x.attnum, rp.depth
    ), downs AS (
        -- tables a person table points at (an address): context for their names
        SELECT DISTINCT e.parent AS relid FROM edges e JOIN persons p ON p.relid = e.child
    ), ctx AS (
        SELECT s.*, rc.subject, rc.depth,
               rf.parent AS ref_parent, rf.via AS ref_via,
               rc.relid IS NOT NULL AS in_context,
               -- places and organisations (addresses, coordinates, organisation
               -- numbers) are personal when a person is at them: in a table
               -- linked to a person, or one a person table points at (an address)
               (coalesce(s.val_cat, s.h_category) LIKE 'contact.postal_address%'
                OR s.val_kind IN ('geo', 'orgnr') OR s.h_category = 'contact.phone')
               AND rc.relid IS NULL AND s.relid NOT IN (SELECT relid FROM downs) AS place_alone,
               s.norm ~ '^(last_update|last_updated|updated|updated_at|updated_on|modified|modified_at|modified_on|last_modified|row_version|version|lock_version|etag|created_by|updated_by|modified_by)$'
                 OR s.atttypid = 'tsvector'::regtype AS technical,
               -- what the rows of a table linked to a person are about, by the table's name
               CASE WHEN s.tnorm ~ 'diagnos|prescri|treatment|medic|journal|visit|appointment|lab_|vaccin|allerg|symptom|patient|clinic|health|besok|recept|behandling|vard|wearable|reading|heart|pulse'
                        THEN 'health.condition'
                    WHEN s.tnorm ~ 'salar|payroll|compensation|wage|bonus|lon$|loner'
                        THEN 'professional.compensation'
                    WHEN s.tnorm ~ 'employ|absence|leave|review|performance|anstall|franvaro|semester|position|contract'
                        THEN 'professional.employment_history'
                    WHEN s.tnorm ~ 'pay|invoice|faktur|transaction|charge|refund|billing|betalning'
                        THEN 'financial.transaction'
                    WHEN s.tnorm ~ 'order|rental|purchase|cart|basket|booking|reservation|subscription|bestallning|kop'
                        THEN 'commercial.purchase_history'
                    WHEN s.tnorm ~ 'login|session|event|click|page_view|access_log|audit'
                        THEN 'network.access_log'
                    WHEN s.tnorm ~ 'ticket|message|comment|feedback|chat|meddelande|note'
                        THEN 'communications.content'
                    WHEN s.tnorm ~ 'device|enhet|laptop|phones|mobiler'
                        THEN 'device.model'
                    WHEN s.tnorm ~ 'account|konto|user|credential'
                        THEN 'account.profile'
                    ELSE 'inferences.behavior' END AS tab_cat,
               (SELECT relname FROM pg_class WHERE oid = rc.subject) AS subject_name
          FROM singles s
          LEFT JOIN reach rc ON rc.relid = s.relid
          LEFT JOIN refs rf ON rf.relid = s.relid AND rf.attnum = s.attnum
    ), decided AS (
        SELECT c.relid, c.attnum, c.attname, c.subject,
               CASE
                   WHEN c.ty_cat IS NOT NULL THEN c.ty_cat
                   WHEN c.val_cat IS NOT NULL THEN c.val_cat
                   WHEN c.ref_parent IS NOT NULL THEN
                       CASE WHEN c.subject_name ~* 'employ|staff|personal|anstalld|worker' THEN 'professional.employee_id'
                            WHEN c.subject_name ~* 'student|pupil|elev' THEN 'education.student_id'
                            WHEN c.subject_name ~* 'customer|client|kund|shopper|buyer|member|user' THEN 'identifiers.customer_id'
                            ELSE 'identifiers.pseudonymous_id' END
                   -- free text in a table of health data is health data
                   WHEN c.h_category LIKE 'communications%' AND c.subject IS NOT NULL
                        AND c.tab_cat = 'health.condition' THEN c.tab_cat
                   WHEN c.h_category IS NOT NULL THEN c.h_category
                   WHEN c.subject IS NOT NULL AND NOT c.is_pk AND NOT c.technical THEN
                       CASE WHEN c.depth = 0 AND c.subject_name ~* 'employ|staff|personal|anstalld|worker|clinician|doctor|teacher'
                                THEN 'professional.employment_history'
                            WHEN c.depth = 0 THEN 'account.profile'
                            WHEN c.tab_cat = 'professional.compensation' THEN c.tab_cat
                            WHEN c.atttypid = 'money'::regtype
                                 OR (c.atttypid = 'numeric'::regtype
                                     AND c.norm ~ 'amount|price|total|sum|cost|fee|belopp|pris|summa|charge|paid')
                                THEN 'financial.transaction'
                            ELSE c.tab_cat END
               END AS category,
               -- the rule and its confidence, before combining
               CASE
                   WHEN c.ty_cat IS NOT NULL THEN 'type'
                   WHEN c.val_cat IS NOT NULL THEN 'values: ' || c.val_kind
                   WHEN c.ref_parent IS NOT NULL THEN 'structure: subject reference'
                   WHEN c.h_category IS NOT NULL THEN 'name: ' || c.h_match
                   WHEN c.subject IS NOT NULL AND NOT c.is_pk AND NOT c.technical THEN
                       CASE WHEN c.depth = 0 THEN 'structure: person table' ELSE 'structure: references a person' END
               END AS first_rule,
               CASE
                   WHEN c.ty_cat IS NOT NULL THEN 0.85
                   WHEN c.val_cat IS NOT NULL AND c.place_alone THEN c.val_conf * 0.5
                   WHEN c.val_cat IS NOT NULL THEN c.val_conf
                   WHEN c.ref_parent IS NOT NULL THEN 0.85
                   WHEN c.h_category IS NOT NULL AND c.h_generic AND NOT c.in_context THEN 0.2
                   WHEN c.h_category IS NOT NULL AND c.place_alone THEN 0.35
                   WHEN c.h_category IS NOT NULL THEN CASE c.h_match WHEN 'exact' THEN 0.7 ELSE 0.5 END
                   WHEN c.subject IS NOT NULL AND NOT c.is_pk AND NOT c.technical THEN
                       CASE WHEN c.depth <= 1 THEN 0.6 ELSE 0.55 END
               END AS first_conf,
               c.h_category, c.h_match, c.h_pattern, c.h_generic, c.in_context, c.val_kind, c.val_cat,
               c.ty_cat, c.typ, c.ref_parent, c.ref_via, c.v_n, c.v_m, c.sample, c.atttypid,
               c.is_pk, c.technical, c.depth, c.labelled, c.subject_name, c.place_alone
          FROM ctx c
    ), final AS (
        SELECT d.*,
               -- a second rule that agrees: the name, or the table's link to a person
               (d.first_rule NOT LIKE 'name%' AND d.h_category IS NOT NULL AND NOT d.place_alone
                AND (d.h_category = d.category OR d.h_category LIKE d.category || '.%'
                     OR d.category LIKE d.h_category || '.%'
                     OR split_part(d.h_category, '.', 1) = split_part(d.category, '.', 1))) AS name_agrees,
               (d.first_rule LIKE 'name%' AND d.subject IS NOT NULL) AS structure_agrees
          FROM decided d
         WHERE d.category IS NOT NULL AND NOT d.labelled
    )
    SELECT f.relid::regclass, f.attname,
           (f.category || CASE WHEN f.first_rule = 'type' THEN '; basis=legitimate_interests' ELSE '' END)::privacy_tags.privacy_tag,
           CASE WHEN f.name_agrees THEN 'combined: name + ' || f.first_rule
                WHEN f.structure_agrees THEN 'combined: ' || f.first_rule || ' + structure'
                ELSE f.first_rule END,
           concat_ws('; ',
               CASE WHEN f.first_rule = 'type' THEN format('column type %s holds %s', f.typ,
                        CASE f.ty_cat WHEN 'network.ip_address' THEN 'IP addresses'
                                      WHEN 'device.mac_address' THEN 'MAC addresses' ELSE 'coordinates' END)
                    WHEN f.val_kind = 'date_of_birth' AND f.first_rule LIKE 'values%' THEN
                        format('%s of %s sampled dates are ages 0 to 110, median %s years',
                               f.sample ->> 2, f.sample ->> 0, f.sample ->> 3)
                    WHEN f.first_rule LIKE 'values%' THEN
                        format('%s of %s sampled values look like %s', f.v_m, f.v_n,
                               CASE f.val_kind WHEN 'email' THEN 'email addresses'
                                   WHEN 'phone' THEN 'phone numbers'
                                   WHEN 'ipv4' THEN 'IPv4 addresses'
                                   WHEN 'ipv6' THEN 'IPv6 addresses'
                                   WHEN 'card' THEN 'payment card numbers (Luhn check passed)'
                                   WHEN 'personnummer' THEN 'Swedish personal identity numbers (check digit valid)'
                                   WHEN 'iban' THEN 'IBANs (mod-97 check passed)'
                                   WHEN 'orgnr' THEN 'Swedish organisation numbers (check digit valid; personal for a sole trader)'
                                   WHEN 'imei' THEN 'IMEIs (Luhn check passed)'
                                   WHEN 'mac' THEN 'MAC addresses'
                                   WHEN 'geo' THEN 'geographic coordinates'
                                   WHEN 'ssn' THEN 'US social security numbers (area, group and serial valid)'
                                   WHEN 'password_hash' THEN 'password hashes'
                                   WHEN 'jwt' THEN 'JSON web tokens'
                                   WHEN 'api_key' THEN 'API keys or secret tokens'
                                   WHEN 'person_name' THEN 'names of people (name dictionary)'
                                   WHEN 'street_address' THEN 'street addresses'
                                   WHEN 'postal_code' THEN 'postal codes' END)
                        || CASE WHEN f.place_alone THEN ', but nothing links this table to a person' ELSE '' END
                    WHEN f.first_rule = 'structure: subject reference' THEN
                        format('references %s through %s',
                               CASE WHEN f.ref_parent = f.subject THEN format('%s (a person table)', f.ref_parent::regclass)
                                    ELSE format('%s, which leads to %s (a person table),', f.ref_parent::regclass, f.subject::regclass) END,
                               CASE f.ref_via WHEN 'link' THEN 'a declared link' ELSE 'foreign key ' || quote_ident(f.ref_via) END)
                    WHEN f.first_rule LIKE 'name%' THEN
                        format('column name "%s" %s "%s"', f.attname,
                               CASE f.h_match WHEN 'exact' THEN 'is' ELSE 'contains' END, f.h_pattern)
                        || CASE WHEN f.h_generic AND NOT f.in_context THEN ', a generic name, and nothing links this table to a person' ELSE '' END
                        || CASE WHEN f.place_alone AND NOT f.h_generic THEN ', but nothing links this table to a person' ELSE '' END
                    WHEN f.depth = 0 THEN 'a column of a table that holds people (names, emails, national ids, dates of birth or a subject key)'
                    ELSE format('its table references %s (a person table)%s', f.subject::regclass,
                                CASE WHEN f.depth > 1 THEN format(', %s references away', f.depth) ELSE '' END)
               END,
               CASE WHEN f.name_agrees THEN format('column name "%s" %s "%s"', f.attname,
                        CASE f.h_match WHEN 'exact' THEN 'is' ELSE 'contains' END, f.h_pattern) END,
               CASE WHEN f.structure_agrees THEN
                        CASE WHEN f.depth = 0 THEN 'the table holds people'
                             ELSE format('its table references %s (a person table)', f.subject::regclass) END END),
           CASE WHEN f.first_rule LIKE 'values%' THEN f.v_n END,
           CASE WHEN f.first_rule LIKE 'values%' THEN f.v_m END,
           round((CASE WHEN f.name_agrees THEN 1 - (1 - f.first_conf) * (1 - CASE f.h_match WHEN 'exact' THEN 0.7 ELSE 0.5 END)
                       WHEN f.structure_agrees THEN 1 - (1 - f.first_conf) * (1 - 0.6)
                       ELSE f.first_conf END)::numeric, 2)::real,
           f.subject::regclass
      FROM final f
     WHERE round((CASE WHEN f.name_agrees THEN 1 - (1 - f.first_conf) * (1 - CASE f.h_match WHEN 'exact' THEN 0.7 ELSE 0.5 END)
                       WHEN f.structure_agrees THEN 1 - (1 - f.first_conf) * (1 - 0.6)
                       ELSE f.first_conf END)::numeric, 2) >= min_confidence::numeric
     ORDER BY 8 DESC, f.relid::regclass::text, f.attnum;
END
$$;
COMMENT ON FUNCTION privacy_tags._discover(name, integer, real, regrole) IS
    'The body of discover(), called as the extension''s owner with the calling role.';
COMMENT ON FUNCTION privacy_tags.discover(name, integer, real) IS
    'Untagged columns that look like personal data, by type, by a bounded sample of their values, by name and by the tables'' links to people; each with a suggested tag, the evidence and a confidence (0-1), surest first.';

CREATE OR REPLACE FUNCTION privacy_tags.processing_record()
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_subjects jsonb := '{}';   -- relation -> [subject types]
    v_purposes jsonb;
    v_gaps jsonb;
    r record;
BEGIN
    -- which kinds of data subject each table holds data of
    FOR r IN SELECT DISTINCT s.subject_type FROM privacy_tags.subjects s ORDER BY 1 LOOP
        SELECT v_subjects || coalesce(jsonb_object_agg(t.relation::text,
                   coalesce(v_subjects -> t.relation::text, '[]') || to_jsonb(r.subject_type)), '{}')
          INTO v_subjects
          FROM privacy_tags._subject_graph(r.subject_type) t;
    END LOOP;

    -- per purpose: (b) the purpose, (c) the categories of subjects and of
    -- data, (d) recipients, (e) transfers, (f) time limits, (g) security
    -- measures; and the role the purpose is processed in (30(2))
    SELECT coalesce(jsonb_agg(p.doc ORDER BY p.purpose), '[]')
      INTO v_purposes
      FROM (SELECT x.purpose, jsonb_build_object(
                'purpose', x.purpose,
                'role', coalesce(min(pr.role), 'controller'),
                'controller', CASE WHEN min(pr.role) IS NOT NULL THEN
                                  jsonb_build_object('name', min(pr.controller), 'contact', min(pr.controller_contact)) END,
                'legal_bases', jsonb_agg(DISTINCT x.basis ORDER BY x.basis) FILTER (WHERE x.basis IS NOT NULL),
                'special_conditions', coalesce(jsonb_agg(DISTINCT x.special ORDER BY x.special) FILTER (WHERE x.special IS NOT NULL), '[]'),
                'data_categories', jsonb_agg(DISTINCT x.category ORDER BY x.category),
                'special_categories', coalesce(jsonb_agg(DISTINCT x.category ORDER BY x.category) FILTER (WHERE x.is_special), '[]'),
                'ccpa_categories', jsonb_agg(DISTINCT x.ccpa ORDER BY x.ccpa) FILTER (WHERE x.ccpa IS NOT NULL),
                'ccpa_unknown', coalesce(jsonb_agg(DISTINCT x.category ORDER BY x.category) FILTER (WHERE x.ccpa IS NULL), '[]'),
                'data_subjects', coalesce((SELECT jsonb_agg(DISTINCT st ORDER BY st)
                                             FROM unnest(array_agg(x.relation)) rel,
                                                  jsonb_array_elements_text(coalesce(v_subjects -> rel, '[]')) st), '[]'),
                'recipients', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                            'name', rc.name, 'role', rc.role, 'country', rc.country,
                                            'third_country', NOT privacy_tags._in_eea(rc.country)) ORDER BY rc.name)
                                          FROM privacy_tags.recipients rc WHERE x.purpose = ANY (rc.purposes)), '[]'),
                'transfers', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                           'recipient', rc.name, 'country', rc.country, 'safeguard', rc.safeguard) ORDER BY rc.name)
                                         FROM privacy_tags.recipients rc
                                        WHERE x.purpose = ANY (rc.purposes) AND NOT privacy_tags._in_eea(rc.country)), '[]'),
                'retention', coalesce(jsonb_agg(DISTINCT jsonb_build_object(
                                 'relation', x.relation, 'column', x.column_name, 'category', x.category,
                                 'retain', x.retain, 'on_expiry', x.on_expiry)) FILTER (WHERE x.retain IS NOT NULL), '[]'),
                'security_measures', coalesce((SELECT jsonb_agg(m.measure ORDER BY m.purpose = '*' DESC, m.measure)
                                                 FROM privacy_tags.security_measures m
                                                WHERE m.purpose IN (x.purpose, '*')), '[]'),
                'automated_decision', (SELECT to_jsonb(d) - 'purpose' FROM privacy_tags.automated_decisions d
                                        WHERE d.purpose = x.purpose),
                'sources', coalesce((SELECT jsonb_agg(jsonb_build_object('relation', s.relation::text,
                                                                         'column', nullif(s.column_name, ''),
                                                                         'source', s.source, 'description', s.description)
                                                      ORDER BY s.relation::text, s.column_name)
                                       FROM privacy_tags.sources s
                                      WHERE s.relation::text = ANY (array_agg(x.relation))
                                        AND (s.column_name = '' OR EXISTS (SELECT FROM privacy_tags.columns c2
                                                                            WHERE c2.relation = s.relation
                                                                              AND c2.column_name = s.column_name
                                                                              AND x.purpose = ANY (coalesce(nullif(c2.purposes, '{}'), '{unspecified}'))))), '[]'),
                'tables', jsonb_agg(DISTINCT x.relation ORDER BY x.relation)) AS doc
              FROM (SELECT coalesce(p, 'unspecified') AS purpose, c.legal_basis AS basis, c.special,
                           c.category, c.is_special, c.ccpa::text AS ccpa, c.relation::text AS relation,
                           c.column_name, c.on_expiry,
                           substring(c.tag::text from 'retain=([^;]*)') AS retain
                      FROM privacy_tags.columns c
                      LEFT JOIN LATERAL unnest(nullif(c.purposes, '{}')) p ON true) x
              LEFT JOIN privacy_tags.processing_roles pr ON pr.purpose = x.purpose
             GROUP BY x.purpose) p;

    -- what the record still lacks, for the DPO to complete
    SELECT coalesce(jsonb_agg(g.gap ORDER BY g.o, g.gap), '[]')
      INTO v_gaps
      FROM (SELECT 1 AS o, 'no controller declared (Art. 30(1)(a)): set_controller()' AS gap
             WHERE NOT EXISTS (SELECT FROM privacy_tags.controller)
            UNION ALL
            SELECT 2, format('purpose %s: no legal basis on %s', p ->> 'purpose',
                             (SELECT string_agg(c.relation::text || '.' || quote_ident(c.column_name), ', '
                                                ORDER BY c.relation::text, c.column_name)
                                FROM privacy_tags.columns c
                               WHERE c.legal_basis IS NULL
                                 AND (p ->> 'purpose') = ANY (coalesce(nullif(c.purposes, '{}'), '{unspecified}'))))
              FROM jsonb_array_elements(v_purposes) p
             WHERE p -> 'legal_bases' = 'null' OR EXISTS (
                       SELECT FROM privacy_tags.columns c
                        WHERE c.legal_basis IS NULL
                          AND (p ->> 'purpose') = ANY (coalesce(nullif(c.purposes, '{}'), '{unspecified}')))
            UNION ALL
            SELECT 3, format('purpose %s: no security measures (Art. 30(1)(g)): add_security_measure()', p ->> 'purpose')
              FROM jsonb_array_elements(v_purposes) p
             WHERE jsonb_array_length(p -> 'security_measures') = 0
            UNION ALL
            SELECT 4, format('purpose %s: no CCPA category known for %s', p ->> 'purpose',
                             (SELECT string_agg(u, ', ') FROM jsonb_array_elements_text(p -> 'ccpa_unknown') u))
              FROM jsonb_array_elements(v_purposes) p
             WHERE jsonb_array_length(p -> 'ccpa_unknown') > 0
            UNION ALL
            SELECT 5, format('recipient %s receives %s, which no tagged column names', rc.name, u)
              FROM privacy_tags.recipients rc, unnest(rc.purposes) u
             WHERE NOT EXISTS (SELECT FROM jsonb_array_elements(v_purposes) p WHERE p ->> 'purpose' = u)) g;

    RETURN jsonb_build_object(
        'format', 'privacy_tags.processing_record/2',
        'database', current_database(),
        'controller', (SELECT to_jsonb(c) - 'singleton' FROM privacy_tags.controller c),
        'purposes', v_purposes,
        -- Art. 30(2): per controller the database's owner processes for,
        -- the categories of processing (purposes), transfers and measures
        'as_processor', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'controller', x.controller, 'contact', x.contact, 'role', x.role,
                       'purposes', x.purposes, 'data_categories', x.cats, 'transfers', x.transfers,
                       'security_measures', x.measures) ORDER BY x.controller, x.role)
              FROM (SELECT p ->> 'controller' AS cn, p #>> '{controller,name}' AS controller,
                           min(p #>> '{controller,contact}') AS contact, p ->> 'role' AS role,
                           jsonb_agg(p -> 'purpose' ORDER BY p ->> 'purpose') AS purposes,
                           (SELECT jsonb_agg(DISTINCT v ORDER BY v)
                              FROM jsonb_array_elements(jsonb_agg(p -> 'data_categories')) a, jsonb_array_elements(a) v) AS cats,
                           (SELECT coalesce(jsonb_agg(DISTINCT v), '[]')
                              FROM jsonb_array_elements(jsonb_agg(p -> 'transfers')) a, jsonb_array_elements(a) v) AS transfers,
                           (SELECT coalesce(jsonb_agg(DISTINCT v ORDER BY v), '[]')
                              FROM jsonb_array_elements(jsonb_agg(p -> 'security_measures')) a, jsonb_array_elements(a) v) AS measures
                      FROM jsonb_array_elements(v_purposes) p
                     WHERE p ->> 'role' <> 'controller'
                     GROUP BY 1, 2, 4) x), '[]'),
        'untagged_basis', coalesce((SELECT jsonb_agg(jsonb_build_object('relation', c.relation::text, 'column', c.column_name)
                                                     ORDER BY c.relation::text, c.column_name)
                                      FROM privacy_tags.columns c WHERE c.legal_basis IS NULL), '[]'),
        'incomplete', v_gaps);
END
$$;
COMMENT ON FUNCTION privacy_tags.processing_record() IS
    'GDPR Art. 30 record of processing built from the tags and the declarations: the controller, per purpose the role, categories of data and of data subjects, legal bases, Art. 9 conditions, recipients, transfers and their safeguards, retention, security measures, automated decisions, sources and tables; the processing done as processor (Art. 30(2)); what is still missing.';

CREATE OR REPLACE FUNCTION privacy_tags._cascade_tables(rel regclass)
RETURNS regclass[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rels regclass[];
BEGIN
    -- nearly always: no such foreign key points at rel or a partition of it
    IF NOT EXISTS (SELECT FROM pg_constraint f
                    WHERE f.contype = 'f' AND f.confdeltype IN ('c', 'n', 'd')
                      AND (f.confrelid = rel
                           OR f.confrelid IN (SELECT l.relid FROM pg_partition_tree(rel) l))) THEN
        RETURN '{}';
    END IF;
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
      INTO v_rels
      FROM r WHERE r.relid <> rel::oid;
    RETURN v_rels;
END
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


-- Objection, requests, the erasure ledger, deferred erasures (new in 1.2)
-- Objection and opt-out, the request register, the erasure ledger and
-- deferred erasures ---------------------------------------------------------

-- Objections (GDPR Art. 21) and opt-outs of sale or sharing (CCPA): purpose
-- '*' is an objection to every purpose pursued on legitimate interests.
CREATE TABLE privacy_tags.objections (
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    purpose      text NOT NULL,
    objected_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    withdrawn_at timestamptz,
    PRIMARY KEY (subject_type, subject_id, purpose)
);
COMMENT ON TABLE privacy_tags.objections IS
    'Objections to processing (Art. 21) and opt-outs of sale or sharing; purpose * is every legitimate-interests purpose.';
REVOKE ALL ON privacy_tags.objections FROM PUBLIC;
GRANT SELECT ON privacy_tags.objections TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.objections', '');

-- The purposes an opt-out covers whatever the basis: the subject may refuse
-- them at any time (CCPA 1798.120, GDPR Art. 21(2)).
CREATE OR REPLACE FUNCTION privacy_tags.opt_out_purposes()
RETURNS text[]
LANGUAGE sql IMMUTABLE
AS $$ SELECT '{direct_marketing,sale,sharing}'::text[] $$;
COMMENT ON FUNCTION privacy_tags.opt_out_purposes() IS
    'The purposes an objection covers whatever the legal basis: direct_marketing, sale, sharing.';

-- Does the subject object to every purpose of a column tagged tag?  A
-- column on legitimate interests is objected to by an objection to all
-- such purposes (*), or to each of its purposes; a column with an opt-out
-- purpose, on any basis but a legal obligation, by an objection to each of
-- its purposes.  (Data also used for a purpose not objected to stays.)
CREATE OR REPLACE FUNCTION privacy_tags._objected(p_type text, p_id text, tag privacy_tags.privacy_tag)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT privacy_tags.legal_basis(tag) IS DISTINCT FROM 'legal_obligation'
       AND ((privacy_tags.legal_basis(tag) = 'legitimate_interests'
             AND EXISTS (SELECT FROM privacy_tags.objections o
                          WHERE o.subject_type = p_type AND o.subject_id = p_id
                            AND o.purpose = '*' AND o.withdrawn_at IS NULL))
            OR ((privacy_tags.legal_basis(tag) = 'legitimate_interests'
                 OR privacy_tags.purposes(tag) && privacy_tags.opt_out_purposes())
                AND cardinality(privacy_tags.purposes(tag)) > 0
                AND NOT EXISTS (SELECT FROM unnest(privacy_tags.purposes(tag)) p
                                 WHERE NOT EXISTS (SELECT FROM privacy_tags.objections o
                                                    WHERE o.subject_type = p_type AND o.subject_id = p_id
                                                      AND o.purpose = p AND o.withdrawn_at IS NULL))))
$$;

-- The request register ---------------------------------------------------------

CREATE TABLE privacy_tags.requests (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('access', 'erasure', 'rectification', 'restriction', 'objection',
                                                   'portability', 'consent_withdrawal')),
    subject_type     text NOT NULL,
    subject_id       text NOT NULL,
    regime           text NOT NULL CHECK (regime IN ('gdpr', 'ccpa')),
    received_at      timestamptz NOT NULL,
    due_at           timestamptz NOT NULL,
    extended_at      timestamptz,
    extension_reason text,
    closed_at        timestamptz,
    outcome          text CHECK (outcome IN ('completed', 'partially_completed', 'refused', 'withdrawn')),
    note             text,
    created_by       name NOT NULL DEFAULT SESSION_USER
);
CREATE INDEX ON privacy_tags.requests (due_at) WHERE closed_at IS NULL;
COMMENT ON TABLE privacy_tags.requests IS
    'Data-subject requests: received, due (GDPR one month, extendable by two; CCPA 45 days, extendable by 45), closed; purged privacy_tags.request_retention after closure.';
REVOKE ALL ON privacy_tags.requests FROM PUBLIC;
GRANT SELECT ON privacy_tags.requests TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.requests', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.requests_id_seq', '');

-- When a request received at received_at is due under regime (extended:
-- with its one extension).  Calendar months in the session's time zone: a
-- month after January 31 is the last day of February.
CREATE OR REPLACE FUNCTION privacy_tags._due(regime text, received_at timestamptz, extended boolean)
RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE regime
               WHEN 'gdpr' THEN received_at + CASE WHEN extended THEN interval '3 months' ELSE interval '1 month' END
               WHEN 'ccpa' THEN received_at + CASE WHEN extended THEN interval '90 days' ELSE interval '45 days' END
           END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.open_request(kind text, subject_type text, subject_id text, regime text DEFAULT 'gdpr',
                                          received_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id text;
    v_request bigint;
BEGIN
    IF open_request.kind IS NULL OR open_request.subject_type IS NULL OR open_request.subject_id IS NULL
       OR open_request.regime IS NULL OR open_request.received_at IS NULL THEN
        RAISE EXCEPTION 'open_request: no argument may be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF open_request.kind NOT IN ('access', 'erasure', 'rectification', 'restriction', 'objection', 'portability',
                                 'consent_withdrawal') THEN
        RAISE EXCEPTION 'open_request: unknown kind of request "%"', left(open_request.kind, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Kinds: access, erasure, rectification, restriction, objection, portability, consent_withdrawal.';
    END IF;
    IF open_request.regime NOT IN ('gdpr', 'ccpa') THEN
        RAISE EXCEPTION 'open_request: unknown regime "%"', left(open_request.regime, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Regimes: gdpr (one month, extendable by two), ccpa (45 days, extendable by 45).';
    END IF;
    IF open_request.received_at > now() THEN
        RAISE EXCEPTION 'open_request: received_at is in the future' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_id := privacy_tags._check_subject('open_request', open_request.subject_type, open_request.subject_id);
    INSERT INTO privacy_tags.requests (kind, subject_type, subject_id, regime, received_at, due_at)
    VALUES (open_request.kind, open_request.subject_type, v_id, open_request.regime, open_request.received_at,
            privacy_tags._due(open_request.regime, open_request.received_at, false))
    RETURNING id INTO v_request;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('open_request', open_request.subject_type, privacy_tags.subject_hash(open_request.subject_type, v_id),
            jsonb_build_object('request_id', v_request, 'kind', open_request.kind, 'regime', open_request.regime));
    RETURN v_request;
END
$$;
COMMENT ON FUNCTION privacy_tags.open_request(text, text, text, text, timestamptz) IS
    'Registers a data-subject request as received; returns its id (pass it as request => to the function that answers it).';

-- The open request id, for a function of fn that answers one of kinds
-- for the subject; NULL request: nothing to check.
CREATE OR REPLACE FUNCTION privacy_tags._check_request(fn text, request bigint, kinds text[], p_type text, p_id text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF request IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO r FROM privacy_tags.requests q WHERE q.id = request;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: no request %', fn, request USING ERRCODE = 'no_data_found',
            HINT = 'Register it with privacy_tags.open_request() first.';
    ELSIF r.closed_at IS NOT NULL THEN
        RAISE EXCEPTION '%: request % is closed (%)', fn, request, r.outcome USING ERRCODE = 'object_not_in_prerequisite_state';
    ELSIF r.kind <> ALL (kinds) THEN
        RAISE EXCEPTION '%: request % is a request of kind %, not %', fn, request, r.kind, array_to_string(kinds, ' or ')
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF r.subject_type <> p_type OR r.subject_id <> p_id THEN
        RAISE EXCEPTION '%: request % is another subject''s', fn, request USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._close_request(request bigint, outcome text, note text)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE privacy_tags.requests q SET closed_at = now(), outcome = _close_request.outcome, note = _close_request.note
     WHERE q.id = request AND q.closed_at IS NULL;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    SELECT 'close_request', q.subject_type, privacy_tags.subject_hash(q.subject_type, q.subject_id),
           jsonb_build_object('request_id', q.id, 'kind', q.kind, 'outcome', q.outcome,
                              'late', q.closed_at > q.due_at)
      FROM privacy_tags.requests q WHERE q.id = request;
$$;

CREATE OR REPLACE FUNCTION privacy_tags.extend_request(request bigint, reason text)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF request IS NULL OR reason IS NULL THEN
        RAISE EXCEPTION 'extend_request: request and reason must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF btrim(reason) = '' THEN
        RAISE EXCEPTION 'extend_request: reason must not be empty' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The subject must be told why (GDPR Art. 12(3)).';
    END IF;
    SELECT * INTO r FROM privacy_tags.requests q WHERE q.id = request FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'extend_request: no request %', request USING ERRCODE = 'no_data_found';
    ELSIF r.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'extend_request: request % is closed (%)', request, r.outcome
            USING ERRCODE = 'object_not_in_prerequisite_state';
    ELSIF r.extended_at IS NOT NULL THEN
        RAISE EXCEPTION 'extend_request: request % was extended already', request
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A request can be extended once (GDPR: by two months; CCPA: by 45 days).';
    END IF;
    UPDATE privacy_tags.requests q
       SET extended_at = now(), extension_reason = reason, due_at = privacy_tags._due(q.regime, q.received_at, true)
     WHERE q.id = request RETURNING * INTO r;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('extend_request', r.subject_type, privacy_tags.subject_hash(r.subject_type, r.subject_id),
            jsonb_build_object('request_id', r.id, 'due_at', r.due_at));
    RETURN r.due_at;
END
$$;
COMMENT ON FUNCTION privacy_tags.extend_request(bigint, text) IS
    'Extends a request''s deadline once (GDPR: to three months from receipt; CCPA: to 90 days); returns the new due date.';

CREATE OR REPLACE FUNCTION privacy_tags.close_request(request bigint, outcome text, note text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF request IS NULL OR outcome IS NULL THEN
        RAISE EXCEPTION 'close_request: request and outcome must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF outcome NOT IN ('completed', 'partially_completed', 'refused', 'withdrawn') THEN
        RAISE EXCEPTION 'close_request: unknown outcome "%"', left(outcome, 63) USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Outcomes: completed, partially_completed, refused, withdrawn.';
    END IF;
    SELECT * INTO r FROM privacy_tags.requests q WHERE q.id = request FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'close_request: no request %', request USING ERRCODE = 'no_data_found';
    ELSIF r.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'close_request: request % is closed (%)', request, r.outcome
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    PERFORM privacy_tags._close_request(request, outcome, note);
END
$$;
COMMENT ON FUNCTION privacy_tags.close_request(bigint, text, text) IS
    'Closes a request answered outside privacy_tags (rectification, a refusal, a withdrawal by the subject).';

CREATE VIEW privacy_tags.open_requests AS
SELECT q.id, q.kind, q.subject_type, q.subject_id, q.regime, q.received_at, q.due_at,
       q.extended_at IS NOT NULL AS extended,
       ceil(extract(epoch FROM q.due_at - now()) / 86400)::integer AS days_left,
       q.due_at < now() AS overdue
  FROM privacy_tags.requests q
 WHERE q.closed_at IS NULL;
COMMENT ON VIEW privacy_tags.open_requests IS
    'Requests not yet closed, with the days left (negative when late) and whether they are overdue.';
REVOKE ALL ON privacy_tags.open_requests FROM PUBLIC;
GRANT SELECT ON privacy_tags.open_requests TO privacy_admin;

-- Closed requests older than privacy_tags.request_retention go (the audit
-- log keeps their entries); returns how many.
CREATE OR REPLACE FUNCTION privacy_tags._purge_requests()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n bigint;
BEGIN
    -- (the setting is the library's: loaded first, in a session that has
    -- not used it yet)
    PERFORM privacy_tags._load();
    DELETE FROM privacy_tags.requests q
     WHERE q.closed_at < now() - current_setting('privacy_tags.request_retention')::interval;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 THEN
        INSERT INTO privacy_tags.audit_log (action, rows, details)
        VALUES ('purge_requests', v_n, jsonb_build_object('retention', current_setting('privacy_tags.request_retention')));
    END IF;
    RETURN v_n;
END
$$;

-- Objection ----------------------------------------------------------------------

CREATE OR REPLACE FUNCTION privacy_tags.object(subject_type text, subject_id text, purpose text DEFAULT NULL,
                                    dry_run boolean DEFAULT false, request bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    v_id text;
    v_report jsonb;
BEGIN
    IF object.subject_type IS NULL OR object.subject_id IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'object: subject_type, subject_id and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_purpose(object.purpose);
    v_id := privacy_tags._check_subject('object', object.subject_type, object.subject_id);
    PERFORM privacy_tags._check_request('object', request, '{objection}', object.subject_type, v_id);
    -- recorded first (in a dry run too, rolled back with it): the erasure
    -- reads the objections
    IF dry_run THEN
        BEGIN
            INSERT INTO privacy_tags.objections AS o (subject_type, subject_id, purpose)
            VALUES (object.subject_type, v_id, coalesce(object.purpose, '*'))
            ON CONFLICT ON CONSTRAINT objections_pkey DO UPDATE SET objected_at = now(), withdrawn_at = NULL;
            v_report := privacy_tags._erase_audited('object', object.subject_type, v_id, 'object',
                                                    CASE WHEN object.purpose IS NULL THEN NULL ELSE ARRAY[object.purpose] END,
                                                    false, NULL, false);
            RAISE EXCEPTION USING ERRCODE = 'PTDRY';
        EXCEPTION WHEN SQLSTATE 'PTDRY' THEN
            NULL;
        END;
        v_report := v_report || '{"dry_run": true}';
        INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
        VALUES ('object', object.subject_type, privacy_tags.subject_hash(object.subject_type, v_id), 0,
                jsonb_build_object('dry_run', true, 'purposes', CASE WHEN object.purpose IS NULL THEN NULL ELSE ARRAY[object.purpose] END,
                                   'tables', v_report -> 'tables', 'legal_hold', v_report -> 'legal_hold'));
        RETURN v_report;
    END IF;
    INSERT INTO privacy_tags.objections AS o (subject_type, subject_id, purpose)
    VALUES (object.subject_type, v_id, coalesce(object.purpose, '*'))
    ON CONFLICT ON CONSTRAINT objections_pkey DO UPDATE SET objected_at = now(), withdrawn_at = NULL;
    RETURN privacy_tags._erase_audited('object', object.subject_type, v_id, 'object',
                                       CASE WHEN object.purpose IS NULL THEN NULL ELSE ARRAY[object.purpose] END,
                                       false, request);
END
$$;
COMMENT ON FUNCTION privacy_tags.object(text, text, text, boolean, bigint) IS
    'Objection (Art. 21) or opt-out: records it for a purpose (every legitimate-interests purpose when NULL) and erases the data held only for objected purposes; enforced tables then refuse such writes. Returns a report like erase().';

CREATE OR REPLACE FUNCTION privacy_tags.withdraw_objection(subject_type text, subject_id text, purpose text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id text;
    v_n integer;
BEGIN
    IF withdraw_objection.subject_type IS NULL OR withdraw_objection.subject_id IS NULL THEN
        RAISE EXCEPTION 'withdraw_objection: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_purpose(withdraw_objection.purpose);
    v_id := privacy_tags._normalize_subject_id('withdraw_objection', withdraw_objection.subject_type,
                                               withdraw_objection.subject_id);
    UPDATE privacy_tags.objections o SET withdrawn_at = now()
     WHERE o.subject_type = withdraw_objection.subject_type AND o.subject_id = v_id AND o.withdrawn_at IS NULL
       AND o.purpose = coalesce(withdraw_objection.purpose, '*');
    GET DIAGNOSTICS v_n = ROW_COUNT;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES ('withdraw_objection', withdraw_objection.subject_type,
            privacy_tags.subject_hash(withdraw_objection.subject_type, v_id), v_n,
            jsonb_build_object('purpose', withdraw_objection.purpose));
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION privacy_tags.withdraw_objection(text, text, text) IS
    'Ends the subject''s objection for a purpose (the objection to every legitimate-interests purpose when NULL); returns how many ended.';

-- The erasure ledger ------------------------------------------------------------

CREATE TABLE privacy_tags.erasure_ledger (
    id           bigserial PRIMARY KEY,
    subject_type text NOT NULL,
    subject_hash text NOT NULL,
    scope        text NOT NULL CHECK (scope IN ('erase', 'partial', 'withdraw', 'object', 'suppress')),
    purposes     text[],
    erased_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    request_id   bigint,
    UNIQUE (subject_type, subject_hash, scope, erased_at)
);
COMMENT ON TABLE privacy_tags.erasure_ledger IS
    'Every erasure, withdrawal, objection and suppression carried out: subject type, keyed hash of the id (no personal data), scope, when. Exported with export_ledger(), it lets reapply_erasures() erase again what a restored backup brings back.';
REVOKE ALL ON privacy_tags.erasure_ledger FROM PUBLIC;
GRANT SELECT ON privacy_tags.erasure_ledger TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.erasure_ledger', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.erasure_ledger_id_seq', '');

CREATE OR REPLACE FUNCTION privacy_tags.export_ledger(since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'format', 'privacy_tags.erasure_ledger/1',
        'exported_at', now(),
        'since', since,
        'entries', coalesce((SELECT jsonb_agg(jsonb_build_object('subject_type', l.subject_type, 'subject_hash', l.subject_hash,
                                                                 'scope', l.scope, 'purposes', to_jsonb(l.purposes),
                                                                 'erased_at', l.erased_at, 'request_id', l.request_id)
                                              ORDER BY l.erased_at, l.id)
                               FROM privacy_tags.erasure_ledger l
                              WHERE since IS NULL OR l.erased_at >= since), '[]'))
$$;
COMMENT ON FUNCTION privacy_tags.export_ledger(timestamptz) IS
    'The erasure ledger (entries since a time, or all) as a JSON document (privacy_tags.erasure_ledger/1): keep it outside the database''s backups.';

CREATE OR REPLACE FUNCTION privacy_tags.import_ledger(ledger jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n bigint;
BEGIN
    IF ledger IS NULL THEN
        RAISE EXCEPTION 'import_ledger: ledger must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF jsonb_typeof(ledger) <> 'object' OR ledger ->> 'format' IS DISTINCT FROM 'privacy_tags.erasure_ledger/1'
       OR jsonb_typeof(ledger -> 'entries') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'import_ledger: not an erasure ledger' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Give the document export_ledger() returned (format privacy_tags.erasure_ledger/1).';
    END IF;
    IF EXISTS (SELECT FROM jsonb_array_elements(ledger -> 'entries') e
                WHERE jsonb_typeof(e) <> 'object' OR e ->> 'subject_type' IS NULL
                   OR coalesce(e ->> 'subject_hash', '') !~ '^[0-9a-f]{16,64}$'
                   OR e ->> 'scope' NOT IN ('erase', 'partial', 'withdraw', 'object', 'suppress')
                   OR e ->> 'erased_at' IS NULL) THEN
        RAISE EXCEPTION 'import_ledger: an entry lacks subject_type, subject_hash, scope or erased_at, or has an unknown scope'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO privacy_tags.erasure_ledger (subject_type, subject_hash, scope, purposes, erased_at, request_id)
    SELECT e ->> 'subject_type', e ->> 'subject_hash', e ->> 'scope',
           CASE WHEN jsonb_typeof(e -> 'purposes') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(e -> 'purposes')) END,
           (e ->> 'erased_at')::timestamptz, (e ->> 'request_id')::bigint
      FROM jsonb_array_elements(ledger -> 'entries') e
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    INSERT INTO privacy_tags.audit_log (action, rows, details)
    VALUES ('import_ledger', v_n, jsonb_build_object('entries', jsonb_array_length(ledger -> 'entries'),
                                                     'exported_at', ledger -> 'exported_at'));
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION privacy_tags.import_ledger(jsonb) IS
    'Loads an exported erasure ledger (into a restored database); entries already there are skipped; returns how many were added.';

-- The subjects of a type whose rows a ledger entry names: every key value in
-- the type's root tables (read as each table's owner), hashed as the
-- ledger hashes ids; with when the subject's rows say they were collected
-- (the latest collected_at of its root rows, where the key has one).
CREATE OR REPLACE FUNCTION privacy_tags._ledger_subjects(p_type text)
RETURNS TABLE (subject_id text, subject_hash text, collected_at timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k record;
    v_rows jsonb;
BEGIN
    FOR k IN SELECT s.relation, s.column_name, s.collected_at
               FROM privacy_tags.subjects s WHERE s.subject_type = p_type LOOP
        v_rows := privacy_tags._owner_query(k.relation,
                      format('SELECT coalesce(jsonb_agg(jsonb_build_array(x.id, x.at)), ''[]'') FROM '
                             '(SELECT t.%I::text AS id, %s AS at FROM %s t WHERE t.%I IS NOT NULL GROUP BY 1) x',
                             k.column_name,
                             CASE WHEN k.collected_at IS NULL THEN 'NULL::timestamptz'
                                  ELSE format('max(t.%I)::timestamptz', k.collected_at) END,
                             k.relation, k.column_name));
        RETURN QUERY
        SELECT x.id, privacy_tags.subject_hash(p_type, x.id), x.at
          FROM (SELECT privacy_tags._normalize_id(privacy_tags.subject_key_type(p_type), e ->> 0) AS id,
                       (e ->> 1)::timestamptz AS at
                  FROM jsonb_array_elements(v_rows) e) x;
    END LOOP;
END
$$;

-- After a restore: every subject the ledger says was erased (withdrawn,
-- objected, suppressed) since since, and whose rows the restored database
-- has again, is erased again with the same scope, in ledger order.  A
-- subject whose root rows say they were collected after the erasure
-- (collected_at later than the entry) was created anew: reported
-- (recreated), not erased.  Returns a report per subject and entry.
CREATE OR REPLACE FUNCTION privacy_tags.reapply_erasures(since timestamptz DEFAULT NULL, dry_run boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    e record;
    v_types text[];
    v_out jsonb := '[]';
    v_report jsonb;
    v_done jsonb;
BEGIN
    IF dry_run IS NULL THEN
        RAISE EXCEPTION 'reapply_erasures: dry_run must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    BEGIN
        FOR e IN
            WITH l AS (SELECT * FROM privacy_tags.erasure_ledger l
                        WHERE (since IS NULL OR l.erased_at >= since)
                          AND EXISTS (SELECT FROM privacy_tags.subjects s WHERE s.subject_type = l.subject_type)),
                 s AS (SELECT t.subject_type, x.*
                         FROM (SELECT DISTINCT l.subject_type FROM l) t,
                              LATERAL privacy_tags._ledger_subjects(t.subject_type) x)
            SELECT l.id, l.subject_type, l.subject_hash, l.scope, l.purposes, l.erased_at, l.request_id,
                   s.subject_id, max(s.collected_at) AS collected_at
              FROM l JOIN s ON s.subject_type = l.subject_type AND s.subject_hash = l.subject_hash
             GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
             ORDER BY l.erased_at, l.id
        LOOP
            IF e.collected_at IS NOT NULL AND e.collected_at > e.erased_at THEN
                v_out := v_out || jsonb_build_object('subject_type', e.subject_type, 'subject_hash', e.subject_hash,
                                                     'scope', e.scope, 'erased_at', e.erased_at, 'action', 'recreated');
                CONTINUE;
            END IF;
            -- what the scope left behind besides the data
            IF e.scope = 'object' THEN
                INSERT INTO privacy_tags.objections AS o (subject_type, subject_id, purpose, objected_at)
                SELECT e.subject_type, e.subject_id, p, e.erased_at
                  FROM unnest(coalesce(e.purposes, '{*}')) p
                ON CONFLICT ON CONSTRAINT objections_pkey DO UPDATE SET withdrawn_at = NULL
                 WHERE o.objected_at <= EXCLUDED.objected_at;
            ELSIF e.scope = 'suppress' THEN
                INSERT INTO privacy_tags.suppressions (subject_type, subject_id)
                VALUES (e.subject_type, e.subject_id) ON CONFLICT DO NOTHING;
            ELSIF e.scope = 'withdraw' THEN
                UPDATE privacy_tags.consents k SET withdrawn_at = e.erased_at, withdrawn_reason = 'withdrawn'
                 WHERE k.subject_type = e.subject_type AND k.subject_id = e.subject_id AND k.withdrawn_at IS NULL
                   AND k.granted_at <= e.erased_at AND (e.purposes IS NULL OR k.purpose = ANY (e.purposes));
            END IF;
            v_report := privacy_tags._erase_audited('reapply_erasure', e.subject_type, e.subject_id,
                                                    CASE e.scope WHEN 'suppress' THEN 'withdraw' ELSE e.scope END,
                                                    e.purposes, false, NULL, false);
            v_out := v_out || jsonb_build_object('subject_type', e.subject_type, 'subject_hash', e.subject_hash,
                                                 'scope', e.scope, 'erased_at', e.erased_at,
                                                 'action', CASE WHEN EXISTS (SELECT FROM jsonb_each(v_report -> 'tables') t
                                                                              WHERE (t.value ->> 'deleted')::bigint
                                                                                    + (t.value ->> 'nulled')::bigint
                                                                                    + coalesce((t.value ->> 'masked')::bigint, 0) > 0)
                                                                 THEN 'erased' ELSE 'unchanged' END,
                                                 'legal_hold', v_report -> 'legal_hold',
                                                 'tables', v_report -> 'tables');
        END LOOP;
        IF dry_run THEN
            RAISE EXCEPTION USING ERRCODE = 'PTDRY';
        END IF;
    EXCEPTION WHEN SQLSTATE 'PTDRY' THEN
        NULL;
    END;
    v_done := jsonb_build_object('format', 'privacy_tags.reapply/1', 'dry_run', dry_run, 'since', since,
                                 'subjects', v_out);
    INSERT INTO privacy_tags.audit_log (action, rows, details)
    VALUES ('reapply_erasures', jsonb_array_length(v_out),
            jsonb_build_object('dry_run', dry_run, 'since', since,
                               'erased', (SELECT count(*) FROM jsonb_array_elements(v_out) x WHERE x ->> 'action' = 'erased'),
                               'recreated', (SELECT count(*) FROM jsonb_array_elements(v_out) x WHERE x ->> 'action' = 'recreated')));
    RETURN v_done;
END
$$;
COMMENT ON FUNCTION privacy_tags.reapply_erasures(timestamptz, boolean) IS
    'After a restore and import_ledger(): erases again every subject the ledger says was erased since since whose rows are back; subjects created anew after the erasure are reported, not erased.';

-- Deferred erasures ---------------------------------------------------------------

CREATE TABLE privacy_tags.deferred_erasures (
    id           bigserial PRIMARY KEY,
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    action       text NOT NULL,
    scope        text NOT NULL,
    purposes     text[],
    request_id   bigint,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    completed_at timestamptz,
    report       jsonb
);
CREATE INDEX ON privacy_tags.deferred_erasures (subject_type, subject_id) WHERE completed_at IS NULL;
COMMENT ON TABLE privacy_tags.deferred_erasures IS
    'Erasures (withdrawals, objections) that a legal hold kept from being carried out: done when the hold ends.';
REVOKE ALL ON privacy_tags.deferred_erasures FROM PUBLIC;
GRANT SELECT ON privacy_tags.deferred_erasures TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.deferred_erasures', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.deferred_erasures_id_seq', '');

CREATE VIEW privacy_tags.pending_erasures AS
SELECT d.id, d.subject_type, d.subject_id, d.scope, d.purposes, d.request_id, d.created_at,
       h.id AS hold_id, h.reason AS hold_reason, h.held_until
  FROM privacy_tags.deferred_erasures d
  LEFT JOIN privacy_tags.legal_holds h
         ON h.subject_type = d.subject_type AND h.subject_id = d.subject_id AND h.released_at IS NULL
        AND (h.held_until IS NULL OR h.held_until > now())
 WHERE d.completed_at IS NULL;
COMMENT ON VIEW privacy_tags.pending_erasures IS
    'Erasures waiting for a legal hold to end, with the hold they wait on (none: done by the next run_purge()).';
REVOKE ALL ON privacy_tags.pending_erasures FROM PUBLIC;
GRANT SELECT ON privacy_tags.pending_erasures TO privacy_admin;

-- Carries out the deferred erasures whose subjects are no longer held (of
-- one subject, or all); returns how many were done.
CREATE OR REPLACE FUNCTION privacy_tags._complete_deferred(p_type text, p_id text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
    v_n integer := 0;
    v_report jsonb;
BEGIN
    FOR d IN SELECT * FROM privacy_tags.deferred_erasures x
              WHERE x.completed_at IS NULL
                AND (p_type IS NULL OR (x.subject_type = p_type AND x.subject_id = p_id))
                AND NOT EXISTS (SELECT FROM privacy_tags.legal_holds h
                                 WHERE h.subject_type = x.subject_type AND h.subject_id = x.subject_id
                                   AND h.released_at IS NULL AND (h.held_until IS NULL OR h.held_until > now()))
              ORDER BY x.id FOR UPDATE LOOP
        v_report := privacy_tags._erase_audited(d.action, d.subject_type, d.subject_id, d.scope, d.purposes, false,
                                                d.request_id);
        UPDATE privacy_tags.deferred_erasures x SET completed_at = now(), report = v_report WHERE x.id = d.id;
        v_n := v_n + 1;
    END LOOP;
    RETURN v_n;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.complete_deferred_erasures()
RETURNS integer
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
    SELECT privacy_tags._purge_requests();
    SELECT privacy_tags._complete_deferred(NULL, NULL);
$$;
COMMENT ON FUNCTION privacy_tags.complete_deferred_erasures() IS
    'Carries out every deferred erasure whose legal hold has ended, and drops the requests closed longer than privacy_tags.request_retention ago (run_purge() and purge() do this); returns how many erasures were done.';

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['privacy_tags.object(text, text, text, boolean, bigint)',
                             'privacy_tags.withdraw_objection(text, text, text)',
                             'privacy_tags.open_request(text, text, text, text, timestamptz)',
                             'privacy_tags.extend_request(bigint, text)',
                             'privacy_tags.close_request(bigint, text, text)',
                             'privacy_tags.export_ledger(timestamptz)',
                             'privacy_tags.import_ledger(jsonb)',
                             'privacy_tags.reapply_erasures(timestamptz, boolean)',
                             'privacy_tags.complete_deferred_erasures()'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO privacy_admin', f);
    END LOOP;
END
$$;

-- Categories (issue 16): the fideslang equivalent of each, and a top level
-- added by a user may leave its CCPA letter unknown.
ALTER TABLE privacy_tags.categories ALTER COLUMN ccpa DROP NOT NULL;
ALTER TABLE privacy_tags.categories
    ADD COLUMN fideslang text CHECK (fideslang ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$');
COMMENT ON COLUMN privacy_tags.categories.ccpa IS 'CCPA category letter, Cal. Civ. Code 1798.140(v)(1)(A)-(K); NULL when not known (a top level added without one).';
COMMENT ON COLUMN privacy_tags.categories.fideslang IS 'The equivalent fideslang data category (export_fides_dataset()); NULL: none, the nearest ancestor''s is used.';
UPDATE privacy_tags.categories c SET fideslang = m.f
  FROM (VALUES
    ('contact', 'user.contact'),
    ('contact.email', 'user.contact.email'),
    ('contact.phone', 'user.contact.phone_number'),
    ('contact.fax', 'user.contact.fax_number'),
    ('contact.postal_address', 'user.contact.address'),
    ('contact.postal_address.street', 'user.contact.address.street'),
    ('contact.postal_address.city', 'user.contact.address.city'),
    ('contact.postal_address.postal_code', 'user.contact.address.postal_code'),
    ('contact.postal_address.region', 'user.contact.address.state'),
    ('contact.postal_address.country', 'user.contact.address.country'),
    ('contact.shipping_address', 'user.contact.address.mailing_address'),
    ('contact.billing_address', 'user.contact.address'),
    ('contact.work_email', 'user.contact.email'),
    ('contact.work_phone', 'user.contact.phone_number'),
    ('contact.social_media', 'user.contact.social_url'),
    ('contact.website', 'user.contact.social_url'),
    ('contact.messaging_handle', 'user.contact'),
    ('contact.emergency_contact', 'user.contact'),
    ('identifiers.name', 'user.name'),
    ('identifiers.name.first', 'user.name.first'),
    ('identifiers.name.last', 'user.name.last'),
    ('identifiers.alias', 'user.account.username'),
    ('identifiers.username', 'user.account.username'),
    ('identifiers.customer_id', 'user.unique_id'),
    ('identifiers.pseudonymous_id', 'user.unique_id.deterministic'),
    ('identifiers.national_id', 'user.government_id.national_identification_number'),
    ('identifiers.passport', 'user.government_id.passport_number'),
    ('identifiers.drivers_license', 'user.government_id.drivers_license_number'),
    ('identifiers.tax_id', 'user.government_id'),
    ('identifiers.vehicle_registration', 'user.government_id.vehicle_registration'),
    ('identifiers.date_of_birth', 'user.demographic.date_of_birth'),
    ('credentials', 'user.authorization'),
    ('credentials.password', 'user.authorization.password'),
    ('credentials.security_question', 'user.authorization.credentials'),
    ('credentials.token', 'user.authorization.credentials'),
    ('credentials.mfa_secret', 'user.authorization.credentials'),
    ('account', 'user.account'),
    ('account.profile', 'user.account'),
    ('account.status', 'user.account'),
    ('account.role', 'user.authorization'),
    ('device', 'user.device'),
    ('device.device_id', 'user.device.device_id'),
    ('device.mac_address', 'user.device.device_id'),
    ('device.imei', 'user.device.device_id'),
    ('device.serial_number', 'user.device.device_id'),
    ('device.advertising_id', 'user.device.device_id'),
    ('device.sim', 'user.device.device_id'),
    ('device.browser_fingerprint', 'user.unique_id.probablistic'),
    ('device.model', 'user.device'),
    ('device.operating_system', 'user.device'),
    ('device.browser', 'user.device'),
    ('device.installed_apps', 'user.device'),
    ('device.carrier', 'user.device'),
    ('device.status', 'user.device'),
    ('device.sensor', 'user.device.sensor'),
    ('device.screen_capture', 'user.device'),
    ('network', 'user.behavior'),
    ('network.ip_address', 'user.device.ip_address'),
    ('network.cookie', 'user.device.cookie_id'),
    ('network.online_identifier', 'user.unique_id'),
    ('network.browsing_history', 'user.behavior.browsing_history'),
    ('network.clickstream', 'user.behavior.browsing_history'),
    ('network.search_history', 'user.behavior.search_history'),
    ('network.referrer', 'user.behavior.browsing_history'),
    ('network.isp', 'user.device'),
    ('network.access_log', 'user.device.telemetry'),
    ('network.login', 'user.behavior'),
    ('network.app_usage', 'user.device.telemetry'),
    ('network.analytics', 'user.device.telemetry'),
    ('network.email_engagement', 'user.behavior'),
    ('network.ad_interaction', 'user.behavior'),
    ('network.social_interaction', 'user.social_activity'),
    ('location', 'user.location'),
    ('location.precise', 'user.location.precise'),
    ('location.approximate', 'user.location.coarse'),
    ('location.history', 'user.location'),
    ('location.network_signals', 'user.location.coarse'),
    ('commercial', 'user.behavior.purchase_history'),
    ('commercial.purchase_history', 'user.behavior.purchase_history'),
    ('commercial.order', 'user.behavior.purchase_history'),
    ('commercial.cart', 'user.behavior.purchase_history'),
    ('commercial.subscription', 'user.behavior.purchase_history'),
    ('commercial.product_interest', 'user.demographic.profile'),
    ('financial', 'user.financial'),
    ('financial.invoice', 'user.financial'),
    ('financial.payment_card', 'user.financial.credit_card'),
    ('financial.bank_account', 'user.financial.bank_account'),
    ('financial.transaction', 'user.payment'),
    ('financial.billing', 'user.payment'),
    ('financial.digital_wallet', 'user.payment'),
    ('financial.credit', 'user.financial'),
    ('financial.income', 'user.financial'),
    ('financial.insurance', 'user.financial'),
    ('financial.tax', 'user.financial'),
    ('professional', 'user.employment'),
    ('professional.employer', 'user.employment.workplace'),
    ('professional.job_title', 'user.job_title'),
    ('professional.employment_history', 'user.employment'),
    ('professional.employee_id', 'user.employment'),
    ('professional.job_application', 'user.employment'),
    ('professional.job_application.assessment', 'user.employment'),
    ('professional.cv', 'user.employment'),
    ('professional.reference', 'user.employment'),
    ('professional.qualification', 'user.employment'),
    ('professional.membership', 'user.employment'),
    ('professional.performance', 'user.employment'),
    ('professional.compensation', 'user.employment'),
    ('professional.background_check', 'user.employment'),
    ('media', 'user.content'),
    ('media.image', 'user.content.self_image'),
    ('media.image.profile_photo', 'user.content.self_image'),
    ('media.video', 'user.content.self_image'),
    ('media.recording', 'user.content.private'),
    ('media.recording.call', 'user.content.private'),
    ('media.surveillance', 'user.content.self_image'),
    ('communications', 'user.content.private'),
    ('communications.content', 'user.content.private'),
    ('communications.metadata', 'user.content.private'),
    ('communications.support_ticket', 'user.content.private'),
    ('communications.feedback', 'user.content.private'),
    ('communications.survey_response', 'user.content.private'),
    ('communications.forum_post', 'user.content.public'),
    ('communications.testimonial', 'user.content.public'),
    ('communications.archive', 'user.content.private'),
    ('inferences', 'user.demographic.profile'),
    ('inferences.profile', 'user.demographic.profile'),
    ('inferences.preferences', 'user.demographic.profile'),
    ('inferences.segment', 'user.demographic.profile'),
    ('inferences.score', 'user.demographic.profile'),
    ('inferences.behavior', 'user.behavior'),
    ('inferences.automated_decision', 'user.demographic.profile'),
    ('children', 'user.children'),
    ('children.age', 'user.children'),
    ('children.parental_consent', 'user.children'),
    ('children.guardian', 'user.children'),
    ('demographic', 'user.demographic'),
    ('demographic.age', 'user.demographic.age_range'),
    ('demographic.gender', 'user.demographic.gender'),
    ('demographic.marital_status', 'user.demographic.marital_status'),
    ('demographic.nationality', 'user.demographic.citizenship_or_immigration_status'),
    ('demographic.language', 'user.demographic.language'),
    ('demographic.family', 'user.demographic'),
    ('demographic.veteran_status', 'user.demographic.protected_classifications'),
    ('demographic.physical_characteristics', 'user.demographic'),
    ('preferences', 'user.account.settings'),
    ('preferences.marketing', 'user.privacy_preferences'),
    ('preferences.newsletter', 'user.privacy_preferences'),
    ('preferences.communication', 'user.privacy_preferences'),
    ('preferences.language', 'user.demographic.language'),
    ('preferences.settings', 'user.account.settings'),
    ('consent', 'user.privacy_preferences'),
    ('consent.record', 'user.privacy_preferences'),
    ('consent.withdrawal', 'user.privacy_preferences'),
    ('consent.cookie', 'user.privacy_preferences'),
    ('consent.suppression', 'user.privacy_preferences'),
    ('consent.opt_out_signal', 'user.privacy_preferences'),
    ('security.fraud_signal', 'user.behavior'),
    ('security.physical_access', 'user.location'),
    ('health', 'user.health'),
    ('health.condition', 'user.health.condition'),
    ('health.disability', 'user.health.condition'),
    ('health.insurance', 'user.health.insurance_beneficiary_id'),
    ('genetic', 'user.health.genetic'),
    ('genetic.dna', 'user.health.genetic'),
    ('genetic.familial', 'user.health.genetic'),
    ('biometric', 'user.biometrics'),
    ('biometric.fingerprint', 'user.biometrics.fingerprint'),
    ('biometric.face', 'user.biometrics'),
    ('biometric.voice', 'user.biometrics.voice'),
    ('racial_ethnic_origin', 'user.demographic.race_ethnicity'),
    ('racial_ethnic_origin.race', 'user.demographic.race_ethnicity'),
    ('racial_ethnic_origin.ethnicity', 'user.demographic.race_ethnicity'),
    ('political_opinions', 'user.demographic.political_opinion'),
    ('political_opinions.party_membership', 'user.demographic.political_opinion'),
    ('political_opinions.donation', 'user.demographic.political_opinion'),
    ('religious_beliefs', 'user.demographic.religious_belief'),
    ('religious_beliefs.religion', 'user.demographic.religious_belief'),
    ('religious_beliefs.philosophical', 'user.demographic.philosophical_belief'),
    ('trade_union', 'user.demographic.union_membership'),
    ('trade_union.membership', 'user.demographic.union_membership'),
    ('trade_union.role', 'user.demographic.union_membership'),
    ('sex_life', 'user.demographic.sexual_orientation'),
    ('sex_life.sexual_orientation', 'user.demographic.sexual_orientation'),
    ('criminal', 'user.criminal_history'),
    ('criminal.conviction', 'user.criminal_history'),
    ('criminal.offence', 'user.criminal_history'),
    ('criminal.record_check', 'user.criminal_history')
  ) m(name, f)
 WHERE c.name OPERATOR(pg_catalog.=) m.name AND c.builtin;

CREATE TABLE privacy_tags.fideslang_categories (
    fides_key text PRIMARY KEY,
    category  text  -- NULL: no equivalent
);
COMMENT ON TABLE privacy_tags.fideslang_categories IS
    'The fideslang user data categories and the category import_fides_dataset() tags a field with (NULL: no equivalent).';
GRANT SELECT ON privacy_tags.fideslang_categories TO PUBLIC;
INSERT INTO privacy_tags.fideslang_categories (fides_key, category) VALUES
  ('user', NULL),
  ('user.account', 'account'),
  ('user.account.settings', 'preferences.settings'),
  ('user.account.username', 'identifiers.username'),
  ('user.authorization', 'credentials'),
  ('user.authorization.biometrics', 'biometric'),
  ('user.authorization.credentials', 'credentials'),
  ('user.authorization.password', 'credentials.password'),
  ('user.behavior', 'network'),
  ('user.behavior.browsing_history', 'network.browsing_history'),
  ('user.behavior.media_consumption', 'network.app_usage'),
  ('user.behavior.purchase_history', 'commercial.purchase_history'),
  ('user.behavior.search_history', 'network.search_history'),
  ('user.biometrics', 'biometric'),
  ('user.biometrics.fingerprint', 'biometric.fingerprint'),
  ('user.biometrics.retinal', 'biometric'),
  ('user.biometrics.voice', 'biometric.voice'),
  ('user.children', 'children'),
  ('user.children.children_under_thirteen', 'children'),
  ('user.children.thirteen_to_sixteen', 'children'),
  ('user.contact', 'contact'),
  ('user.contact.address', 'contact.postal_address'),
  ('user.contact.address.city', 'contact.postal_address.city'),
  ('user.contact.address.country', 'contact.postal_address.country'),
  ('user.contact.address.mailing_address', 'contact.shipping_address'),
  ('user.contact.address.postal_code', 'contact.postal_address.postal_code'),
  ('user.contact.address.state', 'contact.postal_address.region'),
  ('user.contact.address.street', 'contact.postal_address.street'),
  ('user.contact.email', 'contact.email'),
  ('user.contact.fax_number', 'contact.fax'),
  ('user.contact.phone_number', 'contact.phone'),
  ('user.contact.social_url', 'contact.social_media'),
  ('user.content', 'communications'),
  ('user.content.private', 'communications.content'),
  ('user.content.public', 'communications.forum_post'),
  ('user.content.self_image', 'media.image'),
  ('user.criminal_history', 'criminal'),
  ('user.demographic', 'demographic'),
  ('user.demographic.age_range', 'demographic.age'),
  ('user.demographic.citizenship_or_immigration_status', 'demographic.nationality'),
  ('user.demographic.date_of_birth', 'identifiers.date_of_birth'),
  ('user.demographic.gender', 'demographic.gender'),
  ('user.demographic.language', 'demographic.language'),
  ('user.demographic.marital_status', 'demographic.marital_status'),
  ('user.demographic.philosophical_belief', 'religious_beliefs.philosophical'),
  ('user.demographic.political_opinion', 'political_opinions'),
  ('user.demographic.profile', 'inferences.profile'),
  ('user.demographic.protected_classifications', 'demographic'),
  ('user.demographic.race_ethnicity', 'racial_ethnic_origin'),
  ('user.demographic.religious_belief', 'religious_beliefs.religion'),
  ('user.demographic.sexual_orientation', 'sex_life.sexual_orientation'),
  ('user.demographic.union_membership', 'trade_union.membership'),
  ('user.device', 'device'),
  ('user.device.cookie', 'network.cookie'),
  ('user.device.cookie_id', 'network.cookie'),
  ('user.device.device_id', 'device.device_id'),
  ('user.device.ip_address', 'network.ip_address'),
  ('user.device.sensor', 'device.sensor'),
  ('user.device.telemetry', 'network.app_usage'),
  ('user.employment', 'professional'),
  ('user.employment.workplace', 'professional.employer'),
  ('user.financial', 'financial'),
  ('user.financial.bank_account', 'financial.bank_account'),
  ('user.financial.credit_card', 'financial.payment_card'),
  ('user.government_id', 'identifiers'),
  ('user.government_id.birth_certificate', 'identifiers'),
  ('user.government_id.drivers_license_number', 'identifiers.drivers_license'),
  ('user.government_id.immigration', 'demographic.nationality'),
  ('user.government_id.national_identification_number', 'identifiers.national_id'),
  ('user.government_id.passport_number', 'identifiers.passport'),
  ('user.government_id.vehicle_registration', 'identifiers.vehicle_registration'),
  ('user.health', 'health'),
  ('user.health.baby_formula', 'health'),
  ('user.health.condition', 'health.condition'),
  ('user.health.genetic', 'genetic'),
  ('user.health.insurance_beneficiary_id', 'health.insurance'),
  ('user.health.maternity_clothing', 'health'),
  ('user.health.medical_diagnosis', 'health.condition'),
  ('user.health.medications', 'health.condition'),
  ('user.health.prescriptions', 'health.condition'),
  ('user.health.record_id', 'health'),
  ('user.health.reproductive_or_sexual', 'health.condition'),
  ('user.health.social_psychological_behavioral', 'health.condition'),
  ('user.health.symptons', 'health.condition'),
  ('user.health.treatment', 'health.condition'),
  ('user.job_title', 'professional.job_title'),
  ('user.location', 'location'),
  ('user.location.coarse', 'location.approximate'),
  ('user.location.precise', 'location.precise'),
  ('user.name', 'identifiers.name'),
  ('user.name.first', 'identifiers.name.first'),
  ('user.name.last', 'identifiers.name.last'),
  ('user.payment', 'financial.transaction'),
  ('user.privacy_preferences', 'consent'),
  ('user.social_activity', 'network.social_interaction'),
  ('user.unique_id', 'identifiers.customer_id'),
  ('user.unique_id.deterministic', 'identifiers.pseudonymous_id'),
  ('user.unique_id.probablistic', 'device.browser_fingerprint');

-- Declarations (issue 16).
CREATE TABLE privacy_tags.controller (
    singleton              boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    name                   text NOT NULL,
    contact                text NOT NULL,
    representative         text,
    representative_contact text,
    dpo                    text,
    dpo_contact            text,
    supervisory_authority  text
);
COMMENT ON TABLE privacy_tags.controller IS
    'The controller (Art. 30(1)(a)): name and contact, its representative in the Union (Art. 27), its data protection officer, and the supervisory authority a data subject may complain to (Art. 77); at most one row.';

CREATE TABLE privacy_tags.recipients (
    name        text PRIMARY KEY,
    role        text NOT NULL CHECK (role IN ('processor', 'controller', 'joint_controller', 'third_party', 'public_authority')),
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    safeguard   text CHECK (safeguard IN ('adequacy_decision', 'scc', 'bcr', 'code_of_conduct', 'certification', 'derogation')),
    purposes    text[] NOT NULL CHECK (pg_catalog.cardinality(purposes) OPERATOR(pg_catalog.>) 0),
    description text
);
COMMENT ON TABLE privacy_tags.recipients IS
    'Recipients of personal data (Art. 30(1)(d), 15(1)(c)): their role, the country where they receive it (ISO 3166-1 alpha-2), the safeguard of a transfer outside the EEA (Art. 30(1)(e), 15(2), 45-49), and the purposes whose data they receive.';

CREATE TABLE privacy_tags.security_measures (
    purpose text NOT NULL,  -- '*': every purpose
    measure text NOT NULL,
    PRIMARY KEY (purpose, measure)
);
COMMENT ON TABLE privacy_tags.security_measures IS
    'Technical and organisational security measures (Art. 30(1)(g), 32), per purpose or, with purpose ''*'', for all.';

CREATE TABLE privacy_tags.sources (
    relation    regclass NOT NULL,
    column_name name NOT NULL,  -- '': the whole table
    source      text NOT NULL,  -- 'subject', or the third party it came from
    description text,
    PRIMARY KEY (relation, column_name)
);
COMMENT ON TABLE privacy_tags.sources IS
    'Where data came from (Art. 14(2)(f), 15(1)(g)): per table (column_name '''') or column, ''subject'' or the third party that provided it.';

CREATE TABLE privacy_tags.automated_decisions (
    purpose      text PRIMARY KEY,
    description  text NOT NULL,
    logic        text NOT NULL,
    significance text NOT NULL
);
COMMENT ON TABLE privacy_tags.automated_decisions IS
    'Automated decision-making, including profiling (Art. 22, 15(1)(h)), per purpose: what is decided, the logic involved, and its significance and envisaged consequences for the subject.';

CREATE TABLE privacy_tags.processing_roles (
    purpose            text PRIMARY KEY,
    role               text NOT NULL CHECK (role IN ('controller', 'joint_controller', 'processor')),
    controller         text,
    controller_contact text,
    CHECK ((role OPERATOR(pg_catalog.=) 'controller') OPERATOR(pg_catalog.=) (controller IS NULL))
);
COMMENT ON TABLE privacy_tags.processing_roles IS
    'The role of the database''s owner per purpose: controller (the default for a purpose without a row), joint controller with the named one, or processor for the named controller (Art. 30(2)).';

REVOKE ALL ON privacy_tags.controller, privacy_tags.recipients, privacy_tags.security_measures,
              privacy_tags.sources, privacy_tags.automated_decisions, privacy_tags.processing_roles FROM PUBLIC;
GRANT SELECT ON privacy_tags.controller, privacy_tags.recipients, privacy_tags.security_measures,
                privacy_tags.sources, privacy_tags.automated_decisions, privacy_tags.processing_roles TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.controller', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.recipients', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.security_measures', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.sources', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.automated_decisions', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.processing_roles', '');

CREATE OR REPLACE FUNCTION privacy_tags._check_text(fn text, arg text, val text, max_bytes integer DEFAULT 1000)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF val IS NULL THEN
        RAISE EXCEPTION '%: % must not be NULL', fn, arg USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF btrim(val) = '' THEN
        RAISE EXCEPTION '%: % must not be empty', fn, arg USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF octet_length(val) > max_bytes THEN
        RAISE EXCEPTION '%: % is longer than % bytes', fn, arg, max_bytes USING ERRCODE = 'program_limit_exceeded';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._in_eea(country text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT country = ANY ('{AT,BE,BG,HR,CY,CZ,DK,EE,FI,FR,DE,GR,HU,IE,IT,LV,LT,LU,MT,NL,PL,PT,RO,SK,SI,ES,SE,IS,LI,NO}'::text[])
$$;

CREATE OR REPLACE FUNCTION privacy_tags.set_controller(name text, contact text,
                                            representative text DEFAULT NULL, representative_contact text DEFAULT NULL,
                                            dpo text DEFAULT NULL, dpo_contact text DEFAULT NULL,
                                            supervisory_authority text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM privacy_tags._check_text('set_controller', 'name', set_controller.name);
    PERFORM privacy_tags._check_text('set_controller', 'contact', set_controller.contact);
    IF representative IS NOT NULL THEN
        PERFORM privacy_tags._check_text('set_controller', 'representative', representative);
    END IF;
    IF representative_contact IS NOT NULL THEN
        PERFORM privacy_tags._check_text('set_controller', 'representative_contact', representative_contact);
    END IF;
    IF dpo IS NOT NULL THEN
        PERFORM privacy_tags._check_text('set_controller', 'dpo', dpo);
    END IF;
    IF dpo_contact IS NOT NULL THEN
        PERFORM privacy_tags._check_text('set_controller', 'dpo_contact', dpo_contact);
    END IF;
    IF supervisory_authority IS NOT NULL THEN
        PERFORM privacy_tags._check_text('set_controller', 'supervisory_authority', supervisory_authority);
    END IF;
    INSERT INTO privacy_tags.controller AS c (name, contact, representative, representative_contact, dpo, dpo_contact,
                                              supervisory_authority)
    VALUES (set_controller.name, set_controller.contact, set_controller.representative,
            set_controller.representative_contact, set_controller.dpo, set_controller.dpo_contact,
            set_controller.supervisory_authority)
    ON CONFLICT (singleton) DO UPDATE
       SET name = excluded.name, contact = excluded.contact, representative = excluded.representative,
           representative_contact = excluded.representative_contact, dpo = excluded.dpo,
           dpo_contact = excluded.dpo_contact, supervisory_authority = excluded.supervisory_authority;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.remove_controller()
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM privacy_tags.controller;
    RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.add_recipient(name text, role text, country text, purposes text[],
                                           safeguard text DEFAULT NULL, description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p text;
BEGIN
    PERFORM privacy_tags._check_text('add_recipient', 'name', add_recipient.name, 200);
    IF role IS NULL OR country IS NULL OR purposes IS NULL THEN
        RAISE EXCEPTION 'add_recipient: role, country and purposes must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF role NOT IN ('processor', 'controller', 'joint_controller', 'third_party', 'public_authority') THEN
        RAISE EXCEPTION 'add_recipient: invalid role "%"', left(role, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A recipient is a processor, controller, joint_controller, third_party or public_authority.';
    END IF;
    IF country !~ '^[A-Z]{2}$' THEN
        RAISE EXCEPTION 'add_recipient: invalid country "%"', left(country, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the country where the recipient receives the data as an ISO 3166-1 alpha-2 code, e.g. ''US''.';
    END IF;
    IF cardinality(purposes) = 0 OR array_position(purposes, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'add_recipient: purposes must name at least one purpose and no NULL'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH p IN ARRAY purposes LOOP
        PERFORM privacy_tags._check_purpose(p);
    END LOOP;
    IF safeguard IS NOT NULL
       AND safeguard NOT IN ('adequacy_decision', 'scc', 'bcr', 'code_of_conduct', 'certification', 'derogation') THEN
        RAISE EXCEPTION 'add_recipient: invalid safeguard "%"', left(safeguard, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A transfer rests on an adequacy_decision (Art. 45), scc (standard contractual clauses), bcr (binding corporate rules), code_of_conduct, certification (Art. 46) or a derogation (Art. 49).';
    END IF;
    IF safeguard IS NULL AND NOT privacy_tags._in_eea(country) THEN
        RAISE EXCEPTION 'add_recipient: sending data to % is a transfer to a third country and needs a safeguard', country
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give safeguard => ''adequacy_decision'', ''scc'', ''bcr'', ''code_of_conduct'', ''certification'' or ''derogation''.';
    END IF;
    IF description IS NOT NULL THEN
        PERFORM privacy_tags._check_text('add_recipient', 'description', description);
    END IF;
    INSERT INTO privacy_tags.recipients AS r (name, role, country, safeguard, purposes, description)
    VALUES (add_recipient.name, role, country, safeguard,
            ARRAY(SELECT DISTINCT x FROM unnest(purposes) x ORDER BY 1), description)
    ON CONFLICT ON CONSTRAINT recipients_pkey DO UPDATE
       SET role = excluded.role, country = excluded.country, safeguard = excluded.safeguard,
           purposes = excluded.purposes, description = excluded.description;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.remove_recipient(name text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM privacy_tags._check_text('remove_recipient', 'name', remove_recipient.name, 200);
    DELETE FROM privacy_tags.recipients r WHERE r.name = remove_recipient.name;
    RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.add_security_measure(measure text, purpose text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM privacy_tags._check_text('add_security_measure', 'measure', measure);
    IF purpose IS NOT NULL THEN
        PERFORM privacy_tags._check_purpose(purpose);
    END IF;
    INSERT INTO privacy_tags.security_measures (purpose, measure)
    VALUES (coalesce(purpose, '*'), measure)
    ON CONFLICT DO NOTHING;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.remove_security_measure(measure text, purpose text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM privacy_tags._check_text('remove_security_measure', 'measure', measure);
    IF purpose IS NOT NULL THEN
        PERFORM privacy_tags._check_purpose(purpose);
    END IF;
    DELETE FROM privacy_tags.security_measures m
     WHERE m.purpose = coalesce(remove_security_measure.purpose, '*') AND m.measure = remove_security_measure.measure;
    RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.add_source(rel regclass, source text, col name DEFAULT NULL, description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION 'add_source: rel must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_table('add_source', rel);
    PERFORM privacy_tags._check_text('add_source', 'source', source, 200);
    IF col IS NOT NULL AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = col
                                                                   AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', left(col, 63), rel
            USING ERRCODE = 'undefined_column';
    END IF;
    IF description IS NOT NULL THEN
        PERFORM privacy_tags._check_text('add_source', 'description', description);
    END IF;
    INSERT INTO privacy_tags.sources AS s (relation, column_name, source, description)
    VALUES (rel, coalesce(col, ''), source, description)
    ON CONFLICT (relation, column_name) DO UPDATE SET source = excluded.source, description = excluded.description;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.remove_source(rel regclass, col name DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION 'remove_source: rel must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    DELETE FROM privacy_tags.sources s WHERE s.relation = rel AND s.column_name = coalesce(col, '');
    RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.add_automated_decision(purpose text, description text, logic text, significance text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF purpose IS NULL THEN
        RAISE EXCEPTION 'add_automated_decision: purpose must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_purpose(purpose);
    PERFORM privacy_tags._check_text('add_automated_decision', 'description', description);
    PERFORM privacy_tags._check_text('add_automated_decision', 'logic', logic);
    PERFORM privacy_tags._check_text('add_automated_decision', 'significance', significance);
    INSERT INTO privacy_tags.automated_decisions AS d (purpose, description, logic, significance)
    VALUES (purpose, description, logic, significance)
    ON CONFLICT ON CONSTRAINT automated_decisions_pkey DO UPDATE
       SET description = excluded.description, logic = excluded.logic, significance = excluded.significance;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.remove_automated_decision(purpose text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF purpose IS NULL THEN
        RAISE EXCEPTION 'remove_automated_decision: purpose must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_purpose(purpose);
    DELETE FROM privacy_tags.automated_decisions d WHERE d.purpose = remove_automated_decision.purpose;
    RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.set_processing_role(purpose text, role text, controller text DEFAULT NULL,
                                                 controller_contact text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF purpose IS NULL OR role IS NULL THEN
        RAISE EXCEPTION 'set_processing_role: purpose and role must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_purpose(purpose);
    IF role NOT IN ('controller', 'joint_controller', 'processor') THEN
        RAISE EXCEPTION 'set_processing_role: invalid role "%"', left(role, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The role is controller, joint_controller or processor.';
    END IF;
    IF role = 'controller' AND (controller IS NOT NULL OR controller_contact IS NOT NULL) THEN
        RAISE EXCEPTION 'set_processing_role: a purpose processed as controller names no other controller'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The controller is declared with set_controller().';
    END IF;
    IF role <> 'controller' THEN
        IF controller IS NULL THEN
            RAISE EXCEPTION 'set_processing_role: a purpose processed as % needs the controller''s name', role
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Give controller => the name of the controller the data is processed for (Art. 30(2)(a)).';
        END IF;
        PERFORM privacy_tags._check_text('set_processing_role', 'controller', controller, 200);
        IF controller_contact IS NOT NULL THEN
            PERFORM privacy_tags._check_text('set_processing_role', 'controller_contact', controller_contact);
        END IF;
    END IF;
    INSERT INTO privacy_tags.processing_roles AS r (purpose, role, controller, controller_contact)
    VALUES (purpose, role, controller, controller_contact)
    ON CONFLICT ON CONSTRAINT processing_roles_pkey DO UPDATE
       SET role = excluded.role, controller = excluded.controller, controller_contact = excluded.controller_contact;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.remove_processing_role(purpose text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF purpose IS NULL THEN
        RAISE EXCEPTION 'remove_processing_role: purpose must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_purpose(purpose);
    DELETE FROM privacy_tags.processing_roles r WHERE r.purpose = remove_processing_role.purpose;
    RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._access_facts(p_purposes jsonb, p_tables jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
-- (PL/pgSQL, not SQL: its plan is kept for the session)
RETURN (SELECT jsonb_build_object(
    'controller', (SELECT to_jsonb(c) - 'singleton' FROM privacy_tags.controller c),
    'recipients', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'name', r.name, 'role', r.role, 'country', r.country,
                                'third_country', NOT privacy_tags._in_eea(r.country),
                                'purposes', to_jsonb(ARRAY(SELECT p FROM unnest(r.purposes) p
                                                            WHERE p_purposes ? p ORDER BY 1)))
                              ORDER BY r.name)
                              FROM privacy_tags.recipients r
                             WHERE r.purposes && ARRAY(SELECT jsonb_array_elements_text(p_purposes))), '[]'),
    'transfers', coalesce((SELECT jsonb_agg(jsonb_build_object('recipient', r.name, 'country', r.country,
                                                               'safeguard', r.safeguard) ORDER BY r.name)
                             FROM privacy_tags.recipients r
                            WHERE r.purposes && ARRAY(SELECT jsonb_array_elements_text(p_purposes))
                              AND NOT privacy_tags._in_eea(r.country)), '[]'),
    'sources', coalesce((SELECT jsonb_agg(jsonb_build_object('relation', s.relation::text,
                                                             'column', nullif(s.column_name, ''),
                                                             'source', s.source, 'description', s.description)
                                          ORDER BY s.relation::text, s.column_name)
                           FROM privacy_tags.sources s
                          WHERE p_tables ? s.relation::text AND s.source <> 'subject'), '[]'),
    'automated_decisions', coalesce((SELECT jsonb_agg(jsonb_build_object('purpose', d.purpose, 'description', d.description,
                                                                         'logic', d.logic, 'significance', d.significance)
                                                      ORDER BY d.purpose)
                                       FROM privacy_tags.automated_decisions d
                                      WHERE p_purposes ? d.purpose), '[]'),
    'rights', jsonb_build_array(
        jsonb_build_object('right', 'access', 'article', 'GDPR Art. 15'),
        jsonb_build_object('right', 'rectification', 'article', 'GDPR Art. 16'),
        jsonb_build_object('right', 'erasure', 'article', 'GDPR Art. 17'),
        jsonb_build_object('right', 'restriction', 'article', 'GDPR Art. 18'),
        jsonb_build_object('right', 'portability', 'article', 'GDPR Art. 20'),
        jsonb_build_object('right', 'objection', 'article', 'GDPR Art. 21'),
        jsonb_build_object('right', 'withdraw_consent', 'article', 'GDPR Art. 7(3)'),
        jsonb_build_object('right', 'complaint', 'article', 'GDPR Art. 77',
                           'supervisory_authority', (SELECT c.supervisory_authority FROM privacy_tags.controller c)))));
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.processing_record_text()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb := privacy_tags.processing_record();
    c jsonb := d -> 'controller';
    p jsonb;
    x jsonb;
    t text[];
BEGIN
    t := ARRAY['# Record of processing activities', '',
               format('Database %s (GDPR Art. 30; %s).', d ->> 'database', d ->> 'format'), '',
               '## Controller (Art. 30(1)(a))', ''];
    IF c IS NULL OR c = 'null' THEN
        t := t || 'Not declared.'::text;
    ELSE
        t := t || ARRAY[format('- Name: %s', c ->> 'name'), format('- Contact: %s', c ->> 'contact'),
                        format('- Representative: %s', coalesce((c ->> 'representative') || coalesce(', ' || (c ->> 'representative_contact'), ''), 'none')),
                        format('- Data protection officer: %s', coalesce((c ->> 'dpo') || coalesce(', ' || (c ->> 'dpo_contact'), ''), 'none')),
                        format('- Supervisory authority: %s', coalesce(c ->> 'supervisory_authority', 'not declared'))];
    END IF;
    FOR p IN SELECT e FROM jsonb_array_elements(d -> 'purposes') e LOOP
        x := p -> 'automated_decision';
        t := t || ARRAY['', format('## Purpose: %s', p ->> 'purpose'), '',
            CASE p ->> 'role'
                WHEN 'controller' THEN '- Processed as: controller'
                ELSE format('- Processed as: %s for %s%s', replace(p ->> 'role', '_', ' '),
                            p #>> '{controller,name}', coalesce(' (' || (p #>> '{controller,contact}') || ')', '')) END,
            format('- Legal bases: %s', coalesce((SELECT string_agg(v, ', ') FROM jsonb_array_elements_text(
                       CASE WHEN jsonb_typeof(p -> 'legal_bases') = 'array' THEN p -> 'legal_bases' END) v), 'none stated')),
            format('- Categories of data subjects: %s',
                   coalesce((SELECT string_agg(v, ', ') FROM jsonb_array_elements_text(p -> 'data_subjects') v), 'none identified')),
            format('- Categories of personal data: %s',
                   (SELECT string_agg(v, ', ') FROM jsonb_array_elements_text(p -> 'data_categories') v)),
            format('- Special categories (Art. 9): %s',
                   coalesce((SELECT string_agg(v, ', ') FROM jsonb_array_elements_text(p -> 'special_categories') v)
                            || ', under ' || coalesce((SELECT string_agg(v, ', ') FROM jsonb_array_elements_text(p -> 'special_conditions') v),
                                                      'no condition'), 'none')),
            format('- Recipients: %s',
                   coalesce((SELECT string_agg(format('%s (%s, %s)', r ->> 'name', replace(r ->> 'role', '_', ' '), r ->> 'country'), '; ')
                               FROM jsonb_array_elements(p -> 'recipients') r), 'none')),
            format('- Transfers to third countries: %s',
                   coalesce((SELECT string_agg(format('%s to %s, safeguard: %s', r ->> 'recipient', r ->> 'country',
                                                      replace(r ->> 'safeguard', '_', ' ')), '; ')
                               FROM jsonb_array_elements(p -> 'transfers') r), 'none')),
            format('- Time limits for erasure: %s',
                   coalesce((SELECT string_agg(format('%s.%s (%s): %s, then %s', r ->> 'relation', r ->> 'column',
                                                      r ->> 'category', r ->> 'retain', r ->> 'on_expiry'), '; '
                                               ORDER BY r ->> 'relation', r ->> 'column')
                               FROM jsonb_array_elements(p -> 'retention') r), 'none set')),
            format('- Security measures: %s',
                   coalesce((SELECT string_agg(v, '; ') FROM jsonb_array_elements_text(p -> 'security_measures') v), 'none declared')),
            CASE WHEN x IS NULL OR x = 'null' THEN '- Automated decision-making: none'
                 ELSE format('- Automated decision-making: %s; logic: %s; significance: %s',
                             x ->> 'description', x ->> 'logic', x ->> 'significance') END,
            format('- Sources: %s',
                   coalesce((SELECT string_agg(format('%s%s: %s%s', s ->> 'relation', coalesce('.' || (s ->> 'column'), ''),
                                                      CASE s ->> 'source' WHEN 'subject' THEN 'the data subject' ELSE s ->> 'source' END,
                                                      coalesce(' (' || (s ->> 'description') || ')', '')), '; ')
                               FROM jsonb_array_elements(p -> 'sources') s), 'the data subjects')),
            format('- Tables: %s', (SELECT string_agg(v, ', ') FROM jsonb_array_elements_text(p -> 'tables') v))];
    END LOOP;
    IF jsonb_array_length(d -> 'as_processor') > 0 THEN
        t := t || ARRAY['', '## Processing on behalf of controllers (Art. 30(2))'];
        FOR x IN SELECT e FROM jsonb_array_elements(d -> 'as_processor') e LOOP
            t := t || ARRAY['', format('### %s%s', x ->> 'controller', coalesce(' (' || (x ->> 'contact') || ')', '')), '',
                format('- As: %s', replace(x ->> 'role', '_', ' ')),
                format('- Categories of processing: %s', (SELECT string_agg(v, ', ') FROM jsonb_array_elements_text(x -> 'purposes') v)),
                format('- Categories of personal data: %s', (SELECT string_agg(v, ', ') FROM jsonb_array_elements_text(x -> 'data_categories') v)),
                format('- Transfers to third countries: %s',
                       coalesce((SELECT string_agg(format('%s to %s, safeguard: %s', r ->> 'recipient', r ->> 'country',
                                                          replace(r ->> 'safeguard', '_', ' ')), '; ' ORDER BY r ->> 'recipient')
                                   FROM jsonb_array_elements(x -> 'transfers') r), 'none')),
                format('- Security measures: %s',
                       coalesce((SELECT string_agg(v, '; ') FROM jsonb_array_elements_text(x -> 'security_measures') v), 'none declared'))];
        END LOOP;
    END IF;
    IF jsonb_array_length(d -> 'incomplete') > 0 THEN
        t := t || ARRAY['', '## Incomplete', '']
               || ARRAY(SELECT '- ' || v FROM jsonb_array_elements_text(d -> 'incomplete') v);
    END IF;
    RETURN array_to_string(t, E'\n') || E'\n';
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.fides_category(fides text)
RETURNS TABLE (category text, approximate boolean, reason text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key text := fides;
    v_cat text;
    v_known boolean;
BEGIN
    IF fides IS NULL THEN
        RAISE EXCEPTION 'fides_category: fides must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF octet_length(fides) > 255 THEN
        RAISE EXCEPTION 'fides_category: fides is longer than 255 bytes' USING ERRCODE = 'program_limit_exceeded';
    END IF;
    WHILE v_key IS NOT NULL LOOP
        SELECT c.name INTO v_cat FROM privacy_tags.categories c
         WHERE NOT c.builtin AND c.fideslang = v_key ORDER BY c.name LIMIT 1;
        IF v_cat IS NULL THEN
            SELECT f.category, true INTO v_cat, v_known FROM privacy_tags.fideslang_categories f WHERE f.fides_key = v_key;
        END IF;
        IF v_cat IS NOT NULL THEN
            RETURN QUERY SELECT v_cat, v_key <> fides, NULL::text;
            RETURN;
        END IF;
        IF v_known THEN
            RETURN QUERY SELECT NULL::text, false,
                format('fideslang data category %s has no equivalent category: add one with add_category(..., fideslang => %L)',
                       fides, fides);
            RETURN;
        END IF;
        v_key := nullif(regexp_replace(v_key, '\.?[^.]+$', ''), '');
    END LOOP;
    RETURN QUERY SELECT NULL::text, false,
        format('unknown data category %s: add a category for it with add_category(..., fideslang => %L)', fides, fides);
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.import_fides_dataset(dataset jsonb, default_basis text DEFAULT NULL,
                                                  schema_name name DEFAULT 'public',
                                                  default_special text DEFAULT NULL,
                                                  dry_run boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_sets jsonb;
    ds jsonb;
    coll jsonb;
    fld jsonb;
    sub jsonb;
    ref jsonb;
    fc text;
    v_key text;
    v_keys jsonb := '[]';
    v_rel regclass;
    v_other regclass;
    v_col name;
    v_ocol name;
    v_child regclass; v_childcol name; v_parent regclass; v_parentcol name;
    v_cat text;
    v_approx boolean;
    v_reason text;
    v_chosen text;
    v_chosen_from text;
    v_tag privacy_tags.privacy_tag;
    v_desc text;
    v_special boolean;
    v_tagged jsonb := '[]';
    v_subjects jsonb := '[]';
    v_links jsonb := '[]';
    v_bad jsonb := '[]';
BEGIN
    IF dataset IS NULL OR schema_name IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'import_fides_dataset: dataset, schema_name and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF default_basis IS NOT NULL AND default_basis NOT IN ('consent', 'contract', 'legal_obligation', 'vital_interests',
                                                           'public_task', 'legitimate_interests') THEN
        RAISE EXCEPTION 'import_fides_dataset: invalid default_basis "%"', left(default_basis, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A legal basis is consent, contract, legal_obligation, vital_interests, public_task or legitimate_interests.';
    END IF;
    IF default_special IS NOT NULL AND default_special NOT IN ('explicit_consent', 'employment', 'vital_interests', 'nonprofit',
                                                               'made_public', 'legal_claims', 'substantial_public_interest',
                                                               'health_care', 'public_health', 'archiving_research') THEN
        RAISE EXCEPTION 'import_fides_dataset: invalid default_special "%"', left(default_special, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'An Art. 9(2) condition is explicit_consent, employment, vital_interests, nonprofit, made_public, legal_claims, substantial_public_interest, health_care, public_health or archiving_research.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = schema_name) THEN
        RAISE EXCEPTION 'schema "%" does not exist', schema_name USING ERRCODE = 'invalid_schema_name';
    END IF;
    -- {"dataset": [...]} (a fideslang file) or one dataset
    v_sets := CASE WHEN jsonb_typeof(dataset) = 'object' AND jsonb_typeof(dataset -> 'dataset') = 'array' THEN dataset -> 'dataset'
                   WHEN jsonb_typeof(dataset) = 'object' AND jsonb_typeof(dataset -> 'collections') = 'array' THEN jsonb_build_array(dataset)
                   WHEN jsonb_typeof(dataset) = 'array' THEN dataset END;
    IF v_sets IS NULL OR EXISTS (SELECT FROM jsonb_array_elements(v_sets) e
                                  WHERE jsonb_typeof(e) <> 'object' OR jsonb_typeof(e -> 'collections') <> 'array'
                                     OR jsonb_typeof(e -> 'fides_key') <> 'string') THEN
        RAISE EXCEPTION 'import_fides_dataset: dataset is not a fideslang dataset'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give {"dataset": [{"fides_key": ..., "collections": [{"name": ..., "fields": [...]}]}]}, the JSON form of a fideslang dataset file, or one dataset of it.';
    END IF;

    BEGIN
        FOR ds IN SELECT e FROM jsonb_array_elements(v_sets) e LOOP
            v_key := ds ->> 'fides_key';
            v_keys := v_keys || to_jsonb(v_key);
            FOR coll IN SELECT e FROM jsonb_array_elements(ds -> 'collections') e LOOP
                v_rel := NULL;
                IF jsonb_typeof(coll -> 'name') = 'string' THEN
                    v_rel := to_regclass(format('%I.%I', schema_name, coll ->> 'name'));
                END IF;
                IF v_rel IS NULL THEN
                    v_bad := v_bad || jsonb_build_object('collection', coll -> 'name', 'field', NULL,
                                 'reason', format('no table %I.%I', schema_name, coalesce(coll ->> 'name', '')));
                    CONTINUE;
                END IF;
                FOR fld IN SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(coll -> 'fields') = 'array'
                                                                   THEN coll -> 'fields' ELSE '[]' END) e LOOP
                    v_col := fld ->> 'name';
                    IF v_col IS NULL OR NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = v_rel AND a.attname = v_col
                                                                               AND a.attnum > 0 AND NOT a.attisdropped) THEN
                        v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', fld -> 'name',
                                     'reason', format('table %s has no column %I', v_rel, coalesce(v_col, '')));
                        CONTINUE;
                    END IF;
                    -- nested fields (of a json column): a tag is per column
                    FOR sub IN SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(fld -> 'fields') = 'array'
                                                                       THEN fld -> 'fields' ELSE '[]' END) e LOOP
                        v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name',
                                     'field', (fld ->> 'name') || '.' || (sub ->> 'name'),
                                     'reason', format('a nested field: tags are per column; tag column %I for what it holds', v_col));
                    END LOOP;

                    -- the identity: a subject key
                    IF jsonb_typeof(fld #> '{fides_meta,identity}') = 'string' THEN
                        BEGIN
                            PERFORM privacy_tags.set_subject(v_rel, v_col, fld #>> '{fides_meta,identity}');
                            v_subjects := v_subjects || jsonb_build_object('relation', v_rel::text, 'column', v_col,
                                                                           'subject_type', fld #>> '{fides_meta,identity}');
                        EXCEPTION WHEN OTHERS THEN
                            v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', v_col,
                                         'reason', 'identity ' || (fld #>> '{fides_meta,identity}') || ': ' || SQLERRM);
                        END;
                    END IF;

                    -- references: links (unless a foreign key says it)
                    FOR ref IN SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(fld #> '{fides_meta,references}') = 'array'
                                                                       THEN fld #> '{fides_meta,references}' ELSE '[]' END) e LOOP
                        IF coalesce(ref ->> 'dataset', v_key) <> v_key THEN
                            v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', v_col,
                                         'reason', format('references dataset %s: only references within a dataset are imported', ref ->> 'dataset'));
                            CONTINUE;
                        END IF;
                        v_other := to_regclass(format('%I.%I', schema_name, split_part(ref ->> 'field', '.', 1)));
                        v_ocol := substr(ref ->> 'field', length(split_part(ref ->> 'field', '.', 1)) + 2);
                        IF v_other IS NULL OR v_ocol = '' OR strpos(v_ocol, '.') > 0 THEN
                            v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', v_col,
                                         'reason', format('reference to %s: no such column of a table in schema %I', ref ->> 'field', schema_name));
                            CONTINUE;
                        END IF;
                        IF ref ->> 'direction' = 'to' THEN
                            v_child := v_other; v_childcol := v_ocol; v_parent := v_rel; v_parentcol := v_col;
                        ELSE
                            v_child := v_rel; v_childcol := v_col; v_parent := v_other; v_parentcol := v_ocol;
                        END IF;
                        IF EXISTS (SELECT FROM pg_constraint k
                                    WHERE k.contype = 'f' AND k.conrelid = v_child AND k.confrelid = v_parent
                                      AND cardinality(k.conkey) = 1
                                      AND k.conkey[1] = (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = v_child AND a.attname = v_childcol)
                                      AND k.confkey[1] = (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = v_parent AND a.attname = v_parentcol)) THEN
                            v_links := v_links || jsonb_build_object('child', v_child::text, 'child_columns', jsonb_build_array(v_childcol),
                                                                     'parent', v_parent::text, 'parent_columns', jsonb_build_array(v_parentcol),
                                                                     'via', 'foreign key');
                            CONTINUE;
                        END IF;
                        BEGIN
                            PERFORM privacy_tags.link(v_child, ARRAY[v_childcol], v_parent, ARRAY[v_parentcol]);
                            v_links := v_links || jsonb_build_object('child', v_child::text, 'child_columns', jsonb_build_array(v_childcol),
                                                                     'parent', v_parent::text, 'parent_columns', jsonb_build_array(v_parentcol),
                                                                     'via', 'link');
                        EXCEPTION WHEN OTHERS THEN
                            v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', v_col,
                                         'reason', format('reference to %s: %s', ref ->> 'field', SQLERRM));
                        END;
                    END LOOP;

                    -- the tag: a privacy_tag in the description (as
                    -- export_fides_dataset() writes it) wins; else the
                    -- first data category that maps, with the defaults
                    v_tag := NULL;
                    v_chosen := NULL;
                    v_desc := substring(fld ->> 'description' from '^privacy_tag: (.*)$');
                    IF v_desc IS NOT NULL THEN
                        BEGIN
                            v_tag := v_desc::privacy_tags.privacy_tag;
                            v_chosen_from := 'description';
                        EXCEPTION WHEN OTHERS THEN
                            v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', v_col,
                                         'reason', 'the privacy_tag in the description: ' || SQLERRM);
                        END;
                    END IF;
                    FOR fc IN SELECT e FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(fld -> 'data_categories') = 'array'
                                                                           THEN fld -> 'data_categories' ELSE '[]' END) e LOOP
                        IF v_tag IS NOT NULL THEN
                            EXIT;
                        END IF;
                        SELECT m.category, m.approximate, m.reason INTO v_cat, v_approx, v_reason FROM privacy_tags.fides_category(fc) m;
                        IF v_cat IS NULL THEN
                            v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', v_col,
                                                                 'data_category', fc, 'reason', v_reason);
                        ELSIF v_chosen IS NOT NULL THEN
                            v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', v_col,
                                         'data_category', fc,
                                         'reason', format('a column has one category: tagged %s (from %s)', v_chosen, v_chosen_from));
                        ELSE
                            v_chosen := v_cat;
                            v_chosen_from := fc;
                            IF v_approx THEN
                                v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', v_col,
                                             'data_category', fc,
                                             'reason', format('no category for %s itself: tagged %s, the category of its nearest fideslang ancestor', fc, v_cat));
                            END IF;
                        END IF;
                    END LOOP;
                    IF v_chosen IS NOT NULL THEN
                        SELECT c.special INTO v_special FROM privacy_tags.categories c WHERE c.name = v_chosen;
                        v_tag := (v_chosen || coalesce('; basis=' || default_basis, '')
                                  || CASE WHEN v_special THEN coalesce('; special=' || default_special, '') ELSE '' END)::privacy_tags.privacy_tag;
                    END IF;
                    IF v_tag IS NOT NULL THEN
                        BEGIN
                            PERFORM privacy_tags.tag(v_rel, v_col, v_tag);
                            v_tagged := v_tagged || jsonb_build_object('relation', v_rel::text, 'column', v_col, 'tag', v_tag::text,
                                                                       'from', v_chosen_from);
                        EXCEPTION WHEN OTHERS THEN
                            v_bad := v_bad || jsonb_build_object('collection', coll ->> 'name', 'field', v_col,
                                         'data_category', CASE WHEN v_chosen_from <> 'description' THEN v_chosen_from END,
                                         'reason', SQLERRM);
                        END;
                    END IF;
                END LOOP;
            END LOOP;
        END LOOP;
        IF dry_run THEN
            RAISE EXCEPTION USING ERRCODE = 'PTDRY';
        END IF;
    EXCEPTION WHEN SQLSTATE 'PTDRY' THEN
        NULL;  -- a dry run: everything above is undone, the report stays
    END;
    RETURN jsonb_build_object(
        'format', 'privacy_tags.fides_import/1',
        'datasets', v_keys,
        'schema', schema_name,
        'dry_run', dry_run,
        'tagged', v_tagged,
        'subject_keys', v_subjects,
        'links', v_links,
        'not_mapped', (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(b)), '[]') FROM jsonb_array_elements(v_bad) b));
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.export_fides_dataset(schema_name name DEFAULT 'public', fides_key text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key text;
BEGIN
    IF schema_name IS NULL THEN
        RAISE EXCEPTION 'export_fides_dataset: schema_name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = schema_name) THEN
        RAISE EXCEPTION 'schema "%" does not exist', schema_name USING ERRCODE = 'invalid_schema_name';
    END IF;
    v_key := coalesce(fides_key, regexp_replace(lower(current_database() || '_' || schema_name), '[^a-z0-9_]+', '_', 'g'));
    IF v_key !~ '^[A-Za-z0-9_.<>-]+$' THEN
        RAISE EXCEPTION 'export_fides_dataset: invalid fides_key "%"', left(v_key, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A fides_key is made of letters, digits and "_", ".", "-", "<", ">".';
    END IF;
    RETURN (
    WITH tabs AS (
        SELECT k.oid AS relid, k.relname
          FROM pg_class k
         WHERE k.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = schema_name)
           AND k.relkind IN ('r', 'p', 'f') AND NOT k.relispartition
           AND (EXISTS (SELECT FROM privacy_tags.columns c WHERE c.relation = k.oid)
                OR EXISTS (SELECT FROM privacy_tags.subjects s WHERE s.relation = k.oid))
    ), refs AS (
        -- single- and multi-column foreign keys and links, column by column,
        -- between the exported tables
        SELECT k.conrelid AS child, ca.attname AS child_col, pk.relname AS parent_name, pa.attname AS parent_col
          FROM pg_constraint k
          JOIN tabs pk ON pk.relid = k.confrelid
          CROSS JOIN LATERAL unnest(k.conkey, k.confkey) u(c, p)
          JOIN pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.c
          JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.p
         WHERE k.contype = 'f' AND k.conrelid IN (SELECT relid FROM tabs) AND k.conparentid = 0
        UNION
        SELECT l.child, u.c, pk.relname, u.p
          FROM privacy_tags.links l
          JOIN tabs pk ON pk.relid = l.parent
          CROSS JOIN LATERAL unnest(l.child_columns, l.parent_columns) u(c, p)
         WHERE l.child IN (SELECT relid FROM tabs)
    ), cols AS (
        SELECT t.relid, t.relname, a.attnum, a.attname, c.tag, c.category, s.subject_type,
               (SELECT jsonb_agg(jsonb_build_object('dataset', v_key, 'field', r.parent_name || '.' || r.parent_col,
                                                    'direction', 'from') ORDER BY r.parent_name, r.parent_col)
                  FROM refs r WHERE r.child = t.relid AND r.child_col = a.attname) AS refs
          FROM tabs t
          JOIN pg_attribute a ON a.attrelid = t.relid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN privacy_tags.columns c ON c.relation = t.relid AND c.column_name = a.attname
          LEFT JOIN privacy_tags.subjects s ON s.relation = t.relid AND s.column_name = a.attname
    ), fields AS (
        SELECT x.relid, x.relname, x.attnum,
               jsonb_strip_nulls(jsonb_build_object(
                   'name', x.attname,
                   'description', 'privacy_tag: ' || x.tag::text,
                   'data_categories', CASE WHEN x.tag IS NOT NULL THEN jsonb_build_array(coalesce(
                       (SELECT f.fideslang FROM privacy_tags.categories f
                         WHERE f.fideslang IS NOT NULL
                           AND (f.name = x.category OR x.category LIKE f.name || '.%')
                         ORDER BY length(f.name) DESC LIMIT 1), 'user')) END,
                   'fides_meta', nullif(jsonb_strip_nulls(jsonb_build_object('identity', x.subject_type, 'references', x.refs)), '{}'))) AS f
          FROM cols x
         WHERE x.tag IS NOT NULL OR x.subject_type IS NOT NULL OR x.refs IS NOT NULL
    )
    SELECT jsonb_build_object('dataset', jsonb_build_array(jsonb_build_object(
               'fides_key', v_key,
               'name', format('%s.%s', current_database(), schema_name),
               'description', 'Exported by privacy_tags (export_fides_dataset()).',
               'collections', coalesce((SELECT jsonb_agg(jsonb_build_object('name', g.relname, 'fields', g.fields) ORDER BY g.relname)
                                          FROM (SELECT f.relname, jsonb_agg(f.f ORDER BY f.attnum) AS fields
                                                  FROM fields f GROUP BY f.relname) g), '[]')))));
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._dot_id(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '"' || replace(replace($1, '\', '\\'), '"', '\"') || '"' $$;

CREATE OR REPLACE FUNCTION privacy_tags._dot_html(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT replace(replace(replace(replace($1, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;') $$;

CREATE OR REPLACE FUNCTION privacy_tags._dot_colour(category text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE split_part(category, '.', 1)
           WHEN 'contact' THEN '#cfe2ff'
           WHEN 'identifiers' THEN '#d1e7dd'
           WHEN 'credentials' THEN '#e2d9f3'
           WHEN 'account' THEN '#e2d9f3'
           WHEN 'device' THEN '#fde2c8'
           WHEN 'network' THEN '#fde2c8'
           WHEN 'location' THEN '#fff3cd'
           WHEN 'commercial' THEN '#d2f4ea'
           WHEN 'financial' THEN '#d2f4ea'
           WHEN 'professional' THEN '#e7f1ff'
           WHEN 'education' THEN '#e7f1ff'
           WHEN 'communications' THEN '#f1f3f5'
           WHEN 'media' THEN '#f1f3f5'
           WHEN 'inferences' THEN '#fce4ec'
           WHEN 'preferences' THEN '#e9ecef'
           WHEN 'consent' THEN '#e9ecef'
           ELSE '#ffffff' END
$$;

CREATE OR REPLACE FUNCTION privacy_tags.data_map(format text DEFAULT 'dot')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_lines text[];
BEGIN
    IF format IS NULL THEN
        RAISE EXCEPTION 'data_map: format must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF format <> 'dot' THEN
        RAISE EXCEPTION 'data_map: unknown format "%"', left(format, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The format is dot (Graphviz): render it with dot -Tpng or -Tsvg.';
    END IF;
    WITH tabs AS (
        -- tables with tags or subject keys; a partition is drawn as its partitioned table
        SELECT DISTINCT c.relation AS relid FROM privacy_tags.columns c
        UNION
        SELECT s.relation FROM privacy_tags.subjects s
    ), cols AS (
        SELECT a.attrelid AS relid, a.attnum, a.attname, c.category, coalesce(c.is_special, false) AS is_special,
               s.subject_type
          FROM pg_attribute a
          LEFT JOIN privacy_tags.columns c ON c.relation = a.attrelid AND c.column_name = a.attname
          LEFT JOIN privacy_tags.subjects s ON s.relation = a.attrelid AND s.column_name = a.attname
         WHERE a.attrelid IN (SELECT relid FROM tabs) AND a.attnum > 0 AND NOT a.attisdropped
           AND (c.category IS NOT NULL OR s.subject_type IS NOT NULL)
    ), nodes AS (
        SELECT t.relid, 1 AS o, format('  %s [shape=plain, label=<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
                      '<tr><td bgcolor="#343a40"><font color="#ffffff"><b>%s</b></font></td></tr>%s</table>>];',
                      privacy_tags._dot_id(t.relid::regclass::text), privacy_tags._dot_html(t.relid::regclass::text),
                      (SELECT string_agg(format('<tr><td align="left" bgcolor="%s">%s%s</td></tr>',
                                                CASE WHEN c.is_special THEN '#f8d7da'
                                                     WHEN c.category IS NULL THEN '#fff8e1'
                                                     ELSE privacy_tags._dot_colour(c.category) END,
                                                CASE WHEN c.is_special THEN '<font color="#b02a37"><b>' ELSE '' END
                                                || privacy_tags._dot_html(c.attname)
                                                || coalesce(': ' || privacy_tags._dot_html(c.category), '')
                                                || CASE WHEN c.subject_type IS NOT NULL
                                                        THEN ' (key: ' || privacy_tags._dot_html(c.subject_type) || ')' ELSE '' END
                                                || CASE WHEN c.is_special THEN ' (Art. 9)</b></font>' ELSE '' END,
                                                ''), '' ORDER BY c.attnum)
                         FROM cols c WHERE c.relid = t.relid)) AS line
          FROM tabs t
    ), subj AS (
        SELECT DISTINCT s.subject_type, s.relation, s.column_name FROM privacy_tags.subjects s
    ), edges AS (
        -- foreign keys (declared on a table or its partitions) and links
        SELECT DISTINCT coalesce(cp.relid, k.conrelid) AS child, coalesce(pp.relid, k.confrelid) AS parent,
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.o)
                  FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n) AS label,
               'solid' AS style
          FROM pg_constraint k
          -- (pg_partition_ancestors() of a table that is no partition is empty)
          LEFT JOIN LATERAL (SELECT r.relid FROM (SELECT k.conrelid AS relid
                                                  UNION ALL SELECT a.relid FROM pg_partition_ancestors(k.conrelid) a) r
                              WHERE r.relid IN (SELECT relid FROM tabs) ORDER BY r.relid = k.conrelid LIMIT 1) cp ON true
          LEFT JOIN LATERAL (SELECT r.relid FROM (SELECT k.confrelid AS relid
                                                  UNION ALL SELECT a.relid FROM pg_partition_ancestors(k.confrelid) a) r
                              WHERE r.relid IN (SELECT relid FROM tabs) ORDER BY r.relid = k.confrelid LIMIT 1) pp ON true
         WHERE k.contype = 'f' AND cp.relid IS NOT NULL AND pp.relid IS NOT NULL
        UNION
        SELECT l.child, l.parent, array_to_string(ARRAY(SELECT quote_ident(x) FROM unnest(l.child_columns) x), ', '), 'dashed'
          FROM privacy_tags.links l
         WHERE l.child IN (SELECT relid FROM tabs) AND l.parent IN (SELECT relid FROM tabs)
    ), sends AS (
        -- table -> recipient, labelled with the purposes it receives from it
        SELECT c.relation, r.name, r.role, r.country, r.safeguard,
               string_agg(DISTINCT p, ', ' ORDER BY p) AS purposes
          FROM privacy_tags.columns c
          CROSS JOIN LATERAL unnest(c.purposes) p
          JOIN privacy_tags.recipients r ON p = ANY (r.purposes)
         GROUP BY c.relation, r.name, r.role, r.country, r.safeguard
    )
    SELECT ARRAY['digraph data_map {',
                 '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.9];',
                 '  node [fontname="Helvetica", fontsize=10];',
                 '  edge [fontname="Helvetica", fontsize=9, color="#6c757d"];']
           || ARRAY(SELECT format('  %s [shape=ellipse, style=filled, fillcolor="#ffd166", label=%s];',
                                  privacy_tags._dot_id('subject:' || t), privacy_tags._dot_id(t || ' (data subject)'))
                      FROM (SELECT DISTINCT subject_type AS t FROM subj) x ORDER BY t)
           || ARRAY(SELECT n.line FROM nodes n ORDER BY n.relid::regclass::text)
           || ARRAY(SELECT format('  %s [shape=box, style="rounded,filled", fillcolor="%s", label=%s];',
                                  privacy_tags._dot_id('recipient:' || r.name),
                                  CASE WHEN privacy_tags._in_eea(r.country) THEN '#e9ecef' ELSE '#ffe5d0' END,
                                  replace(privacy_tags._dot_id(r.name || E'\n' || replace(r.role, '_', ' ') || ', ' || r.country
                                                               || coalesce(' (' || replace(r.safeguard, '_', ' ') || ')', '')),
                                          E'\n', '\n'))
                      FROM privacy_tags.recipients r
                     WHERE EXISTS (SELECT FROM sends s WHERE s.name = r.name)
                     ORDER BY r.name)
           || ARRAY(SELECT format('  %s -> %s [label=%s, color="#b8860b"];', privacy_tags._dot_id('subject:' || s.subject_type),
                                  privacy_tags._dot_id(s.relation::text), privacy_tags._dot_id(s.column_name))
                      FROM subj s ORDER BY s.subject_type, s.relation::text, s.column_name)
           || ARRAY(SELECT format('  %s -> %s [label=%s%s];', privacy_tags._dot_id(e.child::regclass::text),
                                  privacy_tags._dot_id(e.parent::regclass::text), privacy_tags._dot_id(e.label),
                                  CASE WHEN e.style = 'dashed' THEN ', style=dashed' ELSE '' END)
                      FROM edges e ORDER BY e.child::regclass::text, e.parent::regclass::text, e.label, e.style)
           || ARRAY(SELECT format('  %s -> %s [label=%s, color="#d9480f", style=bold];', privacy_tags._dot_id(s.relation::text),
                                  privacy_tags._dot_id('recipient:' || s.name), privacy_tags._dot_id(s.purposes))
                      FROM sends s ORDER BY s.relation::text, s.name)
           || '}'::text
      INTO v_lines;
    RETURN array_to_string(v_lines, E'\n') || E'\n';
END
$$;

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

CREATE OR REPLACE FUNCTION privacy_tags._citus_expiry_test(anchor name, anchor_type regtype, w interval, as_of timestamptz)
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

CREATE OR REPLACE FUNCTION privacy_tags._citus_batch(p record, target regclass, batch_size integer, keep text, param integer)
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

CREATE OR REPLACE FUNCTION privacy_tags._purge_columns(rel regclass)
RETURNS TABLE (relation regclass, column_name name, action text, anchor name, anchor_type regtype,
               retention interval, unmasked text, relation_name text, foreign_keys text,
               anchor_indexed boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- (one plan for every table, made once: no custom plan for each of the
-- first five tables a session reads, which would cost more than the probes)
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    IF rel IS NOT NULL THEN
        RETURN QUERY
        SELECT c.relation, c.column_name, c.on_expiry, c.anchor, y.anchor_type, c.retention,
               CASE WHEN c.on_expiry = 'nullify'
                         AND y.anchor_type IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
                    THEN privacy_tags._unmasked(c.relation, c.column_name, c.tag) END,
               c.relation::text,
               (SELECT string_agg(format('%s>%s', f.conrelid, f.confrelid), ',' ORDER BY f.oid)
                  FROM pg_constraint f
                 WHERE f.contype = 'f' AND (f.conrelid = c.relation OR f.confrelid = c.relation)),
               EXISTS (SELECT FROM (SELECT c.relation::oid AS relid
                                     UNION
                                    SELECT x.relid FROM pg_partition_tree(c.relation) x) l
                         JOIN pg_index i ON i.indrelid = l.relid
                         JOIN pg_attribute ia ON ia.attrelid = l.relid AND ia.attnum = i.indkey[0]
                        WHERE ia.attname = c.anchor)
          -- (privacy_tags.columns of one table, its labels read directly:
          -- planned in a third of the time, which a session's first purge
          -- pays)
          FROM (SELECT s.objoid::regclass AS relation, a.attname AS column_name, t.tag,
                       privacy_tags.retention(t.tag) AS retention,
                       privacy_tags.retention_anchor(t.tag) AS anchor,
                       privacy_tags.expiry_action(t.tag) AS on_expiry
                  FROM pg_seclabel s
                  JOIN pg_attribute a ON a.attrelid = s.objoid AND a.attnum = s.objsubid
                  CROSS JOIN LATERAL (SELECT s.label::privacy_tags.privacy_tag AS tag) t
                 WHERE s.objoid = _purge_columns.rel AND s.classoid = 'pg_class'::regclass
                   AND s.provider = 'privacy_tags' AND s.objsubid > 0 AND NOT a.attisdropped) c
          JOIN pg_class k ON k.oid = c.relation
          LEFT JOIN LATERAL (
                SELECT privacy_tags._base_type(a.atttypid) AS anchor_type
                  FROM pg_attribute a
                 WHERE a.attrelid = c.relation AND a.attname = c.anchor AND NOT a.attisdropped) y ON true
         WHERE c.retention IS NOT NULL AND c.anchor IS NOT NULL
           AND k.relkind IN ('r', 'p', 'f')
           -- (a partition's own tag counts where its root has none for the column)
           AND (NOT k.relispartition
                OR NOT EXISTS (SELECT FROM pg_seclabel rs
                                 JOIN pg_attribute ra ON ra.attrelid = rs.objoid AND ra.attnum = rs.objsubid
                                WHERE rs.objoid = pg_partition_root(c.relation) AND rs.classoid = 'pg_class'::regclass
                                  AND rs.provider = 'privacy_tags' AND rs.objsubid > 0 AND NOT ra.attisdropped
                                  AND ra.attname = c.column_name))
         ORDER BY c.on_expiry, c.column_name;
    ELSE
        RETURN QUERY
        SELECT c.relation, c.column_name, c.on_expiry, c.anchor, y.anchor_type, c.retention,
               CASE WHEN c.on_expiry = 'nullify'
                         AND y.anchor_type IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
                    THEN privacy_tags._unmasked(c.relation, c.column_name, c.tag) END,
               c.relation::text,
               fk.foreign_keys,
               EXISTS (SELECT FROM (SELECT c.relation::oid AS relid
                                     UNION
                                    SELECT x.relid FROM pg_partition_tree(c.relation) x) l
                         JOIN pg_index i ON i.indrelid = l.relid
                         JOIN pg_attribute ia ON ia.attrelid = l.relid AND ia.attnum = i.indkey[0]
                        WHERE ia.attname = c.anchor)
          FROM privacy_tags.columns c
          JOIN pg_class k ON k.oid = c.relation
          -- (the foreign keys from and to each table: one scan of pg_constraint)
          LEFT JOIN (SELECT x.relid, string_agg(format('%s>%s', f.conrelid, f.confrelid), ',' ORDER BY f.oid)
                                     AS foreign_keys
                       FROM pg_constraint f
                       CROSS JOIN LATERAL (SELECT f.conrelid UNION SELECT f.confrelid) x(relid)
                      WHERE f.contype = 'f'
                      GROUP BY x.relid) fk ON fk.relid = c.relation
          LEFT JOIN LATERAL (
                SELECT privacy_tags._base_type(a.atttypid) AS anchor_type
                  FROM pg_attribute a
                 WHERE a.attrelid = c.relation AND a.attname = c.anchor AND NOT a.attisdropped) y ON true
          LEFT JOIN LATERAL (
                -- (_purge_plan()'s order: tables that point at others first)
                WITH RECURSIVE up(relid, depth) AS (
                    SELECT c.relation::oid, 0
                    UNION
                    SELECT f.conrelid, up.depth + 1
                      FROM up JOIN pg_constraint f ON f.confrelid = up.relid AND f.contype = 'f'
                     WHERE up.depth < 16 AND f.conrelid <> up.relid)
                SELECT max(depth) AS height FROM up) h ON true
         WHERE c.retention IS NOT NULL AND c.anchor IS NOT NULL
           AND k.relkind IN ('r', 'p', 'f')
           AND (NOT k.relispartition
                OR NOT EXISTS (SELECT FROM privacy_tags.columns rc
                                WHERE rc.relation = pg_partition_root(c.relation)
                                  AND rc.column_name = c.column_name))
         ORDER BY h.height, c.relation::text, c.on_expiry, c.column_name;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION privacy_tags._purge_unprobed(as_of timestamptz)
RETURNS regclass[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    -- nearly always: nobody is held
    IF NOT EXISTS (SELECT FROM privacy_tags.legal_holds h
                    WHERE h.released_at IS NULL AND (h.held_until IS NULL OR h.held_until > as_of)) THEN
        RETURN NULL;
    END IF;
    -- (the table and, if it is partitioned, its partitions: pg_partition_tree()
    -- of a table that is not partitioned is empty)
    RETURN (SELECT array_agg(DISTINCT l.relid::regclass)
              FROM (SELECT DISTINCT h.subject_type
                      FROM privacy_tags.legal_holds h
                     WHERE h.released_at IS NULL AND (h.held_until IS NULL OR h.held_until > as_of)
                       AND EXISTS (SELECT FROM privacy_tags.subjects s WHERE s.subject_type = h.subject_type)) x
              CROSS JOIN LATERAL privacy_tags._subject_graph(x.subject_type, '$1', true) g
              CROSS JOIN LATERAL (SELECT g.relation::oid AS relid
                                   UNION
                                  SELECT t.relid FROM pg_partition_tree(g.relation) t) l
             WHERE g.pred IS NULL);
END
$$;

-- Each column purge(rel, as_of) purges, in its order, and whether any of
-- its rows is expired (due), by a probe of each table run as its owner in
-- a security-restricted operation (src/purge.c); the columns of the
-- tables in unprobed, and those no probe can judge, are always due.
CREATE OR REPLACE FUNCTION privacy_tags._purge_due(rel regclass, as_of timestamptz, unprobed regclass[] DEFAULT NULL)
RETURNS TABLE (relation regclass, column_name name, action text, due boolean)
AS 'MODULE_PATHNAME', 'privacy_tags_purge_due' LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION privacy_tags._purge_order()
RETURNS SETOF regclass
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT x.relation
      FROM (SELECT DISTINCT c.relation
              FROM privacy_tags.columns c
              JOIN pg_class k ON k.oid = c.relation
             WHERE c.retention IS NOT NULL AND c.anchor IS NOT NULL
               AND k.relkind IN ('r', 'p', 'f')
               AND (NOT k.relispartition
                    OR NOT EXISTS (SELECT FROM privacy_tags.columns rc
                                    WHERE rc.relation = pg_partition_root(c.relation)
                                      AND rc.column_name = c.column_name))) x
      LEFT JOIN LATERAL (
            WITH RECURSIVE up(relid, depth) AS (
                SELECT x.relation::oid, 0
                UNION
                SELECT f.conrelid, up.depth + 1
                  FROM up JOIN pg_constraint f ON f.confrelid = up.relid AND f.contype = 'f'
                 WHERE up.depth < 16 AND f.conrelid <> up.relid)
            SELECT max(depth) AS height FROM up) h ON true
     ORDER BY h.height, x.relation::text;
END
$$;

-- purge(rel) and run_purge(rel): rel is a table with a retention window
-- (the checks of _check_table() and then that one, in C: src/purge.c).
CREATE OR REPLACE FUNCTION privacy_tags._check_purge_target(fn text, rel regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'privacy_tags_check_purge_target' LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

-- The rows of _purge_columns(rel) as the fast path reads them: from the
-- catalogs, in C (a session's first purge of a table plans no query for
-- them).  For the tests, which compare the two.
CREATE OR REPLACE FUNCTION privacy_tags._purge_table_columns(rel regclass)
RETURNS TABLE (relation regclass, column_name name, action text, anchor name, anchor_type regtype,
               retention interval, unmasked text, relation_name text, foreign_keys text,
               anchor_indexed boolean)
AS 'MODULE_PATHNAME', 'privacy_tags_purge_table_columns' LANGUAGE C STABLE STRICT;

-- New and changed functions: end

-- Issue 16: the record of processing gains the declarations' columns.
CREATE OR REPLACE VIEW privacy_tags.record_of_processing AS
SELECT p ->> 'purpose' AS purpose,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'legal_bases')) AS legal_bases,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'data_subjects')) AS data_subjects,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'data_categories')) AS data_categories,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'special_categories')) AS special_categories,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'special_conditions')) AS special_conditions,
       ARRAY(SELECT DISTINCT (r ->> 'category') || ': ' || (r ->> 'retain')
               FROM jsonb_array_elements(p -> 'retention') r ORDER BY 1) AS retention,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'tables')) AS tables,
       p ->> 'role' AS role,
       p #>> '{controller,name}' AS controller,
       ARRAY(SELECT format('%s (%s, %s)', r ->> 'name', r ->> 'role', r ->> 'country')
               FROM jsonb_array_elements(p -> 'recipients') r) AS recipients,
       ARRAY(SELECT format('%s: %s (%s)', t ->> 'recipient', t ->> 'country', t ->> 'safeguard')
               FROM jsonb_array_elements(p -> 'transfers') t) AS transfers,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'security_measures')) AS security_measures,
       p #>> '{automated_decision,description}' AS automated_decision,
       ARRAY(SELECT format('%s%s: %s', s ->> 'relation', '.' || (s ->> 'column'), s ->> 'source')
               FROM jsonb_array_elements(p -> 'sources') s) AS sources
  FROM jsonb_array_elements(privacy_tags.processing_record() -> 'purposes') p;
COMMENT ON VIEW privacy_tags.record_of_processing IS
    'The record of processing (processing_record()) one row per purpose, for a DPO to read.';
COMMENT ON FUNCTION privacy_tags.set_controller(text, text, text, text, text, text, text) IS
    'Declares the controller (Art. 30(1)(a)): name, contact, representative, data protection officer and supervisory authority; replaces an earlier declaration.';
COMMENT ON FUNCTION privacy_tags.remove_controller() IS
    'Removes the controller''s declaration; returns whether there was one.';
COMMENT ON FUNCTION privacy_tags.add_recipient(text, text, text, text[], text, text) IS
    'Declares a recipient (Art. 30(1)(d)-(e)): its role, country, the safeguard a transfer outside the EEA rests on, and the purposes whose data it receives; replaces an earlier declaration of the same name.';
COMMENT ON FUNCTION privacy_tags.remove_recipient(text) IS
    'Removes a recipient; returns whether it was declared.';
COMMENT ON FUNCTION privacy_tags.add_security_measure(text, text) IS
    'Declares a technical or organisational security measure (Art. 30(1)(g)) for one purpose, or for all when purpose is NULL.';
COMMENT ON FUNCTION privacy_tags.remove_security_measure(text, text) IS
    'Removes a security measure; returns whether it was declared.';
COMMENT ON FUNCTION privacy_tags.add_source(regclass, text, name, text) IS
    'Declares where the data of a table (or of one column) came from: ''subject'', or the third party that provided it (Art. 14(2)(f), 15(1)(g)).';
COMMENT ON FUNCTION privacy_tags.remove_source(regclass, name) IS
    'Removes the source declared for a table (or a column); returns whether there was one.';
COMMENT ON FUNCTION privacy_tags.add_automated_decision(text, text, text, text) IS
    'Declares automated decision-making or profiling for a purpose (Art. 22, 15(1)(h)): what is decided, the logic involved, and its significance for the subject.';
COMMENT ON FUNCTION privacy_tags.remove_automated_decision(text) IS
    'Removes the automated decision-making declared for a purpose; returns whether there was one.';
COMMENT ON FUNCTION privacy_tags.set_processing_role(text, text, text, text) IS
    'Declares the role of the database''s owner for a purpose: controller (the default), joint_controller with, or processor for, the named controller (Art. 26, 30(2)).';
COMMENT ON FUNCTION privacy_tags.remove_processing_role(text) IS
    'Removes the role declared for a purpose (it is processed as controller again); returns whether there was one.';
COMMENT ON FUNCTION privacy_tags.processing_record_text() IS
    'The record of processing (processing_record()) as a Markdown document: the controller, one section per purpose, the processing done as processor (Art. 30(2)) and what is still missing.';
COMMENT ON FUNCTION privacy_tags.fides_category(text) IS
    'The category a fideslang data category is imported as: one added with that fideslang name, else the built-in equivalent, else that of its nearest fideslang ancestor (approximate); NULL and the reason when there is none.';
COMMENT ON FUNCTION privacy_tags.import_fides_dataset(jsonb, text, name, text, boolean) IS
    'Imports a fideslang dataset: each field''s data categories become a tag (with default_basis, and default_special for special categories), identities subject keys, references links; reports every field it could not map and why. Acts as the caller, through tag(), set_subject() and link().';
COMMENT ON FUNCTION privacy_tags.export_fides_dataset(name, text) IS
    'The tagged tables of a schema as a fideslang dataset: per field its fideslang data category (its category''s, or its nearest ancestor''s), its tag in the description, identities (subject keys) and references (foreign keys and links).';
COMMENT ON FUNCTION privacy_tags.data_map(text) IS
    'The data map as Graphviz DOT: subject types, the tables holding personal data (columns coloured by category, special categories in red), foreign keys (solid) and links (dashed) between them, and the recipients each purpose sends data to.';
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['privacy_tags.set_controller(text, text, text, text, text, text, text)',
                             'privacy_tags.remove_controller()',
                             'privacy_tags.add_recipient(text, text, text, text[], text, text)',
                             'privacy_tags.remove_recipient(text)',
                             'privacy_tags.add_security_measure(text, text)',
                             'privacy_tags.remove_security_measure(text, text)',
                             'privacy_tags.add_source(regclass, text, name, text)',
                             'privacy_tags.remove_source(regclass, name)',
                             'privacy_tags.add_automated_decision(text, text, text, text)',
                             'privacy_tags.remove_automated_decision(text)',
                             'privacy_tags.set_processing_role(text, text, text, text)',
                             'privacy_tags.remove_processing_role(text)'] LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO privacy_admin', f);
    END LOOP;
END
$$;

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
REVOKE ALL ON FUNCTION privacy_tags.erase(text, text, boolean, text[], bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.erase(text, text, boolean, text[], bigint) TO privacy_admin;
REVOKE ALL ON FUNCTION privacy_tags.withdraw_consent(text, text, text, boolean, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.withdraw_consent(text, text, text, boolean, bigint) TO privacy_admin;
REVOKE ALL ON FUNCTION privacy_tags.restrict(text, text, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.restrict(text, text, text, bigint) TO privacy_admin;
REVOKE ALL ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean, bigint) TO privacy_admin;
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
