-- Load test: the invariants, checked after the load and a final purge as of
-- :'t' (psql variable; nothing runs any more).  From the ledger (lt.s_*,
-- what the writers committed), the subjects' states and the windows, build
-- the state the tables must be in at :'t', compare it with the tables value
-- by value, and check every change the extension made during the run
-- (lt.removals).  Prints one line per invariant:
--   invariant: <name> (<what was checked>) ... ok | FAILED (<n>): <examples>
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE TEMP TABLE st AS
SELECT id, held, coalesce(erase_result = 'erased', false) AS erased,
       CASE WHEN erase_result = 'erased' THEN 'erased' WHEN held THEN 'held' ELSE 'live' END AS state
  FROM lt.subject_state;
CREATE UNIQUE INDEX ON st (id);

CREATE TEMP TABLE w AS
SELECT lt.win('customers', 'name') AS c_name, lt.win('customers', 'phone') AS c_phone,
       lt.win('orders', 'item') AS o_item, lt.win('orders', 'shipping_address') AS o_ship,
       lt.win('invoices', 'amount') AS i_amount, lt.win('invoices', 'billing_name') AS i_billing;

-- Expected rows.  present: the row must be in the table; expired: how many
-- of the row's values expired by :'t' and must be gone; kept_by: why an
-- expired value stays (hold, or invoices pointing at the customer).
CREATE TEMP TABLE exp_c AS
SELECT c.*, s.state,
       EXISTS (SELECT FROM lt.s_invoices i WHERE i.customer_id = c.id) AS has_invoice,
       -- a purge does not cascade into unexpired orders: they keep their customer
       EXISTS (SELECT FROM lt.s_orders o WHERE o.customer_id = c.id AND o.ordered_at + w.o_item > :'t') AS has_live_order,
       c.last_active_at + w.c_name <= :'t' AS name_expired,
       c.phone IS NOT NULL AND c.last_active_at + w.c_phone <= :'t' AS phone_expired
  FROM lt.s_customers c JOIN st s USING (id) CROSS JOIN w;

CREATE TEMP TABLE expected AS
SELECT 'customers' AS tbl, c.id, c.id AS customer_id, c.state,
       CASE WHEN c.state = 'erased' THEN c.has_invoice
            WHEN c.state = 'held' THEN true
            WHEN c.name_expired THEN c.has_invoice OR c.has_live_order
            ELSE true END AS present,
       jsonb_build_object(
           'id', c.id,
           'name', CASE WHEN c.state = 'erased' THEN NULL ELSE c.name END,
           'phone', CASE WHEN c.state = 'erased' THEN NULL WHEN c.state = 'held' THEN c.phone
                         WHEN c.phone_expired THEN NULL ELSE c.phone END,
           'email', CASE WHEN c.state = 'erased' THEN NULL ELSE c.email END,
           'last_active_at', c.last_active_at, 'created_at', c.created_at) AS row,
       CASE WHEN c.state <> 'live' THEN 0
            WHEN c.name_expired AND NOT (c.has_invoice OR c.has_live_order) THEN 1 + (c.phone IS NOT NULL)::int + (c.email IS NOT NULL)::int
            ELSE c.phone_expired::int END AS expired,
       CASE WHEN c.state = 'held' AND (c.name_expired OR c.phone_expired) THEN 'hold'
            WHEN c.state = 'live' AND c.name_expired AND (c.has_invoice OR c.has_live_order) THEN 'invoices' END AS kept_by
  FROM exp_c c
