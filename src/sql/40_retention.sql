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
COMMENT ON FUNCTION privacy_tags.hold(text, text, text, timestamptz) IS
    'Puts a subject under legal hold: purge and erasure skip their rows until release() or until.';

CREATE FUNCTION privacy_tags.release(subject_type text, subject_id text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    IF release.subject_type IS NULL OR release.subject_id IS NULL THEN
        RAISE EXCEPTION 'release: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE privacy_tags.legal_holds h
       SET released_at = now(), released_by = session_user
     WHERE h.subject_type = release.subject_type AND h.subject_id = release.subject_id
       AND h.released_at IS NULL;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows)
    VALUES ('release', release.subject_type,
            privacy_tags.subject_hash(release.subject_type, release.subject_id), v_n);
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

-- Called by the label hook when a tag changes.
CREATE FUNCTION privacy_tags._refresh_enforcement(rel regclass, changed_attnum int2, changed_label text,
                                                  changed_subject boolean DEFAULT false)
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

CREATE FUNCTION privacy_tags.enforce(rel regclass)
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
COMMENT ON FUNCTION privacy_tags.enforce(regclass) IS
    'Installs the retention trigger on a table (and its partitions); returns the number of windowed columns.';

CREATE FUNCTION privacy_tags.unenforce(rel regclass)
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
COMMENT ON FUNCTION privacy_tags.unenforce(regclass) IS
    'Removes the retention trigger from a table; returns whether it was there.';

-- Purge ------------------------------------------------------------------------

-- A predicate on alias t: some row of another table points at this row of
-- rel through a foreign key (only keys that block a delete, ON DELETE NO
-- ACTION or RESTRICT, when blocking_only).  NULL when no key points at rel.
CREATE FUNCTION privacy_tags._referenced_by(rel regclass, blocking_only boolean)
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
       AND (NOT blocking_only OR f.confdeltype IN ('a', 'r'))
$$;
REVOKE ALL ON FUNCTION privacy_tags._referenced_by(regclass, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags._referenced_by(regclass, boolean) TO privacy_admin;

-- The windowed columns of the relations to purge, with everything needed to
-- build the statements.  One row per column.
CREATE FUNCTION privacy_tags._purge_plan(rel regclass, as_of timestamptz)
RETURNS TABLE (relation regclass, column_name name, action text, expired text, bound text, held text, blocked text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    v_anchor_type regtype;
    v_lo text;
    v_hi text;
BEGIN
    FOR r IN
        SELECT c.relation AS rel, c.column_name AS col, c.retention AS w, c.anchor AS anc, c.on_expiry AS act
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
           AND k.relkind IN ('r', 'p', 'f') AND NOT k.relispartition
         ORDER BY h.height, c.relation::text, c.on_expiry, c.column_name
    LOOP
        SELECT a.atttypid::regtype INTO v_anchor_type
          FROM pg_attribute a WHERE a.attrelid = r.rel AND a.attname = r.anc AND NOT a.attisdropped;
        IF v_anchor_type IS NULL THEN
            RAISE EXCEPTION 'anchor column "%" of relation "%" does not exist', r.anc, r.rel
                USING ERRCODE = 'undefined_column',
                      HINT = 'The anchor was renamed or dropped; retag column "' || r.col || '".';
        END IF;
        relation := r.rel;
        column_name := r.col;
        action := r.act;
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
                   || CASE WHEN r.act = 'nullify' THEN format(' AND t.%I IS NOT NULL', r.col) ELSE '' END;
        -- an index-friendly bound that every expired anchor satisfies (month
        -- arithmetic moves a date by at most 3 days at the end of a month)
        bound := format('t.%1$I <= %2$L::%3$s', r.anc, v_hi, v_anchor_type);
        SELECT string_agg(format('EXISTS (SELECT FROM privacy_tags.legal_holds h '
                                 'WHERE h.subject_type = %L AND h.subject_id = (t.%I)::text '
                                 'AND h.released_at IS NULL AND (h.held_until IS NULL OR h.held_until > %L::timestamptz))',
                                 s.subject_type, s.column_name, as_of), ' OR ')
          INTO held
          FROM privacy_tags.subjects s
         WHERE s.relation = r.rel
           AND EXISTS (SELECT FROM privacy_tags.legal_holds h
                        WHERE h.subject_type = s.subject_type AND h.released_at IS NULL
                          AND (h.held_until IS NULL OR h.held_until > as_of));
        -- rows that other rows point at with ON DELETE NO ACTION/RESTRICT
        blocked := NULL;
        IF r.act = 'delete' THEN
            blocked := privacy_tags._referenced_by(r.rel, true);
        END IF;
        RETURN NEXT;
    END LOOP;
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

-- Runs a purge's DELETE and returns its row count.  A row that another
-- session made a referrer of after the statement's snapshot fails the
-- foreign-key check: the statement is run again, and its new snapshot sees
-- the referrer and keeps the row.
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

-- purge(rel) and run_purge(rel): rel is a table with a retention window.
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

CREATE FUNCTION privacy_tags.purge(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT now(), dry_run boolean DEFAULT false)
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
COMMENT ON FUNCTION privacy_tags.purge(regclass, timestamptz, boolean) IS
    'Deletes or nulls every value past its retention window as of as_of (dry_run: does it in a subtransaction it rolls back, and reports); skips held subjects and rows other rows point at.';
REVOKE ALL ON FUNCTION privacy_tags.purge(regclass, timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.purge(regclass, timestamptz, boolean) TO privacy_admin;

-- One batch of a purge: at most batch_size rows of one (leaf) relation for
-- one column, in the transaction of the caller.  Returns the rows changed.
CREATE FUNCTION privacy_tags._purge_batch(target regclass, parent regclass, col name,
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
REVOKE ALL ON FUNCTION privacy_tags._purge_batch(regclass, regclass, name, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags._purge_batch(regclass, regclass, name, timestamptz, integer) TO privacy_admin;

CREATE PROCEDURE privacy_tags.run_purge(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT NULL,
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
COMMENT ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer) IS
    'Purges like purge(), committing every batch_size rows, so a long purge never holds one huge transaction.';
REVOKE ALL ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer) TO privacy_admin;

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
