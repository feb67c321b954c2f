-- Roles ------------------------------------------------------------------------

-- Members of privacy_admin may purge, hold, release (and, later, export and
-- erase).  Roles are cluster-wide: the role outlives DROP EXTENSION.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'privacy_admin') THEN
        CREATE ROLE privacy_admin NOLOGIN;
    END IF;
END
$$;

-- Audit log --------------------------------------------------------------------

-- The key of the subject-id hashes in the audit log.  Generated once per
-- database from pg_strong_random (via gen_random_uuid), dumped with the
-- database so hashes stay comparable after a restore, readable by nobody
-- but its owner.  Stored as the two padded HMAC keys.
CREATE TABLE privacy_tags.audit_key (
    ipad bytea NOT NULL,
    opad bytea NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE privacy_tags.audit_key IS
    'The key of subject_hash(). The oldest row is used, so a key restored from a dump wins over the one CREATE EXTENSION made.';
REVOKE ALL ON privacy_tags.audit_key FROM PUBLIC;
DO $$
DECLARE
    k bytea := pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', '') ||
                                 pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 'hex')
               OPERATOR(pg_catalog.||) pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
    i bytea := k;
    o bytea := k;
BEGIN
    FOR n IN 0..63 LOOP
        i := pg_catalog.set_byte(i, n, pg_catalog.get_byte(k, n) # 54);   -- 0x36
        o := pg_catalog.set_byte(o, n, pg_catalog.get_byte(k, n) # 92);   -- 0x5c
    END LOOP;
    INSERT INTO privacy_tags.audit_key (ipad, opad) VALUES (i, o);
END
$$;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.audit_key', '');

CREATE FUNCTION privacy_tags.subject_hash(subject_type text, subject_id text)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT encode(sha256(k.opad || sha256(k.ipad || convert_to(subject_type || ':' || subject_id, 'UTF8'))), 'hex')
      FROM privacy_tags.audit_key k
     ORDER BY k.generated_at
     LIMIT 1
$$;
COMMENT ON FUNCTION privacy_tags.subject_hash(text, text) IS
    'The keyed hash (HMAC-SHA-256, per-database key) under which the audit log records a subject.';
REVOKE ALL ON FUNCTION privacy_tags.subject_hash(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.subject_hash(text, text) TO privacy_admin;

CREATE TABLE privacy_tags.audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    actor        name NOT NULL DEFAULT SESSION_USER,
    action       text NOT NULL,
    relation     text,
    column_name  name,
    subject_type text,
    subject_hash text,
    rows         bigint,
    details      jsonb
);
COMMENT ON TABLE privacy_tags.audit_log IS
    'Append-only record of purges, holds and data-subject requests; subjects appear only as keyed hashes.';
REVOKE ALL ON privacy_tags.audit_log FROM PUBLIC;
GRANT SELECT ON privacy_tags.audit_log TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.audit_log_id_seq', '');

-- Append-only: even roles with the privilege (or superusers other than the
-- owner) cannot change or remove entries; only the table's owner can.
CREATE FUNCTION privacy_tags._audit_log_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_user OPERATOR(pg_catalog.<>) (SELECT r.rolname FROM pg_catalog.pg_class c
                          JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) c.relowner
                         WHERE c.oid OPERATOR(pg_catalog.=) TG_RELID) THEN
        RAISE EXCEPTION 'privacy_tags.audit_log is append-only'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only the owner of the audit log may change or remove entries.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON privacy_tags.audit_log
    FOR EACH ROW EXECUTE FUNCTION privacy_tags._audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON privacy_tags.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION privacy_tags._audit_log_guard();
-- also under session_replication_role = replica (which a superuser may set
-- to skip ordinary triggers); only ALTER TABLE ... DISABLE TRIGGER, which
-- needs the table's owner or a superuser, turns the guard off
ALTER TABLE privacy_tags.audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE privacy_tags.audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

-- Legal holds ------------------------------------------------------------------

CREATE TABLE privacy_tags.legal_holds (
    id           bigserial PRIMARY KEY,
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    reason       text NOT NULL,
    held_until   timestamptz,
    created_by   name NOT NULL DEFAULT SESSION_USER,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    released_by  name,
    released_at  timestamptz
);
CREATE INDEX ON privacy_tags.legal_holds (subject_type, subject_id) WHERE released_at IS NULL;
COMMENT ON TABLE privacy_tags.legal_holds IS
    'Subjects whose data must not be purged or erased (litigation, investigations), until released or until held_until.';
REVOKE ALL ON privacy_tags.legal_holds FROM PUBLIC;
GRANT SELECT ON privacy_tags.legal_holds TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.legal_holds', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.legal_holds_id_seq', '');