UNION ALL
SELECT 'orders', o.id, o.customer_id, c.state,
       -- (a held customer's orders are held too: the hold follows the graph)
       CASE WHEN c.state = 'erased' THEN false
            WHEN c.state = 'held' THEN true
            ELSE o.ordered_at + w.o_item > :'t' END,
       jsonb_build_object(
           'id', o.id, 'customer_id', o.customer_id, 'item', o.item,
           'shipping_address', CASE WHEN o.shipping_address IS NOT NULL AND o.ordered_at + w.o_ship <= :'t'
                                         AND c.state <> 'held'
                                    THEN NULL ELSE o.shipping_address END,
           'ordered_at', o.ordered_at),
       CASE WHEN c.state IN ('erased', 'held') THEN 0
            WHEN o.ordered_at + w.o_item <= :'t' THEN 1 + (o.shipping_address IS NOT NULL)::int
            ELSE (o.shipping_address IS NOT NULL AND o.ordered_at + w.o_ship <= :'t')::int END,
       CASE WHEN c.state = 'held' AND (o.ordered_at + w.o_item <= :'t'
                                      OR (o.shipping_address IS NOT NULL AND o.ordered_at + w.o_ship <= :'t'))
            THEN 'hold' END
  FROM lt.s_orders o JOIN exp_c c ON c.id = o.customer_id CROSS JOIN w
UNION ALL
SELECT 'invoices', i.id, i.customer_id, c.state,
       (c.state = 'held' OR i.issued_at + w.i_amount > :'t'),
       jsonb_build_object(
           'id', i.id, 'customer_id', i.customer_id, 'amount', i.amount,
           'billing_name', CASE WHEN c.state = 'erased' THEN NULL WHEN c.state = 'held' THEN i.billing_name
                                WHEN i.billing_name IS NOT NULL AND i.issued_at + w.i_billing <= :'t' THEN NULL
                                ELSE i.billing_name END,
           'issued_at', i.issued_at),
       CASE WHEN c.state = 'live' THEN (i.billing_name IS NOT NULL AND i.issued_at + w.i_billing <= :'t')::int ELSE 0 END,
       CASE WHEN c.state = 'held' AND i.billing_name IS NOT NULL AND i.issued_at + w.i_billing <= :'t' THEN 'hold' END
  FROM lt.s_invoices i JOIN exp_c c ON c.id = i.customer_id CROSS JOIN w;
CREATE UNIQUE INDEX ON expected (tbl, id);

CREATE TEMP TABLE actual AS
SELECT 'customers' AS tbl, c.id, to_jsonb(c) AS row FROM lt.customers c
UNION ALL SELECT 'orders', o.id, to_jsonb(o) FROM lt.orders o
UNION ALL SELECT 'invoices', i.id, to_jsonb(i) FROM lt.invoices i;
CREATE UNIQUE INDEX ON actual (tbl, id);

-- Every difference, row by row and then value by value.
--   lost: expected, not there;  kept: there, must be gone;
--   changed: there, with another value;  phantom: a row nobody wrote.
CREATE TEMP TABLE mismatch AS
SELECT e.tbl, e.id, e.customer_id, e.state, NULL::text AS col,
       CASE WHEN e.present THEN 'lost' ELSE 'kept' END AS kind, e.row AS expected, a.row AS actual
  FROM expected e LEFT JOIN actual a USING (tbl, id)
 WHERE e.present <> (a.row IS NOT NULL)
UNION ALL
SELECT a.tbl, a.id, coalesce((a.row ->> 'customer_id')::bigint, a.id), s.state, NULL, 'phantom', NULL, a.row
  FROM actual a LEFT JOIN expected e USING (tbl, id)
  LEFT JOIN st s ON s.id = coalesce((a.row ->> 'customer_id')::bigint, a.id)
 WHERE e.id IS NULL
UNION ALL
SELECT e.tbl, e.id, e.customer_id, e.state, k.key,
       CASE WHEN e.row -> k.key = 'null' THEN 'kept'
            WHEN a.row -> k.key = 'null' THEN 'lost'
            ELSE 'changed' END,
       e.row -> k.key, a.row -> k.key
  FROM expected e JOIN actual a USING (tbl, id)
 CROSS JOIN LATERAL jsonb_each(e.row) k
 WHERE e.present AND k.value IS DISTINCT FROM a.row -> k.key;

-- Changes made by purges that were not due when they were made: the value
-- was not expired at the transaction's now() (purge's as_of is at most
-- that), belonged to a held subject, or more than the expired value changed.
-- Orders may also go with their customer (ON DELETE CASCADE).
CREATE TEMP TABLE bad_purge AS
SELECT r.* FROM lt.removals r JOIN st s ON s.id = r.customer_id CROSS JOIN w
 WHERE r.actor IN ('purge', 'run_purge', 'final') AND NOT coalesce(
       (r.tbl = 'customers' AND r.op = 'DELETE' AND NOT s.held
        AND (r.old ->> 'last_active_at')::timestamptz + w.c_name <= r.tx_now)
    OR (r.tbl = 'customers' AND r.op = 'UPDATE' AND NOT s.held
        AND r.old ->> 'phone' IS NOT NULL AND r.new -> 'phone' = 'null' AND r.old - 'phone' = r.new - 'phone'
        AND (r.old ->> 'last_active_at')::timestamptz + w.c_phone <= r.tx_now)
    OR (r.tbl = 'orders' AND r.op = 'DELETE'
        AND ((r.old ->> 'ordered_at')::timestamptz + w.o_item <= r.tx_now
             OR EXISTS (SELECT FROM lt.removals p WHERE p.txid = r.txid AND p.tbl = 'customers'
                                                    AND p.op = 'DELETE' AND p.row_id = r.customer_id)))
    OR (r.tbl = 'orders' AND r.op = 'UPDATE'
        AND r.old ->> 'shipping_address' IS NOT NULL AND r.new -> 'shipping_address' = 'null'
        AND r.old - 'shipping_address' = r.new - 'shipping_address'
        AND (r.old ->> 'ordered_at')::timestamptz + w.o_ship <= r.tx_now)
    OR (r.tbl = 'invoices' AND r.op = 'UPDATE' AND NOT s.held
        AND r.old ->> 'billing_name' IS NOT NULL AND r.new -> 'billing_name' = 'null'
        AND r.old - 'billing_name' = r.new - 'billing_name'
        AND (r.old ->> 'issued_at')::timestamptz + w.i_billing <= r.tx_now)
    OR (r.tbl = 'invoices' AND r.op = 'DELETE' AND NOT s.held
        AND (r.old ->> 'issued_at')::timestamptz + w.i_amount <= r.tx_now), false);

