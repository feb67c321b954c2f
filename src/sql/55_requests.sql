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
CREATE FUNCTION privacy_tags.opt_out_purposes()
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
CREATE FUNCTION privacy_tags._objected(p_type text, p_id text, tag privacy_tags.privacy_tag)
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
CREATE FUNCTION privacy_tags._due(regime text, received_at timestamptz, extended boolean)
RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE regime
               WHEN 'gdpr' THEN received_at + CASE WHEN extended THEN interval '3 months' ELSE interval '1 month' END
               WHEN 'ccpa' THEN received_at + CASE WHEN extended THEN interval '90 days' ELSE interval '45 days' END
           END
$$;

CREATE FUNCTION privacy_tags.open_request(kind text, subject_type text, subject_id text, regime text DEFAULT 'gdpr',
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
CREATE FUNCTION privacy_tags._check_request(fn text, request bigint, kinds text[], p_type text, p_id text)
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

CREATE FUNCTION privacy_tags._close_request(request bigint, outcome text, note text)
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

CREATE FUNCTION privacy_tags.extend_request(request bigint, reason text)
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

CREATE FUNCTION privacy_tags.close_request(request bigint, outcome text, note text DEFAULT NULL)
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
CREATE FUNCTION privacy_tags._purge_requests()
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

CREATE FUNCTION privacy_tags.object(subject_type text, subject_id text, purpose text DEFAULT NULL,
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

CREATE FUNCTION privacy_tags.withdraw_objection(subject_type text, subject_id text, purpose text DEFAULT NULL)
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

CREATE FUNCTION privacy_tags.export_ledger(since timestamptz DEFAULT NULL)
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

CREATE FUNCTION privacy_tags.import_ledger(ledger jsonb)
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
CREATE FUNCTION privacy_tags._ledger_subjects(p_type text)
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
CREATE FUNCTION privacy_tags.reapply_erasures(since timestamptz DEFAULT NULL, dry_run boolean DEFAULT false)
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
CREATE FUNCTION privacy_tags._complete_deferred(p_type text, p_id text)
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

CREATE FUNCTION privacy_tags.complete_deferred_erasures()
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
