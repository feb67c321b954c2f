-- Bad input everywhere: every function of the README reference called with
-- NULLs, empty strings, unknown relations, dropped columns, a view, a
-- materialized view, a foreign table, a temporary table, a partition and its
-- parent, other relation kinds, and huge inputs.  Each call gives a clear
-- error or a defined result; the last queries prove that none was an
-- internal error (XX000) and that no public function lacks a case.
-- (Named zz_ so that it runs last: its audit rows touch no other file.)
SET search_path = public, privacy_tags;
SET client_min_messages = warning;

CREATE SCHEMA bad;
CREATE TABLE bad.t (id int PRIMARY KEY, email text, gone text, seen date, n int NOT NULL DEFAULT 0);
ALTER TABLE bad.t DROP COLUMN gone;
INSERT INTO bad.t VALUES (1, 'one@example.com', '2001-01-01'), (2, 'two@example.com', NULL);
CREATE VIEW bad.v AS SELECT * FROM bad.t;
CREATE MATERIALIZED VIEW bad.mv AS SELECT * FROM bad.t;
CREATE FOREIGN DATA WRAPPER bad_fdw;
CREATE SERVER bad_srv FOREIGN DATA WRAPPER bad_fdw;
CREATE FOREIGN TABLE bad.ft (id int, email text, seen date, note text) SERVER bad_srv;
CREATE TEMP TABLE bad_tmp (id int PRIMARY KEY, email text, seen date);
INSERT INTO bad_tmp VALUES (1, 'tmp@example.com', '2001-01-01');
CREATE TABLE bad.p (id int, email text, seen date) PARTITION BY RANGE (seen);
CREATE TABLE bad.p1 PARTITION OF bad.p FOR VALUES FROM ('2000-01-01') TO ('2100-01-01');
INSERT INTO bad.p VALUES (1, 'p@example.com', '2001-01-01');
CREATE SEQUENCE bad.seq;
CREATE INDEX bad_idx ON bad.t (email);
CREATE TABLE bad.trg (id int, email text, seen date);
INSERT INTO bad.trg VALUES (1, 'trg@example.com', now());
CREATE TYPE bad.comp AS (a int, b text);
CREATE TABLE bad.bigname ("Ä very ""odd"" column name that is long enough to be cut at sixty-three bytes" text);