-- Changes made by erasures beyond the erased subject's erasable values,
-- and any change left by a dry run.
CREATE TEMP TABLE bad_erase AS
SELECT r.* FROM lt.removals r LEFT JOIN st s ON s.id = r.customer_id
 WHERE r.actor LIKE 'erase%' AND NOT coalesce(
       r.actor = 'erase:' || r.customer_id AND s.erased
   AND ((r.tbl IN ('customers', 'orders') AND r.op = 'DELETE')
     OR (r.tbl = 'customers' AND r.op = 'UPDATE'
         AND r.new -> 'name' = 'null' AND r.new -> 'phone' = 'null' AND r.new -> 'email' = 'null'
         AND r.old - '{name,phone,email}'::text[] = r.new - '{name,phone,email}'::text[])
     OR (r.tbl = 'invoices' AND r.op = 'UPDATE'
         AND r.new -> 'billing_name' = 'null' AND r.old - 'billing_name' = r.new - 'billing_name')), false);

-- Deadlocks caught by the harness: the transaction that got the error, in
-- which statement, and what the other backend was running.
CREATE FUNCTION pg_temp.who(x text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN x IN ('erase', 'erase_dry_run', 'purge', 'purge_dry_run', 'access') THEN
                     replace(replace(replace(x, '_dry_run', '(dry run)'), 'access', 'subject_access'), 'erase', 'erase') ||
                     CASE WHEN x LIKE '%dry_run' THEN '' ELSE '()' END
                WHEN x IN ('signup', 'order', 'contact', 'update_order', 'invoice') THEN 'writer ' || x
                WHEN x LIKE '%erase_next%' THEN 'erase() or a dry run'
                WHEN x LIKE '%lt.purge()%' THEN 'purge()'
                WHEN x LIKE '%run_purge%' THEN 'run_purge()'
                WHEN x LIKE '%lt.access()%' THEN 'subject_access()'
                WHEN x LIKE '%lt.w\_%' THEN 'a writer'
                ELSE x END
$$;
CREATE TEMP TABLE deadlock AS
SELECT e.id, pg_temp.who(e.op) AS victim, coalesce(pg_temp.who(e.other), 'unknown') AS other,
       coalesce(substring(e.context from 'SQL statement "((DELETE FROM|UPDATE|SELECT [^"]* FROM) (ONLY )?[^ ]+)'), '?') AS stmt,
       coalesce(substring(e.context from 'while ([a-z]+ tuple)'), 'waiting') || ' in '
       || coalesce(substring(e.context from 'in relation "([^"]*)"'), '?') AS what
  FROM lt.events e WHERE e.sqlstate = '40P01';

CREATE TEMP TABLE inv (ord int, name text, checked text, failed bigint, examples text);

-- some examples of what failed, for the report
CREATE FUNCTION pg_temp.ex(kinds text[], states text[]) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s %s (customer %s, %s)%s: expected %s, found %s', m.tbl, m.id, m.customer_id, m.state,
                             coalesce(' ' || m.col, ''), coalesce(m.expected::text, '-'), coalesce(m.actual::text, '-')), '; ')
      FROM (SELECT * FROM mismatch WHERE kind = ANY (kinds) AND coalesce(state, 'live') = ANY (states)
             ORDER BY tbl, id LIMIT 3) m
