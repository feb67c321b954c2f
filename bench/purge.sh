#!/usr/bin/env bash
# purge: privacy_tags.purge() against the hand-written statement that
# removes the same rows through the same index: DELETE for a column whose
# window deletes the row, UPDATE ... SET col = NULL for a nullify column.
# Each round recreates two identical tables from a template, one a side
# (outside the timed part), then times the two sides one right after the
# other; they alternate in going first.
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
#
#   BENCH_ROWS    rows of each table, half of them expired (default 2000000)
#   BENCH_REPEAT  rounds (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${BENCH_ROWS:-2000000}
rounds=${BENCH_REPEAT:-7}
goal=0.95	# purge() rows/s at least this fraction of the hand-written statement's
cond_reps=9	# turns of the condition-only measurement
fixed_reps=9	# sessions (first calls) and calls (warm) of the 50-table fixed cost
db=privacy_tags_bench_purge
kinds=(delete nullify)

export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "purge: set-up, $rows rows a table" >&2
q -v rows="$rows" -f bench/purge.sql >/dev/null

# restore <kind> <side>...: the tables of the sides recreated from the
# template, vacuumed (hint bits, visibility map, statistics), all flushed.
restore() {
	local kind=$1 side rel
	shift
	for side in "$@"; do
		rel=$(q -c "SET client_min_messages = warning" -c "SELECT bench.restore('$kind', '$side')")
		q -c "VACUUM (FREEZE, ANALYZE) $rel"
	done
	q -c "CHECKPOINT"
}

# measure <kind> <side> <round>: time a side on its restored table, then
# flush what it changed, so the other side starts from the same state.
measure() {
	local ms
	ms=$(q -c "SET jit = off" -c "SELECT round(bench.run('$1', '$2', $3)::numeric, 1)")
	q -c "CHECKPOINT"
	echo "  round $3 $1 $2: $ms ms" >&2
}

start=$(date +%s)
for ((r = 1; r <= rounds; r++)); do
	for kind in "${kinds[@]}"; do
		if ((r % 2)); then sides=(purge hand); else sides=(hand purge); fi
		# restored in the order they run: between its restore and its run,
		# each side's table sees the other table restored or purged
		restore "$kind" "${sides[@]}"
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
	restore "$kind" purge hand
	q -c "SET jit = off" -c "SELECT bench.condition_costs('$kind', $cond_reps)" >/dev/null
	for ((i = 0; i < cond_reps; i++)); do
		q -c "SET jit = off" -c "SELECT bench.fixed_cost('$kind')" >/dev/null
	done
	for side in purge hand; do
		q -c "LOAD 'auto_explain'" \
		  -c "SET auto_explain.log_min_duration = 0" \
		  -c "SET auto_explain.log_nested_statements = on" \
		  -c "SET auto_explain.log_analyze = on" \
		  -c "SET auto_explain.log_buffers = on" \
		  -c "SET auto_explain.log_level = notice" \
		  -c "SET client_min_messages = notice" \
		  -c "SET jit = off" \
		  -c "SELECT bench.run('$kind', '$side', 0)" >/dev/null 2>"$work/explain.out"
		q -c "CHECKPOINT"
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

# The fixed cost on a database with 50 tagged tables: first calls (one
# session each), warm calls, purges of every table.
for ((i = 0; i < fixed_reps; i++)); do
	q -c "SET jit = off" -c "SELECT bench.fixed_cost50('first', 1)" >/dev/null
	q -c "SET jit = off" -c "SELECT bench.fixed_cost50('first_hand', 1)" >/dev/null
done
q -c "SET jit = off" -c "SELECT bench.fixed_cost50('warm', $((fixed_reps * 3)))" >/dev/null
q -c "SET jit = off" -c "SELECT bench.fixed_cost50('all', $fixed_reps)" >/dev/null
q -c "SET jit = off" -c "SELECT bench.fixed_cost50('inval', $fixed_reps)" >/dev/null
fixed50=$(q <<'EOF'
SELECT format('| %s | %s | %s | %s |',
			  CASE mode WHEN 'first' THEN '`purge(''bench.fx_1'')`, the first call of a session'
						WHEN 'first_hand' THEN '*for reference:* the hand-written DELETE and UPDATE of `bench.fx_1`, the first statements of a session'
						WHEN 'warm' THEN '`purge(''bench.fx_1'')`, a later call of the session'
						WHEN 'all' THEN '`purge()` of all 50 tables, a later call'
						ELSE '`purge()` of all 50 tables, a later call right after a change of one of them' END,
			  count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
			  CASE WHEN mode = 'first_hand' THEN '—'
				   WHEN percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) <= 1 THEN 'yes' ELSE '**no**' END)
