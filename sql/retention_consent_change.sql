-- The retention trigger's consent check applies to the consent-based values
-- a write stores: every non-NULL one on INSERT, and on UPDATE only those the
-- UPDATE changes (or moves to another subject).  A row stored before
-- enforce(), or whose consent was withdrawn while a legal hold keeps it,
-- can still have its other columns updated.
SET search_path = public, privacy_tags;

CREATE TABLE rcc_people (id int PRIMARY KEY, name text NOT NULL, email text, notes text,
                         seen date);
SELECT set_subject('rcc_people', 'id', 'rcc_person');
SELECT tag('rcc_people', 'email', 'contact.email; basis=consent; purpose=newsletter');
SELECT tag('rcc_people', 'notes', 'communications.content; basis=consent; purpose=support');
-- stored before enforce(): no consent was asked for; notes out of line (TOAST)
INSERT INTO rcc_people
SELECT 1, 'Ann', 'ann@example.com', string_agg(md5(i::text), ' '), '2024-01-01'
  FROM generate_series(1, 1000) i;
INSERT INTO rcc_people VALUES (2, 'Bob', 'bob@example.com', NULL, NULL),
                              (3, 'Cem', NULL, NULL, NULL);
SELECT pg_relation_size(reltoastrelid) > 0 AS notes_out_of_line FROM pg_class WHERE oid = 'rcc_people'::regclass;
SELECT enforce('rcc_people');

-- an UPDATE of other columns stores no new consent-based value
UPDATE rcc_people SET name = 'Ann B.' WHERE id = 1;
UPDATE rcc_people SET seen = '2025-01-01' WHERE id IN (1, 2);
-- nor does setting one to the value it has
UPDATE rcc_people SET email = 'ann@example.com' WHERE id = 1;
UPDATE rcc_people SET email = email, notes = notes, name = 'Ann C.' WHERE id = 1;
-- nor clearing one
UPDATE rcc_people SET email = NULL WHERE id = 2;
SELECT id, name, email, left(notes, 8) AS notes, seen FROM rcc_people ORDER BY id;

-- a changed value needs consent (23514)
SELECT state, message FROM try($$UPDATE public.rcc_people SET email = 'ann@example.org' WHERE id = 1$$);
SELECT state, message FROM try($$UPDATE public.rcc_people SET notes = notes || '!' WHERE id = 1$$);
SELECT state, message FROM try($$UPDATE public.rcc_people SET email = 'cem@example.com' WHERE id = 3$$);
-- and so does a value that moves to another subject with its row
SELECT state, message FROM try($$UPDATE public.rcc_people SET id = 4 WHERE id = 1$$);
-- an INSERT needs consent for every non-NULL consent-based value, as before
SELECT state, message FROM try($$INSERT INTO public.rcc_people VALUES (5, 'Dee', 'dee@example.com')$$);
INSERT INTO rcc_people VALUES (5, 'Dee', NULL);

-- with consent, the change is written.  (The consents are written directly,
-- as grant_consent() and withdraw_consent() store them: their audit entries
-- would show in subject_rights' listing of the audit log.)
INSERT INTO consents (subject_type, subject_id, purpose) VALUES ('rcc_person', '1', 'newsletter');
UPDATE rcc_people SET email = 'ann@example.org' WHERE id = 1;

-- consent withdrawn while the data stays (as withdraw_consent() leaves it
-- under a legal hold): other columns can still be updated, the
-- consent-based value not changed
UPDATE consents SET withdrawn_at = now() WHERE subject_type = 'rcc_person';
UPDATE rcc_people SET name = 'Ann D.' WHERE id = 1;
SELECT state, message FROM try($$UPDATE public.rcc_people SET email = 'ann@example.net' WHERE id = 1$$);
SELECT id, name, email, left(notes, 8) AS notes, seen FROM rcc_people ORDER BY id;

SELECT unenforce('rcc_people');
DROP TABLE rcc_people;
DELETE FROM consents WHERE subject_type = 'rcc_person';