$$;

INSERT INTO inv
SELECT 1, 'no unexpired value lost',
       format('%s rows, %s values of subjects not erased, due to stay at the end',
              count(*) FILTER (WHERE present),
              sum((SELECT count(*) FROM jsonb_each(row) v WHERE v.value <> 'null')) FILTER (WHERE present)),
       (SELECT count(*) FROM mismatch WHERE kind = 'lost' AND coalesce(state, 'live') <> 'erased'),
       pg_temp.ex('{lost}', '{live,held}')
  FROM expected WHERE state <> 'erased';

INSERT INTO inv
SELECT 2, 'every expired value gone',
       format('%s expired values; kept as documented: %s of held subjects, %s of customers that invoices or unexpired orders point at',
              sum(expired), count(*) FILTER (WHERE kept_by = 'hold'), count(*) FILTER (WHERE kept_by = 'invoices')),
       (SELECT count(*) FROM mismatch WHERE kind = 'kept' AND coalesce(state, 'live') <> 'erased'),
       pg_temp.ex('{kept}', '{live,held}')
  FROM expected;

INSERT INTO inv
SELECT 3, 'every erased subject gone except legal-obligation data',
       format('%s subjects erased (%s more refused: legal hold), %s invoices kept for legal_obligation, %s rows removed, %s nulled',
              (SELECT count(*) FROM st WHERE erased),
              (SELECT count(*) FROM lt.subject_state WHERE erase_result = 'held'),
              count(*) FILTER (WHERE tbl = 'invoices'),
              (SELECT count(*) FROM lt.removals WHERE actor LIKE 'erase:%' AND op = 'DELETE'),
              (SELECT count(*) FROM lt.removals WHERE actor LIKE 'erase:%' AND op = 'UPDATE')),
       (SELECT count(*) FROM mismatch WHERE state = 'erased')
       + (SELECT count(*) FROM lt.subject_state WHERE erase_result = 'held' AND NOT held)
       + (SELECT count(*) FROM lt.subject_state WHERE erase_result = 'erased' AND held),
       pg_temp.ex('{lost,kept,changed,phantom}', '{erased}')
  FROM expected WHERE state = 'erased' AND present;

INSERT INTO inv
SELECT 4, 'no other subject touched',
       format('%s rows compared value by value; %s changes by erasures checked against their subject',
              (SELECT count(*) FROM actual), (SELECT count(*) FROM lt.removals WHERE actor LIKE 'erase%')),
       (SELECT count(*) FROM mismatch WHERE kind IN ('changed', 'phantom') AND coalesce(state, 'live') <> 'erased')
       + (SELECT count(*) FROM bad_erase),
       concat_ws('; ', pg_temp.ex('{changed,phantom}', '{live,held}'),
                 (SELECT string_agg(format('%s %s %s by %s', b.op, b.tbl, b.row_id, b.actor), ', ')
                    FROM (SELECT * FROM bad_erase ORDER BY id LIMIT 3) b));

INSERT INTO inv
SELECT 5, 'purges removed only values expired at the time',
       format('%s rows deleted, %s values nulled by %s purges, %s run_purge batches and the final purge',
              count(*) FILTER (WHERE op = 'DELETE'), count(*) FILTER (WHERE op = 'UPDATE'),
              (SELECT count(*) FROM lt.purge_log WHERE NOT dry_run),
              (SELECT count(DISTINCT txid) FROM lt.removals WHERE actor = 'run_purge')),
       (SELECT count(*) FROM bad_purge),
       (SELECT string_agg(format('%s %s %s at %s by %s: %s', b.op, b.tbl, b.row_id, b.tx_now, b.actor, b.old), '; ')
          FROM (SELECT * FROM bad_purge ORDER BY id LIMIT 3) b)
  FROM lt.removals WHERE actor IN ('purge', 'run_purge', 'final');