CREATE FUNCTION privacy_tags.hold(subject_type text, subject_id text, reason text, until timestamptz DEFAULT NULL)
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

CREATE FUNCTION privacy_tags.release(subject_type text, subject_id text)
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

REVOKE ALL ON FUNCTION privacy_tags.hold(text, text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags.release(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.hold(text, text, text, timestamptz) TO privacy_admin;
GRANT EXECUTE ON FUNCTION privacy_tags.release(text, text) TO privacy_admin;

-- Enforcement ------------------------------------------------------------------

CREATE FUNCTION privacy_tags.retention_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION privacy_tags.retention_trigger() IS
    'Row trigger installed by enforce(): refuses (or expires) values past their retention window.';

-- The columns of rel that reach a subject's key through other tables
-- (foreign keys and links of one column, of one built-in type on both
-- sides, up to four tables on the way), for the trigger's restriction and
-- consent checks: (column, subject type, the steps of the lookup: schema,
-- table, the column compared, the column read, per table, quoted and
-- joined by dots).  The shortest path per column and subject type.  A
-- column that is a key itself or points straight at one is left to the
-- trigger's direct arguments.
CREATE FUNCTION privacy_tags._subject_paths(rel regclass)
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

-- (Re)create the retention trigger of rel from its tags; changed_attnum and
-- changed_label give a tag that is about to be stored (NULL: removed).
CREATE FUNCTION privacy_tags._install_trigger(rel regclass, changed_attnum int2, changed_label text,
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

-- Called by the label hook when a tag changes (as the extension's owner;
-- SECURITY LABEL has checked that the caller owns the table).
CREATE FUNCTION privacy_tags._refresh_enforcement(rel regclass, changed_attnum int2, changed_label text,
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

-- The checks of every function that takes a table: not NULL, exists, and an
-- ordinary, partitioned or foreign table.  Returns the relkind.
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

-- The checks of enforce() and unenforce(): a table, and the caller may act
-- as its owner (as for CREATE TRIGGER).
CREATE FUNCTION privacy_tags._check_owner(fn text, rel regclass, caller regrole)
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

CREATE FUNCTION privacy_tags.enforce(rel regclass)
RETURNS integer
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;

CREATE FUNCTION privacy_tags._enforce(rel regclass, caller regrole)
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
COMMENT ON FUNCTION privacy_tags.enforce(regclass) IS
    'Installs the retention trigger on a table (and its partitions); returns the number of windowed columns.';

CREATE FUNCTION privacy_tags.unenforce(rel regclass)
RETURNS boolean
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;

CREATE FUNCTION privacy_tags._unenforce(rel regclass, caller regrole)
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
COMMENT ON FUNCTION privacy_tags.unenforce(regclass) IS
    'Removes the retention trigger from a table; returns whether it was there.';

-- Purge ------------------------------------------------------------------------

-- A predicate on alias t: some row of another table points at this row of
-- rel through a foreign key (when blocking_only, only the keys that keep a
-- purge from deleting the row: ON DELETE NO ACTION or RESTRICT, and CASCADE
-- from a tagged table, whose rows have windows and bases of their own).
-- NULL when no such key points at rel.
CREATE FUNCTION privacy_tags._referenced_by(rel regclass, blocking_only boolean)
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
REVOKE ALL ON FUNCTION privacy_tags._referenced_by(regclass, boolean) FROM PUBLIC;

-- The tables a delete from rel can cascade into (ON DELETE CASCADE, SET
-- NULL or SET DEFAULT, at any depth; partitions as their partitioned
-- table), rel's own tree left out.  (PL/pgSQL, so that its statements are
-- planned once per session: every statement of a purge asks.)
CREATE FUNCTION privacy_tags._cascade_tables(rel regclass)
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

-- Rows deleted and updated so far in this transaction (subtransactions
-- included) in each of rels, their partitions summed: taken before and
-- after a purge statement, the difference is what its foreign keys
-- cascaded.  From the statistics collector's counters of the transaction
-- (NULL when track_counts is off).
CREATE FUNCTION privacy_tags._change_counts(rels regclass[])
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

-- What a purge statement cascaded: (relation, 'cascade_delete' or
-- 'cascade_update', rows) since the counts before, one row per change.
CREATE FUNCTION privacy_tags._cascaded(rels regclass[], before jsonb)
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

-- Whether the session's time zone keeps one offset from UTC for ever (UTC,
-- Etc/GMT-2, '+02:00'): then days added to a timestamp are exactly 24 hours
-- each, and a cut-off without months is exact.
CREATE FUNCTION privacy_tags._fixed_timezone() RETURNS boolean
    AS 'MODULE_PATHNAME', 'privacy_tags_fixed_timezone' LANGUAGE C STABLE PARALLEL SAFE;

-- The windowed columns of the relations to purge, with everything needed to
-- build the statements.  One row per column.  The expired rows are those
-- of "bound AND expired" (bound: an index-friendly upper bound on the
-- anchor), which is also "cutoff OR recheck", two conditions that never
-- hold together: cutoff is the anchor compared with one constant (an index
-- condition: the expired rows at or before the exact cut-off, as_of minus
-- the window), recheck is NULL where that cut-off is exact and otherwise
-- selects the few anchors after it, up to bound, that the exact test
-- (anchor + window <= as_of, in the session's time zone) finds expired.
-- held is a predicate on the rows of held subjects whose ids are the
-- statement's parameters held_ids ($1, $2, ...: one array of ids per
-- subject column); problem says why a column cannot be purged (its other
-- fields are NULL then).
CREATE FUNCTION privacy_tags._purge_plan(rel regclass, as_of timestamptz)
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

-- The fast path of purge() and purge_batch() (src/purge.c): the columns
-- _purge_plan() returns, in its order, with what a probe of their expired
-- rows needs and nothing that depends on as_of: the anchor, its base type
-- (NULL when it is missing), the window, and for a nullify column the
-- condition of a value not masked yet, whether an index (of the table or
-- of a partition) starts with the anchor; and what the table's place in
-- the order of a purge of all depends on: its name, the foreign keys from
-- and to it.  Read once per backend and table.
CREATE FUNCTION privacy_tags._purge_columns(rel regclass)
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

-- The rows of _purge_columns(rel) as the fast path reads them: from the
-- catalogs, in C (a session's first purge of a table plans no query for
-- them).  For the tests, which compare the two.
CREATE FUNCTION privacy_tags._purge_table_columns(rel regclass)
RETURNS TABLE (relation regclass, column_name name, action text, anchor name, anchor_type regtype,
               retention interval, unmasked text, relation_name text, foreign_keys text,
               anchor_indexed boolean)
AS 'MODULE_PATHNAME', 'privacy_tags_purge_table_columns' LANGUAGE C STABLE STRICT;

-- The tables of a purge of all, in _purge_plan()'s order: what the fast
-- path reads again when an invalidation may have changed it, with
-- _purge_columns(rel) for the tables it has not read yet.
CREATE FUNCTION privacy_tags._purge_order()
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

-- Each column purge(rel, as_of) purges, in its order, and whether any of
-- its rows is expired (due), by a probe of each table run as its owner in
-- a security-restricted operation (src/purge.c); the columns of the
-- tables in unprobed, and those no probe can judge, are always due.
CREATE FUNCTION privacy_tags._purge_due(rel regclass, as_of timestamptz, unprobed regclass[] DEFAULT NULL)
RETURNS TABLE (relation regclass, column_name name, action text, due boolean)
AS 'MODULE_PATHNAME', 'privacy_tags_purge_due' LANGUAGE C VOLATILE;

-- The tables purge() must not judge by a probe as of as_of: those where the
-- graph of a held subject's type cannot look its rows up (_purge_plan()
-- reports them), partitions included.  NULL when there are none.
CREATE FUNCTION privacy_tags._purge_unprobed(as_of timestamptz)
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

-- purge(), each batch of run_purge() and every erasure take this lock for
-- the rest of their transaction.  They change the same rows in different
-- orders (purge children first across all tables, erasure one subject's
-- tables), so two of them running at once could deadlock; one at a time,
-- they never do.  Ordinary writers are not affected.
CREATE FUNCTION privacy_tags._serialize_changes()
RETURNS void
LANGUAGE sql
AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(1886680947, 1);	-- 'ptag', 1
$$;
REVOKE ALL ON FUNCTION privacy_tags._serialize_changes() FROM PUBLIC;

-- Runs a purge's DELETE as the table's owner and returns its row count.  A
-- row that another session made a referrer of after the statement's
-- snapshot fails the foreign-key check: the statement is run again, and its
-- new snapshot sees the referrer and keeps the row.
CREATE FUNCTION privacy_tags._delete_retrying(rel regclass, stmt text, params text[])
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

-- An error of one table's purge as the audit log and a warning record it:
-- SQLSTATE and message, cut short (a message may quote a value).
CREATE FUNCTION privacy_tags._purge_failed(rel regclass, col name, sqlstate text, message text,
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

-- purge(rel) and run_purge(rel): rel is a table with a retention window
-- (the checks of _check_table() and then that one, in C: src/purge.c).
CREATE FUNCTION privacy_tags._check_purge_target(fn text, rel regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'privacy_tags_check_purge_target' LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;

-- One column of one table of a purge, as the table's owner: the expired
-- rows go (or their value), or, with batch_size, at most that many of them
-- from the table target (a leaf of a partitioned p.relation).  Returns the
-- rows changed.  Without batch_size, the statement's condition is p.cutoff,
-- the anchor compared with a constant (the index condition, as a
-- hand-written statement has it), and where the cut-off is not exact a
-- second statement takes the few anchors after it that p.recheck finds
-- expired.
CREATE FUNCTION privacy_tags._purge_column(p record, target regclass, batch_size integer)
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

CREATE FUNCTION privacy_tags.purge(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT now(), dry_run boolean DEFAULT false)
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
REVOKE ALL ON FUNCTION privacy_tags.purge(regclass, timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.purge(regclass, timestamptz, boolean) TO privacy_admin;

-- One batch of a purge, in the caller's transaction: at most batch_size
-- expired rows (or values) of the first column, in purge()'s order, that
-- still has some; a partitioned table's leaves one by one.  Returns that
-- one (relation, column, action, rows), or no row when nothing expired is
-- left; a column that fails is returned with action 'failed' (skip it next
-- time).  After that row, one row per table its foreign keys cascaded into
-- (action cascade_delete or cascade_update).  CALL run_purge() calls it
-- until nothing is left.
CREATE FUNCTION privacy_tags.purge_batch(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT now(),
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
REVOKE ALL ON FUNCTION privacy_tags.purge_batch(regclass, timestamptz, integer, regclass[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.purge_batch(regclass, timestamptz, integer, regclass[]) TO privacy_admin;

CREATE PROCEDURE privacy_tags.run_purge(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT NULL,
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
REVOKE ALL ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer, bigint, interval) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer, bigint, interval) TO privacy_admin;

-- Scheduling through pg_cron ----------------------------------------------------

CREATE FUNCTION privacy_tags.schedule_purge(schedule text, job_name text DEFAULT 'privacy_tags_purge')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_job bigint;
BEGIN
    IF schedule IS NULL OR job_name IS NULL THEN
        RAISE EXCEPTION 'schedule_purge: schedule and job_name must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'feature_not_supported',
                  HINT = format('Add pg_cron to shared_preload_libraries, restart, and run CREATE EXTENSION pg_cron in the database named by cron.database_name (now %s). '
                                'From there, cron.schedule_in_database(%L, %L, %L, %L) schedules the purge of this database.',
                                coalesce(current_setting('cron.database_name', true), 'postgres'),
                                job_name, schedule, 'CALL privacy_tags.run_purge()', current_database());
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO v_job
        USING job_name, schedule, 'CALL privacy_tags.run_purge()';
    INSERT INTO privacy_tags.audit_log (action, details)
    VALUES ('schedule_purge', jsonb_build_object('job', job_name, 'schedule', schedule, 'jobid', v_job));
    RETURN v_job;
END
$$;
COMMENT ON FUNCTION privacy_tags.schedule_purge(text, text) IS
    'Schedules CALL privacy_tags.run_purge() with pg_cron (e.g. ''0 3 1 */3 *'' for a quarterly purge); returns the job id.';

CREATE FUNCTION privacy_tags.unschedule_purge(job_name text DEFAULT 'privacy_tags_purge')
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ok boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Nothing can have been scheduled here without pg_cron.';
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1 AND username = current_user)'
        INTO v_ok USING job_name;
    IF NOT v_ok THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' INTO v_ok USING job_name;
    INSERT INTO privacy_tags.audit_log (action, details)
    VALUES ('unschedule_purge', jsonb_build_object('job', job_name));
    RETURN v_ok;
END
$$;
COMMENT ON FUNCTION privacy_tags.unschedule_purge(text) IS 'Removes the pg_cron job of schedule_purge().';
REVOKE ALL ON FUNCTION privacy_tags.schedule_purge(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags.unschedule_purge(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.schedule_purge(text, text) TO privacy_admin;
GRANT EXECUTE ON FUNCTION privacy_tags.unschedule_purge(text) TO privacy_admin;
