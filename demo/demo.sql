-- privacy_tags demo: a schema modelled on the seed privacy policies
-- (customers and their contacts, newsletter subscribers, web visits with IP
-- addresses, invoices kept by law, job applicants), tagged column by column.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;

\echo
\echo '== 1. Install the extension'
CREATE EXTENSION IF NOT EXISTS privacy_tags;
SELECT extname, extversion FROM pg_extension WHERE extname = 'privacy_tags';

\echo '== 2. The built-in taxonomy: categories per top level, CCPA letters, GDPR special categories'
SELECT split_part(name, '.', 1) AS top_level, count(*) AS categories,
       string_agg(DISTINCT ccpa::text, '' ORDER BY ccpa::text) AS ccpa, bool_or(special) AS special
  FROM privacy_tags.categories GROUP BY 1 ORDER BY 1;

\echo '== 3. The application schema'
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
-- customers: "we delete your data within three years from the day our business relationship ends"
CREATE TABLE shop.customers (
    id               bigint PRIMARY KEY,
    full_name        text,            -- nullable: an erased customer with invoices
    email            text,            -- kept by law keeps its row, not its name
    phone            text,
    company          text,
    job_title        text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    relationship_ended_on date
);
-- prospects: "held for over 3 years with no evidence of successful contact"
CREATE TABLE shop.prospects (
    id               bigint PRIMARY KEY,
    full_name        text,
    email            text,
    last_successful_contact timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
-- newsletter: consent, withdrawn at any time
CREATE TABLE shop.newsletter_subscribers (
    email            text PRIMARY KEY,
    customer_id      bigint REFERENCES shop.customers,
    subscribed_at    timestamptz NOT NULL DEFAULT now(),
    unsubscribed_at  timestamptz
);
-- web visits: "IP addresses are kept 30 days"
CREATE TABLE shop.web_visits (
    id               bigserial PRIMARY KEY,
    customer_id      bigint REFERENCES shop.customers,
    "IP Address"     inet,
    cookie_id        text,
    page             text,
    visited_at       timestamptz NOT NULL DEFAULT now()
);
-- invoices: "we keep invoices because the law says so" (Swedish Bokföringslagen: 7 years)
CREATE TABLE shop.invoices (
    id               bigint PRIMARY KEY,
    customer_id      bigint NOT NULL REFERENCES shop.customers,
    billing_address  text NOT NULL,
    amount           numeric(12,2) NOT NULL,
    issued_on        date NOT NULL
);
-- job applicants: kept for the recruitment and two years after the decision
CREATE TABLE shop.job_applicants (
    id               bigint PRIMARY KEY,
    full_name        text NOT NULL,
    email            text NOT NULL,
    cv               text,
    references_given text,
    applied_at       timestamptz NOT NULL DEFAULT now(),
    decided_on       date
);

\echo '== 4. Tag every column that holds personal data (output hidden)'
\o /dev/null
-- with the SQL function ...
SELECT privacy_tags.tag('shop.customers', 'full_name', 'identifiers.name; basis=contract; purpose=account,billing; retain=3 years after relationship_ended_on');
SELECT privacy_tags.tag('shop.customers', 'email',     'contact.email; basis=contract; purpose=account,support; retain=3 years after relationship_ended_on');
SELECT privacy_tags.tag('shop.customers', 'phone',     'contact.phone; basis=legitimate_interests; purpose=support; retain=3 years after relationship_ended_on; on_expiry=nullify');
SELECT privacy_tags.tag('shop.customers', 'company',   'professional.employer; basis=contract; purpose=account');
SELECT privacy_tags.tag('shop.customers', 'job_title', 'professional.job_title; basis=legitimate_interests; purpose=marketing; retain=3 years after relationship_ended_on; on_expiry=nullify');
SELECT privacy_tags.set_subject('shop.customers', 'id', 'customer', collected_at => 'created_at');
-- ... or in DDL, with the same checks
SECURITY LABEL FOR privacy_tags ON COLUMN shop.prospects.full_name IS 'identifiers.name; basis=legitimate_interests; purpose=marketing; retain=3 years after last_successful_contact';
SECURITY LABEL FOR privacy_tags ON COLUMN shop.prospects.email IS 'contact.email; basis=legitimate_interests; purpose=marketing; retain=3 years after last_successful_contact';
SELECT privacy_tags.set_subject('shop.prospects', 'id', 'prospect', 'created_at');
SELECT privacy_tags.tag('shop.newsletter_subscribers', 'email', 'contact.email; basis=consent; purpose=newsletter; retain=30 days after unsubscribed_at');
SELECT privacy_tags.set_subject('shop.newsletter_subscribers', 'customer_id', 'customer', 'subscribed_at');
SELECT privacy_tags.tag('shop.web_visits', 'IP Address', 'network.ip_address; basis=legitimate_interests; purpose=security,analytics; retain=30 days after visited_at; on_expiry=nullify');
SELECT privacy_tags.tag('shop.web_visits', 'cookie_id', 'network.cookie; basis=consent; purpose=analytics; retain=13 months after visited_at; on_expiry=nullify');
SELECT privacy_tags.tag('shop.web_visits', 'page', 'network.browsing_history; basis=consent; purpose=analytics; retain=13 months after visited_at');
SELECT privacy_tags.set_subject('shop.web_visits', 'customer_id', 'customer', 'visited_at');
SELECT privacy_tags.tag('shop.invoices', 'billing_address', 'contact.postal_address; basis=legal_obligation; purpose=billing; retain=7 years after issued_on');
SELECT privacy_tags.tag('shop.invoices', 'amount', 'financial.invoice; basis=legal_obligation; purpose=billing; retain=7 years after issued_on');
SELECT privacy_tags.set_subject('shop.invoices', 'customer_id', 'customer', 'issued_on');
SELECT privacy_tags.tag('shop.job_applicants', 'full_name', 'identifiers.name; basis=consent; purpose=recruitment; retain=2 years after decided_on');
SELECT privacy_tags.tag('shop.job_applicants', 'email', 'contact.email; basis=consent; purpose=recruitment; retain=2 years after decided_on');
SELECT privacy_tags.tag('shop.job_applicants', 'cv', 'professional.cv; basis=consent; purpose=recruitment; retain=2 years after decided_on');
SELECT privacy_tags.tag('shop.job_applicants', 'references_given', 'professional.reference; basis=consent; purpose=recruitment; retain=6 months after decided_on; on_expiry=nullify');
SELECT privacy_tags.set_subject('shop.job_applicants', 'id', 'applicant', 'applied_at');
\o

\echo '== 5. Mistakes are caught when tagging (each error comes with a hint)'
\set ON_ERROR_STOP off
SELECT privacy_tags.tag('shop.customers', 'email', 'contact.email; basis=consnt');
SELECT privacy_tags.tag('shop.job_applicants', 'cv', 'health.condition; basis=consent');
SELECT privacy_tags.tag('shop.job_applicants', 'email', 'contact.email; basis=consent; retain=2 years after decided_on; on_expiry=nullify');
SELECT privacy_tags.tag('shop.customers', 'phone', 'contact.phone; retain=3 years after last_seen');
\set ON_ERROR_STOP on

\echo '== 6. The inventory: privacy_tags.columns'
SELECT relation, column_name, category, legal_basis, purposes, retention, anchor, on_expiry, ccpa, is_subject_key
  FROM privacy_tags.columns
 WHERE relation::text LIKE 'shop.%'
 ORDER BY relation::text, column_name;

\echo '== 7. Who are the data subjects, and where are they?'
SELECT subject_type, relation, column_name, collected_at
  FROM privacy_tags.subjects ORDER BY subject_type, relation::text;

\echo '== 8. What the CCPA notice must list: categories collected, by CCPA letter'
SELECT c.ccpa, string_agg(DISTINCT t.category, ', ' ORDER BY t.category) AS categories
  FROM privacy_tags.columns t JOIN privacy_tags.categories c ON c.name = t.category
 WHERE t.relation::text LIKE 'shop.%'
 GROUP BY c.ccpa ORDER BY c.ccpa;

\echo '== 9. Everything kept on the basis of consent, per purpose (what a withdrawal touches)'
SELECT p AS purpose, string_agg(format('%s.%I', relation, column_name), ', ' ORDER BY relation::text, column_name) AS columns
  FROM privacy_tags.columns, unnest(purposes) p
 WHERE legal_basis = 'consent' AND relation::text LIKE 'shop.%'
 GROUP BY p ORDER BY p;

\echo '== 9b. What was left untagged? discover() looks at names, types and a sample of values'
-- a table someone added without telling the DPO
CREATE TABLE shop.support_tickets (
    id          bigint PRIMARY KEY,
    customer_id bigint REFERENCES shop.customers,
    kontakt     text,         -- an email address under a Swedish name
    pnr         text,         -- Swedish personal identity numbers
    ref         text,         -- card numbers someone pasted into a ticket
    telefon     text,
    opened_from inet,
    body        text,
    opened_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO shop.support_tickets (id, customer_id, kontakt, pnr, ref, telefon, opened_from, body)
SELECT g, NULL, 'user' || g || '@example.se',
       (ARRAY['811218-9876', '19121212-1212', '8507099805'])[1 + g % 3],
       (ARRAY['4111 1111 1111 1111', '5555 5555 5555 4444'])[1 + g % 2],
       '+46 70 ' || (100 + g) || ' 00 00', ('192.0.2.' || g)::inet, 'ticket ' || g
  FROM generate_series(1, 20) g;
SELECT column_name, suggested_tag, rule, evidence
  FROM privacy_tags.discover('shop') ORDER BY relation::text, column_name;
\echo '-- the DPO accepts the suggestions, with a basis and a window each'
\o /dev/null
SELECT privacy_tags.tag('shop.support_tickets', 'kontakt', 'contact.email; basis=contract; purpose=support; retain=2 years after opened_at');
SELECT privacy_tags.tag('shop.support_tickets', 'pnr', 'identifiers.national_id; basis=contract; purpose=support; retain=2 years after opened_at; on_expiry=nullify');
SELECT privacy_tags.tag('shop.support_tickets', 'ref', 'financial.payment_card; basis=contract; purpose=support; retain=30 days after opened_at; on_expiry=nullify');
SELECT privacy_tags.tag('shop.support_tickets', 'telefon', 'contact.phone; basis=contract; purpose=support; retain=2 years after opened_at');
SELECT privacy_tags.tag('shop.support_tickets', 'opened_from', 'network.ip_address; basis=legitimate_interests; purpose=security; retain=30 days after opened_at; on_expiry=nullify');
SELECT privacy_tags.tag('shop.support_tickets', 'body', 'communications.content; basis=contract; purpose=support; retain=2 years after opened_at');
SELECT privacy_tags.set_subject('shop.support_tickets', 'customer_id', 'customer', 'opened_at');
\o
SELECT count(*) AS still_untagged FROM privacy_tags.discover('shop');

\echo '== 10. Some data: customers, prospects, subscribers, visits, invoices, applicants'
INSERT INTO shop.customers (id, full_name, email, phone, company, job_title, created_at, relationship_ended_on) VALUES
  (1, 'Astrid Lind',   'astrid@example.se', '+46 70 111 11 11', 'Lind AB',    'CTO', now() - interval '6 years', current_date - 400),
  (2, 'Bo Ek',         'bo@example.se',     '+46 70 222 22 22', 'Ek & Co',    'CFO', now() - interval '2 years', NULL),
  (3, 'Carla Mendes',  'carla@example.com', NULL,               'Mendes Ltd', NULL,  now() - interval '1 year',  current_date - 30);
INSERT INTO shop.prospects (id, full_name, email, last_successful_contact) VALUES
  (1, 'Dan Berg', 'dan@example.se', now() - interval '2 years'),
  (2, 'Eva Holm', 'eva@example.se', now() - interval '6 months'),
  (3, 'Finn Ahl', 'finn@example.se', NULL);
INSERT INTO shop.newsletter_subscribers (email, customer_id, subscribed_at, unsubscribed_at) VALUES
  ('astrid@example.se', 1, now() - interval '5 years', now() - interval '10 days'),
  ('bo@example.se',     2, now() - interval '1 year',  NULL);
INSERT INTO shop.web_visits (customer_id, "IP Address", cookie_id, page, visited_at) VALUES
  (1, '198.51.100.7', 'ck-1', '/pricing', now() - interval '20 days'),
  (2, '198.51.100.8', 'ck-2', '/careers', now() - interval '2 days'),
  (NULL, '203.0.113.9', 'ck-3', '/', now() - interval '1 hour');
INSERT INTO shop.invoices (id, customer_id, billing_address, amount, issued_on) VALUES
  (100, 1, 'Storgatan 1, Stockholm', 1200.00, current_date - 800),
  (101, 2, 'Kungsgatan 2, Göteborg',  800.00, current_date - 90);
INSERT INTO shop.job_applicants (id, full_name, email, cv, references_given, applied_at, decided_on) VALUES
  (1, 'Greta Sund', 'greta@example.se', 'CV text', 'Ref: H. Lund', now() - interval '3 months', current_date - 60),
  (2, 'Hugo Falk',  'hugo@example.se',  'CV text', NULL,            now() - interval '1 week',  NULL);
SELECT (SELECT count(*) FROM shop.customers) AS customers, (SELECT count(*) FROM shop.prospects) AS prospects,
       (SELECT count(*) FROM shop.newsletter_subscribers) AS subscribers, (SELECT count(*) FROM shop.web_visits) AS visits,
       (SELECT count(*) FROM shop.invoices) AS invoices, (SELECT count(*) FROM shop.job_applicants) AS applicants;

\echo '== 11. Enforce the windows on every write (a C row trigger per table)'
SELECT relation, privacy_tags.enforce(relation) AS windowed_columns
  FROM (SELECT DISTINCT relation FROM privacy_tags.columns WHERE relation::text LIKE 'shop.%') r
 ORDER BY relation::text;
\echo '-- (visits record pages under consent: customer 3 has given it)'
SELECT privacy_tags.grant_consent('customer', '3', 'analytics');
\echo '-- an import of a visit older than 30 days is refused ...'
\set ON_ERROR_STOP off
INSERT INTO shop.web_visits (customer_id, "IP Address", page, visited_at)
VALUES (3, '198.51.100.9', '/old', now() - interval '45 days');
\set ON_ERROR_STOP on
\echo '-- ... or, with privacy_tags.expired_writes = apply, stored without its IP address'
SET privacy_tags.expired_writes = apply;
INSERT INTO shop.web_visits (customer_id, "IP Address", page, visited_at)
VALUES (3, '198.51.100.9', '/old', now() - interval '45 days')
RETURNING id, "IP Address", page;
RESET privacy_tags.expired_writes;

\echo '== 12. A legal hold: Astrid''s data is part of a dispute'
SELECT privacy_tags.hold('customer', '1', 'invoice dispute, case 2026-17') AS hold_id;

\echo '== 13. Purge as of four years from now: a dry run first ...'
SELECT relation, column_name, action, rows
  FROM privacy_tags.purge(as_of => now() + interval '4 years', dry_run => true)
 WHERE relation::text LIKE 'shop.%' ORDER BY relation::text, column_name, action;
\echo '-- ... nothing has changed yet:'
SELECT (SELECT count(*) FROM shop.customers) AS customers, (SELECT count(*) FROM shop.prospects) AS prospects,
       (SELECT count(*) FROM shop.web_visits WHERE "IP Address" IS NOT NULL) AS visits_with_ip;
\echo '-- ... then the real run, in committed batches (CALL privacy_tags.run_purge) or as one statement:'
SELECT relation, column_name, action, rows
  FROM privacy_tags.purge(as_of => now() + interval '4 years')
 WHERE relation::text LIKE 'shop.%' ORDER BY relation::text, column_name, action;
SELECT id, full_name, email, job_title, relationship_ended_on FROM shop.customers ORDER BY id;
SELECT id, customer_id, "IP Address", page FROM shop.web_visits ORDER BY id;
SELECT id, customer_id, amount, issued_on FROM shop.invoices ORDER BY id;

\echo '== 14. Quarterly deletion ("deletion is conducted on a quarterly basis") with pg_cron'
-- pg_cron is preloaded in the demo cluster, and this is its database
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT privacy_tags.schedule_purge('0 3 1 */3 *') AS jobid;
SELECT jobname, schedule, command FROM cron.job;

\echo '== 15. The audit log: who purged and held what, with subjects only as keyed hashes'
SELECT id, actor, action, relation, column_name, rows, subject_type, left(subject_hash, 16) AS subject_hash
  FROM privacy_tags.audit_log
 ORDER BY id;

\echo '== 16. Right of access: everything held about customer 2, as one JSON document'
SELECT privacy_tags.grant_consent('customer', '2', 'newsletter');
SELECT privacy_tags.grant_consent('customer', '2', 'analytics');
SELECT jsonb_pretty(privacy_tags.subject_access('customer', '2'));

\echo '== 17. Right to erasure for customer 1: the dispute is settled, the hold released'
SELECT privacy_tags.release('customer', '1');
\echo '-- a dry run says what will go and what the law keeps ...'
SELECT jsonb_pretty(privacy_tags.erase('customer', '1', dry_run => true));
\echo '-- ... and the erasure does exactly that, in one transaction'
SELECT jsonb_pretty(privacy_tags.erase('customer', '1'));
SELECT id, full_name, email, phone, company, relationship_ended_on FROM shop.customers ORDER BY id;
SELECT id, customer_id, billing_address, amount FROM shop.invoices ORDER BY id;

\echo '== 18. Customer 2 withdraws consent to the newsletter: only that purpose''s data goes'
SELECT jsonb_pretty(privacy_tags.withdraw_consent('customer', '2', 'newsletter'));
SELECT email, customer_id FROM shop.newsletter_subscribers ORDER BY email;
\echo '-- a new newsletter sign-up without consent is refused by the trigger'
\set ON_ERROR_STOP off
INSERT INTO shop.newsletter_subscribers (email, customer_id) VALUES ('bo@example.se', 2);
\set ON_ERROR_STOP on

\echo '== 19. Restriction of processing while customer 2 contests their data'
SELECT privacy_tags.restrict('customer', '2', 'accuracy contested') > 0 AS restricted;
\set ON_ERROR_STOP off
UPDATE shop.customers SET job_title = 'CEO' WHERE id = 2;
\set ON_ERROR_STOP on
SELECT privacy_tags.lift_restriction('customer', '2');
UPDATE shop.customers SET job_title = 'CEO' WHERE id = 2;

\echo '== 20. Customer 2 objects to marketing (Art. 21), through a registered request with a deadline'
SELECT privacy_tags.open_request('objection', 'customer', '2') AS objection_request \gset
SELECT id, kind, regime, due_at::date - received_at::date AS days_to_answer, overdue FROM privacy_tags.open_requests;
SELECT jsonb_pretty(privacy_tags.object('customer', '2', 'marketing', request => :objection_request) -> 'tables');
SELECT id, job_title FROM shop.customers WHERE id = 2;
\echo '-- the trigger now refuses marketing data for customer 2'
\set ON_ERROR_STOP off
UPDATE shop.customers SET job_title = 'Head of Sales' WHERE id = 2;
\set ON_ERROR_STOP on
SELECT outcome FROM privacy_tags.requests WHERE id = :objection_request;

\echo '== 21. An erasure a legal hold keeps waiting, done when the hold is released'
SELECT privacy_tags.hold('customer', '2', 'tax audit') > 0 AS held;
SELECT privacy_tags.erase('customer', '2') ->> 'deferred' AS deferred;
SELECT subject_type, subject_id, scope, hold_reason FROM privacy_tags.pending_erasures;
SELECT privacy_tags.release('customer', '2');
SELECT count(*) AS pending FROM privacy_tags.pending_erasures;
SELECT id, full_name, email FROM shop.customers ORDER BY id;

\echo '== 22. The erasure ledger: what a restored backup would bring back is erased again'
SELECT e ->> 'scope' AS scope, left(e ->> 'subject_hash', 16) AS subject_hash
  FROM jsonb_array_elements(privacy_tags.export_ledger() -> 'entries') e;
\echo '-- (after restoring a backup and import_ledger(), reapply_erasures() erases them again; here nothing'
\echo '-- is back: the customers kept for their invoices have nothing left to erase)'
SELECT x ->> 'scope' AS scope, x ->> 'action' AS action, left(x ->> 'subject_hash', 16) AS subject_hash
  FROM jsonb_array_elements(privacy_tags.reapply_erasures(dry_run => true) -> 'subjects') x;

\echo '== 23. The rest of the record: controller, recipients and transfers (the Alumio and Aimplan policies), security, sources'
SELECT privacy_tags.set_controller('Exempel Shop AB', 'privacy@example.se', dpo => 'Dana Dataskydd',
                                   dpo_contact => 'dpo@example.se', supervisory_authority => 'IMY (Integritetsskyddsmyndigheten)');
SELECT privacy_tags.add_recipient('HubSpot', 'processor', 'US', '{marketing,newsletter}', 'scc', 'CRM and e-mail marketing');
SELECT privacy_tags.add_recipient('Freshdesk', 'processor', 'US', '{support}', 'scc', 'support tickets');
SELECT privacy_tags.add_recipient('Google Analytics', 'processor', 'US', '{analytics}', 'adequacy_decision', 'web analytics (EU-US Data Privacy Framework)');
SELECT privacy_tags.add_recipient('Skatteverket', 'public_authority', 'SE', '{billing}', NULL, 'accounts kept under Bokföringslagen');
SELECT privacy_tags.add_security_measure('Encryption at rest and in transit; access by role, logged');
SELECT privacy_tags.add_source('shop.prospects', 'a lead list bought from a trade fair organiser');
\echo '-- the complete record, as text'
\pset format unaligned
\pset tuples_only on
SELECT privacy_tags.processing_record_text();
\echo '-- the data map (Graphviz DOT; make demo renders it into demo/data_map.png)'
\o demo/data_map.dot
SELECT privacy_tags.data_map();
\o
\pset format aligned
\pset tuples_only off
\echo '(written to demo/data_map.dot)'

\echo '== 24. The record of processing (GDPR Art. 30), built from the tags'
SELECT purpose, legal_bases, data_subjects, data_categories, special_categories, tables
  FROM privacy_tags.record_of_processing;
SELECT jsonb_pretty(jsonb_path_query_first(privacy_tags.processing_record(), '$.purposes[*] ? (@.purpose == "support")'))
    AS support_purpose;

\echo '== 25. The audit log of the requests'
SELECT id, actor, action, rows, subject_type, left(subject_hash, 16) AS subject_hash
  FROM privacy_tags.audit_log
 WHERE action IN ('access', 'erase', 'grant_consent', 'withdraw_consent', 'restrict', 'lift_restriction', 'release',
                  'open_request', 'object', 'close_request', 'hold')
 ORDER BY id;
