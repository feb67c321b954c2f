-- run_purge: committed batches; a purge stopped half-way keeps every
-- committed batch and leaves no half-done batch.
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';

CREATE TABLE batched (id int PRIMARY KEY, ip inet, seen date NOT NULL);
SELECT tag('batched', 'ip', 'network.ip_address; retain=30 days after seen; on_expiry=nullify');
CREATE TABLE batched_rows (id int PRIMARY KEY, note text, seen date NOT NULL);
SELECT tag('batched_rows', 'note', 'communications.content; retain=30 days after seen');
INSERT INTO batched SELECT g, '192.0.2.1', '2020-01-01' FROM generate_series(1, 25) g;
INSERT INTO batched SELECT g, '192.0.2.2', '2030-01-01' FROM generate_series(26, 30) g;
INSERT INTO batched_rows SELECT g, 'x', '2020-01-01' FROM generate_series(1, 23) g;

CALL run_purge(as_of => '2024-01-01', batch_size => 10);
SELECT count(*) FILTER (WHERE ip IS NULL) AS nulled, count(*) FILTER (WHERE ip IS NOT NULL) AS kept FROM batched;
SELECT count(*) AS rows_left FROM batched_rows;
SELECT relation, column_name, rows, details->>'batch' AS batch FROM audit_log
 WHERE relation IN ('public.batched', 'public.batched_rows') ORDER BY id;

-- stopped by an error in the third batch: two batches stay committed
INSERT INTO batched_rows SELECT g, 'x', '2020-01-01' FROM generate_series(101, 125) g;
CREATE FUNCTION fail_on_third_batch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM public.batched_rows) < 5 THEN
        RAISE EXCEPTION 'simulated failure';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER fail_on_third_batch AFTER DELETE ON batched_rows
    FOR EACH ROW EXECUTE FUNCTION fail_on_third_batch();
SELECT max(id) AS last_audit FROM audit_log \gset
\set VERBOSITY terse
CALL run_purge('batched_rows', as_of => '2024-01-01', batch_size => 10);
\set VERBOSITY default
SELECT count(*) AS rows_left FROM batched_rows;
SELECT sum(rows) AS audited_rows, count(*) AS audited_batches FROM audit_log WHERE id > :last_audit;
DROP TRIGGER fail_on_third_batch ON batched_rows;

-- cancelled by statement_timeout while a batch runs: every batch is whole
INSERT INTO batched_rows SELECT g, 'x', '2020-01-01' FROM generate_series(201, 240) g;
CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.05); RETURN OLD; END $$;
CREATE TRIGGER slow_delete BEFORE DELETE ON batched_rows FOR EACH ROW EXECUTE FUNCTION slow_delete();
SELECT max(id) AS last_audit FROM audit_log \gset
SELECT count(*) AS before FROM batched_rows \gset
SET statement_timeout = '1500ms';
\set VERBOSITY terse
CALL run_purge('batched_rows', as_of => '2024-01-01', batch_size => 5);
\set VERBOSITY default
RESET statement_timeout;
SELECT :before - count(*) AS deleted FROM batched_rows \gset
SELECT coalesce(sum(rows), 0) AS audited FROM audit_log WHERE id > :last_audit \gset
SELECT :deleted % 5 = 0 AS whole_batches_only, :deleted = :audited AS audit_agrees,
       :deleted < :before AS stopped_half_way;
DROP TABLE batched, batched_rows;
DROP FUNCTION fail_on_third_batch(), slow_delete();

-- children before parents, as purge(): an expired customer whose only
-- referrers are expired visits goes in the same run
CREATE TABLE rp_customers (id int PRIMARY KEY, name text, ended_on date);
CREATE TABLE rp_visits (id int PRIMARY KEY, customer_id int REFERENCES rp_customers, page text, visited_at timestamptz);
SELECT tag('rp_customers', 'name', 'identifiers.name; basis=contract; retain=3 years after ended_on');
SELECT tag('rp_visits', 'page', 'network.browsing_history; basis=legitimate_interests; retain=1 year after visited_at');
INSERT INTO rp_customers VALUES (1, 'a', '2020-01-01'), (2, 'b', '2026-01-01');
INSERT INTO rp_visits VALUES (1, 1, '/x', '2021-01-01'), (2, 2, '/y', '2021-01-01');
CALL run_purge(as_of => '2026-06-01', batch_size => 1);
SELECT (SELECT array_agg(id ORDER BY id) FROM rp_customers) AS customers_left,
       (SELECT array_agg(id ORDER BY id) FROM rp_visits) AS visits_left;
DROP TABLE rp_visits, rp_customers;
