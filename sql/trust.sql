-- The review of 1.1 (issue 10): each finding, as it failed on 1.1, and what
-- holds now.  The hostile table owner is in hostile_owner.sql, the month-end
-- sweep in retention_sweep.sql.
SET search_path = public, privacy_tags;

-- 2. No internal function is executable by PUBLIC or privacy_admin (on 1.1,
-- _purge_batch() let privacy_admin delete from any table, the audit log
-- included, and six internal functions were PUBLIC).
CREATE ROLE trust_nobody;
SELECT p.oid::regprocedure AS internal_function_open_to_others
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'privacy_tags'
 WHERE starts_with(p.proname::text, '_')
   AND (has_function_privilege('trust_nobody', p.oid, 'EXECUTE')
        OR has_function_privilege('privacy_admin', p.oid, 'EXECUTE'))
 ORDER BY 1;
SELECT count(*) > 20 AS internal_functions FROM pg_proc p
 WHERE p.pronamespace = 'privacy_tags'::regnamespace AND starts_with(p.proname::text, '_');
CREATE ROLE trust_admin IN ROLE privacy_admin;
SET ROLE trust_admin;
SELECT * FROM try($$SELECT privacy_tags._purge_column(NULL::record, 'privacy_tags.audit_log', 1)$$);
SELECT state, message FROM try($$SELECT privacy_tags._owner_exec('privacy_tags.audit_log', 'DELETE FROM privacy_tags.audit_log')$$);
SELECT state, message FROM try($$SELECT privacy_tags._purge_batch('privacy_tags.audit_log', 'pg_temp.tmp', 'v', now() + '1000 years', 100000)$$);
RESET ROLE;

-- 6. Subject ids are normalised by the key type wherever they are stored or
-- compared: '07' is customer 7, an upper-case uuid the lower-case one.
CREATE TABLE trust_customers (id bigint PRIMARY KEY, email text, note text, seen date);
SELECT set_subject('trust_customers', 'id', 'trust_customer');
SELECT tag('trust_customers', 'note', 'commercial.product_interest; basis=legitimate_interests; retain=1 year after seen');
SELECT tag('trust_customers', 'email', 'contact.email; basis=consent; purpose=news');
INSERT INTO trust_customers VALUES (7, NULL, 'old', '2020-01-01'), (8, NULL, 'old', '2020-01-01');
SELECT hold('trust_customer', '07', 'dispute') > 0 AS held;
SELECT subject_id FROM legal_holds WHERE subject_type = 'trust_customer';
SELECT relation, column_name, action, rows FROM purge('trust_customers');
SELECT id FROM trust_customers ORDER BY id;
SELECT erase('trust_customer', '7', dry_run => true) -> 'legal_hold' AS legal_hold_on_7;
SELECT release('trust_customer', '+7') AS released;
SELECT subject_access('trust_customer', '007') -> 'subject' AS subject;
-- a restriction of '07' stops writes to customer 7
SELECT enforce('trust_customers');
SELECT restrict('trust_customer', '07', 'accuracy contested') > 0 AS restricted;
SELECT * FROM try($$UPDATE trust_customers SET note = 'new' WHERE id = 7$$);
SELECT lift_restriction('trust_customer', '7') AS lifted;
-- a consent given for '07' is customer 7's
SELECT grant_consent('trust_customer', ' 7', 'news');
UPDATE trust_customers SET email = 'seven@example.com', seen = current_date WHERE id = 7;
SELECT subject_id, purpose FROM consents WHERE subject_type = 'trust_customer';
SELECT suppress('trust_customer', '0007') -> 'suppressed' AS suppressed;
SELECT is_suppressed('trust_customer', '7') AS is_suppressed, subject_id FROM suppressions
 WHERE subject_type = 'trust_customer';
-- an id that cannot be a key of the type is refused, without quoting it
SELECT * FROM try($$SELECT hold('trust_customer', 'seven', 'x')$$);
-- uuids
CREATE TABLE trust_accounts (id uuid PRIMARY KEY, iban text, opened date);
SELECT set_subject('trust_accounts', 'id', 'trust_account_holder');
SELECT tag('trust_accounts', 'iban', 'financial.bank_account; basis=contract; retain=1 year after opened');
INSERT INTO trust_accounts VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'SE45 5000 0000 0583 9825 7466', '2020-01-01');
SELECT hold('trust_account_holder', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'audit') > 0 AS held;
SELECT relation, column_name, action, rows FROM purge('trust_accounts');
SELECT count(*) AS accounts_kept FROM trust_accounts;
SELECT subject_access('trust_account_holder', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}') -> 'summary' ->> 'records' AS records;

