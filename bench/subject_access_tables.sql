-- bench/subject_access_tables.sql: builds tables of bench/subject_access.sql.
-- Run with -v size=small|big -v part=P -v parts=Q: builds the tables
-- <size>.tK with K mod Q = P (bench/subject_access.sh runs the parts in
-- parallel sessions).  A table is UNLOGGED (no WAL while loading; reading
-- it is the same as reading a logged table) and holds `factor` copies of
-- bench.template (bench.sizes), copy c for the customers c * C + 1 ..
-- (c + 1) * C; then its customer_id index is built, the column marked as
-- the subject column of type 'customer_<size>' and four columns tagged.
-- Not vacuumed (VACUUM would read and write every page again, which takes
-- too long at the larger size): the first reads of a page set its hint
-- bits, at both sizes alike.  bench/subject_access.sh runs ANALYZE.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET jit = off;
SET max_parallel_workers_per_gather = 0;
SET maintenance_work_mem = '1GB';

SELECT format('CREATE UNLOGGED TABLE %I.t%s (LIKE bench.template) WITH (autovacuum_enabled = off)', s.size, k),
	   format('INSERT INTO %I.t%s SELECT id + c * p.rows, customer_id + c * p.customers, email, phone, ip,
					 created_at, last_seen, amount, note
			   FROM bench.params p, generate_series(0, %s - 1) c, bench.template', s.size, k, s.factor),
	   format('CREATE INDEX t%s_customer_id_idx ON %I.t%s (customer_id)', k, s.size, k),
	   format($$SELECT privacy_tags.set_subject('%I.t%s', 'customer_id', %L, collected_at => 'created_at')$$, s.size, k, 'customer_' || s.size),
	   format($$SELECT privacy_tags.tag('%I.t%s', 'email', 'contact.email; basis=consent; purpose=newsletter')$$, s.size, k),
	   format($$SELECT privacy_tags.tag('%I.t%s', 'phone', 'contact.phone; basis=contract; purpose=support')$$, s.size, k),
	   format($$SELECT privacy_tags.tag('%I.t%s', 'ip', 'network.ip_address; basis=legitimate_interests; purpose=security; retain=90 days after last_seen; on_expiry=nullify')$$, s.size, k),
	   format($$SELECT privacy_tags.tag('%I.t%s', 'last_seen', 'network.login; basis=legitimate_interests; purpose=security')$$, s.size, k)
FROM bench.sizes s, bench.params, generate_series(1, tables) k
WHERE s.size = :'size' AND k % :parts = :part
\gexec
