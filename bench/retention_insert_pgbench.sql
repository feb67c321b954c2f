-- bench/retention_insert_pgbench.sql: the pgbench transaction of
-- bench/retention_insert.sh, one single-row INSERT (@TABLE@ is replaced by
-- ri_none, ri_c or ri_plpgsql).  Every row is inside its windows: the last
-- contact at most 1000 days ago (window 3 years), seen at most 2,500,000 s
-- (28.9 days) ago (window 30 days).
\set cust random(1, 10000000)
\set days random(0, 1000)
\set secs random(0, 2500000)
INSERT INTO bench.@TABLE@ (customer_id, email, last_contact, ip, seen_at)
VALUES (:cust::bigint, 'user' || :cust::bigint || '@example.com', current_date - :days::int,
        '10.0.0.0'::inet + :cust::bigint, now() - :secs::int * interval '1 second');
