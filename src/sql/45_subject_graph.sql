-- The subject graph -------------------------------------------------------------

-- References the schema does not declare as foreign keys (many real schemas
-- declare none), possibly across types; the subject graph treats them like
-- foreign keys.  Dumped with the database.
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

-- Drops what every backend cached about rel (subject graphs, trigger plans).
CREATE FUNCTION privacy_tags._invalidate(rel regclass) RETURNS void
    AS 'MODULE_PATHNAME', 'privacy_tags_invalidate' LANGUAGE C VOLATILE STRICT;

-- The graph of a subject type (src/subject_graph.c): one row per table,
-- with the predicate (alias t) that selects the subject's rows for the id in
-- parameter param (an array of ids with as_array), and the one that says
-- when such a row is shared with another subject.
CREATE FUNCTION privacy_tags._subject_graph(subject_type text, param text DEFAULT '$1', as_array boolean DEFAULT false)
RETURNS TABLE (relation regclass, kind text, via text, depth integer, erase_order integer, tagged boolean,
               collected_at name, pred text, shared text, other_columns text[], masks jsonb)
AS 'MODULE_PATHNAME', 'privacy_tags_subject_graph' LANGUAGE C STABLE;

CREATE FUNCTION privacy_tags.subject_graph(subject_type text)
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

-- link() / unlink(): the caller owns child and owns parent or may reference it.
CREATE FUNCTION privacy_tags.link(child regclass, child_columns name[], parent regclass, parent_columns name[])
RETURNS void
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;
COMMENT ON FUNCTION privacy_tags.link(regclass, name[], regclass, name[]) IS
    'Declares a reference the schema has no foreign key for (possibly across types): the subject graph follows it like a foreign key.';

CREATE FUNCTION privacy_tags.unlink(child regclass, child_columns name[], parent regclass, parent_columns name[])
RETURNS boolean
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;
COMMENT ON FUNCTION privacy_tags.unlink(regclass, name[], regclass, name[]) IS
    'Removes a reference declared with link(); returns whether it was there.';

CREATE FUNCTION privacy_tags._check_link(fn text, child regclass, child_columns name[], parent regclass,
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

CREATE FUNCTION privacy_tags._link(child regclass, child_columns name[], parent regclass, parent_columns name[],
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

CREATE FUNCTION privacy_tags._unlink(child regclass, child_columns name[], parent regclass, parent_columns name[],
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

-- Called by the rename hook: a link that names column oldname of rel names
-- newname now.
CREATE FUNCTION privacy_tags._rename_link_columns(rel regclass, oldname name, newname name, caller regrole)
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