FROM bench.fixed50 GROUP BY mode
ORDER BY CASE mode WHEN 'warm' THEN 1 WHEN 'all' THEN 2 WHEN 'inval' THEN 3 WHEN 'first' THEN 4 ELSE 5 END;
EOF
)
echo "purge: fixed cost on 50 tables taken" >&2

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
	SELECT p.kind, min(h.ms / p.ms) AS lo, max(h.ms / p.ms) AS hi,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY h.ms / p.ms) AS mid
	FROM bench.results p JOIN bench.results h USING (kind, round)
	WHERE p.side = 'purge' AND h.side = 'hand'
	GROUP BY p.kind
)
SELECT format('| %s | %s | %s | %s | %s | %s | **%s** | %s (%s–%s) | ≥ %s | %s |',
			  CASE kind WHEN 'delete' THEN 'delete (`DELETE`)' ELSE 'nullify (`UPDATE ... SET ip = NULL`)' END,
			  to_char(n, 'FM9,999,999,999'),
			  round(p_ms::numeric), round(h_ms::numeric),
			  to_char(round(n / (p_ms / 1000)), 'FM9,999,999,999'),
			  to_char(round(n / (h_ms / 1000)), 'FM9,999,999,999'),
			  round((h_ms / p_ms)::numeric, 2),
			  round(mid::numeric, 2), round(lo::numeric, 2), round(hi::numeric, 2),
			  :'goal',
			  CASE WHEN h_ms / p_ms >= :'goal'::float8 THEN 'yes' ELSE '**no**' END)
FROM med JOIN paired USING (kind)
ORDER BY kind;
EOF
)
by_round=$(q -c "SELECT string_agg(kind || ', ' || side || ': ' || vals, '; ' ORDER BY kind, side DESC) FROM (
	SELECT kind, side, string_agg(round(ms::numeric)::text, ', ' ORDER BY round) AS vals
	FROM bench.results GROUP BY kind, side) s")
conditions=$(q -v rows="$rows" <<'EOF'
WITH med AS (
	SELECT kind,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE cond = 'hand') AS h,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE cond = 'purge') AS p
	FROM bench.conditions GROUP BY kind
)
SELECT format('| %s | %s | %s | %s | `%s` |', kind,
			  round(h::numeric, 1), round(p::numeric, 1),
			  round((1000 * (p - h) / (:rows / 2))::numeric, 3), c.expired)
FROM med JOIN bench.purge_conditions c USING (kind) ORDER BY kind;
EOF
)
# The verdicts, and the figures the findings quote: per kind, the ratio,
# whether it meets the goal, the hand-written statement's µs a row, the
# recheck's and the pre-checked recheck's µs a row.
verdicts=$(q -v goal="$goal" <<'EOF'
WITH med AS (
	SELECT kind,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'purge') AS p_ms,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'hand') AS h_ms,
		   max(nrows) AS n
	FROM bench.results GROUP BY kind
), cond AS (
	SELECT kind,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE cond = 'hand') AS h,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE cond = 'purge') AS p
	FROM bench.conditions GROUP BY kind
)
SELECT kind, round((h_ms / p_ms)::numeric, 2), h_ms / p_ms >= :'goal'::float8,
	   round((1000 * h_ms / n)::numeric, 2), round((1000 * (p_ms - h_ms) / n)::numeric, 2),
	   round((1000 * (c.p - c.h) / n)::numeric, 2),
	   round(f.ms::numeric, 1), round((1000 * f.ms / n)::numeric, 3),
	   -- is purge()'s condition one comparison with a constant (no recheck)?
	   pc.recheck IS NULL
FROM med JOIN cond c USING (kind) JOIN bench.purge_conditions pc USING (kind)
	 JOIN (SELECT kind, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM bench.fixed GROUP BY kind) f
	 USING (kind)
ORDER BY kind;
EOF
)
findings=""
while IFS='|' read -r kind ratio met hand_us diff_us recheck_us fixed_ms fixed_us exact; do
	findings+="- ${kind}: purge() runs at ${ratio}x the hand-written statement's rows/s; the
  goal (≥ ${goal}x) is $([ "$met" = t ] && echo met || echo '**missed**'). The hand-written statement takes ${hand_us} µs a
  row, purge() $(awk -v d="$diff_us" 'BEGIN { printf "%.2f µs a row %s", (d < 0 ? -d : d), (d < 0 ? "less" : "more") }') (medians); its condition costs
  ${recheck_us} µs a row more than the hand-written one ($([ "$exact" = t ] && echo 'the cut-off is exact: one comparison with a constant, the index condition, and no recheck' || echo 'the cut-off is not exact here: a second statement rechecks the anchors after it')), and a call of
  purge(), the first of a session, costs ${fixed_ms} ms whatever it finds
  (${fixed_us} µs a row here).
"
done <<<"$verdicts"
findings=${findings%$'\n'}
hand_delete=$(q -c "SELECT bench.statement('delete', 'hand')")
hand_nullify=$(q -c "SELECT bench.statement('nullify', 'hand')")

