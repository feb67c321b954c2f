#!/usr/bin/env bash
# type_io: text input and output of privacy_tags.privacy_tag against contrib
# ltree on strings of the same byte length, interleaved in one session.
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
#
#   BENCH_ROWS    rows a case converts (default 1000000)
#   BENCH_REPEAT  rounds counted, after one warm-up round (default 9)
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${BENCH_ROWS:-1000000}
rounds=${BENCH_REPEAT:-9}
goal=1.5	# input: privacy_tag within this factor of ltree
db=privacy_tags_bench_type_io

export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT

echo "type_io: $rows rows a case, $rounds rounds + 1 warm-up" >&2
start=$(date +%s)
psql -X -q -v rows="$rows" -v rounds="$rounds" -f bench/type_io.sql >&2
echo "type_io: measured in $(( $(date +%s) - start )) s" >&2

q() { psql -X -q -At -v ON_ERROR_STOP=1 -v goal="$goal" "$@"; }

# Each query converted every row, every round, on both sides.
bad=$(q -c "
	SELECT count(*) FROM bench.results r JOIN bench.cases c USING (ord)
	WHERE r.side IN ('privacy_tag', 'ltree')
	  AND (r.result IS NULL OR (c.kind = 'input' AND r.result <> c.nrows)
		   OR (c.kind = 'output' AND r.result < c.nrows))")
if [ "$bad" != 0 ]; then
	echo "type_io: $bad measurements did not convert every row" >&2
	exit 1
fi

version=$(q -c "SHOW server_version")
dbenc=$(q -c "SELECT format('encoding %s, LC_CTYPE %s', pg_encoding_to_char(encoding), datctype) FROM pg_database WHERE datname = current_database()")
cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: *//' || true)
table=$(q <<'EOF'
WITH med AS (
	SELECT ord,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'privacy_tag') AS pt,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'ltree') AS lt,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'base') AS base
	FROM bench.results GROUP BY ord
), paired AS (
	SELECT a.ord, min(a.ms / b.ms) AS lo, max(a.ms / b.ms) AS hi
	FROM bench.results a JOIN bench.results b USING (ord, round)
	WHERE a.side = 'privacy_tag' AND b.side = 'ltree'
	GROUP BY a.ord
)
SELECT format('| %s | %s | %s | %s | %s | **%s** | %s–%s | %s | %s | %s |',
			  c.name, c.bytes, to_char(c.nrows, 'FM9,999,999,999'),
			  round(m.pt::numeric, 1), round(m.lt::numeric, 1),
			  round((m.pt / m.lt)::numeric, 2),
			  round(p.lo::numeric, 2), round(p.hi::numeric, 2),
			  CASE WHEN m.base IS NULL THEN '—'
				   ELSE round(((m.pt - m.base) / nullif(m.lt - m.base, 0))::numeric, 2)::text END,
			  CASE c.kind WHEN 'input' THEN '≤ ' || :'goal' ELSE '—' END,
			  CASE WHEN c.kind <> 'input' THEN '—'
				   WHEN m.pt / m.lt <= :'goal'::float8 THEN 'yes' ELSE '**no**' END)
FROM bench.cases c JOIN med m USING (ord) JOIN paired p USING (ord)
ORDER BY c.ord;
EOF
)
bases=$(q -c "
	SELECT string_agg(format('%s ms (%s)', round(m::numeric, 1), regexp_replace(name, '^input, ', '')), ', ' ORDER BY ord)
	FROM (SELECT ord, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS m
		  FROM bench.results WHERE side = 'base' GROUP BY ord) b JOIN bench.cases USING (ord)")

cat <<EOF
## type_io: text input and output, privacy_tag vs ltree

Casting text to \`privacy_tags.privacy_tag\` and back, next to contrib
\`ltree\` on strings of the same byte length. Each input case casts
${rows} distinct strings stored in a table (\`SELECT count(s::T) FROM t\`),
each output case casts the same number of stored values to text
(\`SELECT sum(octet_length(v::text)) FROM t\`); the time is taken inside the
server (\`clock_timestamp()\` around each query), so no rows go to the
client. Paths have levels of 6 bytes (a letter and 5 hex digits). The full
tag is a 4-level path followed by
\`; basis=consent; purpose=newsletter; retain=3 years after last_contact_at\`;
its ltree counterpart is the same path with the clauses written as three
more levels (\`.xbasis_consent.xpurpose_newsletter.xretain_3_years_after_last_contact_at\`),
the same number of bytes. Both sides of a case run one after the other, the
order swapping every round, for ${rounds} rounds after a warm-up round.

- Command: \`${BENCH_COMMAND:-./scripts/in_cluster.sh ./bench/run.sh type_io}\`
- Date: ${BENCH_DATE:-$(date -u +%Y-%m-%d)}
- PostgreSQL: ${version}; database ${dbenc}; jit off, no parallel workers
- Machine: $(nproc) CPUs${cpu:+, $cpu} (shared)

| case | bytes | rows | privacy_tag ms (median) | ltree ms (median) | ratio | ratio, per round | ratio net of scan | goal | met |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
${table}

- *ratio*: privacy_tag median / ltree median; *ratio, per round*: the
  lowest and highest of the rounds' ratios (the two sides of a round ran
  back to back).
- *ratio net of scan*: the same ratio after taking off, from both sides,
  the median of the same query with \`s::cstring\` in place of the cast
  (the table scan, the text-to-cstring half of the cast and the count):
  ${bases}.
- The goal is for input only: privacy_tag within ${goal}x of ltree.
- Output of a full tag is longer than its input: the canonical text adds
  \`; on_expiry=delete\` (bytes shown as privacy_tag / ltree).
- ltree's input checks every character with the server's multibyte-aware
  helpers (\`pg_mblen\`, \`t_isalpha\`, ...), which take most of its time
  in a UTF8 database; the privacy_tag grammar is ASCII and scans bytes.
EOF
