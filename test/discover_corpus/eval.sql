-- Precision and recall of discover() on the labelled corpus: every column's
-- label is its comment ('personal[: <top-level category>]' or 'not personal').
CREATE TEMP TABLE judged AS
WITH s AS (SELECT d.* FROM unnest('{shop,hr,clinic}'::name[]) sch, privacy_tags.discover(sch) d)
SELECT n.nspname AS schema_name, c.oid::regclass AS relation, a.attname AS column_name,
       d.description LIKE 'personal%' AS personal, d.description AS label,
       nullif(split_part(d.description, ': ', 2), '') AS label_category,
       s.suggested_tag IS NOT NULL AS suggested,
       split_part(privacy_tags.category(s.suggested_tag), '.', 1) AS suggested_category,
       s.rule, s.confidence
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_description d ON d.objoid = c.oid AND d.objsubid = a.attnum AND d.classoid = 'pg_class'::regclass
  LEFT JOIN s ON s.relation = c.oid::regclass AND s.column_name = a.attname
 WHERE n.nspname IN ('shop', 'hr', 'clinic') AND c.relkind IN ('r', 'p') AND NOT c.relispartition;
CREATE TEMP VIEW scores AS
SELECT coalesce(schema_name::text, 'all') AS schema_name, count(*) AS columns,
       count(*) FILTER (WHERE personal) AS personal,
       count(*) FILTER (WHERE suggested) AS suggested,
       count(*) FILTER (WHERE personal AND suggested) AS correct,
       round(count(*) FILTER (WHERE personal AND suggested)::numeric / nullif(count(*) FILTER (WHERE suggested), 0), 3) AS "precision",
       round(count(*) FILTER (WHERE personal AND suggested)::numeric / nullif(count(*) FILTER (WHERE personal), 0), 3) AS recall,
       round(count(*) FILTER (WHERE personal AND suggested AND suggested_category = label_category)::numeric
             / nullif(count(*) FILTER (WHERE personal AND suggested), 0), 3) AS category_agrees
  FROM judged GROUP BY ROLLUP (schema_name) ORDER BY schema_name IS NULL, schema_name;
