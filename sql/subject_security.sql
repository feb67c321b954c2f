-- Privileges for every data-subject function, and a search_path hijack.
SET search_path = public, privacy_tags;

CREATE TABLE sec_people (id int PRIMARY KEY, email text, seen date);
SELECT set_subject('sec_people', 'id', 'person');
SELECT tag('sec_people', 'email', 'contact.email; basis=consent; purpose=news; retain=1 year after seen');
INSERT INTO sec_people VALUES (1, 'one@example.com', '2020-01-01'), (2, 'two@example.com', '2030-01-01');

CREATE ROLE pt_app;
GRANT USAGE ON SCHEMA public TO pt_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sec_people TO pt_app;

-- a plain role may call none of the functions that read or change subjects' data
SET ROLE pt_app;
SELECT f AS call, (try(f)).state, (try(f)).message FROM unnest(ARRAY[
  $$SELECT privacy_tags.subject_access('person', '4')$$,
  $$SELECT privacy_tags.erase('person', '1')$$,
  $$SELECT privacy_tags.grant_consent('person', '1', 'news')$$,
  $$SELECT privacy_tags.withdraw_consent('person', '1', 'news')$$,
  $$SELECT privacy_tags.restrict('person', '1', 'x')$$,
  $$SELECT privacy_tags.lift_restriction('person', '1')$$,
  $$SELECT privacy_tags.suppress('person', '1')$$,
  $$SELECT privacy_tags.is_suppressed('person', '1')$$,
  $$SELECT * FROM privacy_tags.purge()$$,
  $$SELECT privacy_tags.hold('person', '1', 'x')$$,
  $$SELECT privacy_tags.release('person', '1')$$,
  $$SELECT * FROM privacy_tags.consents$$,
  $$SELECT * FROM privacy_tags.restrictions$$,
  $$SELECT * FROM privacy_tags.suppressions$$,
  $$SELECT privacy_tags._erase('person', '1', 'erase', NULL)$$,
  $$SELECT * FROM privacy_tags._subject_graph('person')$$
]) f;
RESET ROLE;
SELECT count(*) AS untouched FROM sec_people;

-- search_path hijack: a caller's schema with a malicious "=" operator, a
-- look-alike table and look-alike functions changes nothing the functions do
CREATE SCHEMA evil;
CREATE FUNCTION evil.always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.always);
CREATE FUNCTION evil.to_jsonb(evil_row anyelement) RETURNS jsonb LANGUAGE sql AS $$SELECT '{"hijacked": true}'::jsonb$$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$SELECT '1999-01-01'::timestamptz$$;
CREATE TABLE evil.consents (subject_type text, subject_id text, purpose text, withdrawn_at timestamptz);
INSERT INTO evil.consents VALUES ('person', '2', 'news', NULL);
CREATE TABLE evil.legal_holds (subject_type text, subject_id text, released_at timestamptz, held_until timestamptz);
INSERT INTO evil.legal_holds VALUES ('person', '4', NULL, NULL);
INSERT INTO public.sec_people VALUES (3, 'three@example.com', '2020-01-01'), (4, 'four@example.com', '2030-01-01');
SET search_path = evil, pg_catalog, public, privacy_tags;
SELECT (privacy_tags.subject_access('person', '4') -> 'summary' ->> 'records') AS records,
       privacy_tags.subject_access('person', '4') ? 'hijacked' AS hijacked;
SELECT relation, column_name, action, rows FROM privacy_tags.purge(as_of => '2024-01-01');
SELECT privacy_tags.erase('person', '4', dry_run => true) -> 'tables' AS would_erase;
SELECT privacy_tags.grant_consent('person', '4', 'news');
SELECT privacy_tags.withdraw_consent('person', '2', 'news', dry_run => true) -> 'tables' AS withdrawn;
RESET search_path;
SELECT * FROM public.sec_people ORDER BY id;
DROP SCHEMA evil CASCADE;
DROP TABLE public.sec_people;
DROP OWNED BY pt_app;
DROP ROLE pt_app;
