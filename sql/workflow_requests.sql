-- Objection and opt-out, the request register, deferred erasures (issue 15).
SET search_path = public, privacy_tags;
CREATE SCHEMA req;
CREATE TABLE req.members (id int PRIMARY KEY, name text, email text, ad_profile text, joined_on date);
CREATE TABLE req.visits (id int PRIMARY KEY, member_id int REFERENCES req.members, page text, seen_at timestamptz);
SELECT set_subject('req.members', 'id', 'req_member');
SELECT tag('req.members', 'name', 'identifiers.name; basis=contract; purpose=membership');
SELECT tag('req.members', 'email', 'contact.email; basis=legitimate_interests; purpose=direct_marketing,membership');
SELECT tag('req.members', 'ad_profile', 'inferences.profile; basis=legitimate_interests; purpose=direct_marketing');
SELECT tag('req.visits', 'page', 'network.browsing_history; basis=legitimate_interests; purpose=analytics');
INSERT INTO req.members VALUES (1, 'Ann', 'ann@example.com', 'likes boats', '2020-01-01'),
                               (2, 'Bo', 'bo@example.com', 'likes cars', '2020-01-01');
INSERT INTO req.visits VALUES (1, 1, '/boats', now()), (2, 2, '/cars', now());
SELECT enforce('req.members');

-- an objection to direct marketing: the data held only for it goes; the
-- email is also used for the membership, and stays; analytics untouched
SELECT jsonb_pretty(object('req_member', '1', 'direct_marketing', dry_run => true) -> 'tables') AS dry_objection;
SELECT jsonb_pretty(object('req_member', '1', 'direct_marketing') -> 'tables') AS objection;
SELECT id, name, email, ad_profile FROM req.members ORDER BY id;
SELECT id, member_id, page FROM req.visits ORDER BY id;
SELECT subject_id, purpose, withdrawn_at IS NULL AS active FROM objections ORDER BY 1, 2;
SELECT subject_access('req_member', '1') -> 'objections' -> 0 ->> 'purpose' AS in_the_export;
-- the trigger refuses a new value of a column whose every purpose the
-- subject objects to; other columns, and other subjects, are written
SELECT state, message FROM try($$UPDATE req.members SET ad_profile = 'likes sails' WHERE id = 1$$);
UPDATE req.members SET email = 'ann@example.org' WHERE id = 1;
UPDATE req.members SET ad_profile = 'likes trucks' WHERE id = 2;
-- an objection to every legitimate-interests purpose: the visits (on
-- legitimate interests for analytics) go too, and the email: all its
-- purposes are pursued on legitimate interests
SELECT jsonb_pretty(object('req_member', '1') -> 'tables') AS objection_to_all;
SELECT id, member_id, page FROM req.visits ORDER BY id;
SELECT id, email FROM req.members ORDER BY id;
SELECT withdraw_objection('req_member', '1') AS withdrawn_all, withdraw_objection('req_member', '1') AS again;
SELECT withdraw_objection('req_member', '1', 'direct_marketing') AS withdrawn_marketing;
-- withdrawn, the objection no longer stops writes
UPDATE req.members SET ad_profile = 'likes sails' WHERE id = 1;
SELECT id, email, ad_profile FROM req.members ORDER BY id;

