-- Data-subject rights: access export, erasure, consent, restriction.
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE SCHEMA dsr;
-- a subject table, a three-level chain below it, a composite key, a cycle,
-- and neighbours sharing every table
CREATE TABLE dsr.customers (id int PRIMARY KEY, name text, email text, newsletter_email text,
                            created_at timestamptz NOT NULL);
CREATE TABLE dsr.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES dsr.customers,
                         placed_at timestamptz NOT NULL, note text);
CREATE TABLE dsr.order_lines (order_id int REFERENCES dsr.orders, line int, product text, gift_message text,
                              PRIMARY KEY (order_id, line));
CREATE TABLE dsr.line_notes (order_id int, line int, remark text,
                             FOREIGN KEY (order_id, line) REFERENCES dsr.order_lines);
CREATE TABLE dsr.invoices (id int PRIMARY KEY, order_id int NOT NULL REFERENCES dsr.orders,
                           amount numeric NOT NULL, issued_on date NOT NULL);
-- a cycle: a referral points at a customer and at another referral
CREATE TABLE dsr.referrals (id int PRIMARY KEY, customer_id int REFERENCES dsr.customers,
                            previous int REFERENCES dsr.referrals, channel text);

SELECT set_subject('dsr.customers', 'id', 'customer', 'created_at');
SELECT tag('dsr.customers', 'name', 'identifiers.name; basis=contract; purpose=account');
SELECT tag('dsr.customers', 'email', 'contact.email; basis=contract; purpose=account');
SELECT tag('dsr.customers', 'newsletter_email', 'contact.email; basis=consent; purpose=newsletter');
SELECT tag('dsr.orders', 'note', 'communications.content; basis=contract; purpose=delivery');
SELECT tag('dsr.order_lines', 'gift_message', 'communications.content; basis=consent; purpose=gifts');
SELECT tag('dsr.line_notes', 'remark', 'communications.content; basis=legitimate_interests; purpose=support');
SELECT tag('dsr.invoices', 'amount', 'financial.invoice; basis=legal_obligation; purpose=billing; retain=7 years after issued_on');
SELECT tag('dsr.referrals', 'channel', 'inferences.profile; basis=legitimate_interests; purpose=marketing');

INSERT INTO dsr.customers VALUES
  (42, 'Ada',   'ada@example.com',   'ada+news@example.com',   '2023-01-01'),
  (43, 'Brita', 'brita@example.com', 'brita+news@example.com', '2025-06-01'),
  (4,  'Ada',   'ada@example.com',   NULL,                     '2024-01-01');  -- same values, other subject
INSERT INTO dsr.orders VALUES (1, 42, '2023-02-01', 'leave at door'), (2, 42, '2025-03-01', 'ring twice'),
                              (3, 43, '2025-07-01', 'ring twice'), (4, 4, '2024-02-01', NULL);
INSERT INTO dsr.order_lines VALUES (1, 1, 'book', 'happy birthday'), (1, 2, 'pen', NULL),
                                   (3, 1, 'book', 'happy birthday'), (4, 1, 'lamp', NULL);
INSERT INTO dsr.line_notes VALUES (1, 1, 'wrapped'), (3, 1, 'wrapped'), (1, 2, 'late');
INSERT INTO dsr.invoices VALUES (10, 1, 25, '2023-02-01'), (11, 3, 25, '2025-07-01');
INSERT INTO dsr.referrals VALUES (1, 42, NULL, 'friend'), (2, 43, 1, 'ad'), (3, 42, 2, 'friend');

-- access: the subject's rows in every table, through the chain and the composite key
SELECT jsonb_pretty(subject_access('customer', '42') - 'generated_at');
-- nothing of the neighbours, who share values and keys
SELECT subject_access('customer', '42')::text ~ '(brita|Brita|lamp|"id": 4,|"id": 43)' AS neighbour_leaked;
SELECT key AS relation, jsonb_array_length(value) AS rows
  FROM jsonb_each(subject_access('customer', '43') -> 'data') ORDER BY 1;
-- an unknown subject, or an id that cannot be a key: an empty document
SELECT subject_access('customer', '999') - 'generated_at' AS unknown;
SELECT (subject_access('customer', 'not a number') -> 'summary' ->> 'records') AS records_for_bad_id;
SELECT subject_access('nobody_type', '1') -> 'data' AS unknown_type;
-- since: only rows collected since then, where a table says when it collected them
SELECT jsonb_pretty(subject_access('customer', '42', since => '2024-01-01') -> 'summary');
SELECT jsonb_object_keys(subject_access('customer', '43', since => '2024-01-01') -> 'data') ORDER BY 1;
-- portable_only: what the subject provided on the basis of consent or contract
SELECT jsonb_pretty(subject_access('customer', '42', portable_only => true) -> 'data');

