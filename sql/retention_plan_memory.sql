-- A retention trigger whose plan cannot be built fails every call, and each
-- failed build takes its memory along: the backend does not grow.
-- (PostgreSQL 13 has no pg_backend_memory_contexts: there the failures are
-- run, and their memory not counted: retention_plan_memory_1.out.)
SET search_path = public, privacy_tags;
SELECT current_setting('server_version_num')::int >= 140000 AS has_context_view \gset
SET TimeZone = 'UTC';

CREATE TABLE plan_leak (id int, phone text, seen date, email text);
SELECT tag('plan_leak', 'email', 'contact.email; retain=30 days after seen');
SELECT tag('plan_leak', 'phone', 'contact.phone; retain=30 days after seen');
SELECT enforce('plan_leak');
-- the trigger's arguments still name "email" (a dropped column's label goes
-- without a word to the extension): every build of its plan fails
ALTER TABLE plan_leak DROP COLUMN email;
SELECT state, message FROM try($$INSERT INTO plan_leak VALUES (1, '555', current_date)$$);

\if :has_context_view
CREATE TEMP TABLE plan_contexts AS
SELECT count(*) AS n FROM pg_backend_memory_contexts WHERE name = 'privacy_tags retention plan';
\endif
DO $$
DECLARE
    failures int := 0;
BEGIN
    FOR i IN 1..2000 LOOP
        BEGIN
            INSERT INTO plan_leak VALUES (i, '555', current_date);
        EXCEPTION WHEN undefined_column THEN
            failures := failures + 1;
        END;
    END LOOP;
    RAISE NOTICE '% inserts failed', failures;
END
$$;
-- as many plan contexts as before the 2000 failures
\if :has_context_view
SELECT (SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'privacy_tags retention plan')
       - n AS new_plan_contexts
  FROM plan_contexts;
\endif

-- re-enforced, the table takes writes again, with one plan more
SELECT enforce('plan_leak');
INSERT INTO plan_leak VALUES (1, '555', current_date);
\if :has_context_view
SELECT (SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'privacy_tags retention plan')
       - n AS new_plan_contexts
  FROM plan_contexts;
\endif
DROP TABLE plan_leak;
