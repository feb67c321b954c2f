#!/usr/bin/env bash
# subject_access: latency of privacy_tags.subject_access() for one subject
# against one hand-written query building the same data, on tables of
# BENCH_ROWS rows and on tables BENCH_GROW times larger (same rows per
# subject, more subjects), both sizes present at once and measured
# interleaved: is the extension close to the hand-written query, and is
# its latency flat in the size of the tables?
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
#
#   BENCH_ROWS    rows a table has at the smaller size (default 1000000)
#   BENCH_REPEAT  rounds counted, after one warm-up round (default 5)
#   BENCH_CALLS   calls a side and size makes a round (default 200)
#   BENCH_GROW    the larger size, as a multiple of the smaller (default 10)
#   BENCH_TABLES  tables of each size (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${BENCH_ROWS:-1000000}
rounds=${BENCH_REPEAT:-5}
calls=${BENCH_CALLS:-200}
grow=${BENCH_GROW:-10}
tables=${BENCH_TABLES:-10}
per_customer=10		# rows a customer has in each table
customers=$(( rows / per_customer ))
parts_rounds=3		# rounds of the timing of the parts of subject_access()
parts_calls=100
goal_ratio=1.3		# subject_access within this factor of the hand-written query (issue 12)
goal_flat=20		# subject_access latency at the larger size within ± this many % of the smaller
db=privacy_tags_bench_subject_access

export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# 1000000 -> 1M, 10000000 -> 10M, 250000 -> 250k
label() {
	local n=$1
	if (( n % 1000000 == 0 )); then echo "$(( n / 1000000 ))M"
	elif (( n % 1000 == 0 )); then echo "$(( n / 1000 ))k"
	else echo "$n"; fi
}
small=$(label "$rows")
big=$(label $(( rows * grow )))

# build <size>: the tables of a size, two sessions in parallel
build() {
	local size=$1 part pids=()
	for part in 0 1; do
		q -v size="$size" -v parts=2 -v part="$part" -f bench/subject_access_tables.sql >/dev/null &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
}

start=$(date +%s)
echo "subject_access: set-up, $tables tables of $rows rows ($customers customers) and $tables of $(( rows * grow )) rows" >&2
q -v rows="$rows" -v tables="$tables" -v customers="$customers" -v grow="$grow" -f bench/subject_access.sql >/dev/null
build small
echo "subject_access: $small tables built in $(( $(date +%s) - start )) s" >&2