cat <<EOF
## purge: privacy_tags.purge() vs hand-written DELETE / UPDATE

How fast \`privacy_tags.purge()\` removes expired data, next to the
statement a DBA would write by hand to remove the same rows through the
same index. Two tables of ${rows} rows each, rows in anchor order (appended
over time), an index on the anchor column, half of the rows expired as of
\`2025-01-01 00:00 UTC\`:

- *delete*: \`email\` tagged \`retain=3 years after last_contact\` (a
  \`date\`); \`SELECT sum(rows) FROM privacy_tags.purge('bench.purge_del_purge',
  as_of => '2025-01-01 00:00:00+00')\` against
  \`${hand_delete}\`;
- *nullify*: \`ip\` tagged \`retain=30 days after seen_at; on_expiry=nullify\`
  (\`seen_at timestamptz\`; one row in ten of the unexpired half has no ip);
  \`privacy_tags.purge('bench.purge_nul_purge', ...)\` against
  \`${hand_nullify}\`.

purge() computes each column's cut-off once per call, exactly (\`as_of -
window\`: for a date anchor, the last date whose window has passed; for a
timestamp, where no month and no change of UTC offset can move it), and
its statement compares the anchor with that constant, the index
condition, as the hand-written one does (its condition is shown below);
only where the cut-off is not exact does a second statement recheck the
few anchors after it (\`anchor::timestamptz + window <= as_of\`, in the
session's time zone). Here both cut-offs are exact (date anchor; UTC).
No anchor lies within 4 days of the cut-off, and both sides change the
same rows, which the script checks (same count, half the table, every
run).
purge() also writes one audit-log row. Each round recreates, for each
kind, one table a side from the same template (\`CREATE TABLE AS\`,
\`CREATE INDEX\`, the tag, \`VACUUM (FREEZE, ANALYZE)\`, then a
\`CHECKPOINT\`), outside the timed part, and then times the two sides one
right after the other (with a \`CHECKPOINT\` between them), purge() first
in odd rounds, the hand-written statement first in even ones. The time is
taken in the server (\`clock_timestamp()\` around the statement, commit not
included), jit off. ${rounds} rounds; values are medians.

- Command: \`${BENCH_COMMAND:-./scripts/in_cluster.sh ./bench/run.sh purge}\`
- Date: ${BENCH_DATE:-$(date -u +%Y-%m-%d)}
- PostgreSQL: ${version}; ${settings}
${source_note}- Machine: $(nproc) CPUs${cpu:+, $cpu} (shared)

| purge | rows changed | purge() ms | hand-written ms | purge() rows/s | hand-written rows/s | ratio purge/hand (rows/s) | ratio, per round: median (range) | goal | met |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
${table}

- *ratio*: purge() rows/s ÷ hand-written rows/s, from the medians (=
  hand-written ms ÷ purge() ms); the goal is judged on it. *Per round*: the
  ratio of the two sides of each round, which ran one right after the
  other; their median, lowest and highest.
- ms by round: ${by_round}.

Where a difference comes from. Both statements read the expired rows
through the same index scan, in the same order, and change the same rows
(plans below); purge()'s condition is the hand-written one, a comparison
of the anchor with a constant. What the conditions alone cost, measured
by \`SELECT count(*)\` through the same index scan on an unchanged table
(${cond_reps} turns, medians, ms for the $(( rows / 2 )) expired rows):

| kind | hand-written condition | purge()'s condition | purge()'s costs more, µs a row | purge()'s condition (\`cutoff\` from \`privacy_tags._purge_plan()\`) |
| --- | ---: | ---: | ---: | --- |
${conditions}

Fixed cost: a call of purge() that finds nothing (\`as_of\` the same
\`2025-01-01\`, before any anchor's window ends), on the same database,
which has 50 tagged tables: the four measured ones and 46 of 1,000 rows
each (\`bench.fx_1\` .. \`bench.fx_46\`, two windowed columns each, a
delete column with a date anchor and a nullify column with a
\`timestamptz\` anchor, an index on each anchor). Timed in the server
(\`clock_timestamp()\` around the call), jit off, medians. A call probes
each table once (one statement per table, its kept plan, as the table's
owner: has any column an expired row?) and builds and runs statements
only for the columns that have, here none; the probes' plans and the
tables' columns are kept per backend until a relcache invalidation of
the table. The first call of a session also compiles purge()'s PL/pgSQL
functions, fills the new backend's catalog caches and prepares the
probes (see the profile below).

| call | calls | ms (median) | ≤ 1 ms |
| --- | ---: | ---: | --- |
${fixed50}

Findings:

${findings}

The plans, from one more run of each side under \`auto_explain\`
(\`log_analyze\`, \`log_buffers\`, \`log_nested_statements\`; slower than the
measured runs because of the instrumentation, and not counted): the
statement purge() runs, and the hand-written one.

${plans}
EOF
