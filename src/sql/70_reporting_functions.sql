-- discover() may be called by any role: it looks at the tables the caller
-- may read, and reads their values as each table's owner.
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
CREATE FUNCTION privacy_tags._discover(schema_name name, sample_size integer, min_confidence real, caller regrole)
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

-- Built from the catalogs, the tags and the declarations (75_declarations.sql)
-- alone (no table is read, no table owner's code runs), so any role may read
-- the record.
CREATE FUNCTION privacy_tags.processing_record()
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

CREATE VIEW privacy_tags.record_of_processing AS
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
GRANT SELECT ON privacy_tags.record_of_processing TO PUBLIC;

-- The record as a document (Markdown) a DPO can hand to a supervisory
-- authority: the controller, one section per purpose, the processing done
-- as processor, and what is missing.
CREATE FUNCTION privacy_tags.processing_record_text()
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
COMMENT ON FUNCTION privacy_tags.processing_record_text() IS
    'The record of processing (processing_record()) as a Markdown document: the controller, one section per purpose, the processing done as processor (Art. 30(2)) and what is still missing.';