-- one row per call; fn names the function the call is about
CREATE TABLE bad_calls (id serial PRIMARY KEY, fn text NOT NULL, stmt text NOT NULL);
INSERT INTO bad_calls (fn, stmt) VALUES
-- type input and operators
('privacy_tag_in', $$SELECT NULL::privacy_tag$$),
('privacy_tag_in', $$SELECT ''::privacy_tag$$),
('privacy_tag_in', $$SELECT ' '::privacy_tag$$),
('privacy_tag_in', $$SELECT repeat('a', 1000000)::privacy_tag$$),
('privacy_tag_in', $$SELECT ('contact.email; purpose=' || repeat('p,', 100000) || 'p')::privacy_tag$$),
('privacy_tag_in', $$SELECT 'contact.email; retain=99999999999999999999 years after seen'::privacy_tag$$),
('privacy_tag_in', $$SELECT E'contact.email\x01'::privacy_tag$$),
('privacy_tag_out', $$SELECT 'contact.email'::privacy_tag::text$$),
('privacy_tag_cmp', $$SELECT privacy_tag_cmp(NULL, 'contact')$$),
('privacy_tag_eq', $$SELECT 'contact'::privacy_tag = NULL$$),
('privacy_tag_within_text', $$SELECT 'contact.email'::privacy_tag <@ ''::text$$),
('privacy_tag_within_text', $$SELECT 'contact.email'::privacy_tag <@ NULL::text$$),
('privacy_tag_within_text', $$SELECT 'contact.email'::privacy_tag <@ repeat('x.', 500000)$$),
('privacy_tag_within_text', $$SELECT 'contact.email'::privacy_tag <@ 'Contact..Email'$$),
('privacy_tag_text_contains', $$SELECT repeat('contact', 1000) @> 'contact.email'::privacy_tag$$),
-- accessors
('category', $$SELECT category(NULL)$$),
('legal_basis', $$SELECT legal_basis(NULL)$$),
('special_condition', $$SELECT special_condition(NULL)$$),
('purposes', $$SELECT purposes(NULL)$$),
('retention', $$SELECT retention(NULL)$$),
('retention_anchor', $$SELECT retention_anchor(NULL)$$),
('expiry_action', $$SELECT expiry_action(NULL)$$),
-- taxonomy
('add_category', $$SELECT add_category(NULL, 'd')$$),
('add_category', $$SELECT add_category('contact.x', NULL)$$),
('add_category', $$SELECT add_category('', 'd')$$),
('add_category', $$SELECT add_category('contact..x', 'd')$$),
('add_category', $$SELECT add_category('Contact.X', 'd')$$),
('add_category', $$SELECT add_category('nosuchparent.x', 'd')$$),
('add_category', $$SELECT add_category('contact.email', 'd')$$),
('add_category', $$SELECT add_category('contact.' || repeat('x', 100000), 'd')$$),
('add_category', $$SELECT add_category('contact.x', repeat('d', 1000000))$$),
('add_category', $$SELECT add_category('contact.y', 'd', NULL, '')$$),
('add_category', $$SELECT add_category('contact.y', 'd', NULL, 'Z')$$),
('add_category', $$SELECT add_category('contact.y', 'd', NULL, 'AB')$$),
('add_category', $$SELECT add_category('contact.y', 'd', false, NULL)$$),
-- tagging
('tag', $$SELECT tag(NULL, 'email', 'contact.email')$$),
('tag', $$SELECT tag('bad.t', NULL, 'contact.email')$$),
('tag', $$SELECT tag('bad.t', 'email', NULL)$$),
('tag', $$SELECT tag('bad.t', '', 'contact.email')$$),
('tag', $$SELECT tag('bad.t', 'email', '')$$),
('tag', $$SELECT tag('bad.nosuch', 'email', 'contact.email')$$),
('tag', $$SELECT tag(2147483647::oid::regclass, 'email', 'contact.email')$$),
('tag', $$SELECT tag(0::regclass, 'email', 'contact.email')$$),
('tag', $$SELECT tag('bad.t', 'nosuch', 'contact.email')$$),
('tag', $$SELECT tag('bad.t', '........pg.dropped.3........', 'contact.email')$$),
('tag', $$SELECT tag('bad.t', 'ctid', 'contact.email')$$),
('tag', $$SELECT tag('bad.t', repeat('c', 100000), 'contact.email')$$),
('tag', $$SELECT tag('bad.t', 'email', 'contact.email; retain=1 year after gone')$$),
('tag', $$SELECT tag('bad.t', 'email', 'contact.email; retain=1 year after email')$$),
('tag', $$SELECT tag('bad.t', 'email', 'contact.email; retain=1 year after xmin')$$),
('tag', $$SELECT tag('bad.t', 'n', 'contact.email; retain=1 year after seen; on_expiry=nullify')$$),
('tag', $$SELECT tag('bad.v', 'email', 'contact.email')$$),
('tag', $$SELECT tag('bad.mv', 'email', 'contact.email')$$),
('tag', $$SELECT tag('bad.seq', 'last_value', 'contact.email')$$),
('tag', $$SELECT tag('bad.bad_idx', 'email', 'contact.email')$$),
('tag', $$SELECT tag('bad.comp', 'b', 'contact.email')$$),
('tag', $$SELECT tag('pg_class', 'relname', 'contact.email')$$),
('tag', $$SELECT tag('bad.ft', 'email', 'contact.email; retain=1 year after seen')$$),
('tag', $$SELECT tag('bad_tmp', 'email', 'contact.email; retain=1 year after seen')$$),
('tag', $$SELECT tag('bad.p1', 'email', 'contact.email; retain=1 year after seen')$$),
('tag', $$SELECT tag('bad.p', 'email', 'contact.email; retain=1 year after seen')$$),
('tag', $$SELECT tag('bad.t', 'email', 'contact.email; retain=1 year after seen')$$),
('tag', $$SELECT tag('bad.bigname', 'Ä very "odd" column name that is long enough to be cut at sixty-three bytes', 'contact.email')$$),
('untag', $$SELECT untag(NULL, 'email')$$),
('untag', $$SELECT untag('bad.t', NULL)$$),
('untag', $$SELECT untag('bad.t', '')$$),
('untag', $$SELECT untag('bad.t', 'nosuch')$$),
('untag', $$SELECT untag('bad.t', '........pg.dropped.3........')$$),
('untag', $$SELECT untag(2147483647::oid::regclass, 'email')$$),
('untag', $$SELECT untag('bad.v', 'email')$$),
('untag', $$SELECT untag('bad.t', 'id')$$),
('set_subject', $$SELECT set_subject(NULL, 'id', 'person')$$),
('set_subject', $$SELECT set_subject('bad.t', NULL, 'person')$$),
('set_subject', $$SELECT set_subject('bad.t', 'id', NULL)$$),
('set_subject', $$SELECT set_subject('bad.t', 'id', '')$$),
('set_subject', $$SELECT set_subject('bad.t', 'id', 'Not A Type')$$),
('set_subject', $$SELECT set_subject('bad.t', 'id', repeat('p', 1000000))$$),
('set_subject', $$SELECT set_subject('bad.t', 'id', 'person', 'nosuch')$$),
('set_subject', $$SELECT set_subject('bad.t', 'id', 'person', 'email')$$),
('set_subject', $$SELECT set_subject('bad.t', 'id', 'person', '')$$),
('set_subject', $$SELECT set_subject('bad.t', '........pg.dropped.3........', 'person')$$),
('set_subject', $$SELECT set_subject(2147483647::oid::regclass, 'id', 'person')$$),
('set_subject', $$SELECT set_subject('bad.v', 'id', 'person')$$),
('set_subject', $$SELECT set_subject('bad.ft', 'id', 'person')$$),
('set_subject', $$SELECT set_subject('bad_tmp', 'id', 'person', 'seen')$$),
('set_subject', $$SELECT set_subject('bad.p', 'id', 'person')$$),
('set_subject', $$SELECT set_subject('bad.t', 'id', 'person', 'seen')$$),
('unset_subject', $$SELECT unset_subject(NULL, 'id')$$),
('unset_subject', $$SELECT unset_subject('bad.t', NULL)$$),
('unset_subject', $$SELECT unset_subject('bad.t', 'nosuch')$$),
('unset_subject', $$SELECT unset_subject(2147483647::oid::regclass, 'id')$$),
('unset_subject', $$SELECT unset_subject('bad.v', 'id')$$),
('unset_subject', $$SELECT unset_subject('bad.t', 'email')$$),
('subject_label_type', $$SELECT subject_label_type(NULL)$$),
('subject_label_type', $$SELECT subject_label_type('')$$),
('subject_label_type', $$SELECT subject_label_type('person; collected_at=')$$),
('subject_label_type', $$SELECT subject_label_type(repeat('p', 1000000))$$),
('subject_label_collected_at', $$SELECT subject_label_collected_at(NULL)$$),
('subject_label_collected_at', $$SELECT subject_label_collected_at('')$$),
('subject_label_collected_at', $$SELECT subject_label_collected_at('person; collected_at=' || repeat('c', 100000))$$),
('subject_label_collected_at', $$SELECT subject_label_collected_at('person; collected_at="a""b"')$$),
-- security labels given directly
('tag', $$SECURITY LABEL FOR privacy_tags ON TABLE bad.t IS 'contact.email'$$),
('tag', $$SECURITY LABEL FOR privacy_tags ON COLUMN bad.v.email IS 'contact.email'$$),
('tag', $$SECURITY LABEL FOR privacy_tags ON COLUMN bad.t.email IS ''$$),
('set_subject', $$SECURITY LABEL FOR privacy_tags_subject ON COLUMN bad.t.id IS ''$$),
('set_subject', $$SECURITY LABEL FOR privacy_tags_subject ON SCHEMA bad IS 'person'$$),
-- retention
('enforce', $$SELECT enforce(NULL)$$),
('enforce', $$SELECT enforce(2147483647::oid::regclass)$$),
('enforce', $$SELECT enforce('bad.v')$$),
('enforce', $$SELECT enforce('bad.mv')$$),
('enforce', $$SELECT enforce('bad.seq')$$),
('enforce', $$SELECT enforce('bad.ft')$$),
('enforce', $$SELECT enforce('bad.bigname')$$),
('enforce', $$SELECT enforce('bad_tmp')$$),
('enforce', $$SELECT enforce('bad.p1')$$),
('enforce', $$SELECT enforce('bad.p')$$),
('enforce', $$SELECT enforce('bad.p1')$$),
('unenforce', $$SELECT unenforce('bad.p1')$$),
('enforce', $$SELECT enforce('bad.t')$$),
('enforce', $$SELECT enforce('bad.t')$$),
('unenforce', $$SELECT unenforce(NULL)$$),
('unenforce', $$SELECT unenforce(2147483647::oid::regclass)$$),
('unenforce', $$SELECT unenforce('bad.v')$$),
('unenforce', $$SELECT unenforce('bad.ft')$$),
('unenforce', $$SELECT unenforce('bad.bigname')$$),
('retention_trigger', $$SELECT retention_trigger()$$),
('retention_trigger', $$CREATE TRIGGER bad_args BEFORE INSERT ON bad.trg FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger('nonsense')$$),
('retention_trigger', $$INSERT INTO bad.trg VALUES (2, 'x@example.com', now())$$),
('retention_trigger', $$DROP TRIGGER bad_args ON bad.trg$$),
('retention_trigger', $$CREATE TRIGGER bad_args BEFORE INSERT ON bad.trg FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger('email', 'not a tag')$$),
('retention_trigger', $$INSERT INTO bad.trg VALUES (2, 'x@example.com', now())$$),
('retention_trigger', $$DROP TRIGGER bad_args ON bad.trg$$),
('retention_trigger', $$CREATE TRIGGER bad_args BEFORE INSERT ON bad.trg FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger('nosuch', 'contact.email; retain=1 year after seen')$$),
('retention_trigger', $$INSERT INTO bad.trg VALUES (2, 'x@example.com', now())$$),
('retention_trigger', $$DROP TRIGGER bad_args ON bad.trg$$),
('retention_trigger', $$CREATE TRIGGER bad_args BEFORE INSERT ON bad.trg FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger('email', 'contact.email; retain=1 year after nosuch')$$),
('retention_trigger', $$INSERT INTO bad.trg VALUES (2, 'x@example.com', now())$$),
('retention_trigger', $$DROP TRIGGER bad_args ON bad.trg$$),
('retention_trigger', $$CREATE TRIGGER bad_args BEFORE INSERT ON bad.trg FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger('email', 'contact.email; retain=1 year after email')$$),
('retention_trigger', $$INSERT INTO bad.trg VALUES (2, 'x@example.com', now())$$),
('retention_trigger', $$DROP TRIGGER bad_args ON bad.trg$$),
('retention_trigger', $$CREATE TRIGGER bad_args BEFORE INSERT ON bad.trg FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger('id', '@subject ')$$),
('retention_trigger', $$INSERT INTO bad.trg VALUES (2, 'x@example.com', now())$$),
('retention_trigger', $$DROP TRIGGER bad_args ON bad.trg$$),
('retention_trigger', $$CREATE TRIGGER bad_args AFTER INSERT ON bad.trg FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger('email', 'contact.email; retain=1 year after seen')$$),
('retention_trigger', $$INSERT INTO bad.trg VALUES (2, 'x@example.com', now())$$),
('retention_trigger', $$DROP TRIGGER bad_args ON bad.trg$$),
('retention_trigger', $$CREATE TRIGGER bad_args BEFORE INSERT ON bad.trg FOR EACH STATEMENT EXECUTE FUNCTION privacy_tags.retention_trigger('email', 'contact.email; retain=1 year after seen')$$),
('retention_trigger', $$INSERT INTO bad.trg VALUES (2, 'x@example.com', now())$$),
('retention_trigger', $$DROP TRIGGER bad_args ON bad.trg$$),
('retention_trigger', $$CREATE TRIGGER bad_args BEFORE DELETE ON bad.trg FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger('email', 'contact.email; retain=1 year after seen')$$),
('retention_trigger', $$DELETE FROM bad.trg WHERE id = 1$$),
('retention_trigger', $$DROP TRIGGER bad_args ON bad.trg$$),
('retention_trigger', $$INSERT INTO bad.t VALUES (11, 'old@example.com', '2001-01-01')$$),
('retention_trigger', $$INSERT INTO bad_tmp VALUES (11, 'old@example.com', '2001-01-01')$$),
('retention_trigger', $$INSERT INTO bad.p VALUES (11, 'old@example.com', '2001-01-01')$$),
('retention_trigger', $$INSERT INTO bad.t VALUES (12, 'new@example.com', 'infinity')$$),
('retention_trigger', $$INSERT INTO bad.t VALUES (13, 'new@example.com', '-infinity')$$),
('purge', $$SELECT * FROM purge(2147483647::oid::regclass)$$),
('purge', $$SELECT * FROM purge('bad.v')$$),
('purge', $$SELECT * FROM purge('bad.ft')$$),
('purge', $$SELECT * FROM purge('bad.bigname')$$),
('purge', $$SELECT * FROM purge('bad.t', NULL)$$),
('purge', $$SELECT * FROM purge('bad.t', now(), NULL)$$),
('purge', $$SELECT * FROM purge('bad.t', 'infinity')$$),
('purge', $$SELECT * FROM purge('bad.t', '-infinity')$$),
('purge', $$SELECT * FROM purge('bad_tmp', dry_run => true)$$),
('purge', $$SELECT * FROM purge('bad.p1', dry_run => true)$$),
('purge', $$SELECT * FROM purge('bad.p', dry_run => true)$$),
('purge', $$SELECT * FROM purge('bad.t', dry_run => true)$$),
('run_purge', $$CALL run_purge('bad.t', batch_size => 0)$$),
('run_purge', $$CALL run_purge('bad.t', batch_size => -1)$$),
('run_purge', $$CALL run_purge('bad.t', batch_size => NULL)$$),
('run_purge', $$CALL run_purge('bad.v')$$),
('run_purge', $$CALL run_purge(2147483647::oid::regclass)$$),
('run_purge', $$CALL run_purge('bad.t', max_rows => 0)$$),
('run_purge', $$CALL run_purge('bad.t', max_duration => '-1 s')$$),
('purge_batch', $$SELECT * FROM purge_batch('bad.t', batch_size => 0)$$),
('purge_batch', $$SELECT * FROM purge_batch('bad.t', NULL)$$),
('purge_batch', $$SELECT * FROM purge_batch('bad.t', batch_size => NULL)$$),
('purge_batch', $$SELECT * FROM purge_batch('bad.v')$$),
('purge_batch', $$SELECT * FROM purge_batch(2147483647::oid::regclass)$$),
('purge_batch', $$SELECT * FROM purge_batch('bad.ft')$$),
('purge_batch', $$SELECT * FROM purge_batch('bad.t', skip => NULL)$$),
('hold', $$SELECT hold(NULL, '1', 'r')$$),
('hold', $$SELECT hold('person', NULL, 'r')$$),
('hold', $$SELECT hold('person', '1', NULL)$$),
('hold', $$SELECT hold('', '1', 'r')$$),
('hold', $$SELECT hold('person', '', 'r')$$),
('hold', $$SELECT hold('person', '1', '')$$),
('hold', $$SELECT hold('person', '1', 'r', '-infinity')$$),
('hold', $$SELECT hold('person', '1', 'r', now() - interval '1 day')$$),
('hold', $$SELECT hold('person', repeat('1', 1000000), repeat('r', 1000000)) > 0$$),
('release', $$SELECT release(NULL, '1')$$),
('release', $$SELECT release('person', NULL)$$),
('release', $$SELECT release('', '')$$),
('release', $$SELECT release('person', repeat('1', 1000000))$$),
('release', $$SELECT release('nosuch', '1')$$),
('schedule_purge', $$SELECT schedule_purge(NULL)$$),
('schedule_purge', $$SELECT schedule_purge('', NULL)$$),
('schedule_purge', $$SELECT schedule_purge('')$$),
('schedule_purge', $$SELECT schedule_purge('0 3 * * *', '')$$),
('unschedule_purge', $$SELECT unschedule_purge(NULL)$$),
('unschedule_purge', $$SELECT unschedule_purge('')$$),
('subject_hash', $$SELECT subject_hash(NULL, '1')$$),
('subject_hash', $$SELECT subject_hash('person', NULL)$$),
('subject_hash', $$SELECT length(subject_hash('', ''))$$),
('subject_hash', $$SELECT length(subject_hash(repeat('p', 1000000), repeat('1', 1000000)))$$),
-- data-subject rights
('subject_access', $$SELECT subject_access(NULL, '1')$$),
('subject_access', $$SELECT subject_access('person', NULL)$$),
('subject_access', $$SELECT subject_access('person', '1', NULL, NULL)$$),
('subject_access', $$SELECT subject_access('', '')$$),
('subject_access', $$SELECT subject_access('nosuch', '1') - 'generated_at'$$),
('subject_access', $$SELECT subject_access('person', 'not an integer') - 'generated_at'$$),
('subject_access', $$SELECT unset_subject('bad.ft', 'id')$$),
('subject_access', $$SELECT subject_access('persn', '1')$$),
('subject_access', $$SELECT subject_access('person', repeat('9', 1001))$$),
('subject_access', $$SELECT subject_access('person', repeat('9', 1000)) - 'generated_at'$$),
('subject_access', $$SELECT subject_access('person', '1', 'infinity') - 'generated_at'$$),
('subject_access', $$SELECT subject_access('person', '1', '-infinity', true) - 'generated_at'$$),
('erase', $$SELECT erase(NULL, '1')$$),
('erase', $$SELECT erase('person', NULL)$$),
('erase', $$SELECT erase('person', '1', NULL)$$),
('erase', $$SELECT erase('', '')$$),
('erase', $$SELECT erase('nosuch', '1')$$),
('erase', $$SELECT erase('person', 'not an integer')$$),
('erase', $$SELECT erase('person', repeat('9', 1000), true)$$),
('erase', $$SELECT erase('person', '2', true)$$),
('grant_consent', $$SELECT grant_consent(NULL, '1', 'news')$$),
('grant_consent', $$SELECT grant_consent('person', NULL, 'news')$$),
('grant_consent', $$SELECT grant_consent('person', '1', NULL)$$),
('grant_consent', $$SELECT grant_consent('person', '1', '')$$),
('grant_consent', $$SELECT grant_consent('', '1', 'news')$$),
('grant_consent', $$SELECT grant_consent('person', '1', 'Not A Purpose')$$),
('grant_consent', $$SELECT grant_consent('person', '1', repeat('n', 1000))$$),
('withdraw_consent', $$SELECT withdraw_consent(NULL, '1')$$),
('withdraw_consent', $$SELECT withdraw_consent('person', NULL)$$),
('withdraw_consent', $$SELECT withdraw_consent('person', '1', NULL, NULL)$$),
('withdraw_consent', $$SELECT withdraw_consent('person', '1', '')$$),
('withdraw_consent', $$SELECT withdraw_consent('person', '1', 'never_granted', true)$$),
('restrict', $$SELECT restrict(NULL, '1', 'r')$$),
('restrict', $$SELECT restrict('person', '1', NULL)$$),
('restrict', $$SELECT restrict('person', '1', '')$$),
('restrict', $$SELECT restrict('', '', 'r')$$),
('lift_restriction', $$SELECT lift_restriction(NULL, '1')$$),
('lift_restriction', $$SELECT lift_restriction('person', NULL)$$),
('lift_restriction', $$SELECT lift_restriction('person', '1', '')$$),
('lift_restriction', $$SELECT lift_restriction('nosuch', '1')$$),
('suppress', $$SELECT suppress(NULL, '1')$$),
('suppress', $$SELECT suppress('person', NULL)$$),
('suppress', $$SELECT suppress('', '')$$),
('is_suppressed', $$SELECT is_suppressed(NULL, '1')$$),
('is_suppressed', $$SELECT is_suppressed('', '')$$),
('is_suppressed', $$SELECT is_suppressed('person', repeat('1', 1000000))$$),
-- objection, requests, the ledger, deferred erasures
('object', $$SELECT object(NULL, '1')$$),
('object', $$SELECT object('person', '1', 'Not A Purpose')$$),
('object', $$SELECT object('person', '1', NULL, NULL)$$),
('object', $$SELECT object('nosuch', '1')$$),
('object', $$SELECT object('person', '1', NULL, false, 999999)$$),
('withdraw_objection', $$SELECT withdraw_objection(NULL, '1')$$),
('withdraw_objection', $$SELECT withdraw_objection('person', '1', '')$$),
('opt_out_purposes', $$SELECT opt_out_purposes() @> '{sale}'$$),
('open_request', $$SELECT open_request('access', 'person', NULL)$$),
('open_request', $$SELECT open_request('complaint', 'person', '1')$$),
('open_request', $$SELECT open_request('access', 'person', '1', 'lgpd')$$),
('open_request', $$SELECT open_request('access', 'person', '1', 'gdpr', now() + interval '1 day')$$),
('open_request', $$SELECT open_request('access', 'nosuch', '1')$$),
('extend_request', $$SELECT extend_request(NULL, 'x')$$),
('extend_request', $$SELECT extend_request(999999, 'complex')$$),
('extend_request', $$SELECT extend_request(1, ' ')$$),
('close_request', $$SELECT close_request(NULL, 'completed')$$),
('close_request', $$SELECT close_request(999999, 'completed')$$),
('close_request', $$SELECT close_request(1, 'done')$$),
('export_ledger', $$SELECT export_ledger('infinity') -> 'entries'$$),
('import_ledger', $$SELECT import_ledger(NULL)$$),
('import_ledger', $$SELECT import_ledger('[]')$$),
('import_ledger', $$SELECT import_ledger('{"format": "privacy_tags.erasure_ledger/1", "entries": [{"scope": "erase"}]}')$$),
('reapply_erasures', $$SELECT reapply_erasures(NULL, NULL)$$),
('complete_deferred_erasures', $$SELECT complete_deferred_erasures()$$),
-- reporting
('value_kind', $$SELECT value_kind(NULL)$$),
('value_kind', $$SELECT value_kind('')$$),
('value_kind', $$SELECT value_kind(repeat('@', 10000000))$$),
('value_kind', $$SELECT value_kind(repeat('1', 10000000))$$),
('value_kind', $$SELECT value_kind(E'\u00e5@\u00e4.se')$$),
('discover', $$SELECT count(*) FROM discover(NULL)$$),
('discover', $$SELECT count(*) FROM discover('bad', NULL)$$),
('discover', $$SELECT count(*) FROM discover('')$$),
('discover', $$SELECT count(*) FROM discover('nosuch')$$),
('discover', $$SELECT count(*) FROM discover('bad', 0)$$),
('discover', $$SELECT count(*) FROM discover('bad', -1)$$),
('discover', $$SELECT count(*) FROM discover('bad', 2147483647)$$),
('discover', $$SELECT count(*) FROM discover('pg_toast')$$),
('discover', $$SELECT count(*) FROM discover('bad')$$),
('discover', $$SELECT count(*) FROM discover(repeat('s', 1000))$$),
('processing_record', $$SELECT jsonb_typeof(processing_record())$$),
('processing_record', $$SELECT count(*) FROM record_of_processing$$),
('processing_record_text', $$SELECT length(processing_record_text()) > 0$$),
('set_controller', $$SELECT set_controller(NULL, 'c')$$),
('set_controller', $$SELECT set_controller('n', '')$$),
('set_controller', $$SELECT set_controller('n', 'c', dpo => repeat('x', 100000))$$),
('remove_controller', $$SELECT remove_controller() AND false$$),
('add_recipient', $$SELECT add_recipient(NULL, 'processor', 'SE', '{x}')$$),
('add_recipient', $$SELECT add_recipient('r', NULL, 'SE', '{x}')$$),
('add_recipient', $$SELECT add_recipient('r', 'processor', 'CN', '{x}')$$),
('add_recipient', $$SELECT add_recipient('r', 'processor', 'SE', '{NULL}')$$),
('add_recipient', $$SELECT add_recipient(repeat('r', 1000), 'processor', 'SE', '{x}')$$),
('remove_recipient', $$SELECT remove_recipient(NULL)$$),
('remove_recipient', $$SELECT remove_recipient('no such recipient')$$),
('add_security_measure', $$SELECT add_security_measure(NULL)$$),
('add_security_measure', $$SELECT add_security_measure('m', 'Not A Purpose')$$),
('remove_security_measure', $$SELECT remove_security_measure('')$$),
('remove_security_measure', $$SELECT remove_security_measure('m', 'no_such_purpose')$$),
('add_source', $$SELECT add_source(NULL, 'subject')$$),
('add_source', $$SELECT add_source('bad.t', NULL)$$),
('add_source', $$SELECT add_source('bad.v', 'subject')$$),
('add_source', $$SELECT add_source('bad.t', 'subject', 'gone')$$),
('remove_source', $$SELECT remove_source(NULL)$$),
('remove_source', $$SELECT remove_source('bad.t', 'nosuch')$$),
('add_automated_decision', $$SELECT add_automated_decision(NULL, 'd', 'l', 's')$$),
('add_automated_decision', $$SELECT add_automated_decision('p', '', 'l', 's')$$),
('remove_automated_decision', $$SELECT remove_automated_decision(NULL)$$),
('remove_automated_decision', $$SELECT remove_automated_decision('Bad Purpose')$$),
('set_processing_role', $$SELECT set_processing_role(NULL, 'processor')$$),
('set_processing_role', $$SELECT set_processing_role('p', 'processor')$$),
('set_processing_role', $$SELECT set_processing_role('p', 'vendor', 'c')$$),
('remove_processing_role', $$SELECT remove_processing_role(NULL)$$),
('remove_processing_role', $$SELECT remove_processing_role('no_such_purpose')$$),
('fides_category', $$SELECT * FROM fides_category(NULL)$$),
('fides_category', $$SELECT * FROM fides_category('')$$),
('fides_category', $$SELECT * FROM fides_category(repeat('user.', 100))$$),
('import_fides_dataset', $$SELECT import_fides_dataset(NULL)$$),
('import_fides_dataset', $$SELECT import_fides_dataset('{}')$$),
('import_fides_dataset', $$SELECT import_fides_dataset('"text"')$$),
('import_fides_dataset', $$SELECT import_fides_dataset('{"fides_key": "k", "collections": [{"name": "v", "fields": [{"name": "email", "data_categories": ["user.contact.email"]}]}]}', schema_name => 'bad') -> 'not_mapped'$$),
('import_fides_dataset', $$SELECT import_fides_dataset('{"fides_key": "k", "collections": [{"name": "t", "fields": [{"name": "gone", "data_categories": ["user.contact.email"]}, {"name": 7}]}]}', schema_name => 'bad', dry_run => true) -> 'not_mapped'$$),
('export_fides_dataset', $$SELECT export_fides_dataset(NULL)$$),
('export_fides_dataset', $$SELECT export_fides_dataset('nosuch')$$),
('export_fides_dataset', $$SELECT export_fides_dataset('bad', '')$$),
('data_map', $$SELECT data_map(NULL)$$),
('data_map', $$SELECT data_map('svg')$$),
-- the subject graph and declared links
('subject_graph', $$SELECT * FROM subject_graph(NULL)$$),
('subject_graph', $$SELECT * FROM subject_graph('nosuch')$$),
('subject_graph', $$SELECT count(*) FROM subject_graph('person')$$),
('link', $$SELECT link(NULL, '{id}', 'bad.t', '{id}')$$),
('link', $$SELECT link('bad.t', '{id}', 'bad.t', '{}')$$),
('link', $$SELECT link('bad.t', '{nosuch}', 'bad.t', '{id}')$$),
('link', $$SELECT link('bad.t', '{id}', 'bad.v', '{id}')$$),
('link', $$SELECT link(2147483647::oid::regclass, '{id}', 'bad.t', '{id}')$$),
('unlink', $$SELECT unlink('bad.t', '{id}', 'bad.t', '{nosuch}')$$),
('unlink', $$SELECT unlink('bad.t', NULL, 'bad.t', '{id}')$$),
-- subject key types
('subject_key_type', $$SELECT subject_key_type(NULL)$$),
('subject_key_type', $$SELECT subject_key_type('')$$),
('subject_key_type', $$SELECT subject_key_type(repeat('p', 1000000))$$),
('subject_key_type', $$SELECT subject_key_type('person')$$),
-- the mask accessor (1.2)
('mask', $$SELECT mask(NULL)$$),
('mask', $$SELECT mask('contact.email; mask=blur')$$),
('mask', $$SELECT mask((E'contact.email; mask=\'' || repeat('x', 1000000) || E'\'')::privacy_tag)$$),
-- Citus (1.2): without it there is nothing to set up
('citus_setup', $$SELECT citus_setup()$$);

