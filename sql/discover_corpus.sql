-- discover() on the labelled corpus (test/discover_corpus/): precision and
-- recall on every schema and in total, and every column it gets wrong.
\set QUIET on
\o /dev/null
\i test/discover_corpus/common.sql
\i test/discover_corpus/shop.sql
\i test/discover_corpus/hr.sql
\i test/discover_corpus/clinic.sql
\i test/discover_corpus/eval.sql
\o
\set QUIET off
-- every column of the corpus is labelled
SELECT count(*) AS unlabelled FROM judged WHERE label IS NULL OR label !~ '^(personal(: [a-z_]+)?|not personal)$';
SELECT * FROM scores;
SELECT bool_and("precision" >= 0.9 AND recall >= 0.9) AS at_least_0_9 FROM scores;
SELECT relation, column_name, label, rule, confidence FROM judged
 WHERE personal <> suggested OR label_category <> suggested_category ORDER BY 1, 2;
-- links outlive their tables: remove them first
SELECT privacy_tags.unlink('shop.sessions', '{customer_ref}', 'shop.customers', '{id}');
SELECT privacy_tags.unlink('clinic.prescriptions', '{patient}', 'clinic.patients', '{id}');
DROP SCHEMA shop, hr, clinic, corpus_util CASCADE;
