-- pgTAP: the seed policies' retention promises, kept by tags and purge.
BEGIN;
SELECT plan(36);
SET search_path = public, privacy_tags;
SET TimeZone = 'Europe/Stockholm';

-- Alumio (004 s6): "vi raderar dina personuppgifter inom tre aar fraan den dag
-- daa vaar affaersrelation upphoer" -- three years after the relationship ends
CREATE TABLE tap_clients (id int PRIMARY KEY, name text NOT NULL, title text,
                          relationship_ended date);
SELECT tag('tap_clients', 'name', 'identifiers.name; basis=contract; retain=3 years after relationship_ended');
SELECT tag('tap_clients', 'title', 'professional.job_title; basis=legitimate_interests; retain=3 years after relationship_ended; on_expiry=nullify');
INSERT INTO tap_clients VALUES
  (1, 'ended 2020', 'cto', '2020-06-30'),
  (2, 'ended 2021', 'cfo', '2021-06-30'),
  (3, 'current',    'ceo', NULL);
-- Aiimi (003 s7): "held their data for over 3 years with no evidence of successful contact"
CREATE TABLE tap_subscribers (id int PRIMARY KEY, email text,
                              last_successful_contact timestamptz);
SELECT tag('tap_subscribers', 'email', 'contact.email; basis=legitimate_interests; purpose=marketing; retain=3 years after last_successful_contact');
INSERT INTO tap_subscribers VALUES
  (1, 'a@example.com', '2020-09-01 10:00+02'),
  (2, 'b@example.com', '2021-09-01 10:00+02'),
  (3, 'c@example.com', NULL);
-- IP addresses kept 30 days
CREATE TABLE tap_hits (id int PRIMARY KEY, ip inet, at timestamptz NOT NULL, path text NOT NULL);
SELECT tag('tap_hits', 'ip', 'network.ip_address; basis=legitimate_interests; retain=30 days after at; on_expiry=nullify');
INSERT INTO tap_hits VALUES
  (1, '192.0.2.1', '2023-11-30 23:00+01', '/'), (2, '192.0.2.2', '2023-12-02 01:00+01', '/'),
  (3, NULL, '2020-01-01 00:00+01', '/');
-- Invoices kept as the law requires (Bokfoeringslagen: 7 years)
CREATE TABLE tap_invoices (id int PRIMARY KEY, client_id int NOT NULL REFERENCES tap_clients,
                           amount numeric NOT NULL, issued_on date NOT NULL);
SELECT tag('tap_invoices', 'amount', 'financial.invoice; basis=legal_obligation; retain=7 years after issued_on');
INSERT INTO tap_invoices VALUES (1, 2, 10, '2016-12-31'), (2, 2, 20, '2017-01-02');

-- the promises as tags
SELECT is(retention(tag), '3 years'::interval, 'name: three years') FROM columns
 WHERE relation = 'tap_clients'::regclass AND column_name = 'name';
SELECT is(anchor, 'relationship_ended'::name, 'counted from the end of the relationship') FROM columns
 WHERE relation = 'tap_clients'::regclass AND column_name = 'name';
SELECT is(on_expiry, 'nullify', 'job title: nulled, row kept') FROM columns
 WHERE relation = 'tap_clients'::regclass AND column_name = 'title';
SELECT is(legal_basis, 'legal_obligation', 'invoices: kept by law') FROM columns
 WHERE relation = 'tap_invoices'::regclass;

-- dry run and real run as of 2024-01-01 00:00 Stockholm
CREATE TEMP TABLE dry AS SELECT * FROM purge(as_of => '2024-01-01 00:00+01', dry_run => true)
 WHERE relation::text LIKE 'tap_%';
SELECT is((SELECT count(*)::int FROM tap_clients) + (SELECT count(*)::int FROM tap_subscribers)
          + (SELECT count(*)::int FROM tap_hits WHERE ip IS NOT NULL) + (SELECT count(*)::int FROM tap_invoices),
          10, 'the dry run changes nothing');
CREATE TEMP TABLE real AS SELECT * FROM purge(as_of => '2024-01-01 00:00+01')
 WHERE relation::text LIKE 'tap_%';
SELECT set_eq('SELECT * FROM dry', 'SELECT * FROM real', 'the dry run reports what the real run does');

SELECT results_eq('SELECT id FROM tap_clients ORDER BY id', ARRAY[2, 3],
                  'the relationship that ended in 2020 is gone, the one that ended in 2021 stays');
SELECT is((SELECT title FROM tap_clients WHERE id = 2), 'cfo', 'its job title stays too');
SELECT is((SELECT name FROM tap_clients WHERE id = 3), 'current', 'a current client (NULL anchor) never expires');
SELECT results_eq('SELECT id FROM tap_subscribers ORDER BY id', ARRAY[2, 3],
                  'three years without successful contact: deleted; NULL contact: kept');
SELECT results_eq('SELECT id FROM tap_hits WHERE ip IS NULL ORDER BY id', ARRAY[1, 3],
                  'the IP address older than 30 days is nulled');
