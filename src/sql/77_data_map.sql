-- The data map -------------------------------------------------------------------
--
-- data_map() draws what processing_record() lists: the subject types as
-- roots, the tables holding personal data (each tagged column coloured by
-- its top-level category, special categories in red), the foreign keys and
-- links between them, and the recipients each purpose sends data to.  Built
-- from the catalogs, the tags and the declarations only.

-- A DOT identifier, quoted; and text for an HTML-like label.
CREATE FUNCTION privacy_tags._dot_id(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '"' || replace(replace($1, '\', '\\'), '"', '\"') || '"' $$;

CREATE FUNCTION privacy_tags._dot_html(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT replace(replace(replace(replace($1, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;') $$;

-- The fill colour of a top-level category.
CREATE FUNCTION privacy_tags._dot_colour(category text) RETURNS text
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

CREATE FUNCTION privacy_tags.data_map(format text DEFAULT 'dot')
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
COMMENT ON FUNCTION privacy_tags.data_map(text) IS
    'The data map as Graphviz DOT: subject types, the tables holding personal data (columns coloured by category, special categories in red), foreign keys (solid) and links (dashed) between them, and the recipients each purpose sends data to.';