INSERT INTO inv
SELECT 6, 'no errors other than the expected refusals',
       format('%s transactions: %s writes, %s refused as expected (%s), %s found their row gone, %s skipped an erased subject',
              count(*), count(*) FILTER (WHERE op IN ('signup', 'order', 'contact', 'update_order', 'invoice')),
              count(*) FILTER (WHERE outcome = 'refused'),
              (SELECT string_agg(reason || ' ' || n, ', ' ORDER BY n DESC)
                 FROM (SELECT reason, count(*) AS n FROM lt.events WHERE outcome = 'refused' GROUP BY 1) x),
              count(*) FILTER (WHERE outcome = 'gone'), count(*) FILTER (WHERE outcome = 'skipped_erased')),
       count(*) FILTER (WHERE outcome IN ('error', 'accepted_unexpectedly')),
       concat_ws('; ',
           (SELECT 'deadlocks: ' || string_agg(format('%s x%s (%s, %s) with %s', victim, n, what, stmt, other), ', ' ORDER BY n DESC)
              FROM (SELECT victim, other, what, stmt, count(*) AS n FROM deadlock GROUP BY 1, 2, 3, 4) d),
           (SELECT string_agg(format('%s x%s: %s %s %s', op, n, outcome, coalesce(sqlstate, ''), coalesce(msg, reason, '')), '; ')
              FROM (SELECT op, outcome, sqlstate, reason, left(regexp_replace(message, '\s+', ' ', 'g'), 300) AS msg, count(*) AS n
                      FROM lt.events
                     WHERE outcome IN ('error', 'accepted_unexpectedly') AND sqlstate IS DISTINCT FROM '40P01'
                     GROUP BY 1, 2, 3, 4, 5 ORDER BY n DESC LIMIT 4) e))
  FROM lt.events;

INSERT INTO inv
SELECT 7, 'access exports hold the subject''s data only, nothing erasable of erased subjects',
       format('%s exports, %s of erased subjects, %s records', count(*), count(*) FILTER (WHERE erased), sum(records)),
       count(*) FILTER (WHERE problem IS NOT NULL),
       (SELECT string_agg(format('customer %s: %s', subject, problem), '; ')
          FROM (SELECT * FROM lt.access_log WHERE problem IS NOT NULL ORDER BY id LIMIT 3) a)
  FROM lt.access_log;

INSERT INTO inv
SELECT 8, 'every export and erasure in the audit log',
       format('%s access entries for %s exports, %s erase entries for %s erasures and dry runs',
              (SELECT count(*) FROM privacy_tags.audit_log WHERE action = 'access'),
              (SELECT count(*) FROM lt.access_log WHERE problem IS NULL OR problem NOT LIKE 'error %'),
              (SELECT count(*) FROM privacy_tags.audit_log WHERE action = 'erase'),
              (SELECT count(*) FROM lt.erase_log WHERE problem IS NULL OR problem NOT LIKE 'error %')),
       abs((SELECT count(*) FROM privacy_tags.audit_log WHERE action = 'access')
           - (SELECT count(*) FROM lt.access_log WHERE problem IS NULL OR problem NOT LIKE 'error %'))
       + abs((SELECT count(*) FROM privacy_tags.audit_log WHERE action = 'erase')
             - (SELECT count(*) FROM lt.erase_log WHERE problem IS NULL OR problem NOT LIKE 'error %'))
       + (SELECT count(*) FROM lt.erase_log WHERE problem IS NOT NULL AND problem NOT LIKE 'error %'),
       (SELECT string_agg(format('customer %s: %s', subject, problem), '; ')
          FROM (SELECT * FROM lt.erase_log WHERE problem IS NOT NULL AND problem NOT LIKE 'error %' ORDER BY id LIMIT 3) a);

SELECT format('invariant: %s (%s) ... %s', name, checked,
              CASE WHEN failed = 0 THEN 'ok' ELSE format('FAILED (%s): %s', failed, coalesce(examples, '')) END)
  FROM inv ORDER BY ord;
SELECT format('failed invariants: %s', count(*) FILTER (WHERE failed <> 0)) FROM inv;