CREATE TABLE bad_results AS
SELECT c.id, c.fn, c.stmt, r.state, r.message
  FROM bad_calls c, LATERAL try(c.stmt) r
 ORDER BY c.id;

-- what each call did (messages cut at 150 characters: some quote huge input)
SELECT id, fn, stmt, state, left(message, 150) AS message FROM bad_results ORDER BY id;

-- run_purge commits, so it cannot run inside try(): as_of NULL means now
CALL run_purge('bad.t', NULL);
CALL run_purge('bad_tmp', '-infinity', 1);
CALL run_purge('bad.p', 'infinity', 1);

-- the results that calls with a defined result gave
SELECT 'contact.email'::privacy_tag <@ ''::text AS within_empty,
       category(NULL) IS NULL AS accessor_null,
       value_kind('') AS kind_empty,
       value_kind(repeat('@', 10000000)) AS kind_huge,
       untag('bad.t', 'id') AS untag_untagged;
SELECT relation, column_name, tag FROM privacy_tags.columns
 WHERE relation::text ~ '^(bad|bad_tmp)' ORDER BY 1, 2;
SELECT relation, column_name, subject_type, collected_at FROM privacy_tags.subjects
 WHERE relation::text ~ '^(bad|bad_tmp)' ORDER BY 1, 2;
SELECT id, email, seen FROM bad.t ORDER BY id;

-- no call failed with an internal error
SELECT count(*) AS calls, count(*) FILTER (WHERE state = 'XX000') AS internal_errors,
       count(*) FILTER (WHERE state = '00000') AS succeeded
  FROM bad_results;

-- every public function of the extension has at least one bad-input case
SELECT p.proname AS function_without_case
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'privacy_tags'
 WHERE p.proname !~ '^_'
   AND p.proname NOT IN ('privacy_tag_recv', 'privacy_tag_send',	-- binary I/O: pgTAP type test
                         'privacy_tag_hash', 'privacy_tag_hash_extended')
   AND p.proname NOT IN ('privacy_tag_ne', 'privacy_tag_lt', 'privacy_tag_le', 'privacy_tag_gt',
                         'privacy_tag_ge', 'privacy_tag_within', 'privacy_tag_contains')	-- as privacy_tag_cmp
EXCEPT
SELECT fn FROM bad_calls
ORDER BY 1;

DROP SCHEMA bad CASCADE;
DROP SERVER bad_srv;
DROP FOREIGN DATA WRAPPER bad_fdw;
DROP TABLE bad_calls, bad_results;
