#!/usr/bin/env bash
# purge: privacy_tags.purge() against the hand-written statement that
# removes the same rows through the same index: DELETE for a column whose
# window deletes the row, UPDATE ... SET col = NULL for a nullify column.
# Every measurement runs on a table freshly recreated from a template
# (outside the timed part); the two sides alternate in going first.
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
#
#   BENCH_ROWS    rows of each table, half of them expired (default 2000000)
#   BENCH_REPEAT  rounds (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${BENCH_ROWS:-2000000}
rounds=${BENCH_REPEAT:-5}
goal=0.9	# purge() rows/s at least this fraction of the hand-written statement's
db=privacy_tags_bench_purge
kinds=(delete nullify)
declare -A rel=([delete]=bench.purge_del [nullify]=bench.purge_nul)

export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "purge: set-up, $rows rows a table" >&2
q -v rows="$rows" -f bench/purge.sql >/dev/null

# restore <kind>: the measured table recreated from its template, vacuumed
# (hint bits, visibility map, statistics), everything flushed.
restore() {
	q -c "SET client_min_messages = warning" -c "SELECT bench.restore('$1')" -c "VACUUM (FREEZE, ANALYZE) ${rel[$1]}" -c "CHECKPOINT" >/dev/null
}

# measure <kind> <side> <round>
measure() {
	local ms
	restore "$1"
	ms=$(q -c "SET jit = off" -c "SELECT round(bench.run('$1', '$2', $3)::numeric, 1)")
	echo "  round $3 $1 $2: $ms ms" >&2
}

start=$(date +%s)
for ((r = 1; r <= rounds; r++)); do
	for kind in "${kinds[@]}"; do
		if ((r % 2)); then sides=(purge hand); else sides=(hand purge); fi
		for side in "${sides[@]}"; do
			measure "$kind" "$side" "$r"
		done
	done
	echo "purge: round $r of $rounds done" >&2
done
echo "purge: measured in $(( $(date +%s) - start )) s" >&2

# Both sides changed the same number of rows, half the table, every time.
bad=$(q -c "SELECT count(*) FROM bench.results WHERE nrows <> $rows / 2")
if [ "$bad" != 0 ]; then
	q -c "SELECT kind, side, round, nrows FROM bench.results WHERE nrows <> $rows / 2" >&2
	echo "purge: $bad measurements did not change the $(( rows / 2 )) expired rows" >&2
	exit 1
fi

# The plans of both sides: one more run of each under auto_explain (with
# ANALYZE and BUFFERS, so slower than the measured runs and not counted),
# the DELETE or UPDATE statement only (purge() runs it nested).
plans=""
for kind in "${kinds[@]}"; do
	for side in purge hand; do
		restore "$kind"
		q -c "LOAD 'auto_explain'" \
		  -c "SET auto_explain.log_min_duration = 0" \
		  -c "SET auto_explain.log_nested_statements = on" \
		  -c "SET auto_explain.log_analyze = on" \
		  -c "SET auto_explain.log_buffers = on" \
		  -c "SET auto_explain.log_level = notice" \
		  -c "SET client_min_messages = notice" \
		  -c "SET jit = off" \
		  -c "SELECT bench.run('$kind', '$side', 0)" >/dev/null 2>"$work/explain.out"
		plan=$(awk '
			/NOTICE:  duration: / { flush(); buf = ""; keep = 0; sub(/^.*NOTICE:  /, ""); }
			/^(Delete|Update) on / { keep = 1 }
			{ buf = buf $0 "\n" }
			function flush() { if (keep) printf "%s", buf }
			END { flush() }' "$work/explain.out")
		if [ -z "$plan" ]; then
			cat "$work/explain.out" >&2
			echo "purge: no plan for $kind, $side" >&2
			exit 1
		fi
		plans+="${kind}, $( [ "$side" = purge ] && echo 'purge()' || echo 'hand-written' ):"$'\n\n'"\`\`\`"$'\n'"${plan}"$'\n'"\`\`\`"$'\n\n'
	done
done
echo "purge: plans taken" >&2

version=$(q -c "SHOW server_version")
settings=$(q -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings
	WHERE name IN ('shared_buffers', 'fsync', 'wal_level', 'max_wal_size')")
cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: *//' || true)
source_rev=$(git log -1 --format=%h 2>/dev/null || true)
if [ -n "$source_rev" ] && [ -n "$(git status --porcelain -- src 2>/dev/null)" ]; then
	source_rev+=" + uncommitted changes in src/"
fi
source_note=""
if [ -n "$source_rev" ]; then
	source_note="- privacy_tags: work tree at ${source_rev} (the run measures the installed build, which \`make bench\` makes from it)
"
fi
table=$(q -v goal="$goal" <<'EOF'
WITH med AS (
	SELECT kind,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'purge') AS p_ms,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'hand') AS h_ms,
		   max(nrows) AS n
	FROM bench.results GROUP BY kind
), paired AS (	-- each round's ratio, the two sides of a round on the same data
	SELECT p.kind, min(h.ms / p.ms) AS lo, max(h.ms / p.ms) AS hi
	FROM bench.results p JOIN bench.results h USING (kind, round)
	WHERE p.side = 'purge' AND h.side = 'hand'
	GROUP BY p.kind
)
SELECT format('| %s | %s | %s | %s | %s | %s | **%s** | %s–%s | ≥ %s | %s |',
			  CASE kind WHEN 'delete' THEN 'delete (`DELETE`)' ELSE 'nullify (`UPDATE ... SET ip = NULL`)' END,
			  to_char(n, 'FM9,999,999,999'),
			  round(p_ms::numeric), round(h_ms::numeric),
			  to_char(round(n / (p_ms / 1000)), 'FM9,999,999,999'),
			  to_char(round(n / (h_ms / 1000)), 'FM9,999,999,999'),
			  round((h_ms / p_ms)::numeric, 2),
			  round(lo::numeric, 2), round(hi::numeric, 2),
			  :'goal',
			  CASE WHEN h_ms / p_ms >= :'goal'::float8 THEN 'yes' ELSE '**no**' END)
FROM med JOIN paired USING (kind)
ORDER BY kind;
EOF
)
by_round=$(q -c "SELECT string_agg(kind || ', ' || side || ': ' || vals, '; ' ORDER BY kind, side DESC) FROM (
	SELECT kind, side, string_agg(round(ms::numeric)::text, ', ' ORDER BY round) AS vals
	FROM bench.results GROUP BY kind, side) s")