-- 7. run_purge() ends only when nothing expired is left: a batch that a
-- concurrent change made short is no end (on 1.1 it stopped there).
CREATE TABLE trust_batches (id int PRIMARY KEY, body text, written_at timestamptz);
SELECT tag('trust_batches', 'body', 'contact.email; retain=1 day after written_at');
INSERT INTO trust_batches SELECT i, 'x', '2020-01-01' FROM generate_series(1, 25) i;
CREATE TABLE trust_skipped (done boolean);
INSERT INTO trust_skipped VALUES (false);
-- the first batch loses a row to a writer (the row is kept this time)
CREATE FUNCTION trust_skip_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.id = 5 AND NOT (SELECT done FROM public.trust_skipped) THEN
        UPDATE public.trust_skipped SET done = true;
        RETURN NULL;
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER skip_once BEFORE DELETE ON trust_batches FOR EACH ROW EXECUTE FUNCTION trust_skip_once();
SELECT max(id) AS last_audit FROM audit_log \gset
CALL run_purge('trust_batches', batch_size => 10);
SELECT count(*) AS rows_left FROM trust_batches;
SELECT rows FROM audit_log WHERE id > :last_audit AND relation = 'public.trust_batches' ORDER BY id;
-- a budget ends a run early, and says so
INSERT INTO trust_batches SELECT i, 'x', '2020-01-01' FROM generate_series(1, 25) i;
CALL run_purge('trust_batches', batch_size => 10, max_rows => 15);
SELECT count(*) AS rows_left_by_budget FROM trust_batches;
CALL run_purge('trust_batches', batch_size => 10);
SELECT count(*) AS rows_left_after_the_next_run FROM trust_batches;

-- 8. A broken tag fails its table alone: renaming an anchor away (here a
-- dropped anchor) leaves the rest of a purge going.
CREATE TABLE trust_broken (id int PRIMARY KEY, body text, written_at timestamptz, spare timestamptz);
SELECT tag('trust_broken', 'body', 'contact.email; retain=1 day after spare');
INSERT INTO trust_broken VALUES (1, 'x', '2020-01-01', '2020-01-01');
ALTER TABLE trust_broken DROP COLUMN spare;
INSERT INTO trust_batches VALUES (1, 'x', '2020-01-01');
SELECT relation, column_name, action, rows FROM purge()
 WHERE relation IN ('trust_broken'::regclass, 'trust_batches'::regclass) ORDER BY 1;

-- 9. Subject ids never appear in statement text, so not in the server log:
-- an erasure that a table's trigger stops shows only $1 in its context.
CREATE TABLE trust_log_people (id bigint PRIMARY KEY, email text);
SELECT set_subject('trust_log_people', 'id', 'trust_log_person');
SELECT tag('trust_log_people', 'email', 'contact.email; basis=consent');
INSERT INTO trust_log_people VALUES (4711, 'x@example.com');
CREATE FUNCTION trust_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'refused';
END
$$;
CREATE TRIGGER refuse BEFORE DELETE ON trust_log_people FOR EACH ROW EXECUTE FUNCTION trust_refuse();
DO $$
DECLARE
    v_context text;
    v_id text := '47' || '11';
BEGIN
    PERFORM privacy_tags.erase('trust_log_person', v_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_context = PG_EXCEPTION_CONTEXT;
    RAISE NOTICE 'context names the id: %, binds it: %', strpos(v_context, '4711') > 0, strpos(v_context, '$1') > 0;
END
$$;

-- 10. The audit log guard holds for other superusers, also with
-- session_replication_role = replica (on 1.1 that deleted audit rows).
CREATE ROLE trust_super SUPERUSER;
SET ROLE trust_super;
SET session_replication_role = replica;
SELECT state, message FROM try($$DELETE FROM privacy_tags.audit_log$$);
SELECT state, message FROM try($$TRUNCATE privacy_tags.audit_log$$);
RESET session_replication_role;
RESET ROLE;
SELECT count(*) > 0 AS audit_log_kept FROM audit_log;
-- the category operator from a search_path without privacy_tags
SET search_path = public;
SELECT count(*) AS contact_columns FROM privacy_tags.columns
 WHERE relation = 'trust_customers'::regclass AND tag OPERATOR(privacy_tags.<@) 'contact';
SET search_path = public, privacy_tags;

DROP TABLE trust_customers, trust_accounts, trust_batches, trust_skipped, trust_broken, trust_log_people;
DROP FUNCTION trust_skip_once(), trust_refuse();
DROP ROLE trust_nobody, trust_admin, trust_super;
