#!/usr/bin/env bash
# discover: precision and recall on the labelled corpus (test/discover_corpus/:
# a web shop, an HR system, a clinic; every column labelled by its comment),
# and the time of discover() over a schema of BENCH_TABLES tables (default
# 1000) x 20 columns of BENCH_ROWS rows each (default 100000); every tenth
# table holds people (names, emails), the others reference one.
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
set -euo pipefail
cd "$(dirname "$0")/.."

tables=${BENCH_TABLES:-1000}
rows=${BENCH_ROWS:-100000}
goal=30	# seconds for discover() over the whole schema
db=privacy_tags_bench_discover

export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

q -c "CREATE EXTENSION privacy_tags" -f test/discover_corpus/common.sql -f test/discover_corpus/shop.sql \
	-f test/discover_corpus/hr.sql -f test/discover_corpus/clinic.sql >/dev/null
scores=$(q -F ' | ' -f test/discover_corpus/eval.sql -c "SELECT '| ' || schema_name, columns, personal, suggested, correct, \"precision\", recall, category_agrees || ' |' FROM scores" | grep '^|')
bad=$(q -f test/discover_corpus/eval.sql -c "SELECT count(*) FROM scores WHERE \"precision\" < 0.9 OR recall < 0.9" | tail -1)

echo "discover: building $tables tables x $rows rows" >&2
start=$(date +%s)
q <<SQL
CREATE SCHEMA big;
CREATE UNLOGGED TABLE big.template AS
SELECT i AS id, corpus_util.given(i) AS first_name, corpus_util.surname(i) AS last_name, corpus_util.email(i) AS email,
       md5(i::text) AS code, 'note ' || i AS note, (i % 97)::text AS label, i % 1000 AS qty, i * 7 % 5000 AS n2,
       i % 13 AS n3, i % 7 AS n4, (i % 1000) / 10.0 AS amount, i / 3.0 AS m2, i * 1.5 AS m3,
       date '2020-01-01' + (i % 1500)::int AS d1, timestamptz '2021-01-01' + i * interval '1 minute' AS t1,
       corpus_util.birth_date(i) AS d2, i % 2 = 0 AS b1, i % 3 = 0 AS b2, 'x' || (i % 50) AS v1
  FROM generate_series(1, $rows) i;
SQL
for ((k = 1; k <= tables; k++)); do
	if (( k % 10 == 1 )); then
		echo "CREATE UNLOGGED TABLE big.t$k AS SELECT * FROM big.template; ALTER TABLE big.t$k ADD PRIMARY KEY (id);"
	else
		p=$(( (k - 1) / 10 * 10 + 1 ))
		echo "CREATE UNLOGGED TABLE big.t$k AS SELECT id, id % 1000 + 1 AS person_id, code, note, label, qty, n2, n3, n4, amount, m2, m3, d1, t1, d2, b1, b2, v1, note AS note2, code AS code2 FROM big.template;"
		echo "ALTER TABLE big.t$k ADD FOREIGN KEY (person_id) REFERENCES big.t$p NOT VALID;"
	fi
done | q
q -c "DROP TABLE big.template" -c "ANALYZE"
echo "discover: built in $(( $(date +%s) - start )) s" >&2
size=$(q -c "SELECT pg_size_pretty(sum(pg_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'big' AND c.relkind = 'r'")
cols=$(q -c "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'big' AND c.relkind = 'r' AND a.attnum > 0")
res=$(q <<'SQL' | tr '\n' ' '
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) || '|' || count(*) FILTER (WHERE rule LIKE 'structure%') FROM privacy_tags.discover('big');
SELECT round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 1);
SQL
)
read -r counts secs <<<"$res"
found=${counts%%|*}; structural=${counts##*|}
echo "discover: $secs s" >&2
ok=$(awk -v s="$secs" -v g="$goal" 'BEGIN { print (s < g) ? "yes" : "no" }')

cat <<MD
## discover()

Command: \`${BENCH_COMMAND:-bench/run.sh discover}\` (${BENCH_DATE:-$(date -u +%Y-%m-%d)}).

Precision and recall on the labelled corpus (\`test/discover_corpus/\`: every
column of three schemas written for the tests carries its label as a comment;
a column counts as found when \`discover(schema)\` suggests it at the default
\`min_confidence\` 0.5; \`category_agrees\`: of the correct suggestions, the
share whose top-level category is the label's):

| schema | columns | personal | suggested | correct | precision | recall | category agrees |
|---|---|---|---|---|---|---|---|
$scores

Speed: \`discover('big')\` over $tables tables x 20 columns of $rows rows
each ($cols columns, $size of heap; every tenth table holds people, the
others reference one through a foreign key): **$secs s** (goal: under $goal s: $ok),
$found suggestions, $structural of them by the structural rule.  Each table
is read once, as its owner: a \`TABLESAMPLE SYSTEM\` of about 16 x
sample_size rows' worth of blocks, the first sample_size (200) rows of it.
MD
[ "$bad" = 0 ] && [ "$ok" = yes ]
