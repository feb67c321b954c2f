-- discover() may be called by any role: it looks at the tables the caller
-- may read, and reads their values as each table's owner.
CREATE FUNCTION privacy_tags.discover(schema_name name DEFAULT 'public', sample_size integer DEFAULT 200)
RETURNS TABLE (relation regclass, column_name name, suggested_tag privacy_tags.privacy_tag,
               rule text, evidence text, sampled integer, matched integer)
AS 'MODULE_PATHNAME', 'privacy_tags_call_internal' LANGUAGE C;

CREATE FUNCTION privacy_tags._discover(schema_name name, sample_size integer, caller regrole)
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
COMMENT ON FUNCTION privacy_tags.discover(name, integer) IS
    'Untagged columns that look like personal data, by type, by a bounded sample of their values, or by name; each with a suggested tag and the evidence.';

-- Built from the catalogs and the tags alone (no table is read, no table
-- owner's code runs), so any role may read the record.
CREATE FUNCTION privacy_tags.processing_record()
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

CREATE VIEW privacy_tags.record_of_processing AS
SELECT p ->> 'purpose' AS purpose,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'legal_bases')) AS legal_bases,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'data_subjects')) AS data_subjects,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'data_categories')) AS data_categories,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'special_categories')) AS special_categories,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'special_conditions')) AS special_conditions,
       ARRAY(SELECT DISTINCT (r ->> 'category') || ': ' || (r ->> 'retain')
               FROM jsonb_array_elements(p -> 'retention') r ORDER BY 1) AS retention,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'tables')) AS tables
  FROM jsonb_array_elements(privacy_tags.processing_record() -> 'purposes') p;
COMMENT ON VIEW privacy_tags.record_of_processing IS
    'The record of processing (processing_record()) one row per purpose, for a DPO to read.';
GRANT SELECT ON privacy_tags.record_of_processing TO PUBLIC;
