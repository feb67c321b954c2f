-- TEMPORARY stand-in until the C subject_key_type() lands
CREATE FUNCTION privacy_tags.subject_key_type(subject_type text) RETURNS regtype
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
  WITH RECURSIVE k AS (SELECT a.atttypid AS t FROM privacy_tags.subjects s JOIN pg_attribute a ON a.attrelid = s.relation AND a.attname = s.column_name WHERE s.subject_type = $1),
  b(t, base) AS (SELECT t, t FROM k UNION ALL SELECT b.t, ty.typbasetype FROM b JOIN pg_type ty ON ty.oid = b.base WHERE ty.typtype = 'd')
  SELECT CASE WHEN base IN (21,23,20) THEN 'int8'::regtype ELSE base::regtype END FROM b JOIN pg_type ty ON ty.oid = b.base WHERE ty.typtype <> 'd' ORDER BY 1 LIMIT 1
$$;