-- the request register: due dates in calendar months (GDPR) or days
-- (CCPA), across month ends and leap years, one extension only
SET TimeZone = 'UTC';
SELECT open_request('access', 'req_member', '2', received_at => '2025-01-31 10:00+00') AS r1 \gset
SELECT open_request('erasure', 'req_member', '2', 'gdpr', '2024-01-31 10:00+00') AS r2 \gset
SELECT open_request('access', 'req_member', '2', 'ccpa', '2025-01-31 10:00+00') AS r3 \gset
SELECT open_request('objection', 'req_member', '2', received_at => now() - interval '40 days') AS r4 \gset
SELECT id - :r1 AS n, kind, regime, received_at, due_at, extended FROM open_requests WHERE id >= :r1 AND id < :r4 ORDER BY id;
SELECT extend_request(:r1, 'many systems to search') AS gdpr_extended, extend_request(:r3, 'complex') AS ccpa_extended;
SELECT state, message FROM try(format('SELECT privacy_tags.extend_request(%s, %L)', :r1, 'again'));
SELECT overdue, days_left < 0 AS late FROM open_requests WHERE id = :r4;
-- answering closes the request; a request of another kind or subject, or
-- a closed one, is refused
SELECT state, message FROM try(format('SELECT privacy_tags.erase(%L, %L, request => %s)', 'req_member', '2', :r1));
SELECT state, message FROM try(format('SELECT privacy_tags.subject_access(%L, %L, request => %s)', 'req_member', '1', :r1));
SELECT subject_access('req_member', '2', request => :r1) -> 'summary' -> 'records' AS records;
SELECT outcome, closed_at IS NOT NULL AS closed FROM requests WHERE id = :r1;
SELECT state, message FROM try(format('SELECT privacy_tags.subject_access(%L, %L, request => %s)', 'req_member', '2', :r1));
SELECT details ->> 'request_id' = :'r1' AS linked FROM audit_log WHERE action = 'access' ORDER BY id DESC LIMIT 1;
SELECT (object('req_member', '2', 'direct_marketing', request => :r4) ->> 'request')::bigint = :r4 AS objection_answered;
SELECT outcome FROM requests WHERE id = :r4;
SELECT close_request(:r3, 'refused', 'not verifiable');
SELECT state, message FROM try(format('SELECT privacy_tags.close_request(%s, %L)', :r3, 'completed'));
SELECT action, details ->> 'outcome' AS outcome, details ->> 'late' AS late FROM audit_log
 WHERE action = 'close_request' ORDER BY id;
-- closed requests go after privacy_tags.request_retention (at least a day)
SHOW privacy_tags.request_retention;
SELECT state AS one_hour_refused FROM try($$SET privacy_tags.request_retention = '1h'$$);
UPDATE requests SET closed_at = now() - interval '4 years' WHERE id = :r3;
SELECT complete_deferred_erasures() AS deferred_done;
SELECT count(*) AS r3_left FROM requests WHERE id = :r3;
RESET TimeZone;

-- an erasure that a legal hold keeps from happening waits, and happens
-- when the hold is released, closing its request
SELECT hold('req_member', '2', 'litigation') > 0 AS held;
SELECT erase('req_member', '2', request => :r2) - 'format' AS held_erasure;
SELECT subject_id, scope, hold_reason, request_id = :r2 AS for_the_request FROM pending_erasures;
SELECT count(*) AS bo_still_there FROM req.members WHERE id = 2;
SELECT release('req_member', '2') AS released;
SELECT count(*) AS bo_gone FROM req.members WHERE id = 2;
SELECT count(*) AS pending FROM pending_erasures;
SELECT outcome FROM requests WHERE id = :r2;
SELECT scope, subject_hash = subject_hash('req_member', '2') AS hashed FROM erasure_ledger WHERE subject_type = 'req_member' ORDER BY id;

-- only privacy_admin (and superusers) may use any of it
CREATE ROLE req_nobody;
SET ROLE req_nobody;
SELECT state, message FROM try($$SELECT privacy_tags.open_request('access', 'req_member', '1')$$);
SELECT state, message FROM try($$SELECT privacy_tags.object('req_member', '1')$$);
SELECT state, message FROM try($$SELECT privacy_tags.export_ledger()$$);
SELECT state, message FROM try($$SELECT count(*) FROM privacy_tags.open_requests$$);
RESET ROLE;
DROP ROLE req_nobody;

DROP SCHEMA req CASCADE;
DELETE FROM objections; DELETE FROM requests; DELETE FROM erasure_ledger; DELETE FROM deferred_erasures;
