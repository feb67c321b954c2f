-- Declarations: what the tags cannot say ------------------------------------------
--
-- The record of processing (GDPR Art. 30) and the access document (Art. 15)
-- need facts about the controller and its processing that no column holds:
-- who the controller is, who receives the data and where, how it is kept
-- safe, where it came from, which decisions are automated, and for whom the
-- database's owner processes it.  Each is a table here, dumped with the
-- database, readable by anyone (they describe the business, not people),
-- changed by members of privacy_admin through the functions below.

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

-- A text argument a declaration needs: not NULL, not blank, at most 1000 bytes.
CREATE FUNCTION privacy_tags._check_text(fn text, arg text, val text, max_bytes integer DEFAULT 1000)
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

-- Whether a country (ISO 3166-1 alpha-2) is in the European Economic Area:
-- data sent anywhere else is a transfer to a third country (Chapter V).
CREATE FUNCTION privacy_tags._in_eea(country text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT country = ANY ('{AT,BE,BG,HR,CY,CZ,DK,EE,FI,FR,DE,GR,HU,IE,IT,LV,LT,LU,MT,NL,PL,PT,RO,SK,SI,ES,SE,IS,LI,NO}'::text[])
$$;

CREATE FUNCTION privacy_tags.set_controller(name text, contact text,
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
COMMENT ON FUNCTION privacy_tags.set_controller(text, text, text, text, text, text, text) IS
    'Declares the controller (Art. 30(1)(a)): name, contact, representative, data protection officer and supervisory authority; replaces an earlier declaration.';

CREATE FUNCTION privacy_tags.remove_controller()
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM privacy_tags.controller;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION privacy_tags.remove_controller() IS
    'Removes the controller''s declaration; returns whether there was one.';

CREATE FUNCTION privacy_tags.add_recipient(name text, role text, country text, purposes text[],
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
COMMENT ON FUNCTION privacy_tags.add_recipient(text, text, text, text[], text, text) IS
    'Declares a recipient (Art. 30(1)(d)-(e)): its role, country, the safeguard a transfer outside the EEA rests on, and the purposes whose data it receives; replaces an earlier declaration of the same name.';

CREATE FUNCTION privacy_tags.remove_recipient(name text)
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
COMMENT ON FUNCTION privacy_tags.remove_recipient(text) IS
    'Removes a recipient; returns whether it was declared.';

CREATE FUNCTION privacy_tags.add_security_measure(measure text, purpose text DEFAULT NULL)
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
COMMENT ON FUNCTION privacy_tags.add_security_measure(text, text) IS
    'Declares a technical or organisational security measure (Art. 30(1)(g)) for one purpose, or for all when purpose is NULL.';

CREATE FUNCTION privacy_tags.remove_security_measure(measure text, purpose text DEFAULT NULL)
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
COMMENT ON FUNCTION privacy_tags.remove_security_measure(text, text) IS
    'Removes a security measure; returns whether it was declared.';

CREATE FUNCTION privacy_tags.add_source(rel regclass, source text, col name DEFAULT NULL, description text DEFAULT NULL)
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
COMMENT ON FUNCTION privacy_tags.add_source(regclass, text, name, text) IS
    'Declares where the data of a table (or of one column) came from: ''subject'', or the third party that provided it (Art. 14(2)(f), 15(1)(g)).';

CREATE FUNCTION privacy_tags.remove_source(rel regclass, col name DEFAULT NULL)
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
COMMENT ON FUNCTION privacy_tags.remove_source(regclass, name) IS
    'Removes the source declared for a table (or a column); returns whether there was one.';

CREATE FUNCTION privacy_tags.add_automated_decision(purpose text, description text, logic text, significance text)
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
COMMENT ON FUNCTION privacy_tags.add_automated_decision(text, text, text, text) IS
    'Declares automated decision-making or profiling for a purpose (Art. 22, 15(1)(h)): what is decided, the logic involved, and its significance for the subject.';

CREATE FUNCTION privacy_tags.remove_automated_decision(purpose text)
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
COMMENT ON FUNCTION privacy_tags.remove_automated_decision(text) IS
    'Removes the automated decision-making declared for a purpose; returns whether there was one.';

CREATE FUNCTION privacy_tags.set_processing_role(purpose text, role text, controller text DEFAULT NULL,
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
COMMENT ON FUNCTION privacy_tags.set_processing_role(text, text, text, text) IS
    'Declares the role of the database''s owner for a purpose: controller (the default), joint_controller with, or processor for, the named controller (Art. 26, 30(2)).';

CREATE FUNCTION privacy_tags.remove_processing_role(purpose text)
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
COMMENT ON FUNCTION privacy_tags.remove_processing_role(text) IS
    'Removes the role declared for a purpose (it is processed as controller again); returns whether there was one.';

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

-- The Art. 15 facts of an access document that come from the declarations,
-- for the subject's purposes and the tables of the document: the
-- controller, the recipients and transfers (15(1)(c), 15(2)), where data
-- not collected from the subject came from (15(1)(g)), automated decisions
-- (15(1)(h)), and the subject's rights (15(1)(e)-(f)).
CREATE FUNCTION privacy_tags._access_facts(p_purposes jsonb, p_tables jsonb)
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
