-- pgTAP: tagging checks and the inventory.
BEGIN;
SELECT plan(16);
SET search_path = privacy_tags, public;

CREATE TABLE tap_contacts (
    id int PRIMARY KEY, email text NOT NULL, phone text,
    last_contact_at timestamptz, created_at date NOT NULL DEFAULT current_date, n int);

SELECT lives_ok($$SELECT privacy_tags.tag('tap_contacts', 'email', 'contact.email; basis=consent; retain=3 years after last_contact_at')$$,
                'tag a column');
SELECT is((SELECT category FROM columns WHERE relation = 'tap_contacts'::regclass AND column_name = 'email'),
          'contact.email', 'the inventory shows it');
SELECT throws_ok($$SELECT privacy_tags.tag('tap_contacts', 'email', 'contact.nope')$$,
                 '42704', 'unknown privacy category "contact.nope"', 'unknown category');
SELECT throws_ok($$SELECT privacy_tags.tag('tap_contacts', 'n', 'health.condition')$$,
                 '22023', NULL, 'special category without special=');
SELECT throws_ok($$SELECT privacy_tags.tag('tap_contacts', 'phone', 'contact.phone; retain=1 year after gone')$$,
                 '42703', NULL, 'missing anchor');
SELECT throws_ok($$SELECT privacy_tags.tag('tap_contacts', 'phone', 'contact.phone; retain=1 year after n')$$,
                 '42804', NULL, 'non-temporal anchor');
SELECT throws_ok($$SELECT privacy_tags.tag('tap_contacts', 'phone', 'contact.phone; retain=1 year')$$,
                 '22023', NULL, 'window without anchor');
SELECT throws_ok($$SELECT privacy_tags.tag('tap_contacts', 'email', 'contact.email; retain=1 year after created_at; on_expiry=nullify')$$,
                 '22023', NULL, 'nullify on NOT NULL');
SELECT throws_ok($$SELECT privacy_tags.tag('tap_contacts', 'nope', 'contact.email')$$,
                 '42703', NULL, 'column that does not exist');
SELECT lives_ok($$SELECT privacy_tags.tag('tap_contacts', 'phone', 'contact.phone; retain=1 year after created_at; on_expiry=nullify')$$,
                'nullify on a nullable column, anchored on a date');
SELECT is((SELECT count(*)::int FROM columns WHERE relation = 'tap_contacts'::regclass), 2, 'two tagged columns');
SELECT lives_ok($$SELECT privacy_tags.set_subject('tap_contacts', 'id', 'customer')$$, 'set_subject');
SELECT ok((SELECT is_subject_key FROM columns WHERE relation = 'tap_contacts'::regclass AND column_name = 'email') = false,
          'email is not the subject key');
SELECT is((SELECT subject_type FROM subjects WHERE relation = 'tap_contacts'::regclass), 'customer', 'subject type');
SELECT ok(untag('tap_contacts', 'phone'), 'untag reports a removed tag');
SELECT ok(NOT untag('tap_contacts', 'phone'), 'untag reports nothing to remove');

SELECT * FROM finish();
ROLLBACK;
