-- privacy_tags: the install script is built from src/sql/*.sql in order.
\echo Use "CREATE EXTENSION privacy_tags" to load this file. \quit

-- Load the library now, so that its security label providers exist for the
-- rest of this session (pg_restore relabels columns right after this).
CREATE FUNCTION privacy_tags._load() RETURNS void
    AS 'MODULE_PATHNAME', 'privacy_tags_load' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags._load() IS
    'Loads the privacy_tags library (and its security label providers) into the session.';
SELECT privacy_tags._load();
