-- The retention trigger: refuse or expire writes past their window.
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TABLE contacts (
    id int PRIMARY KEY,
    email text,
    phone text,
    "IP Address" inet,
    "Last Contact" date,
    seen_at timestamp
);
SELECT tag('contacts', 'email', 'contact.email; basis=consent; purpose=newsletter; retain=3 years after "Last Contact"');
SELECT tag('contacts', 'IP Address', 'network.ip_address; basis=legitimate_interests; retain=30 days after seen_at; on_expiry=nullify');
SELECT tag('contacts', 'phone', 'contact.phone; basis=contract');   -- no window: never checked
SELECT enforce('contacts');
SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'contacts'::regclass;

-- fresh values pass; a NULL anchor means the clock has not started
INSERT INTO contacts VALUES (1, 'a@example.com', '1', '192.0.2.1', current_date, localtimestamp);
INSERT INTO contacts VALUES (2, 'b@example.com', '2', '192.0.2.2', NULL, NULL);
INSERT INTO contacts VALUES (3, 'c@example.com', '3', NULL, current_date, '2001-01-01');  -- nothing to nullify
-- expired values are refused, with column, window and expiry in the message
INSERT INTO contacts VALUES (4, 'd@example.com', '4', NULL, '2001-02-03', NULL);
INSERT INTO contacts VALUES (5, 'e@example.com', '5', '192.0.2.5', current_date, '2001-02-03 04:05:06');
UPDATE contacts SET "Last Contact" = '2001-02-03' WHERE id = 2;
-- the state after refusals
SELECT id, email, "IP Address" FROM contacts ORDER BY id;

-- expired_writes = apply: carry out the expiry action instead
SET privacy_tags.expired_writes = apply;
INSERT INTO contacts VALUES (4, 'd@example.com', '4', NULL, '2001-02-03', NULL);   -- delete: row skipped
INSERT INTO contacts VALUES (5, 'e@example.com', '5', '192.0.2.5', current_date, '2001-02-03 04:05:06');  -- nullify
UPDATE contacts SET seen_at = '2001-01-01' WHERE id = 1;
SELECT id, email, "IP Address", seen_at FROM contacts ORDER BY id;
RESET privacy_tags.expired_writes;
SELECT * FROM try($$SET privacy_tags.expired_writes = 'shred'$$);

-- a changed tag takes effect at once; so does a removed one
SELECT tag('contacts', 'phone', 'contact.phone; basis=contract; retain=1 day after "Last Contact"; on_expiry=nullify');
SELECT state, left(message, 60) FROM try($$UPDATE contacts SET "Last Contact" = current_date - 2 WHERE id = 3$$);
SECURITY LABEL FOR privacy_tags ON COLUMN contacts.phone IS NULL;
UPDATE contacts SET "Last Contact" = current_date - 2 WHERE id = 3;
SELECT untag('contacts', 'email');
INSERT INTO contacts VALUES (6, 'f@example.com', '6', NULL, '2001-02-03', NULL);
SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'contacts'::regclass;

-- unenforce removes the trigger
SELECT unenforce('contacts');
SELECT unenforce('contacts');
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'contacts'::regclass;

-- partitioned tables: every partition, present and future
CREATE TABLE visits (
    id bigint, ip inet, visited_at timestamptz NOT NULL
) PARTITION BY RANGE (visited_at);
CREATE TABLE visits_2000 PARTITION OF visits FOR VALUES FROM ('2000-01-01') TO ('2010-01-01');
SELECT tag('visits', 'ip', 'network.ip_address; retain=30 days after visited_at; on_expiry=nullify');
SELECT enforce('visits');
CREATE TABLE visits_now PARTITION OF visits FOR VALUES FROM ('2010-01-01') TO (MAXVALUE);
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgname = 'privacy_tags_retention'
   AND tgrelid IN ('visits'::regclass, 'visits_2000'::regclass, 'visits_now'::regclass) ORDER BY 1::text;
INSERT INTO visits VALUES (1, '192.0.2.1', '2005-01-01');
INSERT INTO visits VALUES (2, '192.0.2.2', now());
SELECT state, left(message, 58) FROM try($$INSERT INTO visits VALUES (3, '192.0.2.3', now() - interval '31 days')$$);
INSERT INTO visits_2000 VALUES (4, '192.0.2.4', '2005-01-01');
SET privacy_tags.expired_writes = apply;
INSERT INTO visits VALUES (5, '192.0.2.5', '2005-01-01'), (6, '192.0.2.6', now());
RESET privacy_tags.expired_writes;
SELECT id, ip FROM visits ORDER BY id;
-- a purge of the partitioned table reaches every partition
SELECT * FROM purge('visits', as_of => now() + interval '31 days', dry_run => true);

-- the trigger refuses to run as anything but a row trigger before insert/update
CREATE TABLE wrong (d date);
CREATE TRIGGER wrong AFTER INSERT ON wrong FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger();
INSERT INTO wrong VALUES (current_date);
DROP TABLE wrong;
DROP TABLE contacts, visits;
