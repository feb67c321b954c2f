-- Retention: the seed policies' promises as tags, purge with a fixed as_of,
-- legal holds, the trigger, and the audit log.
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE SCHEMA seed;
-- "we delete your data within three years from the day our business relationship ends"
CREATE TABLE seed.customers (
    id int PRIMARY KEY,
    name text NOT NULL,
    phone text,
    relationship_ended_on date
);
-- "invoices are kept as the law requires" (7 years), and they point at customers
CREATE TABLE seed.invoices (
    id int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES seed.customers,
    amount numeric NOT NULL,
    issued_on date NOT NULL
);
-- "after three years with no successful contact"
CREATE TABLE seed.prospects (
    id int PRIMARY KEY,
    email text,
    last_successful_contact timestamptz
);
-- "IP addresses are kept 30 days"
CREATE TABLE seed.web_visits (
    id int PRIMARY KEY,
    customer_id int REFERENCES seed.customers ON DELETE SET NULL,
    ip inet,
    page text,
    visited_at timestamptz NOT NULL
);

SELECT tag('seed.customers', 'name', 'identifiers.name; basis=contract; retain=3 years after relationship_ended_on');
SELECT tag('seed.customers', 'phone', 'contact.phone; basis=contract; retain=1 year after relationship_ended_on; on_expiry=nullify');
SELECT set_subject('seed.customers', 'id', 'customer');
SELECT tag('seed.invoices', 'amount', 'financial.invoice; basis=legal_obligation; retain=7 years after issued_on');
SELECT set_subject('seed.invoices', 'customer_id', 'customer');
SELECT tag('seed.prospects', 'email', 'contact.email; basis=legitimate_interests; purpose=marketing; retain=3 years after last_successful_contact');
SELECT set_subject('seed.prospects', 'id', 'prospect');
SELECT tag('seed.web_visits', 'ip', 'network.ip_address; basis=legitimate_interests; purpose=security; retain=30 days after visited_at; on_expiry=nullify');
SELECT set_subject('seed.web_visits', 'customer_id', 'customer');

INSERT INTO seed.customers VALUES
  (1, 'ended long ago',            '+46 1', '2019-06-01'),  -- expired 2022-06-01
  (2, 'ended recently',            '+46 2', '2022-03-01'),  -- name kept until 2025-03-01, phone expired 2023-03-01
  (3, 'still a customer',          '+46 3', NULL),          -- NULL anchor: the clock has not started
  (4, 'ended long ago, invoiced',  '+46 4', '2019-01-01'),  -- expired, but an invoice points at it
  (5, 'ended exactly 3 years ago', '+46 5', '2021-01-01');  -- expires at 2024-01-01 00:00, = as_of
INSERT INTO seed.invoices VALUES
  (10, 4, 100, '2019-01-01'),   -- kept until 2026
  (11, 2, 200, '2016-12-31');   -- expired 2023-12-31
INSERT INTO seed.prospects VALUES
  (20, 'old@example.com',   '2020-12-31 23:59:59+00'),   -- expired
  (21, 'fresh@example.com', '2021-01-01 00:00:01+00'),   -- expires one second after as_of
  (22, 'never@example.com', NULL);
INSERT INTO seed.web_visits VALUES
  (30, 1, '192.0.2.1', '/a', '2023-11-01 12:00+00'),   -- expired 2023-12-01
  (31, 2, '192.0.2.2', '/b', '2023-12-15 12:00+00'),   -- kept until 2024-01-14
  (32, 3, NULL,        '/c', '2023-01-01 12:00+00');   -- nothing to nullify

-- what purge sees, as of 2024-01-01: a dry run first, then the real run
\set as_of '''2024-01-01 00:00:00+00'''
SELECT * FROM purge(as_of => :as_of, dry_run => true) ORDER BY relation::text, column_name, action;
SELECT (SELECT count(*) FROM seed.customers) + (SELECT count(*) FROM seed.invoices)
     + (SELECT count(*) FROM seed.prospects) + (SELECT count(*) FROM seed.web_visits WHERE ip IS NOT NULL)
       AS values_untouched_by_dry_run;
SELECT * FROM purge(as_of => :as_of) ORDER BY relation::text, column_name, action;
SELECT * FROM seed.customers ORDER BY id;
SELECT * FROM seed.invoices ORDER BY id;
SELECT * FROM seed.prospects ORDER BY id;
SELECT * FROM seed.web_visits ORDER BY id;
-- a second run finds nothing more to do
SELECT * FROM purge(as_of => :as_of) WHERE action IN ('delete', 'nullify') AND rows > 0;

-- legal hold: held subjects survive purge until released
SELECT hold('customer', '2', 'dispute over invoice 11') AS hold_id;
SELECT * FROM purge('seed.customers', as_of => '2026-01-01 00:00+00', dry_run => true) ORDER BY column_name, action;
SELECT * FROM purge('seed.customers', as_of => '2026-01-01 00:00+00') ORDER BY column_name, action;
SELECT id, name FROM seed.customers ORDER BY id;
SELECT release('customer', '2');
SELECT release('customer', '2');
SELECT * FROM purge('seed.customers', as_of => '2026-01-01 00:00+00') ORDER BY column_name, action;
SELECT id, name FROM seed.customers ORDER BY id;
-- a hold with an end date lapses by itself
SELECT hold('prospect', '21', 'complaint', until => now() + interval '1 day') > 0 AS held;
SELECT * FROM purge('seed.prospects', as_of => now()) ORDER BY column_name, action;
SELECT * FROM purge('seed.prospects', as_of => now() + interval '2 days', dry_run => true) ORDER BY column_name, action;

-- the audit log: every purge, hold and release; subjects only as keyed hashes
SELECT action, relation, column_name, rows, details->>'dry_run' AS dry_run,
       subject_type, subject_hash = subject_hash('customer', '2') AS is_customer_2,
       length(subject_hash) AS hash_length
  FROM audit_log WHERE coalesce(relation, subject_type, '') !~ 'hostile' ORDER BY id;	-- (not hostile_owner's)
SELECT count(*) AS entries_with_a_raw_subject_id FROM audit_log
 WHERE subject_hash IN ('2', '21') OR details::text LIKE '%dispute%';

-- bad calls
SELECT * FROM try($$SELECT * FROM privacy_tags.purge('seed.customers', NULL)$$);
SELECT * FROM try($$SELECT * FROM privacy_tags.purge('pg_class')$$);
SELECT * FROM try($$SELECT privacy_tags.hold('customer', '1', NULL)$$);
SELECT * FROM try($$SELECT privacy_tags.hold('customer', '1', 'x', now() - interval '1 day')$$);
SELECT * FROM try($$CALL privacy_tags.run_purge(batch_size => 0)$$);
SELECT * FROM try($$SELECT privacy_tags.enforce('pg_class')$$);
SELECT * FROM try($$SELECT privacy_tags.enforce(NULL)$$);

DROP SCHEMA seed CASCADE;