-- erasure: a dry run reports exactly what the real run then does
CREATE TEMP TABLE before_42 AS
SELECT 'customers' AS t, count(*) AS n FROM dsr.customers UNION ALL
SELECT 'orders', count(*) FROM dsr.orders UNION ALL SELECT 'order_lines', count(*) FROM dsr.order_lines UNION ALL
SELECT 'line_notes', count(*) FROM dsr.line_notes UNION ALL SELECT 'invoices', count(*) FROM dsr.invoices UNION ALL
SELECT 'referrals', count(*) FROM dsr.referrals;
SELECT erase('customer', '42', dry_run => true) AS dry \gset
SELECT count(*) AS tables_changed_by_dry_run FROM before_42 b
  JOIN (SELECT 'customers' AS t, count(*) AS n FROM dsr.customers UNION ALL
        SELECT 'orders', count(*) FROM dsr.orders UNION ALL SELECT 'order_lines', count(*) FROM dsr.order_lines UNION ALL
        SELECT 'line_notes', count(*) FROM dsr.line_notes UNION ALL SELECT 'invoices', count(*) FROM dsr.invoices UNION ALL
        SELECT 'referrals', count(*) FROM dsr.referrals) a USING (t) WHERE a.n <> b.n;
SELECT erase('customer', '42') AS real \gset
SELECT (:'dry'::jsonb -> 'tables') = (:'real'::jsonb -> 'tables') AS dry_run_matches;
SELECT jsonb_pretty(:'real'::jsonb);
SELECT * FROM dsr.customers ORDER BY id;
SELECT * FROM dsr.orders ORDER BY id;
SELECT * FROM dsr.order_lines ORDER BY order_id, line;
SELECT * FROM dsr.line_notes ORDER BY order_id, line;
SELECT * FROM dsr.invoices ORDER BY id;
SELECT * FROM dsr.referrals ORDER BY id;

-- atomicity: a table that fails half-way leaves everything as it was
CREATE FUNCTION dsr.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'order_lines are frozen'; END $$;
CREATE TRIGGER refuse BEFORE DELETE OR UPDATE ON dsr.order_lines FOR EACH ROW EXECUTE FUNCTION dsr.refuse();
SELECT count(*) AS rows_before FROM (SELECT FROM dsr.customers UNION ALL SELECT FROM dsr.orders UNION ALL
  SELECT FROM dsr.line_notes UNION ALL SELECT FROM dsr.referrals) x;
SELECT state, message FROM try($$SELECT privacy_tags.erase('customer', '43')$$);
SELECT count(*) AS rows_after FROM (SELECT FROM dsr.customers UNION ALL SELECT FROM dsr.orders UNION ALL
  SELECT FROM dsr.line_notes UNION ALL SELECT FROM dsr.referrals) x;
SELECT name, email FROM dsr.customers WHERE id = 43;
DROP TRIGGER refuse ON dsr.order_lines;

-- a NOT NULL column that would have to be emptied in a row that stays: refused, naming it
CREATE TABLE dsr.shipments (id int PRIMARY KEY, order_id int REFERENCES dsr.orders, address text NOT NULL,
                            customs_ref text);
SELECT tag('dsr.shipments', 'address', 'contact.postal_address; basis=contract');
SELECT tag('dsr.shipments', 'customs_ref', 'financial.transaction; basis=legal_obligation');
INSERT INTO dsr.shipments VALUES (1, 3, 'Storgatan 1', 'SE-123');
SELECT state, message, detail, hint FROM try($$SELECT privacy_tags.erase('customer', '43')$$);
SELECT count(*) AS brita_still_whole FROM dsr.customers WHERE id = 43 AND name IS NOT NULL;
DROP TABLE dsr.shipments;

-- legal hold: erasure keeps everything and says why
SELECT hold('customer', '43', 'litigation') > 0 AS held;
SELECT erase('customer', '43', dry_run => true) - 'format' AS held_erasure;
SELECT release('customer', '43');

