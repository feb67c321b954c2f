-- A hostile table owner changes what the names in the extension's
-- statements mean: in the middle of a call (its cast to json, run while its
-- table is read, renames its table and puts a view of the same name in its
-- place, whose condition tries to become superuser), so that the next
-- table's statement, run as that table's owner (a superuser here), would
-- read the view. Every statement the extension runs as a table's owner is
-- checked when it is parsed: tables only, and functions of trusted roles.
-- (Found in review of 1.2: the view's function ran as the superuser.)
SET search_path = public, privacy_tags;
CREATE ROLE names_owner;
CREATE ROLE names_dpo IN ROLE privacy_admin;
CREATE SCHEMA names_h AUTHORIZATION names_owner;
CREATE TABLE names_log (who name, superuser boolean, what text);
GRANT INSERT, SELECT ON names_log TO PUBLIC;
SET ROLE names_owner;
CREATE TABLE names_h.p (id int PRIMARY KEY, customer_id bigint, email text);
INSERT INTO names_h.p VALUES (10, 1, 'p@example.com');
SELECT privacy_tags.set_subject('names_h.p', 'customer_id', 'hostile_names_customer');
SELECT privacy_tags.tag('names_h.p', 'email', 'contact.email; basis=contract');
CREATE FUNCTION names_h.evil() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE r text := 'ALTER ROLE worked';
BEGIN
    BEGIN EXECUTE 'ALTER ROLE names_owner SUPERUSER'; EXCEPTION WHEN OTHERS THEN r := SQLERRM; END;
    INSERT INTO public.names_log VALUES (current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), r);
    RETURN true;
END $$;
CREATE TYPE names_h.ev AS ENUM ('a');
CREATE FUNCTION names_h.ev_json(names_h.ev) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.names_log VALUES (current_user, NULL, 'swap');
    ALTER TABLE names_h.p RENAME TO p_old;
    CREATE VIEW names_h.p AS SELECT id, customer_id FROM names_h.p_old WHERE names_h.evil();
    RETURN '"a"';
END $$;
CREATE CAST (names_h.ev AS json) WITH FUNCTION names_h.ev_json(names_h.ev);
CREATE TABLE names_h.q (customer_id bigint, e names_h.ev);
INSERT INTO names_h.q VALUES (1, 'a');
SELECT privacy_tags.set_subject('names_h.q', 'customer_id', 'hostile_names_customer');
SELECT privacy_tags.tag('names_h.q', 'e', 'contact.email; basis=contract');
GRANT USAGE ON SCHEMA names_h TO PUBLIC;
GRANT REFERENCES, SELECT ON names_h.p TO PUBLIC;
RESET ROLE;
-- the victim: a superuser's table referencing the owner's table
CREATE SCHEMA names_zz;
CREATE TABLE names_zz.c (pid int REFERENCES names_h.p (id), note text);
INSERT INTO names_zz.c VALUES (10, 'victim row');
GRANT USAGE ON SCHEMA names_zz TO PUBLIC;
GRANT SELECT ON names_zz.c TO PUBLIC;
SELECT privacy_tags.tag('names_zz.c', 'note', 'contact.email; basis=contract');
SELECT relation, kind, via FROM privacy_tags.subject_graph('hostile_names_customer') ORDER BY relation::text;

SET ROLE names_dpo;
-- the export: the superuser's table's statement would read the view
SELECT state, message FROM try($$SELECT privacy_tags.subject_access('hostile_names_customer', '1')$$);
-- the erasure: the same swap, by the owner's trigger on its own table
RESET ROLE;
SET ROLE names_owner;
DROP CAST (names_h.ev AS json);
CREATE FUNCTION names_h.swap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM names_h.ev_json('a');
    RETURN OLD;
END $$;
CREATE TRIGGER q_swap BEFORE DELETE ON names_h.q FOR EACH ROW EXECUTE FUNCTION names_h.swap();
RESET ROLE;
SET ROLE names_dpo;
SELECT state, message FROM try($$SELECT * FROM privacy_tags.erase('hostile_names_customer', '1')$$);
RESET ROLE;
-- nobody became superuser; the view's function never ran; nothing erased
SELECT * FROM names_log;
SELECT rolsuper FROM pg_roles WHERE rolname = 'names_owner';
SELECT (SELECT count(*) FROM names_h.p) AS p_rows, (SELECT count(*) FROM names_h.q) AS q_rows,
       (SELECT count(*) FROM names_zz.c) AS c_rows;

-- a column named like the statements' alias of the row ("t") is a column,
-- not the row: the export has every column
CREATE TABLE names_colt (customer_id bigint, email text, t jsonb);
INSERT INTO names_colt VALUES (1, 'colt@example.com', '{"only": "this"}');
SELECT privacy_tags.set_subject('names_colt', 'customer_id', 'hostile_names_colt');
SELECT privacy_tags.tag('names_colt', 'email', 'contact.email; basis=contract');
BEGIN;
SELECT privacy_tags.subject_access('hostile_names_colt', '1') -> 'data' AS data;
ALTER TABLE names_colt ALTER COLUMN t TYPE text;
SELECT privacy_tags.subject_access('hostile_names_colt', '1') -> 'data' AS data;
ROLLBACK;

DROP TABLE names_colt;
DROP SCHEMA names_zz CASCADE;
DROP SCHEMA names_h CASCADE;
DROP TABLE names_log;
DROP ROLE names_dpo;
DROP ROLE names_owner;
