-- Reporting: discover() and processing_record().
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';

-- value recognisers: real ones and look-alikes
SELECT v, value_kind(v) FROM (VALUES
  ('ada@example.com'), ('a.b+c@mail.example.co.uk'), ('a@b'), ('ada@example'), ('@example.com'), ('a@@example.com'),
  ('192.0.2.1'), ('255.255.255.255'), ('256.1.1.1'), ('1.2.3'), ('01.2.3.4'),
  ('2001:db8::1'), ('::1'), ('fe80::1:2:3:4'), ('::ffff:192.0.2.1'), ('2001:db8::1::2'), ('12:34'),
  ('811218-9876'), ('19811218-9876'), ('8112189876'), ('811218+9876'), ('811218-9875'), ('811318-9876'), ('811278-9876'),
  ('4111 1111 1111 1111'), ('4111-1111-1111-1111'), ('4111111111111111'), ('4111 1111 1111 1112'), ('0000 0000 0000 0000'),
  ('5555555555554444'), ('378282246310005'),
  ('+46 70 123 45 67'), ('070-123 45 67'), ('(08) 123 456 78'), ('0701234567'), ('2024-01-31'), ('12345'), ('hello')
) t(v);

CREATE SCHEMA rep;
CREATE TABLE rep.crm (
    id int PRIMARY KEY,
    kontakt text,           -- emails under another name
    ref_no text,            -- card numbers under another name (Luhn valid)
    pn text,                -- personal identity numbers (check digit valid)
    fake_card text,         -- 16 digits that fail the Luhn check
    fake_pn text,           -- personnummer-shaped, wrong check digit
    mixed text,             -- a few emails among free text: no majority
    e_post text,            -- empty, but its name says it
    telefonnummer varchar(20),
    kundens_fodelsedatum date,
    remote inet,
    device macaddr,
    tagged_mail text,       -- tagged: never suggested
    amount numeric
);
SELECT tag('rep.crm', 'tagged_mail', 'contact.email; basis=contract');
SELECT set_subject('rep.crm', 'id', 'customer');
INSERT INTO rep.crm (id, kontakt, ref_no, pn, fake_card, fake_pn, mixed, tagged_mail, amount)
SELECT g, 'user' || g || '@example.com',
       (ARRAY['4111 1111 1111 1111', '5555 5555 5555 4444', '3782 822463 10005'])[1 + g % 3],
       (ARRAY['811218-9876', '19811218-9876', '8112189876'])[1 + g % 3],
       '4111 1111 1111 111' || (2 + g % 7),
       '811218-987' || (g % 6),
       CASE WHEN g % 5 = 0 THEN 'x' || g || '@example.com' ELSE 'note ' || g END,
       't' || g || '@example.com', g
  FROM generate_series(1, 50) g;
SELECT relation, column_name, suggested_tag, rule, evidence, sampled, matched
  FROM discover('rep') ORDER BY column_name;
-- suggestions are valid tags for the column
SELECT count(*) AS suggestions, count(*) FILTER (WHERE c.name IS NOT NULL) AS in_taxonomy
  FROM discover('rep') d LEFT JOIN categories c ON c.name = category(d.suggested_tag);

-- a table of 1,000,000 rows is sampled, not scanned
CREATE TABLE rep.big (id int, contact text);
INSERT INTO rep.big SELECT g, 'u' || g || '@example.org' FROM generate_series(1, 1000000) g;
ANALYZE rep.big;
-- (the rows read so far in this transaction, not yet reported: on every version)
BEGIN;
SELECT column_name, suggested_tag, sampled, matched FROM discover('rep') WHERE relation = 'rep.big'::regclass;
SELECT pg_stat_get_xact_tuples_returned('rep.big'::regclass) BETWEEN 200 AND 9999 AS read_fewer_than_10000_rows;
COMMIT;
DROP TABLE rep.big;

-- bad calls
SELECT state, message FROM try($$SELECT * FROM privacy_tags.discover('no_such_schema')$$);
SELECT state, message FROM try($$SELECT * FROM privacy_tags.discover('rep', 0)$$);
SELECT state, message FROM try($$SELECT * FROM privacy_tags.discover(NULL)$$);

-- the record of processing of a fixed schema, exactly
DROP SCHEMA rep CASCADE;
CREATE SCHEMA art30;
CREATE TABLE art30.patients (id int PRIMARY KEY, name text, diagnosis text, visit date, email text);
CREATE TABLE art30.bills (id int PRIMARY KEY, patient_id int REFERENCES art30.patients, total numeric, issued date);
CREATE TABLE art30.staff (id int PRIMARY KEY, name text, salary numeric);
SELECT set_subject('art30.patients', 'id', 'patient');
SELECT set_subject('art30.staff', 'id', 'employee');
SELECT tag('art30.patients', 'name', 'identifiers.name; basis=contract; purpose=care,billing');
SELECT tag('art30.patients', 'diagnosis', 'health.condition; basis=contract; special=health_care; purpose=care; retain=10 years after visit');
SELECT tag('art30.patients', 'email', 'contact.email; basis=consent; purpose=reminders');
SELECT tag('art30.bills', 'total', 'financial.invoice; basis=legal_obligation; purpose=billing; retain=7 years after issued');
SELECT tag('art30.staff', 'name', 'identifiers.name; basis=contract; purpose=payroll');
SELECT tag('art30.staff', 'salary', 'professional.compensation; basis=legal_obligation; purpose=payroll');
SELECT count(*) AS tagged_columns_elsewhere FROM columns WHERE relation::text NOT LIKE 'art30.%';
SELECT jsonb_pretty(processing_record());
SELECT * FROM record_of_processing;
DROP SCHEMA art30 CASCADE;
