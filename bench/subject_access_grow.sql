-- bench/subject_access_grow.sql: grows the tables of bench/subject_access.sql
-- to -v factor times their rows.  Each table gets factor - 1 more copies of
-- the template, each copy for new customers (customer_id shifted by the
-- number of customers), so the number of rows a customer has stays the same
-- and the number of customers grows by the factor.  The index is dropped for
-- the load and built again; then VACUUM (ANALYZE).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET jit = off;
SET max_parallel_workers_per_gather = 0;

SELECT format('DROP INDEX bench.t%s_customer_id_idx', k),
	   format('INSERT INTO bench.t%s SELECT id + c * p.rows, customer_id + c * p.customers, email, phone, ip,
					 created_at, last_seen, amount, note
			   FROM bench.template, bench.params p, generate_series(1, %s - 1) c', k, :factor),
	   format('CREATE INDEX t%s_customer_id_idx ON bench.t%s (customer_id)', k, k)
FROM generate_series(1, (SELECT tables FROM bench.params)) k
\gexec

UPDATE bench.params SET rows = rows * :factor, customers = customers * :factor;
VACUUM (ANALYZE);
