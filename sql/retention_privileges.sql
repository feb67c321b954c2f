-- Who may purge, hold and schedule; the audit log is append-only.
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';

CREATE TABLE owned (id int, email text, seen date);
SELECT tag('owned', 'email', 'contact.email; retain=1 year after seen');
SELECT set_subject('owned', 'id', 'customer');
INSERT INTO owned VALUES (1, 'a@example.com', '2020-01-01'), (2, 'b@example.com', '2030-01-01');

CREATE ROLE pt_plain;
CREATE ROLE pt_admin IN ROLE privacy_admin;
GRANT USAGE ON SCHEMA public TO pt_plain, pt_admin;

-- a plain role may do none of it
SET ROLE pt_plain;
SELECT * FROM try($$SELECT * FROM privacy_tags.purge()$$);
SELECT * FROM try($$CALL privacy_tags.run_purge()$$);
SELECT * FROM try($$SELECT privacy_tags.hold('customer', '1', 'x')$$);
SELECT * FROM try($$SELECT privacy_tags.release('customer', '1')$$);
SELECT * FROM try($$SELECT privacy_tags.schedule_purge('0 3 * * *')$$);
SELECT * FROM try($$SELECT privacy_tags.subject_hash('customer', '1')$$);
SELECT * FROM try($$SELECT count(*) FROM privacy_tags.audit_log$$);
SELECT * FROM try($$SELECT count(*) FROM privacy_tags.legal_holds$$);
SELECT * FROM try($$SELECT * FROM privacy_tags.audit_key$$);
SELECT * FROM try($$SELECT privacy_tags.enforce('owned')$$);
-- but may read the inventory
SELECT column_name, category FROM privacy_tags.columns WHERE relation = 'owned'::regclass;
RESET ROLE;

-- a member of privacy_admin may purge tables it does not own
SET ROLE pt_admin;
SELECT * FROM privacy_tags.purge('owned', as_of => '2024-01-01');
SELECT privacy_tags.hold('customer', '1', 'x') > 0 AS held;
SELECT privacy_tags.release('customer', '1');
SELECT count(*) > 0 AS reads_audit_log FROM privacy_tags.audit_log;
-- the audit log is append-only, for members of privacy_admin too
SELECT * FROM try($$UPDATE privacy_tags.audit_log SET rows = 0$$);
SELECT * FROM try($$DELETE FROM privacy_tags.audit_log$$);
SELECT * FROM try($$INSERT INTO privacy_tags.audit_log (action) VALUES ('forged')$$);
SELECT * FROM try($$TRUNCATE privacy_tags.audit_log$$);
RESET ROLE;
SELECT id FROM owned ORDER BY id;

-- even another superuser cannot change it; only its owner can
CREATE ROLE pt_other_super SUPERUSER;
SET ROLE pt_other_super;
SELECT * FROM try($$DELETE FROM privacy_tags.audit_log$$);
SELECT * FROM try($$TRUNCATE privacy_tags.audit_log$$);
RESET ROLE;
SELECT count(*) > 0 AS audit_log_intact FROM audit_log;

-- scheduling: a clear error without pg_cron, a job with it
SELECT * FROM try($$SELECT privacy_tags.schedule_purge('0 3 1 */3 *')$$);
CREATE EXTENSION pg_cron;
SELECT schedule_purge('0 3 1 */3 *') > 0 AS scheduled;            -- quarterly, at 03:00 on the 1st
SELECT jobname, schedule, command, username FROM cron.job ORDER BY jobid;
SELECT schedule_purge('0 4 * * 0') > 0 AS rescheduled;            -- same name: replaced
SELECT jobname, schedule FROM cron.job ORDER BY jobid;
-- (pg_cron's own message and hint differ between its versions)
SELECT state, strpos(message, 'every blue moon') > 0 AS names_the_schedule
  FROM try($$SELECT privacy_tags.schedule_purge('every blue moon')$$);
SELECT unschedule_purge();
SELECT count(*) FROM cron.job;
DROP EXTENSION pg_cron;
SELECT action, details->>'schedule' AS schedule FROM audit_log WHERE action LIKE '%schedule%' ORDER BY id;

DROP TABLE owned;
DROP OWNED BY pt_plain, pt_admin, pt_other_super;
DROP ROLE pt_plain, pt_admin, pt_other_super;