# room for the larger tables (the smaller ones times the factor, and a third
# more for the index builds' sorts)
datadir=$(q -c "SHOW data_directory")
need_kb=$(q -c "SELECT (sum(pg_total_relation_size(format('small.t%s', k)::regclass)) * $grow / 1024 * 1.3)::bigint
				FROM generate_series(1, $tables) k")
avail_kb=$(df -Pk "$datadir" | awk 'NR == 2 { print $4 }')
if [ "$avail_kb" -lt "$need_kb" ]; then
	echo "subject_access: the $big tables need about $(( need_kb / 1048576 )) GB, $(( avail_kb / 1048576 )) GB free in $datadir" >&2
	exit 1
fi
t0=$(date +%s)
echo "subject_access: building the $big tables (about $(( need_kb / 1048576 )) GB)" >&2
build big
q -c "ANALYZE" -c "CALL bench.check()"
build_s=$(( $(date +%s) - t0 ))
echo "subject_access: $big tables built in $build_s s" >&2

t0=$(date +%s)
echo "subject_access: $rounds rounds + 1 warm-up, $calls calls a side and size a round" >&2
PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0 -c client_min_messages=notice" \
	q -c "CALL bench.measure($rounds, $calls)"
echo "subject_access: parts of subject_access(), $parts_rounds rounds + 1 warm-up, $parts_calls customers a round" >&2
PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0 -c client_min_messages=notice" \
	q -c "CALL bench.components($parts_rounds, $parts_calls)"
echo "subject_access: measured in $(( $(date +%s) - t0 )) s" >&2

# Every call found the subject's rows.
bad=$(q -c "SELECT count(*) FROM bench.calls WHERE records IS NULL OR records = 0")
if [ "$bad" != 0 ]; then
	echo "subject_access: $bad calls found no rows" >&2
	exit 1
fi

# explain <size> <customer>: EXPLAIN ANALYZE of the hand-written query, of
# the two queries subject_access() runs on <size>.t1 (for another customer,
# so that they do not find the pages the hand-written query read) and of
# the query of privacy_tags._tagged_columns() (its text taken from the
# installed function), in a session that ran them all once before; then
# one subject_access() call under auto_explain, to check that every
# statement it runs on the tables reads them through the customer_id index.
explain() {
	local size=$1 id=$2 n ni ns hi
	q <<EOF
SET jit = off;
SET max_parallel_workers_per_gather = 0;
SELECT replace(q, '\$1', '$(( id - 2 ))') AS hq_warm, replace(q, '\$1', '$id') AS hq FROM bench.hand_sql WHERE size = '$size' \gset
-- the query of _tagged_columns(): the body of a SQL function, the RETURN
-- QUERY of a PL/pgSQL one (else none)
SELECT regexp_replace(regexp_replace(x, '\mrel\M', '''$size.t1''::regclass', 'g'),
                      'x', 'x', 'g') AS tq, x IS NOT NULL AS tq_ok
  FROM (SELECT CASE l.lanname WHEN 'sql' THEN rtrim(p.prosrc, E'; \n\t')
						 WHEN 'plpgsql' THEN substring(p.prosrc from 'RETURN QUERY\s+(.*?);\s*RETURN;')
			   END AS x
		  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
		 WHERE p.oid = 'privacy_tags._tagged_columns(regclass)'::regprocedure) f \gset
-- once for other customers, so that the session's caches are warm
\o /dev/null
EXPLAIN (ANALYZE) :hq_warm;
EXPLAIN (ANALYZE) SELECT coalesce(jsonb_agg(to_jsonb(t) - '{}'::text[] ORDER BY t.ctid), '[]') FROM $size.t1 t WHERE t.customer_id = '$(( id - 1 ))'::bigint;
EXPLAIN (ANALYZE) SELECT max(t.last_seen::timestamptz + '90 days'::interval) FROM $size.t1 t WHERE t.customer_id = '$(( id - 1 ))'::bigint;
\if :tq_ok
EXPLAIN (ANALYZE) :tq;
\endif
\o $work/explain.$size.hand
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) :hq;
\o $work/explain.$size.data
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT coalesce(jsonb_agg(to_jsonb(t) - '{}'::text[] ORDER BY t.ctid), '[]') FROM $size.t1 t WHERE t.customer_id = '$(( id + 2 ))'::bigint;
\o $work/explain.$size.expiry
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT max(t.last_seen::timestamptz + '90 days'::interval) FROM $size.t1 t WHERE t.customer_id = '$(( id + 2 ))'::bigint;
\o $work/explain.$size.tagged
\if :tq_ok
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) :tq;
\endif
\o
EOF
	# auto_explain logs every statement the call runs (at LOG, sent to the
	# client with client_min_messages = log) with its plan
	q -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
		-c "SET auto_explain.log_nested_statements = on" -c "SET jit = off" \
		-c "SET client_min_messages = log" \
		-c "SELECT octet_length(privacy_tags.subject_access('customer_$size', '$(( id + 4 ))')::text)" \
		>/dev/null 2>"$work/autoexplain.$size"
	# statements on <size>.tN: how many, how many read through the index, how many scan it
	awk -v size="$size" '
		/^LOG:  duration: / { flush(); inblk = 1; text = ""; idx = 0; seq = 0; next }
		inblk && /Seq Scan on t[0-9]+ / { seq = 1 }
		inblk && /(Index Scan using|Bitmap Index Scan on|Index Only Scan using) t[0-9]+_customer_id_idx/ { idx = 1 }
		inblk { text = text $0 "\n" }
		function flush() {
			if (inblk && text ~ ("FROM " size "\\.t[0-9]+ t WHERE")) { n++; if (idx) ni++; if (seq) ns++ }
		}
		END { flush(); printf "%d %d %d\n", n, ni, ns }
	' "$work/autoexplain.$size" >"$work/autoexplain.$size.counts"
	read -r n ni ns <"$work/autoexplain.$size.counts"
	echo "subject_access $size: auto_explain: $n statements on the tables, $ni through the index, $ns sequential scans" >&2
	if [ "$n" -lt "$tables" ] || [ "$ni" != "$n" ] || [ "$ns" != 0 ]; then
		echo "subject_access $size: not every statement on the tables used the customer_id index" >&2
		cat "$work/autoexplain.$size" >&2
		return 1
	fi
	# the hand-written query reads every table through the index too
	hi=$(grep -cE '(Index Scan using|Bitmap Index Scan on|Index Only Scan using) t[0-9]+_customer_id_idx' "$work/explain.$size.hand" || true)
	if [ "$hi" -lt "$tables" ] || grep -qE 'Seq Scan on t[0-9]+ ' "$work/explain.$size.hand"; then
		echo "subject_access $size: the hand-written query does not read every table through the index" >&2
		cat "$work/explain.$size.hand" >&2
		return 1
	fi
}
for size in small big; do
	# customers with rows that no measurement asked for
	explain "$size" "$(q -c "SELECT min(x) FROM bench.sizes s, generate_series(s.customers / 2, s.customers - 10) x
							WHERE s.size = '$size'
							  AND bench.present(x) AND bench.present(x + 2) AND bench.present(x + 4)
							  AND NOT EXISTS (SELECT FROM bench.calls c WHERE c.size = s.size AND c.id BETWEEN x - 2 AND x + 4)
							  AND NOT EXISTS (SELECT FROM bench.parts c WHERE c.size = s.size AND c.id BETWEEN x - 2 AND x + 4)")"
done

# Where the time of subject_access() goes, from the CPU's side: a profile
# (perf, with call graphs, when it can attach to the backend) of 100 calls
# for random customers at the larger size; the share of the samples under a
# few functions of the server (inclusive: a sample counts for every
# function on its stack).  Not counted in the results.
profile=""
profile_run() {
	local bpid i session rec
	rm -f "$work/profile.pid"
	psql -X -q -At -v ON_ERROR_STOP=1 -c "SELECT pg_backend_pid()" -c "SELECT pg_sleep(1)" -c "SET jit = off" \
		-c "SELECT count(bench.ext('big', x)) FROM unnest(bench.draw('big', 100)) x" \
		>"$work/profile.pid" &
	session=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$work/profile.pid" ] && break
		sleep 0.05
	done
	bpid=$(head -1 "$work/profile.pid")
	if [ -z "$bpid" ]; then
		wait "$session" || true
		return 1
	fi
	# perf stops when the backend exits, at the end of the session
	perf record -q --call-graph dwarf,16384 -F 499 -p "$bpid" -o "$work/perf.data" >/dev/null 2>&1 &
	rec=$!
	wait "$session" || return 1
	wait "$rec" || return 1
	perf report -i "$work/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
		sed -n 's/^ *\([0-9.]*\)%  *[0-9.]*%  *\[[^]]*\] \([^ ]*\).*/\1 \2/p' >"$work/profile.txt"
	[ -s "$work/profile.txt" ]
}
if command -v perf >/dev/null 2>&1 && perf record -q -o "$work/perf.test" true >/dev/null 2>&1 && profile_run; then
	profile=$(awk '
		BEGIN {
			n = split("fmgr_sql#ExecMakeTableFunctionResult#pg_plan_query#SPI_execute_extended#pg_analyze_and_rewrite_fixedparams pg_analyze_and_rewrite_withcb pg_analyze_and_rewrite_varparams raw_parser#index_getnext_slot BitmapHeapNext#jsonb_concat#to_jsonb jsonb_agg_transfn jsonb_agg_finalfn", g, "#")
			split("calls of SQL-language functions, whose statements are parsed and planned again on every call (`fmgr_sql`)#set-returning functions read in FROM, such as `_subject_graph()` and `_tagged_columns()` (`ExecMakeTableFunctionResult`)#planning, all statements (`pg_plan_query`)#dynamic SQL (`EXECUTE`: the queries on the tables), planning and running (`SPI_execute_extended`)#parse analysis and rewriting (`pg_analyze_and_rewrite_*`, `raw_parser`)#index and heap access (`index_getnext_slot`, `BitmapHeapNext`)#`jsonb || jsonb` (`jsonb_concat`)#turning rows into jsonb (`to_jsonb`, `jsonb_agg`)", d, "#")
			for (i = 1; i <= n; i++) { k = split(g[i], s, " "); for (j = 1; j <= k; j++) grp[s[j]] = i }
		}
		$2 in grp { sum[grp[$2]] += $1 }
		END { for (i = 1; i <= n; i++) printf "%s%s %.1f %%", (i > 1 ? "; " : ""), d[i], sum[i] }
	' "$work/profile.txt")
	echo "subject_access: profile: $profile" >&2
else
	echo "subject_access: no CPU profile (perf missing or not allowed)" >&2
fi
echo "subject_access: done in $(( $(date +%s) - start )) s" >&2

version=$(q -c "SHOW server_version")
settings=$(q -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
	WHERE name IN ('shared_buffers', 'effective_cache_size', 'random_page_cost')")
cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: *//' || true)
mem=$(awk '/^MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
sizes_of() {
	q -c "SELECT pg_size_pretty(sum(pg_relation_size(format('$1.t%s', k)::regclass))) || ' of tables and ' ||
				 pg_size_pretty(sum(pg_indexes_size(format('$1.t%s', k)::regclass))) || ' of indexes'
		  FROM generate_series(1, $tables) k"
}
sizes_small=$(sizes_of small)
sizes_big=$(sizes_of big)

cat >"$work/stats.sql" <<SQL
CREATE TEMP VIEW med AS
	SELECT size, side, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms,
		   percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY records) AS records, count(*) AS n
	FROM bench.calls GROUP BY size, side;
CREATE TEMP VIEW round_med AS
	SELECT size, round, side, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
	FROM bench.calls GROUP BY size, round, side;
CREATE TEMP VIEW labels(size, label, ord) AS VALUES ('small', '$small', 1), ('big', '$big', 2);
SQL
stats() { q -f "$work/stats.sql" -c "$1"; }

table=$(stats "
WITH rr AS (
	SELECT a.size, min(a.ms / b.ms) AS lo, max(a.ms / b.ms) AS hi
	FROM round_med a JOIN round_med b USING (size, round)
	WHERE a.side = 'ext' AND b.side = 'hand' GROUP BY a.size
)
SELECT format('| %s | %s | %s | %s | %s | **%s** | %s–%s | %s | %s | %s |',
			  l.label, round(e.records::numeric), round(e.ms::numeric, 2), round(e.p90::numeric, 2),
			  round(h.ms::numeric, 2), round((e.ms / h.ms)::numeric, 2), round(rr.lo::numeric, 2), round(rr.hi::numeric, 2),
			  round(c.ms::numeric, 2), round((e.ms / c.ms)::numeric, 2),
			  CASE WHEN e.ms / h.ms <= $goal_ratio THEN 'yes' ELSE '**no**' END)
FROM labels l JOIN med e ON e.size = l.size AND e.side = 'ext'
	 JOIN med h ON h.size = l.size AND h.side = 'hand'
	 JOIN med c ON c.size = l.size AND c.side = 'hand_cached'
	 JOIN rr ON rr.size = l.size
ORDER BY l.ord")
flat=$(stats "
WITH rr AS (	-- per round: the change of the round's medians
	SELECT side, min(b.ms / a.ms - 1) AS lo, max(b.ms / a.ms - 1) AS hi
	FROM round_med a JOIN round_med b USING (side, round)
	WHERE a.size = 'small' AND b.size = 'big' GROUP BY side
)
SELECT format('| %s | %s | %s | **%s %%** | %s to %s %% | %s |',
			  CASE side WHEN 'ext' THEN 'subject_access()' WHEN 'hand' THEN 'hand-written query'
						ELSE 'hand-written query, plan cached' END,
			  round(a.ms::numeric, 2), round(b.ms::numeric, 2),
			  to_char(100 * (b.ms / a.ms - 1), 'FMSG990.0'),
			  to_char(100 * rr.lo, 'FMSG990.0'), to_char(100 * rr.hi, 'FMSG990.0'),
			  CASE WHEN side <> 'ext' THEN '—'
				   WHEN abs(100 * (b.ms / a.ms - 1)) <= $goal_flat THEN 'yes' ELSE '**no**' END)
FROM med a JOIN med b USING (side) JOIN rr USING (side)
WHERE a.size = 'small' AND b.size = 'big'
ORDER BY array_position('{ext,hand,hand_cached}'::text[], side)")
parts=$(q -c "
WITH m AS (
	SELECT size, part, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM bench.parts GROUP BY size, part
), w AS (
	SELECT part, max(ms) FILTER (WHERE size = 'small') AS a, max(ms) FILTER (WHERE size = 'big') AS b
	FROM m GROUP BY part
), tot AS (SELECT a, b FROM w WHERE part = 'ext')
SELECT format('| %s | %s | %s %% | %s | %s %% |', name, round(a::numeric, 2), round((100 * a / ta)::numeric),
			  round(b::numeric, 2), round((100 * b / tb)::numeric))
FROM (SELECT ord, name, a, b FROM w JOIN (VALUES
		(2, 'no_rows', 'subject_access() of a customer without rows: the fixed cost of a call (checks, every table''s kept statement finding nothing, the facts, the audit entry)')) v(ord, part, name) USING (part)
	  UNION ALL
	  SELECT 5, 'the rest (by difference): reading the customer''s rows and writing them into the document',
			 (SELECT a FROM tot) - sum(a), (SELECT b FROM tot) - sum(b) FROM w WHERE part <> 'ext'
	  UNION ALL
	  SELECT 6, '**whole subject_access() call**', a, b FROM tot) x, tot t(ta, tb)
ORDER BY ord")
by_round=$(stats "
SELECT string_agg(format('%s: %s', l.label, r), '; ' ORDER BY l.ord) FROM (
	SELECT size, string_agg(format('%s / %s / %s', round(e.ms::numeric, 1), round(h.ms::numeric, 1), round(c.ms::numeric, 1)), ', ' ORDER BY round) AS r
	FROM round_med e JOIN round_med h USING (size, round) JOIN round_med c USING (size, round)
	WHERE e.side = 'ext' AND h.side = 'hand' AND c.side = 'hand_cached' GROUP BY size) x JOIN labels l USING (size)")

# plan excerpts: the planning and execution times, the scan nodes
timing_of() { sed -n 's/^\(Planning Time\|Execution Time\): \(.*\)$/\1 \2/p' "$1" | paste -sd ';' | sed 's/;/, /g'; }
# scans_of <file>: the scan nodes (table numbers as N), how many of each; the
# buffers of the top node and of planning
scans_of() {
	grep -oE '(Seq Scan on|Index Scan using|Index Only Scan using|Bitmap Index Scan on|Bitmap Heap Scan on) [a-z0-9_]+' "$1" |
		sed -E 's/\bt[0-9]+/tN/g' | sort | uniq -c | sort -rn |
		awk '{ c = $1; $1 = ""; sub(/^ /, ""); printf "%s%s`%s`", (NR > 1 ? ", " : ""), (c > 1 ? c " × " : ""), $0 }'
	awk '/Buffers:/ && !top { sub(/^ *Buffers: /, ""); printf "; buffers %s", $0; top = 1 }
		 /^Planning:/ { p = 1; next } p && /Buffers:/ { sub(/^ *Buffers: /, ""); printf "; planning buffers %s", $0; p = 0 }' "$1"
}
tagged_lang=$(q -c "SELECT CASE l.lanname WHEN 'sql' THEN 'a SQL function: parsed and planned again at every call'
								  WHEN 'plpgsql' THEN 'a PL/pgSQL function: planned once per session'
								  ELSE 'a ' || l.lanname || ' function' END
					 FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
					WHERE p.oid = 'privacy_tags._tagged_columns(regclass)'::regprocedure")
plans=""
for size in small big; do
	read -r n ni ns <"$work/autoexplain.$size.counts"
	label=$small
	[ "$size" = big ] && label=$big
	plans+="
- **${label}**: one \`subject_access()\` call under auto_explain ran ${n} statements
  on the tables, ${ni} of them through the \`customer_id\` index, ${ns}
  sequential scans.
  - hand-written query: $(timing_of "$work/explain.$size.hand"); $(scans_of "$work/explain.$size.hand").
  - subject_access()'s data query on \`$size.t1\`: $(timing_of "$work/explain.$size.data"); $(scans_of "$work/explain.$size.data").
  - its \`expires_at\` query on \`$size.t1\`: $(timing_of "$work/explain.$size.expiry").
  - the query of \`_tagged_columns('$size.t1')\` (${tagged_lang}): $( [ -s "$work/explain.$size.tagged" ] && timing_of "$work/explain.$size.tagged" || echo "not a single query, not shown").
"
done
plan_hand=$(sed 's/^/    /' "$work/explain.big.hand")
plan_data=$(sed 's/^/    /' "$work/explain.big.data")

cat <<EOF
## subject_access: a subject's data, subject_access() vs a hand-written query

Latency of \`privacy_tags.subject_access(type, id)\` for one customer, next
to one hand-written query that builds the same \`data\` part of the
document:
\`SELECT jsonb_build_object('small.t1', (SELECT jsonb_agg(to_jsonb(t)) FROM small.t1 t WHERE t.customer_id = \$1), 'small.t2', ...)\`
over the ${tables} tables. The set-up checks that both give the same rows in
the same order for 20 customers of each size.

- **Tables**: two sets of ${tables} tables, \`small.t1\` … \`small.t${tables}\` with
  ${rows} rows each (${small}) and \`big.t1\` … \`big.t${tables}\` with $(( rows * grow ))
  rows each (${big}), both there at once so that they are measured
  interleaved (subject types \`customer_small\` and \`customer_big\`). Every
  table has a \`customer_id bigint\` column (btree index;
  \`set_subject(..., 'customer_<size>')\`), four tagged columns (\`email\`
  and \`phone\` text, \`ip\` text with \`retain=90 days after last_seen;
  on_expiry=nullify\`, \`last_seen\` timestamptz) and four untagged ones
  (\`id\`, \`created_at\`, \`amount\`, \`note\`); rows of about 120 bytes.
  At ${small}: ${sizes_small}; at ${big}: ${sizes_big}.
- **Rows per customer**: row *i* of a template of ${rows} rows belongs to customer
  1 + hash(*i*) mod ${customers}, so a customer has about ${per_customer} rows in every
  table (Poisson), scattered over the heap. The ${small} tables are copies of
  the template; the ${big} tables hold ${grow} copies, each for ${customers} other
  customers ($(( customers * grow )) in all), so a customer has as many rows there
  as at ${small}: only the size of the tables and indexes differs. The
  tables are UNLOGGED (no WAL while loading; reads are the same) and not
  vacuumed (the first reads of a page set its hint bits, at both sizes);
  building the ${big} tables took ${build_s} s (two sessions in parallel).
- **Sides**, each a function of the customer id, called from a PL/pgSQL
  loop and timed inside the server with \`clock_timestamp()\` (no client
  round trip, no result sent): *subject_access()*; *hand-written*: the query
  text run with \`EXECUTE ... USING id\`, so parsed and planned on every
  call as a client's query is; *hand-written, plan cached*: the same query
  as static SQL in a PL/pgSQL function, planned once per session.
- **Rounds**: ${rounds} rounds after a warm-up round; a round makes ${calls}
  calls for each side and size, the six taking turns call by call (order
  rotating), every call for another random customer (drawn from all the
  size's customers; none twice in a round). Times are medians of the calls
  (${rounds} × ${calls} a side and size); *per round*: the lowest and highest
  value of the rounds' medians.

- Command: \`${BENCH_COMMAND:-./scripts/in_cluster.sh ./bench/run.sh subject_access}\`
- Date: ${BENCH_DATE:-$(date -u +%Y-%m-%d)}
- PostgreSQL: ${version}; ${settings}; jit off, no parallel workers
- Machine: $(nproc) CPUs${cpu:+, $cpu}${mem:+, $mem} (shared)

| rows a table | rows a call (median) | subject_access() ms (median) | subject_access() ms (p90) | hand-written ms | ratio | ratio, per round | hand-written, plan cached, ms | ratio to plan cached | goal: ratio ≤ ${goal_ratio} |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${table}

Flatness, ${small} → ${big} rows a table (same rows per customer):

| side | ${small} ms | ${big} ms | change | change, per round | goal: within ±${goal_flat} % |
| --- | ---: | ---: | ---: | ---: | --- |
${flat}

- Round medians, subject_access() / hand-written / plan cached (ms): ${by_round}.

### Where the time of subject_access() goes

The parts of the function timed one by one, each running the statements
the function ran when this benchmark was written (a part that no longer
matches the function shows in the remainder), for ${parts_calls} customers of each
size a round, ${parts_rounds} rounds after a warm-up round, interleaved call by
call with the whole function; medians (ms):

| part | ${small} ms | share | ${big} ms | share |
| --- | ---: | ---: | ---: | ---: |
${parts}

${profile:+CPU profile (\`perf record\` of the backend during 100 more calls at ${big}), share
of the samples under (a sample counts for every function on its stack, so
the lines overlap): ${profile}.

}EXPLAIN ANALYZE (for customers no measurement asked for):
${plans}
<details><summary>EXPLAIN (ANALYZE, BUFFERS) of the hand-written query at ${big}</summary>

${plan_hand}

</details>

<details><summary>EXPLAIN (ANALYZE, BUFFERS) of subject_access()'s data query on big.t1 at ${big}</summary>

${plan_data}

</details>
EOF
