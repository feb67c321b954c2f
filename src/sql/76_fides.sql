-- fideslang datasets in and out --------------------------------------------------
--
-- A fideslang dataset (the JSON form of its YAML) describes a database:
-- collections (tables) of fields (columns), each field with its
-- data_categories, and in fides_meta the identity a field holds (the seed of
-- a privacy request: a subject key here) and its references to other fields
-- (a link here, unless a foreign key says it already).
--
-- import_fides_dataset() runs as its caller (SECURITY INVOKER) and acts
-- through tag(), set_subject() and link(), so their checks apply as they
-- do to the caller: only tables the caller owns are tagged or keyed, a
-- link needs the child's ownership and the parent's REFERENCES.  Each
-- field is imported in a subtransaction of its own: what fails is
-- reported with the reason, and the rest goes on.

-- The category of ours a fideslang data category becomes: a category added
-- with that fideslang name first, else the built-in map, else the nearest
-- fideslang ancestor that maps (approximate); with the reason when none.
CREATE FUNCTION privacy_tags.fides_category(fides text)
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
COMMENT ON FUNCTION privacy_tags.fides_category(text) IS
    'The category a fideslang data category is imported as: one added with that fideslang name, else the built-in equivalent, else that of its nearest fideslang ancestor (approximate); NULL and the reason when there is none.';

CREATE FUNCTION privacy_tags.import_fides_dataset(dataset jsonb, default_basis text DEFAULT NULL,
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
COMMENT ON FUNCTION privacy_tags.import_fides_dataset(jsonb, text, name, text, boolean) IS
    'Imports a fideslang dataset: each field''s data categories become a tag (with default_basis, and default_special for special categories), identities subject keys, references links; reports every field it could not map and why. Acts as the caller, through tag(), set_subject() and link().';

-- Export: the tagged tables, subject-key tables and linked tables of a schema
-- as one fideslang dataset; each field carries its whole tag in its
-- description ("privacy_tag: ..."), which import_fides_dataset() reads back.
CREATE FUNCTION privacy_tags.export_fides_dataset(schema_name name DEFAULT 'public', fides_key text DEFAULT NULL)
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
COMMENT ON FUNCTION privacy_tags.export_fides_dataset(name, text) IS
    'The tagged tables of a schema as a fideslang dataset: per field its fideslang data category (its category''s, or its nearest ancestor''s), its tag in the description, identities (subject keys) and references (foreign keys and links).';
