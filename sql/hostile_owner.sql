-- A hostile table owner: every path that runs statements on user tables runs
-- the table's code (triggers, domain checks, generated and index
-- expressions, row-level security policies) as the table's owner, in a
-- security-restricted operation, and nobody gains anything.
-- (On 1.1, purge() ran ALTER ROLE ... SUPERUSER as the extension's owner.)
SET search_path = public, privacy_tags;

CREATE ROLE hostile_owner;
CREATE ROLE hostile_dpo IN ROLE privacy_admin;	-- a privacy_admin member, not a superuser
CREATE SCHEMA hostile AUTHORIZATION hostile_owner;
CREATE SCHEMA hostile_private AUTHORIZATION hostile_owner;
-- what the owner's code saw, written by the code itself
CREATE TABLE hostile_log (n serial, via text, who name, superuser boolean, restricted boolean,
                          alter_role text, set_role text);
GRANT INSERT, SELECT ON hostile_log TO PUBLIC;
GRANT USAGE ON SEQUENCE hostile_log_n_seq TO PUBLIC;

SET ROLE hostile_owner;
-- records who runs it, then tries to become superuser and to switch roles
CREATE FUNCTION hostile.evil(via text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_alter text := 'worked';
    v_set text := 'worked';
BEGIN
    BEGIN
        EXECUTE 'ALTER ROLE hostile_owner SUPERUSER';
    EXCEPTION WHEN OTHERS THEN
        v_alter := SQLSTATE;
    END;
    -- (a role switch that works is undone with its subtransaction: P0001)
    BEGIN
        EXECUTE 'SET ROLE hostile_owner';
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN OTHERS THEN
        v_set := SQLSTATE;
    END;
    INSERT INTO public.hostile_log (via, who, superuser, restricted, alter_role, set_role)
    VALUES (via, current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
            v_set <> 'P0001', v_alter, v_set);
    RETURN true;
END
$$;
-- (generated columns and index expressions take immutable functions)
CREATE FUNCTION hostile.evil_imm(via text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN hostile.evil(via);
END
$$;
CREATE FUNCTION hostile.evil_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hostile.evil(TG_TABLE_NAME || ' ' || TG_WHEN || ' ' || TG_OP);
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
-- a domain whose check runs the code: over the subject key and the anchor
CREATE DOMAIN hostile.evil_id AS bigint CHECK (hostile.evil('domain on the key'));
CREATE DOMAIN hostile.evil_date AS date CHECK (hostile.evil('domain on the anchor'));
CREATE DOMAIN hostile.evil_login AS text CHECK (hostile.evil('domain on a text key'));
-- (on 1.1, merely reading the record of processing cast '' to this domain)
CREATE TABLE hostile.accounts (login hostile.evil_login PRIMARY KEY, email text);
SELECT privacy_tags.set_subject('hostile.accounts', 'login', 'hostile_account');
SELECT privacy_tags.tag('hostile.accounts', 'email', 'contact.email; basis=contract');

-- the table of the issue: an expired row and a BEFORE DELETE trigger
CREATE TABLE hostile.t (id int PRIMARY KEY, body text, written_at timestamptz);
INSERT INTO hostile.t VALUES (1, 'expired', now() - interval '2 days');
CREATE TRIGGER t_evil BEFORE DELETE ON hostile.t FOR EACH ROW EXECUTE FUNCTION hostile.evil_trigger();
SELECT privacy_tags.tag('hostile.t', 'body', 'contact.email; retain=1 day after written_at');

-- nullify: an UPDATE trigger, a generated column and an index expression
CREATE TABLE hostile.n (id int PRIMARY KEY, ip inet, seen hostile.evil_date,
                        g boolean GENERATED ALWAYS AS (hostile.evil_imm('generated column ' || coalesce(host(ip), 'NULL'))) STORED);
CREATE INDEX ON hostile.n ((hostile.evil_imm('index expression ' || coalesce(host(ip), 'NULL'))));
CREATE TRIGGER n_evil BEFORE UPDATE ON hostile.n FOR EACH ROW EXECUTE FUNCTION hostile.evil_trigger();
INSERT INTO hostile.n VALUES (1, '192.0.2.1', '2020-01-01');
SELECT privacy_tags.tag('hostile.n', 'ip', 'network.ip_address; basis=legitimate_interests; retain=30 days after seen; on_expiry=nullify');

-- a subject: key of a domain with a check, rows with triggers, a policy
CREATE TABLE hostile.customers (id hostile.evil_id PRIMARY KEY, email text, note text);
CREATE TABLE hostile.orders (id int PRIMARY KEY, customer_id bigint REFERENCES hostile.customers, item text);
CREATE TRIGGER c_evil BEFORE UPDATE OR DELETE ON hostile.customers FOR EACH ROW EXECUTE FUNCTION hostile.evil_trigger();
CREATE TRIGGER o_evil BEFORE UPDATE OR DELETE ON hostile.orders FOR EACH ROW EXECUTE FUNCTION hostile.evil_trigger();
ALTER TABLE hostile.customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE hostile.customers FORCE ROW LEVEL SECURITY;
CREATE POLICY c_all ON hostile.customers USING (hostile.evil('policy'));
SELECT privacy_tags.set_subject('hostile.customers', 'id', 'hostile_customer');
SELECT privacy_tags.tag('hostile.customers', 'email', 'contact.email; basis=consent; purpose=news');
SELECT privacy_tags.tag('hostile.customers', 'note', 'commercial.product_interest; basis=legitimate_interests');
SELECT privacy_tags.tag('hostile.orders', 'item', 'commercial.order; basis=contract');
INSERT INTO hostile.customers VALUES (7, 'seven@example.com', 'likes cats'), (8, 'eight@example.com', 'likes dogs');
INSERT INTO hostile.orders VALUES (70, 7, 'cat food'), (80, 8, 'dog food');
-- untagged values that look personal, behind a policy, readable by the DPO
CREATE TABLE hostile.leads (id int PRIMARY KEY, contact text);
ALTER TABLE hostile.leads ENABLE ROW LEVEL SECURITY;
ALTER TABLE hostile.leads FORCE ROW LEVEL SECURITY;
CREATE POLICY l_all ON hostile.leads USING (hostile.evil('policy of leads'));
INSERT INTO hostile.leads SELECT i, 'lead' || i || '@example.com' FROM generate_series(1, 4) i;
GRANT USAGE ON SCHEMA hostile TO hostile_dpo;
GRANT SELECT ON hostile.leads TO hostile_dpo;
-- a table the DPO may read in a schema it may not use
CREATE TABLE hostile_private.people (id int PRIMARY KEY, email text);
INSERT INTO hostile_private.people SELECT i, 'p' || i || '@example.com' FROM generate_series(1, 4) i;
GRANT SELECT ON hostile_private.people TO hostile_dpo;
-- tagging and enforcing one's own table works, and runs nothing of the owner's as anyone else
SELECT privacy_tags.enforce('hostile.customers') AS enforced;
SELECT privacy_tags.untag('hostile.customers', 'note') AS untagged;
SELECT privacy_tags.tag('hostile.customers', 'note', 'commercial.product_interest; basis=legitimate_interests');
SELECT tgname, tgrelid::regclass FROM pg_trigger WHERE tgname = 'privacy_tags_retention' AND tgrelid = 'hostile.customers'::regclass;
-- but not somebody else's table
SELECT state, message FROM try($$SELECT privacy_tags.enforce('public.hostile_log')$$);
SELECT state, message FROM try($$SELECT privacy_tags.unenforce('public.hostile_log')$$);
SELECT state, message FROM try($$SELECT privacy_tags.tag('public.hostile_log', 'who', 'identifiers.name')$$);
SELECT state, message FROM try($$SELECT privacy_tags.set_subject('public.hostile_log', 'n', 'x')$$);
-- the internal functions are closed to the owner
SELECT state, message FROM try($$SELECT privacy_tags._owner_exec('public.hostile_log', 'DELETE FROM public.hostile_log')$$);
SELECT state, message FROM try($$SELECT privacy_tags._enforce('public.hostile_log', 'hostile_owner')$$);
RESET ROLE;
-- the owner's own statements ran its code as itself, unrestricted
SELECT via, who, superuser, restricted, alter_role, set_role, count(*)
  FROM hostile_log GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1;
TRUNCATE hostile_log;

-- each path, called by a superuser: the owner's code runs as the owner, restricted
SELECT relation, column_name, action, rows FROM privacy_tags.purge('hostile.t');
SELECT relation, column_name, action, rows FROM privacy_tags.purge('hostile.n');
INSERT INTO hostile.t VALUES (2, 'expired too', now() - interval '2 days');
CALL privacy_tags.run_purge('hostile.t', batch_size => 1);
SELECT count(*) AS rows_left FROM hostile.t;
SELECT jsonb_pretty(privacy_tags.subject_access('hostile_customer', '7') -> 'data') AS export;
SELECT jsonb_pretty(privacy_tags.erase('hostile_customer', '7', dry_run => true) -> 'tables') AS would_erase;
SELECT privacy_tags.grant_consent('hostile_customer', '8', 'news');
SELECT privacy_tags.withdraw_consent('hostile_customer', '8', 'news') -> 'tables' AS withdrawn;
SELECT privacy_tags.suppress('hostile_customer', '8') -> 'suppressed' AS suppressed;
SELECT privacy_tags.erase('hostile_customer', '7') -> 'tables' AS erased;
SELECT relation, column_name, suggested_tag, sampled, matched FROM privacy_tags.discover('hostile') ORDER BY 1, 2;
SELECT purpose, tables FROM privacy_tags.record_of_processing WHERE 'hostile.customers' = ANY (tables) ORDER BY 1;
SELECT jsonb_array_length(privacy_tags.processing_record() -> 'purposes') > 0 AS record_built;
SELECT privacy_tags.subject_access('hostile_account', 'mallory') -> 'summary' ->> 'records' AS account_records;

-- and by a privacy_admin member who is not a superuser (on 1.1, discover()
-- ran the policy as the DPO, failed on a schema it may not use, and the
-- record of processing was closed to it)
SET ROLE hostile_owner;
INSERT INTO hostile.t VALUES (3, 'expired again', now() - interval '2 days');
RESET ROLE;
SET ROLE hostile_dpo;
SELECT relation, column_name, action, rows FROM privacy_tags.purge('hostile.t');
SELECT privacy_tags.subject_access('hostile_customer', '8') -> 'summary' ->> 'records' AS records;
SELECT count(*) > 0 AS dpo_reads_record FROM privacy_tags.record_of_processing;
SELECT jsonb_array_length(privacy_tags.processing_record() -> 'purposes') > 0 AS dpo_builds_record;
SELECT relation, column_name, suggested_tag, sampled, matched FROM privacy_tags.discover('hostile') ORDER BY 1, 2;
SELECT relation, column_name FROM privacy_tags.discover('hostile_private') ORDER BY 1, 2;
RESET ROLE;

-- a cast from text to the key type (an enum's owner may make one): the id is
-- never converted with it (on 1.2's first cut subject_graph() ran it as the
-- extension's owner), and lookups refuse such a key type
SET ROLE hostile_owner;
CREATE TYPE hostile.kind AS ENUM ('1', '2');
CREATE FUNCTION hostile.to_kind(text) RETURNS hostile.kind LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hostile.evil('cast from text');
    RETURN $1::text::hostile.kind;
END
$$;
CREATE TABLE hostile.kinds (id hostile.kind PRIMARY KEY, note text);
SELECT privacy_tags.set_subject('hostile.kinds', 'id', 'hostile_kind');
CREATE CAST (text AS hostile.kind) WITH FUNCTION hostile.to_kind(text);
RESET ROLE;
SELECT state, message FROM try($$SELECT * FROM privacy_tags.subject_graph('hostile_kind')$$);
SELECT state, message FROM try($$SELECT privacy_tags.subject_access('hostile_kind', '1')$$);
SELECT state, message FROM try($$SELECT privacy_tags.hold('hostile_kind', '1', 'x')$$);
-- an anchor whose type was changed after tagging, to one with casts of its
-- owner's: the purge reports the table and runs none of them
SET ROLE hostile_owner;
CREATE TYPE hostile.moment AS ENUM ('x');
CREATE FUNCTION hostile.to_moment(timestamptz) RETURNS hostile.moment LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hostile.evil('cast of the anchor');
    RETURN 'x';
END
$$;
CREATE CAST (timestamptz AS hostile.moment) WITH FUNCTION hostile.to_moment(timestamptz);
CREATE TABLE hostile.events (id int, note text, at timestamptz);
SELECT privacy_tags.tag('hostile.events', 'note', 'contact.email; retain=1 day after at');
ALTER TABLE hostile.events ALTER COLUMN at TYPE hostile.moment USING NULL;
RESET ROLE;
SELECT relation, column_name, action, rows FROM privacy_tags.purge('hostile.events');
-- another owner's table that points at a tagged table, with a policy: the
-- purge of the tagged table does not run that policy (as the tagged table's
-- owner); the table fails alone
CREATE ROLE hostile_other;
GRANT USAGE ON SCHEMA hostile TO hostile_other;
SET ROLE hostile_owner;
GRANT REFERENCES ON hostile.t TO hostile_other;
INSERT INTO hostile.t VALUES (5, 'expired', now() - interval '2 days');
RESET ROLE;
CREATE SCHEMA hostile_theirs AUTHORIZATION hostile_other;
SET ROLE hostile_other;
CREATE FUNCTION hostile_theirs.steal() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.hostile_log (via, who) VALUES ('policy of another owner', current_user);
    RETURN true;
END
$$;
CREATE TABLE hostile_theirs.refs (tid int REFERENCES hostile.t);
ALTER TABLE hostile_theirs.refs ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON hostile_theirs.refs USING (hostile_theirs.steal());
GRANT SELECT ON hostile_theirs.refs TO PUBLIC;
GRANT USAGE ON SCHEMA hostile_theirs TO PUBLIC;
GRANT EXECUTE ON FUNCTION hostile_theirs.steal() TO PUBLIC;
RESET ROLE;
SET client_min_messages = error;
SELECT relation, column_name, action, rows FROM privacy_tags.purge('hostile.t');
RESET client_min_messages;
SELECT count(*) AS policy_ran FROM hostile_log WHERE via = 'policy of another owner';
DROP TABLE hostile_theirs.refs, hostile.events, hostile.kinds;
-- after a restore, reapply_erasures() reads the key values of the owner's
-- table, whose key type converts to text through a cast of its owner's: the
-- cast runs as the owner, restricted, never as the extension's owner
SET ROLE hostile_owner;
CREATE TYPE hostile.tone AS ENUM ('a', 'b');
CREATE FUNCTION hostile.tone_text(hostile.tone) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hostile.evil('cast to text');
    RETURN $1::name::text;
END
$$;
CREATE CAST (hostile.tone AS text) WITH FUNCTION hostile.tone_text(hostile.tone);
CREATE TABLE hostile.tones (id hostile.tone PRIMARY KEY, note text);
SELECT privacy_tags.set_subject('hostile.tones', 'id', 'hostile_tone');
SELECT privacy_tags.tag('hostile.tones', 'note', 'contact.email; basis=contract');
INSERT INTO hostile.tones VALUES ('a', 'x'), ('b', 'y');
RESET ROLE;
SELECT privacy_tags.erase('hostile_tone', 'a') -> 'tables' AS erased;
INSERT INTO hostile.tones VALUES ('a', 'restored');
SELECT x ->> 'action' AS reapplied FROM jsonb_array_elements(privacy_tags.reapply_erasures() -> 'subjects') x
 WHERE x ->> 'subject_type' = 'hostile_tone';
SELECT id, note FROM hostile.tones ORDER BY id;
DROP TABLE hostile.tones;
DELETE FROM privacy_tags.erasure_ledger WHERE subject_type = 'hostile_tone';
-- (its audit entry names no table: taken out again by the log's owner, so
-- that the audit listings of the tests that follow stay the same)
DELETE FROM privacy_tags.audit_log WHERE action = 'reapply_erasures';

-- what the owner's code saw: always the owner, never a superuser, never able
-- to switch roles (42501: cannot set role within a security-restricted
-- operation) or to alter one (42501: permission denied)
SELECT via, who, superuser, restricted, alter_role, set_role, count(*)
  FROM hostile_log GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1;
SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname IN ('hostile_owner', 'hostile_dpo') ORDER BY 1;
SELECT count(*) AS members_gained FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
 WHERE r.rolname = 'hostile_owner';

-- one hostile or broken table fails alone: the rest of a purge goes on
CREATE TABLE hostile_ok (id int PRIMARY KEY, body text, written_at timestamptz);
INSERT INTO hostile_ok VALUES (1, 'expired', now() - interval '2 days');
SELECT privacy_tags.tag('hostile_ok', 'body', 'contact.email; retain=1 day after written_at');
SET ROLE hostile_owner;
INSERT INTO hostile.t VALUES (4, 'expired', now() - interval '2 days');
CREATE FUNCTION hostile.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the owner refuses';
END
$$;
CREATE TRIGGER t_refuse BEFORE DELETE ON hostile.t FOR EACH ROW EXECUTE FUNCTION hostile.refuse();
RESET ROLE;
SELECT max(id) AS last_audit FROM audit_log \gset
SELECT relation, column_name, action, rows FROM privacy_tags.purge()
 WHERE relation IN ('hostile.t'::regclass, 'hostile_ok'::regclass) ORDER BY 1;
SELECT action, relation, column_name, rows, details ->> 'sqlstate' AS sqlstate, details ->> 'message' AS message
  FROM audit_log WHERE id > :last_audit AND relation IN ('hostile.t', 'hostile_ok') ORDER BY id;
SELECT count(*) AS hostile_rows_left FROM hostile.t;
SELECT count(*) AS ok_rows_left FROM hostile_ok;

-- while a purge deletes from the owner's table, the trigger skips its checks
-- only for the purge's own writes (the table, what its foreign keys cascade
-- into): a write the owner's trigger makes into another enforced table is
-- checked, so the expired value it tries to store there is refused, and
-- the owner's table fails alone
CREATE TABLE hostile_victim (id int, note text, seen date);
SELECT privacy_tags.tag('hostile_victim', 'note', 'contact.email; retain=1 day after seen');
SELECT privacy_tags.enforce('hostile_victim') AS victim_enforced;
GRANT INSERT ON hostile_victim TO hostile_owner;
SET ROLE hostile_owner;
CREATE TABLE hostile.w (id int PRIMARY KEY, body text, written_at timestamptz);
SELECT privacy_tags.tag('hostile.w', 'body', 'contact.email; retain=1 day after written_at');
INSERT INTO hostile.w VALUES (1, 'expired', now() - interval '2 days');
CREATE FUNCTION hostile.smuggle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.hostile_victim VALUES (1, 'long expired', '2000-01-01');
    RETURN OLD;
END
$$;
CREATE TRIGGER w_smuggle AFTER DELETE ON hostile.w FOR EACH ROW EXECUTE FUNCTION hostile.smuggle();
RESET ROLE;
SELECT relation, column_name, action, rows FROM privacy_tags.purge('hostile.w');
SELECT count(*) AS smuggled_rows FROM hostile_victim;
SELECT count(*) AS w_rows_left FROM hostile.w;

-- a trigger of the owner's own making that has the retention trigger look a
-- subject up in a table the owner cannot read: the lookup runs as the
-- owner, and fails (it would tell whether a hidden email has consent)
CREATE TABLE hostile_secret (id int PRIMARY KEY, email text);
INSERT INTO hostile_secret VALUES (1, 'hidden@example.com');
SET ROLE hostile_owner;
CREATE TABLE hostile.probe (id int, note text);
CREATE TRIGGER probe BEFORE INSERT ON hostile.probe FOR EACH ROW
    EXECUTE FUNCTION privacy_tags.retention_trigger('id', '@subject customer via public.hostile_secret.id.email',
                                                    'note', 'contact.email; basis=consent');
SELECT state, message FROM try($$INSERT INTO hostile.probe VALUES (1, 'x')$$);
-- a malformed lookup is refused before anything runs
CREATE TRIGGER probe2 BEFORE INSERT ON hostile.probe FOR EACH ROW
    EXECUTE FUNCTION privacy_tags.retention_trigger('id', '@subject customer via public.hostile_secret.id');
SELECT state, message FROM try($$INSERT INTO hostile.probe VALUES (2, NULL)$$);
RESET ROLE;

-- purge()'s probe of a table (src/purge.c: does a column have expired rows
-- at all?) runs the owner's code as the owner, restricted: here the cast
-- to text of a column of the owner's type, which the probe's "not masked
-- yet" test of a nullify column calls for every expired row.  Its values
-- are masked already, so the probe finds nothing and no UPDATE runs: what
-- the log shows is the probe's.  A second table of the owner's, whose cast
-- fails, fails alone, and the first one's probe still tells it apart.
TRUNCATE hostile_log;
SET ROLE hostile_owner;
CREATE TYPE hostile.hue AS ENUM ('red', 'blue');
CREATE FUNCTION hostile.hue_text(hostile.hue) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hostile.evil('cast of the probe');
    IF $1 = 'blue' THEN
        RAISE EXCEPTION 'the owner refuses blue';
    END IF;
    RETURN $1::name::text;
END
$$;
CREATE CAST (hostile.hue AS text) WITH FUNCTION hostile.hue_text(hostile.hue);
CREATE TABLE hostile.hues (id int, hue hostile.hue, seen date);
CREATE TABLE hostile.hues_blue (id int, hue hostile.hue, seen date);
SELECT privacy_tags.tag('hostile.hues', 'hue', 'contact.email; retain=1 day after seen; on_expiry=nullify; mask=''red''');
SELECT privacy_tags.tag('hostile.hues_blue', 'hue', 'contact.email; retain=1 day after seen; on_expiry=nullify; mask=''blue''');
INSERT INTO hostile.hues VALUES (1, 'red', '2020-01-01');
INSERT INTO hostile.hues_blue VALUES (1, 'blue', '2020-01-01');
RESET ROLE;
SELECT max(id) AS last_audit FROM audit_log \gset
SELECT relation, column_name, action, rows FROM privacy_tags.purge('hostile.hues');
SELECT via, who, superuser, restricted, alter_role, set_role, count(*)
  FROM hostile_log GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1;
SET client_min_messages = error;
SELECT relation, column_name, action, rows FROM privacy_tags.purge()
 WHERE relation IN ('hostile.hues'::regclass, 'hostile.hues_blue'::regclass) ORDER BY 1;
RESET client_min_messages;
SELECT action, relation, column_name, rows, details ->> 'message' AS message
  FROM audit_log WHERE id > :last_audit AND relation LIKE 'hostile.hues%' ORDER BY id;
SELECT id, hue FROM hostile.hues UNION ALL SELECT id, hue FROM hostile.hues_blue ORDER BY 1, 2;
-- (the log's owner takes this test's entries out again: the audit
-- listings of the tests that follow stay the same)
DELETE FROM audit_log WHERE id > :last_audit;

DROP SCHEMA hostile, hostile_private, hostile_theirs CASCADE;
DROP TABLE hostile_log, hostile_ok, hostile_secret, hostile_victim;
DROP ROLE hostile_dpo;
DROP ROLE hostile_other;
DROP ROLE hostile_owner;
