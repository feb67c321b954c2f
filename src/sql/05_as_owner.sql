-- Running statements on user tables ---------------------------------------------

-- Every statement the extension runs against a user table goes through one
-- of these two: it runs as the table's owner, in a security-restricted
-- operation with search_path = pg_catalog, pg_temp (as REFRESH
-- MATERIALIZED VIEW and VACUUM run a table's code), with params bound to
-- $1, $2, ... as text.  Executable by the extension's owner alone.
CREATE FUNCTION privacy_tags._owner_exec(rel regclass, stmt text, params text[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'privacy_tags_owner_exec' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags._owner_exec(regclass, text, text[]) IS
    'Runs a statement as the owner of rel in a security-restricted operation; returns the rows it processed.';

CREATE FUNCTION privacy_tags._owner_query(rel regclass, stmt text, params text[] DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'privacy_tags_owner_query' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags._owner_query(regclass, text, text[]) IS
    'Runs a query of one jsonb column as the owner of rel in a security-restricted operation; returns its first value.';
