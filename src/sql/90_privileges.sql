-- Privileges -------------------------------------------------------------------

-- Internal functions (names starting with "_") are executable by the
-- extension's owner alone: the public functions that need them are SECURITY
-- DEFINER (for privacy_admin), or call them through the library as the
-- extension's owner, passing the caller along (enforce, unenforce,
-- discover, the label hooks).  One rule for all of them, here, so that a new
-- internal function can never be left open; test/shell/privileges.sh
-- compares every function's privileges with the README's table.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure
               FROM pg_catalog.pg_proc p
              WHERE p.pronamespace OPERATOR(pg_catalog.=) 'privacy_tags'::regnamespace
                AND pg_catalog.starts_with(p.proname::text, '_')
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, privacy_admin', f);
    END LOOP;
END
$$;
