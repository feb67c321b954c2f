-- A multirange (PostgreSQL 14 on) holds no one subject id, as a range does
-- not: it cannot be a subject key.  PostgreSQL 13 has no multirange types:
-- there this checks nothing (tagging_multirange_1.out).
SET search_path = public, privacy_tags;
\set VERBOSITY default
SELECT current_setting('server_version_num')::int >= 140000 AS has_multiranges \gset
\if :has_multiranges
CREATE TABLE tm_keys (id int PRIMARY KEY, spans int4multirange);
SELECT set_subject('tm_keys', 'spans', 'tc_person');
SECURITY LABEL FOR privacy_tags_subject ON COLUMN tm_keys.spans IS 'tc_person';
SELECT count(*) AS subject_keys FROM subjects WHERE relation = 'tm_keys'::regclass;
DROP TABLE tm_keys;
\else
SELECT 'PostgreSQL 13 has no multirange types' AS skipped;
\endif
