-- Categories added by users are dumped with the database.
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.categories', 'WHERE NOT builtin');

-- Tagging ----------------------------------------------------------------------

CREATE FUNCTION privacy_tags.add_category(
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

CREATE FUNCTION privacy_tags.tag(rel regclass, col name, tag privacy_tags.privacy_tag)
RETURNS void
AS 'MODULE_PATHNAME', 'privacy_tags_tag' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags.tag(regclass, name, privacy_tags.privacy_tag) IS
    'Tags a column (same as SECURITY LABEL FOR privacy_tags ON COLUMN ..., with the same checks).';

CREATE FUNCTION privacy_tags.untag(rel regclass, col name)
RETURNS boolean
AS 'MODULE_PATHNAME', 'privacy_tags_untag' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags.untag(regclass, name) IS
    'Removes a column''s tag; returns whether it had one.';

CREATE FUNCTION privacy_tags.set_subject(rel regclass, col name, subject_type text, collected_at name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'privacy_tags_set_subject' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags.set_subject(regclass, name, text, name) IS
    'Marks a column as identifying the data subject of its rows; collected_at names the column that says when a row was collected.';

CREATE FUNCTION privacy_tags.unset_subject(rel regclass, col name)
RETURNS boolean
AS 'MODULE_PATHNAME', 'privacy_tags_unset_subject' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags.unset_subject(regclass, name) IS
    'Removes a column''s subject-key mark; returns whether it had one.';

CREATE FUNCTION privacy_tags.subject_label_type(text) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tags_subject_label_type' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.subject_label_collected_at(text) RETURNS name
    AS 'MODULE_PATHNAME', 'privacy_tags_subject_label_collected_at' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.subject_label_type(text) IS 'The subject type of a privacy_tags_subject label.';
COMMENT ON FUNCTION privacy_tags.subject_label_collected_at(text) IS 'The collected_at column of a privacy_tags_subject label, or NULL.';

CREATE VIEW privacy_tags.subjects AS
SELECT c.oid::pg_catalog.regclass AS relation,
       a.attname AS column_name,
       privacy_tags.subject_label_type(s.label) AS subject_type,
       privacy_tags.subject_label_collected_at(s.label) AS collected_at
  FROM pg_catalog.pg_seclabel s
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.objoid
  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) s.objoid
                                 AND a.attnum OPERATOR(pg_catalog.=) s.objsubid
 WHERE s.provider OPERATOR(pg_catalog.=) 'privacy_tags_subject'
   AND s.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
   AND s.objsubid OPERATOR(pg_catalog.>) 0
   AND NOT a.attisdropped;
COMMENT ON VIEW privacy_tags.subjects IS
    'One row per column that identifies a data subject (set with set_subject()).';

CREATE VIEW privacy_tags.columns AS
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
COMMENT ON VIEW privacy_tags.columns IS
    'The inventory: one row per tagged column, every field of its tag decoded.';
GRANT SELECT ON privacy_tags.columns, privacy_tags.subjects TO PUBLIC;

-- The type of a column, looking through domains (a domain's own checks are
-- its owner's code: the extension never casts to a domain).
CREATE FUNCTION privacy_tags._base_type(regtype) RETURNS regtype
    AS 'MODULE_PATHNAME', 'privacy_tags_base_type' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- Whether a type is a domain that forbids NULL (itself or a domain below it).
CREATE FUNCTION privacy_tags._type_not_null(regtype) RETURNS boolean
    AS 'MODULE_PATHNAME', 'privacy_tags_type_not_null' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- An id as a value of a type and back to text (src/privacy_tags.c).
CREATE FUNCTION privacy_tags._normalize_id(type regtype, id text) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tags_normalize_id' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- A subject id as the extension stores and compares it: the canonical text
-- of the id as a value of the subject type's key type ('07' and 7 are the
-- same customer, upper- and lower-case uuids the same account holder).
-- Types without a key column keep the id as given.  The key type is a base
-- type (never a domain), so the conversion runs no table owner's code.
CREATE FUNCTION privacy_tags._normalize_subject_id(fn text, p_type text, p_id text)
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

-- The checks every function that acts for one data subject shares: the type
-- names subject-key columns (set_subject()), so that a typo never gives an
-- empty export or an erasure that erased nothing, and the id fits the
-- indexed tables that record consents, holds, restrictions and suppressions.
-- Returns the id normalised by the subject type's key type.
CREATE FUNCTION privacy_tags._check_subject(fn text, p_type text, p_id text)
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

CREATE FUNCTION privacy_tags.subject_key_type(subject_type text) RETURNS pg_catalog.regtype
    AS 'MODULE_PATHNAME', 'privacy_tags_subject_key_type' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.subject_key_type(text) IS
    'The type subject ids of a subject type are normalised by: bigint for smallint, integer and bigint keys, else the base type of its key columns; NULL when no column has the subject type.';