hand_delete=$(q -c "SELECT hand FROM bench.kinds WHERE kind = 'delete'")
hand_nullify=$(q -c "SELECT hand FROM bench.kinds WHERE kind = 'nullify'")

cat <<EOF
## purge: privacy_tags.purge() vs hand-written DELETE / UPDATE

How fast \`privacy_tags.purge()\` removes expired data, next to the
statement a DBA would write by hand to remove the same rows through the
same index. Two tables of ${rows} rows each, rows in anchor order (appended
over time), an index on the anchor column, half of the rows expired as of
\`2025-01-01 00:00 UTC\`:

- *delete*: \`email\` tagged \`retain=3 years after last_contact\` (a
  \`date\`); \`SELECT sum(rows) FROM privacy_tags.purge('bench.purge_del',
  as_of => '2025-01-01 00:00:00+00')\` against
  \`${hand_delete}\`;
- *nullify*: \`ip\` tagged \`retain=30 days after seen_at; on_expiry=nullify\`
  (\`seen_at timestamptz\`; one row in ten of the unexpired half has no ip);
  \`privacy_tags.purge('bench.purge_nul', ...)\` against
  \`${hand_nullify}\`.

purge() reads the anchor through the index up to \`as_of - window + 3 days\`
and rechecks every row exactly (\`anchor::timestamptz + window <= as_of\`);
no anchor lies within 4 days of the cut-off, so both sides change the same
rows, which the script checks (same count, half the table, every run).
purge() also writes one audit-log row. Before every measurement the table is
recreated from a template (\`CREATE TABLE AS\`, \`CREATE INDEX\`, the tag,
\`VACUUM (FREEZE, ANALYZE)\`, \`CHECKPOINT\`), outside the timed part; the time
is taken in the server (\`clock_timestamp()\` around the statement, commit
not included), jit off. ${rounds} rounds; in each the two sides run on the
same data one after the other, purge() first in odd rounds, the
hand-written statement first in even ones. Values are medians.

- Command: \`${BENCH_COMMAND:-./scripts/in_cluster.sh ./bench/run.sh purge}\`
- Date: ${BENCH_DATE:-$(date -u +%Y-%m-%d)}
- PostgreSQL: ${version}; ${settings}
${source_note}- Machine: $(nproc) CPUs${cpu:+, $cpu} (shared)

| purge | rows changed | purge() ms | hand-written ms | purge() rows/s | hand-written rows/s | ratio purge/hand (rows/s) | ratio, per round | goal | met |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
${table}

- *ratio*: purge() rows/s ÷ hand-written rows/s, from the medians (=
  hand-written ms ÷ purge() ms); *per round*: the lowest and highest of the
  rounds' ratios.
- ms by round: ${by_round}.

The plans, from one more run of each side under \`auto_explain\`
(\`log_analyze\`, \`log_buffers\`, \`log_nested_statements\`; slower than the
measured runs because of the instrumentation, and not counted): the
statement purge() runs, and the hand-written one.

${plans}
EOF