-- consent: per purpose; withdrawal erases that purpose's consent-based data only
SELECT enforce('dsr.customers');
SELECT enforce('dsr.order_lines');
SELECT grant_consent('customer', '43', 'newsletter');
SELECT grant_consent('customer', '43', 'gifts');
SELECT jsonb_pretty(withdraw_consent('customer', '43', 'gifts', dry_run => true) - 'format');
SELECT jsonb_pretty(withdraw_consent('customer', '43', 'gifts') - 'format');
SELECT id, newsletter_email FROM dsr.customers WHERE id = 43;
SELECT order_id, line, product, gift_message FROM dsr.order_lines WHERE order_id = 3;
SELECT purpose, withdrawn_at IS NOT NULL AS withdrawn FROM consents WHERE subject_id = '43' ORDER BY purpose;
-- the newsletter consent still covers its data; once withdrawn, writes of it are refused
UPDATE dsr.customers SET newsletter_email = 'brita+new@example.com' WHERE id = 43;
SELECT withdraw_consent('customer', '43', 'newsletter') -> 'tables' AS newsletter_withdrawn;
SELECT id, name, newsletter_email FROM dsr.customers WHERE id = 43;
SELECT state, message FROM try($$UPDATE dsr.customers SET newsletter_email = 'brita+again@example.com' WHERE id = 43$$);
SELECT grant_consent('customer', '43', 'newsletter');
UPDATE dsr.customers SET newsletter_email = 'brita+again@example.com' WHERE id = 43;
-- a table without a subject column: the trigger finds the customer through
-- the order (a key lookup, only when a check needs it), whose gifts
-- consent was withdrawn above
SELECT state, message, detail FROM try($$UPDATE dsr.order_lines SET gift_message = 'no subject column here' WHERE order_id = 3$$);
SELECT encode(tgargs, 'escape') ~ '@subject customer via dsr.orders.id.customer_id' AS looked_up_through_orders
  FROM pg_trigger WHERE tgrelid = 'dsr.order_lines'::regclass AND tgname = 'privacy_tags_retention';
-- a restriction reaches those rows too; lifted, the write goes through
SELECT restrict('customer', '43', 'accuracy contested') > 0 AS restricted;
SELECT state, message, detail FROM try($$UPDATE dsr.order_lines SET product = 'pencil' WHERE order_id = 3$$);
SELECT lift_restriction('customer', '43');
UPDATE dsr.order_lines SET product = product WHERE order_id = 3;
SELECT state, message FROM try($$INSERT INTO dsr.customers VALUES (44, 'Cai', 'c@example.com', 'c+news@example.com', now())$$);
INSERT INTO dsr.customers VALUES (44, 'Cai', 'c@example.com', NULL, now());
SELECT grant_consent('customer', '44', 'newsletter');
UPDATE dsr.customers SET newsletter_email = 'c+news@example.com' WHERE id = 44;
SELECT grant_consent('customer', '43', 'gifts');
UPDATE dsr.order_lines SET gift_message = 'again' WHERE order_id = 3;

-- restriction: writes to the subject's rows are refused until lifted
SELECT restrict('customer', '43', 'accuracy contested') > 0 AS restricted;
SELECT state, message, hint FROM try($$UPDATE dsr.customers SET name = 'B.' WHERE id = 43$$);
UPDATE dsr.customers SET name = 'C.' WHERE id = 44;   -- others are not restricted
SELECT subject_access('customer', '43') -> 'restricted' AS export_says_restricted;
SELECT lift_restriction('customer', '43');
UPDATE dsr.customers SET name = 'B.' WHERE id = 43;

-- do not contact: consents end, consent-based data goes, the minimum stays
SELECT suppress('customer', '44') -> 'tables' AS suppressed;
SELECT id, name, newsletter_email FROM dsr.customers WHERE id = 44;
SELECT is_suppressed('customer', '44'), is_suppressed('customer', '43');

-- the audit log records every request, without personal data
SELECT action, rows, subject_type FROM audit_log
 WHERE coalesce(subject_type, '') !~ '^(hostile|rent)' AND action IN ('access', 'erase', 'grant_consent', 'withdraw_consent', 'restrict', 'lift_restriction')
 ORDER BY id;
SELECT count(*) AS audit_entries_with_personal_data FROM audit_log
 WHERE details::text ~ '(ada|brita|Ada|Brita|@example)' OR subject_hash IN ('42', '43', '44');

-- bad calls
SELECT state, message FROM try($$SELECT privacy_tags.subject_access(NULL, '1')$$);
SELECT state, message FROM try($$SELECT privacy_tags.erase('customer', NULL)$$);
SELECT state, message FROM try($$SELECT privacy_tags.grant_consent('customer', '1', 'News Letter')$$);
SELECT state, message FROM try($$SELECT privacy_tags.restrict('customer', '1', NULL)$$);

DROP SCHEMA dsr CASCADE;
