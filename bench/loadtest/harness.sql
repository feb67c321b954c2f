-- Load test: the functions the pgbench scripts call (bench/loadtest/*.pgbench).
-- Each does one transaction's work and records how it ended in lt.events.
-- Writes go through the retention trigger; a write the trigger must refuse
-- is predicted before it is sent (from the row, the subject's consent and
-- restriction, the windows and now(), the trigger's clock), and a refusal
-- counts as expected only when it is the predicted one, with the predicted
-- SQLSTATE and message.  Successful writes are copied into the ledger
-- (lt.s_*) in the same transaction.

-- a random existing customer id (seeded or signed up)
CREATE FUNCTION lt.random_customer() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    SELECT 1 + floor(random() * (SELECT last_value FROM lt.customer_ids))::bigint
$$;

CREATE FUNCTION lt.event(p_op text, p_subject bigint, p_outcome text, p_reason text DEFAULT NULL,
                         p_sqlstate text DEFAULT NULL, p_message text DEFAULT NULL)
RETURNS text
LANGUAGE sql AS $$
    INSERT INTO lt.events (op, subject, outcome, reason, sqlstate, message)
    VALUES (p_op, p_subject, p_outcome, p_reason, p_sqlstate, p_message)
    RETURNING outcome
$$;

-- An unexpected error.  For a deadlock, what the other backends named in
-- the report were running (the client's report leaves the queries out; read
-- right after, so the other transaction is normally still at it).
CREATE FUNCTION lt.fail(p_op text, p_subject bigint, p_reason text, p_sqlstate text, p_message text,
                        p_detail text, p_context text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_other text;
BEGIN
    IF p_sqlstate = '40P01' THEN
        SELECT string_agg(DISTINCT coalesce(a.query, 'pid ' || m[1] || ' (gone)'), ' | ') INTO v_other
          FROM regexp_matches(coalesce(p_detail, ''), 'blocked by process (\d+)', 'g') m
          LEFT JOIN pg_stat_activity a ON a.pid = m[1]::int
         WHERE m[1]::int <> pg_backend_pid();
    END IF;
    INSERT INTO lt.events (op, subject, outcome, reason, sqlstate, message, context, other)
    VALUES (p_op, p_subject, 'error', p_reason, p_sqlstate,
            p_message || coalesce(' / ' || nullif(p_detail, ''), ''), p_context, v_other);
    RETURN 'error';
END
$$;

-- The row a writer found, against the ledger: every difference must be a
-- value a purge nulled (logged in lt.removals).  Returns what else differs.
CREATE FUNCTION lt.drift(p_tbl text, p_id bigint, p_found jsonb, p_ledger jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(format('%s: ledger %s, table %s', k.key, k.value, p_found -> k.key), ', ')
      FROM jsonb_each(p_ledger) k
     WHERE k.value IS DISTINCT FROM p_found -> k.key
       AND NOT (p_found -> k.key = 'null' AND EXISTS (
                SELECT FROM lt.removals r
                 WHERE r.tbl = p_tbl AND r.row_id = p_id AND r.op = 'UPDATE'
                   AND r.actor IN ('purge', 'run_purge')
                   AND r.old -> k.key = k.value AND r.new -> k.key = 'null'))
$$;

-- Check the row found against the ledger (an error event if something
-- else than a purge changed it).
CREATE FUNCTION lt.check_found(p_op text, p_subject bigint, p_tbl text, p_id bigint, p_found jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_ledger jsonb;
    v_drift text;
BEGIN
    EXECUTE format('SELECT to_jsonb(s) FROM lt.%I s WHERE s.id = $1', 's_' || p_tbl) INTO v_ledger USING p_id;
    v_drift := CASE WHEN v_ledger IS NULL THEN 'not in the ledger' ELSE lt.drift(p_tbl, p_id, p_found, v_ledger) END;
    IF v_drift IS NOT NULL THEN
        PERFORM lt.event(p_op, p_subject, 'error', 'ledger_drift', NULL, format('%s %s: %s', p_tbl, p_id, v_drift));
    END IF;
END
$$;

-- What the retention trigger must refuse in a customers row, first reason
-- first (the trigger checks restriction, then consent, then windows).
CREATE FUNCTION lt.predict_customer(st lt.subject_state, n lt.customers) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r text[] := '{}';
BEGIN
    IF st.restricted THEN r := r || 'restricted'::text; END IF;
    IF n.email IS NOT NULL AND NOT st.consent THEN r := r || 'consent'::text; END IF;
    IF n.last_active_at + lt.win('customers', 'name') <= now()
       OR (n.phone IS NOT NULL AND n.last_active_at + lt.win('customers', 'phone') <= now()) THEN
        r := r || 'expired'::text;
    END IF;
    RETURN r;
END
$$;

-- orders has no subject column, but its customer_id points at the
-- customer's key: restrictions are checked through it, then the windows
CREATE FUNCTION lt.predict_order(st lt.subject_state, n lt.orders) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r text[] := '{}';
BEGIN
    IF st.restricted THEN r := r || 'restricted'::text; END IF;
    IF n.ordered_at + lt.win('orders', 'item') <= now()
       OR (n.shipping_address IS NOT NULL AND n.ordered_at + lt.win('orders', 'shipping_address') <= now()) THEN
        r := r || 'expired'::text;
    END IF;
    RETURN r;
END
$$;

CREATE FUNCTION lt.predict_invoice(st lt.subject_state, n lt.invoices) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r text[] := '{}';
BEGIN
    IF st.restricted THEN r := r || 'restricted'::text; END IF;
    IF n.issued_at + lt.win('invoices', 'amount') <= now()
       OR (n.billing_name IS NOT NULL AND n.issued_at + lt.win('invoices', 'billing_name') <= now()) THEN
        r := r || 'expired'::text;
    END IF;
    RETURN r;
END
$$;

-- A write failed: was it the refusal predicted?  reasons[1] is the one the
-- trigger must raise first.  A foreign-key error on a customer that is gone
-- (purged or erased before) is an expected refusal too.
CREATE FUNCTION lt.refused(p_op text, p_subject bigint, p_reasons text[], p_sqlstate text, p_message text,
                           p_detail text DEFAULT NULL, p_context text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_first text := p_reasons[1];
BEGIN
    IF (v_first = 'restricted' AND p_sqlstate = '55000' AND p_message LIKE 'processing of this customer is restricted%')
       OR (v_first = 'consent' AND p_sqlstate = '23514' AND p_message LIKE '%holds consent-based data, and this customer has no active consent%')
       OR (v_first = 'expired' AND p_sqlstate = '23514' AND p_message LIKE 'value of column % expired at %') THEN
        RETURN lt.event(p_op, p_subject, 'refused', v_first, p_sqlstate);
    END IF;
    IF v_first IS NULL AND p_sqlstate = '23503'
       AND NOT EXISTS (SELECT FROM lt.customers WHERE id = p_subject) THEN
        RETURN lt.event(p_op, p_subject, 'refused', 'customer_gone', p_sqlstate);
    END IF;
    RETURN lt.fail(p_op, p_subject, array_to_string(p_reasons, ','), p_sqlstate, p_message, p_detail, p_context);
END
$$;

-- Writers ----------------------------------------------------------------------

-- A new customer signs up (consent for 2 in 3; some sign-ups try an email
-- without consent, some an anchor already past the window: both refused).
CREATE FUNCTION lt.w_signup() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c bigint := nextval('lt.customer_ids');
    st lt.subject_state;
    n lt.customers;
    reasons text[];
    v_detail text;
    v_context text;
    x double precision := random();
BEGIN
    INSERT INTO lt.subject_state (id, consent, restricted, held, erase_candidate)
    VALUES (c, c % 3 <> 0, false, false, false) RETURNING * INTO st;
    IF st.consent THEN
        PERFORM privacy_tags.grant_consent('customer', c::text, 'newsletter');
    END IF;
    n.id := c;
    n.name := 'Customer ' || c;
    n.phone := CASE WHEN random() < 0.8 THEN '+46 70 ' || lpad((random() * 1e7)::int::text, 7, '0') END;
    n.email := CASE WHEN st.consent OR x < 0.1 THEN format('c%s@example.com', c) END;
    n.last_active_at := CASE WHEN x > 0.95 THEN now() - lt.win('customers', 'name') - random() * interval '60 s'
                             ELSE now() - random() * interval '10 s' END;
    n.created_at := now();
    reasons := lt.predict_customer(st, n);
    BEGIN
        INSERT INTO lt.customers SELECT (n).* RETURNING * INTO n;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL, v_context = PG_EXCEPTION_CONTEXT;
        RETURN lt.refused('signup', c, reasons, SQLSTATE, SQLERRM, v_detail, v_context);
    END;
    INSERT INTO lt.s_customers SELECT (n).*;
    IF cardinality(reasons) > 0 THEN
        RETURN lt.event('signup', c, 'accepted_unexpectedly', array_to_string(reasons, ','));
    END IF;
    RETURN lt.event('signup', c, 'ok');
END
$$;

-- A customer orders: their last activity is renewed and an order inserted,
-- in one subtransaction.  Some orders carry a date past the item's (or only
-- the shipping address's) window: refused.
CREATE FUNCTION lt.w_order() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c bigint := lt.random_customer();
    st lt.subject_state;
    cur lt.customers;
    n lt.customers;
    o lt.orders;
    reasons text[];
    v_detail text;
    v_context text;
    x double precision := random();
BEGIN
    SELECT * INTO st FROM lt.subject_state WHERE id = c FOR SHARE;
    IF NOT FOUND THEN RETURN lt.event('order', c, 'gone'); END IF;
    IF st.erase_result = 'erased' THEN RETURN lt.event('order', c, 'skipped_erased'); END IF;
    SELECT * INTO cur FROM lt.customers WHERE id = c FOR UPDATE;
    IF NOT FOUND THEN RETURN lt.event('order', c, 'gone'); END IF;
    PERFORM lt.check_found('order', c, 'customers', c, to_jsonb(cur));
    n := cur;
    n.last_active_at := now() - random() * interval '10 s';
    o.customer_id := c;
    o.item := 'item ' || (random() * 1000)::int;
    o.shipping_address := CASE WHEN x < 0.1 OR random() < 0.8 THEN format('Storgatan %s, Stockholm', (random() * 100)::int) END;
    o.ordered_at := CASE
        WHEN x < 0.05 THEN now() - lt.win('orders', 'shipping_address') - random() * interval '40 s'  -- address expired, item not
        WHEN x > 0.95 THEN now() - lt.win('orders', 'item') - random() * interval '60 s'               -- all expired
        ELSE now() - random() * interval '10 s' END;
    reasons := lt.predict_customer(st, n) || lt.predict_order(st, o);
    BEGIN
        UPDATE lt.customers SET last_active_at = n.last_active_at WHERE id = c RETURNING * INTO n;
        INSERT INTO lt.orders (customer_id, item, shipping_address, ordered_at)
        VALUES (o.customer_id, o.item, o.shipping_address, o.ordered_at) RETURNING * INTO o;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL, v_context = PG_EXCEPTION_CONTEXT;
        RETURN lt.refused('order', c, reasons, SQLSTATE, SQLERRM, v_detail, v_context);
    END;
    UPDATE lt.s_customers s SET name = n.name, phone = n.phone, email = n.email,
                                last_active_at = n.last_active_at, created_at = n.created_at WHERE s.id = c;
    INSERT INTO lt.s_orders SELECT (o).*;
    IF cardinality(reasons) > 0 THEN
        RETURN lt.event('order', c, 'accepted_unexpectedly', array_to_string(reasons, ','));
    END IF;
    RETURN lt.event('order', c, 'ok');
END
$$;

-- A customer changes their phone (and sometimes email) without any new
-- activity: refused when the row is past a window, or the email has no
-- consent, or the customer is restricted.
CREATE FUNCTION lt.w_contact() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c bigint := lt.random_customer();
    st lt.subject_state;
    n lt.customers;
    reasons text[];
    v_detail text;
    v_context text;
BEGIN
    SELECT * INTO st FROM lt.subject_state WHERE id = c FOR SHARE;
    IF NOT FOUND THEN RETURN lt.event('contact', c, 'gone'); END IF;
    IF st.erase_result = 'erased' THEN RETURN lt.event('contact', c, 'skipped_erased'); END IF;
    SELECT * INTO n FROM lt.customers WHERE id = c FOR UPDATE;
    IF NOT FOUND THEN RETURN lt.event('contact', c, 'gone'); END IF;
    PERFORM lt.check_found('contact', c, 'customers', c, to_jsonb(n));
    n.phone := '+46 70 ' || lpad((random() * 1e7)::int::text, 7, '0');
    IF random() < 0.3 THEN
        n.email := format('c%s.%s@example.com', c, (random() * 1e6)::int);
    END IF;
    reasons := lt.predict_customer(st, n);
    BEGIN
        UPDATE lt.customers SET phone = n.phone, email = n.email WHERE id = c RETURNING * INTO n;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL, v_context = PG_EXCEPTION_CONTEXT;
        RETURN lt.refused('contact', c, reasons, SQLSTATE, SQLERRM, v_detail, v_context);
    END;
    UPDATE lt.s_customers s SET name = n.name, phone = n.phone, email = n.email,
                                last_active_at = n.last_active_at, created_at = n.created_at WHERE s.id = c;
    IF cardinality(reasons) > 0 THEN
        RETURN lt.event('contact', c, 'accepted_unexpectedly', array_to_string(reasons, ','));
    END IF;
    RETURN lt.event('contact', c, 'ok');
END
$$;

-- A new shipping address for an order, mostly a recent one: refused once
-- the order's address (or item) window has passed.  orders has no subject
-- column, so restriction does not apply (as documented).
CREATE FUNCTION lt.w_update_order() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    last bigint := (SELECT last_value FROM lt.orders_id_seq);
    oid_ bigint := greatest(1, last - floor(random() * random() * last)::bigint);
    c bigint;
    st lt.subject_state;
    o lt.orders;
    reasons text[];
    v_detail text;
    v_context text;
BEGIN
    SELECT customer_id INTO c FROM lt.orders WHERE id = oid_;
    IF NOT FOUND THEN RETURN lt.event('update_order', NULL, 'gone'); END IF;
    SELECT * INTO st FROM lt.subject_state WHERE id = c FOR SHARE;
    IF st.erase_result = 'erased' THEN RETURN lt.event('update_order', c, 'skipped_erased'); END IF;
    SELECT * INTO o FROM lt.orders WHERE id = oid_ FOR UPDATE;
    IF NOT FOUND THEN RETURN lt.event('update_order', c, 'gone'); END IF;
    PERFORM lt.check_found('update_order', c, 'orders', oid_, to_jsonb(o));
    o.shipping_address := format('Kungsgatan %s, Göteborg', (random() * 100)::int);
    reasons := lt.predict_order(st, o);
    BEGIN
        UPDATE lt.orders SET shipping_address = o.shipping_address WHERE id = oid_ RETURNING * INTO o;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL, v_context = PG_EXCEPTION_CONTEXT;
        RETURN lt.refused('update_order', c, reasons, SQLSTATE, SQLERRM, v_detail, v_context);
    END;
    UPDATE lt.s_orders s SET customer_id = o.customer_id, item = o.item, shipping_address = o.shipping_address,
                             ordered_at = o.ordered_at WHERE s.id = oid_;
    IF cardinality(reasons) > 0 THEN
        RETURN lt.event('update_order', c, 'accepted_unexpectedly', array_to_string(reasons, ','));
    END IF;
    RETURN lt.event('update_order', c, 'ok');
END
$$;

-- An invoice for a random customer, without touching the customer's row:
-- refused for a restricted customer, or by the foreign key when the
-- customer is gone.
CREATE FUNCTION lt.w_invoice() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c bigint := lt.random_customer();
    st lt.subject_state;
    i lt.invoices;
    reasons text[];
    v_detail text;
    v_context text;
BEGIN
    SELECT * INTO st FROM lt.subject_state WHERE id = c FOR SHARE;
    IF NOT FOUND THEN RETURN lt.event('invoice', c, 'gone'); END IF;
    IF st.erase_result = 'erased' THEN RETURN lt.event('invoice', c, 'skipped_erased'); END IF;
    i.customer_id := c;
    i.amount := round((random() * 1000)::numeric, 2);
    i.billing_name := CASE WHEN random() < 0.8 THEN 'Customer ' || c END;
    i.issued_at := now() - random() * interval '10 s';
    reasons := lt.predict_invoice(st, i);
    BEGIN
        INSERT INTO lt.invoices (customer_id, amount, billing_name, issued_at)
        VALUES (i.customer_id, i.amount, i.billing_name, i.issued_at) RETURNING * INTO i;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL, v_context = PG_EXCEPTION_CONTEXT;
        RETURN lt.refused('invoice', c, reasons, SQLSTATE, SQLERRM, v_detail, v_context);
    END;
    INSERT INTO lt.s_invoices SELECT (i).*;
    IF cardinality(reasons) > 0 THEN
        RETURN lt.event('invoice', c, 'accepted_unexpectedly', array_to_string(reasons, ','));
    END IF;
    RETURN lt.event('invoice', c, 'ok');
END
$$;

-- The privacy side ----------------------------------------------------------------

-- privacy_tags.purge(), one in five a dry run.  (run_purge is CALLed by its
-- own script: a procedure that commits cannot run under an exception block.)
CREATE FUNCTION lt.purge() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    dry boolean := random() < 0.2;
    r record;
    d bigint := 0;
    nl bigint := 0;
    h bigint := 0;
    rf bigint := 0;
    v_state text;
    v_msg text;
    v_detail text;
    v_context text;
BEGIN
    PERFORM set_config('lt.actor', 'purge', true);
    BEGIN
        FOR r IN SELECT * FROM privacy_tags.purge(dry_run => dry) LOOP
            CASE r.action
                WHEN 'delete' THEN d := d + r.rows;
                WHEN 'nullify' THEN nl := nl + r.rows;
                WHEN 'held' THEN h := h + r.rows;
                WHEN 'referenced' THEN rf := rf + r.rows;
                ELSE NULL;
            END CASE;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
                                v_context = PG_EXCEPTION_CONTEXT;
        RETURN lt.fail(CASE WHEN dry THEN 'purge_dry_run' ELSE 'purge' END, NULL, NULL, v_state, v_msg, v_detail, v_context);
    END;
    INSERT INTO lt.purge_log (dry_run, deleted, nulled, held, referenced) VALUES (dry, d, nl, h, rf);
    RETURN lt.event(CASE WHEN dry THEN 'purge_dry_run' ELSE 'purge' END, NULL, 'ok');
END
$$;

-- Access export of a random subject (half the time one already erased):
-- the document must hold the subject's rows only, and nothing erasable of
-- an erased subject.
CREATE FUNCTION lt.access() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c bigint;
    st lt.subject_state;
    doc jsonb;
    problem text;
    v_state text;
    v_msg text;
    v_detail text;
    v_context text;
BEGIN
    IF random() < 0.5 THEN
        SELECT id INTO c FROM lt.subject_state WHERE erase_result = 'erased' ORDER BY random() LIMIT 1;
    END IF;
    c := coalesce(c, lt.random_customer());
    SELECT * INTO st FROM lt.subject_state WHERE id = c;
    BEGIN
        doc := privacy_tags.subject_access('customer', c::text);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
                                v_context = PG_EXCEPTION_CONTEXT;
        INSERT INTO lt.access_log (subject, erased, problem)
        VALUES (c, coalesce(st.erase_result = 'erased', false), 'error ' || v_state);
        RETURN lt.fail('access', c, NULL, v_state, v_msg, v_detail, v_context);
    END;
    problem := concat_ws('; ',
        CASE WHEN doc ->> 'format' IS DISTINCT FROM 'privacy_tags.subject_access/2'
               OR doc -> 'subject' ->> 'id' IS DISTINCT FROM c::text THEN 'wrong header' END,
        CASE WHEN (doc ->> 'legal_hold')::boolean IS DISTINCT FROM coalesce(st.held, false) THEN 'legal_hold flag wrong' END,
        CASE WHEN (doc ->> 'restricted')::boolean IS DISTINCT FROM coalesce(st.restricted, false) THEN 'restricted flag wrong' END,
        CASE WHEN EXISTS (SELECT FROM jsonb_object_keys(doc -> 'data') k
                           WHERE k NOT IN ('lt.customers', 'lt.orders', 'lt.invoices')) THEN 'unknown table' END,
        CASE WHEN EXISTS (SELECT FROM jsonb_array_elements(doc -> 'data' -> 'lt.customers') r WHERE (r ->> 'id')::bigint <> c)
               OR EXISTS (SELECT FROM jsonb_array_elements(doc -> 'data' -> 'lt.orders') r WHERE (r ->> 'customer_id')::bigint <> c)
               OR EXISTS (SELECT FROM jsonb_array_elements(doc -> 'data' -> 'lt.invoices') r WHERE (r ->> 'customer_id')::bigint <> c)
             THEN 'another subject''s rows' END,
        CASE WHEN st.erase_result = 'erased' AND (
                 jsonb_array_length(coalesce(doc -> 'data' -> 'lt.orders', '[]')) > 0
              OR EXISTS (SELECT FROM jsonb_array_elements(doc -> 'data' -> 'lt.customers') r
                          WHERE r ->> 'name' IS NOT NULL OR r ->> 'phone' IS NOT NULL OR r ->> 'email' IS NOT NULL)
              OR EXISTS (SELECT FROM jsonb_array_elements(doc -> 'data' -> 'lt.invoices') r
                          WHERE r ->> 'billing_name' IS NOT NULL OR r ->> 'amount' IS NULL))
             THEN 'erased subject''s data in the export' END);
    INSERT INTO lt.access_log (subject, erased, records, problem)
    VALUES (c, coalesce(st.erase_result = 'erased', false), (doc -> 'summary' ->> 'records')::int, nullif(problem, ''));
    RETURN lt.event('access', c, CASE WHEN problem = '' THEN 'ok' ELSE 'error' END, NULL, NULL, nullif(problem, ''));
END
$$;

-- How far the load is, 0 to 1: by time (-T) or by transactions (-t).
CREATE FUNCTION lt.progress() RETURNS double precision
LANGUAGE sql STABLE AS $$
    SELECT greatest(extract(epoch FROM clock_timestamp() - started_at) / nullif(seconds, 0),
                    (SELECT last_value FROM lt.events_id_seq)::double precision / nullif(total_tx, 0))
      FROM lt.config
$$;

-- Erase the next candidate subject, paced so that the candidates are spread
-- over the run; between erasures, a dry run of a random subject (which must
-- change nothing).  The candidate's lt.subject_state row is locked FOR
-- UPDATE: writers of that subject wait, and skip it once it is erased.
CREATE FUNCTION lt.erase_next() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st lt.subject_state;
    due integer;
    done integer;
    rep jsonb;
    c bigint;
    v_state text;
    v_msg text;
    v_detail text;
    v_context text;
BEGIN
    SELECT ceil(count(*) FILTER (WHERE erase_candidate) * least(coalesce(lt.progress(), 1), 1)),
           count(*) FILTER (WHERE erase_result IS NOT NULL)
      INTO due, done FROM lt.subject_state;
    IF done < due THEN
        SELECT * INTO st FROM lt.subject_state
         WHERE erase_candidate AND erase_result IS NULL ORDER BY erase_order LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    IF st.id IS NULL THEN
        -- a dry run of someone not (yet) erased
        c := lt.random_customer();
        PERFORM set_config('lt.actor', 'erase_dry_run:' || c, true);
        BEGIN
            rep := privacy_tags.erase('customer', c::text, dry_run => true);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
                                    v_context = PG_EXCEPTION_CONTEXT;
            INSERT INTO lt.erase_log (subject, dry_run, problem) VALUES (c, true, 'error ' || v_state);
            RETURN lt.fail('erase_dry_run', c, NULL, v_state, v_msg, v_detail, v_context);
        END;
        INSERT INTO lt.erase_log (subject, dry_run, problem)
        VALUES (c, true, CASE WHEN (rep ->> 'dry_run')::boolean IS NOT TRUE THEN 'report says dry_run false' END);
        RETURN lt.event('erase_dry_run', c, 'ok');
    END IF;

    PERFORM set_config('lt.actor', 'erase:' || st.id, true);
    BEGIN
        rep := privacy_tags.erase('customer', st.id::text);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
                                v_context = PG_EXCEPTION_CONTEXT;
        UPDATE lt.subject_state SET erase_result = 'error', erased_at = clock_timestamp() WHERE id = st.id;
        INSERT INTO lt.erase_log (subject, dry_run, problem) VALUES (st.id, false, 'error ' || v_state);
        RETURN lt.fail('erase', st.id, NULL, v_state, v_msg, v_detail, v_context);
    END;
    UPDATE lt.subject_state
       SET erase_result = CASE WHEN (rep ->> 'legal_hold')::boolean THEN 'held' ELSE 'erased' END,
           erased_at = clock_timestamp(), report = rep
     WHERE id = st.id;
    INSERT INTO lt.erase_log (subject, dry_run, problem)
    VALUES (st.id, false, CASE WHEN (rep ->> 'legal_hold')::boolean IS DISTINCT FROM st.held
                               THEN 'legal_hold in the report is ' || coalesce(rep ->> 'legal_hold', 'missing') END);
    RETURN lt.event('erase', st.id, 'ok');
END
$$;