SELECT is((SELECT ip FROM tap_hits WHERE id = 2), '192.0.2.2'::inet, 'the IP address of 30 days minus two hours stays');
SELECT is((SELECT count(*)::int FROM tap_hits), 3, 'nullify keeps the rows');
SELECT results_eq('SELECT id FROM tap_invoices ORDER BY id', ARRAY[2],
                  'the invoice of 2016 expired on 2023-12-31; the one of 2017 stays');
SELECT is((SELECT rows FROM real WHERE relation = 'tap_clients'::regclass AND action = 'delete'), 1::bigint, 'one client deleted');
SELECT is((SELECT rows FROM real WHERE relation = 'tap_clients'::regclass AND action = 'nullify'), 0::bigint, 'no title nulled');
SELECT is((SELECT rows FROM real WHERE relation = 'tap_subscribers'::regclass), 1::bigint, 'one subscriber deleted');
SELECT is((SELECT rows FROM real WHERE relation = 'tap_hits'::regclass), 1::bigint, 'one IP address nulled');
SELECT is((SELECT rows FROM real WHERE relation = 'tap_invoices'::regclass), 1::bigint, 'one invoice deleted');

-- a year later the client of 2021 is due, but its invoice of 2017 points at it
SELECT is((SELECT rows FROM purge('tap_clients', as_of => '2025-01-01 00:00+01') WHERE action = 'referenced'),
          1::bigint, 'a client an invoice still points at is reported, not deleted');
SELECT is((SELECT count(*)::int FROM tap_clients WHERE id = 2), 1, 'and it is still there');
SELECT is((SELECT title FROM tap_clients WHERE id = 2), NULL, 'but its expired job title is nulled');

-- legal hold
SELECT set_subject('tap_subscribers', 'id', 'subscriber');
SELECT ok(hold('subscriber', '2', 'complaint to the supervisory authority') > 0, 'hold a subscriber');
SELECT is((SELECT rows FROM purge('tap_subscribers', as_of => '2025-01-01') WHERE action = 'held'), 1::bigint,
          'the held subscriber is skipped and counted');
SELECT is((SELECT count(*)::int FROM tap_subscribers WHERE id = 2), 1, 'held data survives the purge');
SELECT is(release('subscriber', '2'), 1, 'release the hold');
SELECT is((SELECT rows FROM purge('tap_subscribers', as_of => '2025-01-01') WHERE action = 'delete'), 1::bigint,
          'released data is purged');
SELECT is((SELECT count(*)::int FROM tap_subscribers), 1, 'only the subscriber without contact date is left');

-- the trigger agrees with purge about when a window ends
SELECT enforce('tap_hits');
SELECT throws_ok($$INSERT INTO tap_hits VALUES (9, '192.0.2.9', now() - interval '30 days', '/')$$,
                 '23514', NULL, 'a value exactly at the end of its window is refused');
SELECT lives_ok($$INSERT INTO tap_hits VALUES (10, '192.0.2.10', now() - interval '30 days' + interval '1 second', '/')$$,
                'a value one second before the end is accepted');
SELECT lives_ok($$INSERT INTO tap_hits VALUES (11, NULL, '2001-01-01', '/')$$,
                'nothing to nullify: an old row without an IP address is accepted');
SET LOCAL privacy_tags.expired_writes = apply;
SELECT lives_ok($$INSERT INTO tap_hits VALUES (12, '192.0.2.12', '2001-01-01', '/')$$, 'apply: accepted ...');
SELECT is((SELECT ip FROM tap_hits WHERE id = 12), NULL, '... with the IP address nulled');
SELECT ok(unenforce('tap_hits'), 'unenforce');

-- the trigger's fast bounds agree with the exact window, hour by hour across
-- month ends and a daylight saving change (Europe/Stockholm, 1 month window)
CREATE TABLE tap_edge (id serial, v text, d date, ts timestamp, tz timestamptz);
SELECT tag('tap_edge', 'v', 'contact.email; retain=1 month after tz; on_expiry=nullify');
SELECT enforce('tap_edge');
SET LOCAL privacy_tags.expired_writes = apply;
INSERT INTO tap_edge (v, tz) SELECT 'x', g FROM generate_series(now() - interval '40 days', now() - interval '20 days', interval '37 minutes') g;
SELECT is((SELECT count(*)::int FROM tap_edge WHERE (v IS NULL) <> (tz + interval '1 month' <= now())), 0,
          'timestamptz anchors: the trigger nulls exactly the expired values');
SELECT tag('tap_edge', 'v', 'contact.email; retain=1 month after d; on_expiry=nullify');
TRUNCATE tap_edge;
INSERT INTO tap_edge (v, d) SELECT 'x', g::date FROM generate_series(now() - interval '70 days', now() - interval '20 days', interval '1 day') g;
SELECT is((SELECT count(*)::int FROM tap_edge WHERE (v IS NULL) <> (d::timestamptz + interval '1 month' <= now())), 0,
          'date anchors: the trigger nulls exactly the expired values');

SELECT * FROM finish();
ROLLBACK;
