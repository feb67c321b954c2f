#!/usr/bin/env bash
# retention_insert: what the retention trigger costs an INSERT.  Three
# identical tables: no trigger, the C trigger of privacy_tags.enforce(), and
# the same checks written as a PL/pgSQL trigger.  Two measurements, both
# interleaved round by round:
#   - pgbench: single-row INSERTs from several clients for a fixed time (tps);
#   - server side: INSERT ... SELECT of BENCH_ROWS rows into each table,
#     timed inside the server, which leaves out commits and round trips and
#     so shows the per-row cost of the trigger; the tables take turns chunk
#     by chunk (bench.server_round() in bench/retention_insert.sql).
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
#
#   BENCH_ROWS    rows of the server-side INSERT ... SELECT (default 1000000)
#   BENCH_REPEAT  rounds counted, after one shorter warm-up round (default 6)
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${BENCH_ROWS:-1000000}
rounds=${BENCH_REPEAT:-6}
clients=4
threads=2
seconds=4		# a pgbench run of one table; pg_runs runs of each table a round
pg_runs=2
mixed_seconds=8	# a pgbench run of the three tables mixed; one a round
warmup_seconds=3
chunk_rows=50000
goal_pct=5		# C trigger at most this much slower than no trigger
goal_ratio=3	# PL/pgSQL overhead at least this many times the C overhead
db=privacy_tags_bench_retention_insert
variants=(none c plpgsql)

export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "retention_insert: set-up, $rows source rows" >&2
q -v rows="$rows" -f bench/retention_insert.sql >/dev/null

for v in "${variants[@]}"; do
	sed "s/@TABLE@/ri_$v/" bench/retention_insert_pgbench.sql >"$work/$v.sql"
done

# run_pgbench <variant> <round> <seconds>: one pgbench run on an empty table.
run_pgbench() {
	local v=$1 r=$2 secs=$3 out=$work/pgbench.out err=$work/pgbench.err tps processed failed count
	q -c "TRUNCATE bench.ri_$v" -c "CHECKPOINT"
	if ! PGOPTIONS="-c synchronous_commit=off" pgbench -n -M prepared -c "$clients" -j "$threads" \
		-T "$secs" -f "$work/$v.sql" >"$out" 2>"$err"; then
		cat "$out" "$err" >&2
		echo "retention_insert: pgbench failed on ri_$v" >&2
		return 1
	fi
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
	processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	count=$(q -c "SELECT count(*) FROM bench.ri_$v")
	if [ -z "$tps" ] || [ -z "$processed" ] || [ "${failed:-0}" != 0 ] || [ "$count" != "$processed" ]; then
		cat "$out" "$err" >&2
		echo "retention_insert: pgbench on ri_$v: tps '$tps', $processed processed, ${failed:-?} failed, $count rows in the table" >&2
		return 1
	fi
	if [ "$r" -gt 0 ]; then
		q -c "INSERT INTO bench.results VALUES ('pgbench', '$v', $r, $tps, $processed)"
	fi
	echo "  round $r pgbench ri_$v: $tps tps" >&2
}

# run_mixed <round> <seconds>: one pgbench run of the three scripts
# together, each transaction picking one at random (equal weights), so the
# three meet the same conditions; the mean latency of each script's
# transactions comes from pgbench's transaction log (µs).
run_mixed() {
	local r=$1 secs=$2 out=$work/pgbench.out err=$work/pgbench.err processed failed sums counted
	q -c "TRUNCATE bench.ri_none, bench.ri_c, bench.ri_plpgsql" -c "CHECKPOINT"
	rm -f "$work"/mixlog*
	if ! PGOPTIONS="-c synchronous_commit=off" pgbench -n -M prepared -c "$clients" -j "$threads" \
		-T "$secs" -l --log-prefix="$work/mixlog" \
		-f "$work/none.sql@1" -f "$work/c.sql@1" -f "$work/plpgsql.sql@1" >"$out" 2>"$err"; then
		cat "$out" "$err" >&2
		echo "retention_insert: mixed pgbench run failed" >&2
		return 1
	fi
	processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	# log lines: client_id transaction_no time_us script_no epoch epoch_us
	sums=$(cat "$work"/mixlog* | awk '$3 ~ /^[0-9]+$/ { n[$4]++; t[$4] += $3 }
		END { printf "%d %d %d %.3f %.3f %.3f", n[0], n[1], n[2], t[0] / n[0], t[1] / n[1], t[2] / n[2] }')
	read -r n0 n1 n2 l0 l1 l2 <<<"$sums"
	counted=$(q -c "SELECT (SELECT count(*) FROM bench.ri_none) = $n0 AND (SELECT count(*) FROM bench.ri_c) = $n1
		AND (SELECT count(*) FROM bench.ri_plpgsql) = $n2 AND $(( n0 + n1 + n2 )) = ${processed:-0}")
	if [ "${failed:-0}" != 0 ] || [ "$counted" != t ]; then
		cat "$out" "$err" >&2
		echo "retention_insert: mixed pgbench run: ${failed:-?} failed, logged $n0/$n1/$n2 of ${processed:-?}" >&2
		return 1
	fi
	if [ "$r" -gt 0 ]; then
		q -c "INSERT INTO bench.results VALUES ('mixed', 'none', $r, $l0, $n0), ('mixed', 'c', $r, $l1, $n1),
			('mixed', 'plpgsql', $r, $l2, $n2)"
	fi
	echo "  round $r pgbench mixed: latency none $l0 µs, c $l1 µs, plpgsql $l2 µs" >&2
}

# run_server <round>: one server-side round, on emptied tables (the
# warm-up round 0: four chunks).
run_server() {
	local r=$1 limit=$rows
	[ "$r" -eq 0 ] && limit=$(( 4 * chunk_rows ))
	q -c "TRUNCATE bench.ri_none, bench.ri_c, bench.ri_plpgsql, bench.ri_c_noop" -c "CHECKPOINT"
	q -c "SET jit = off" -c "CALL bench.server_round($r, $chunk_rows, $limit)"
	[ "$r" -eq 0 ] && return
	echo "  round $r INSERT ... SELECT: $(q -c "SELECT string_agg(variant || ' ' || round(value) || ' ms', ', ' ORDER BY variant)
		FROM bench.results WHERE kind = 'server' AND round = $r")" >&2
}

# rotated <offset> <item>...: the items, rotated left by offset
rotated() {
	local k=$1 n i
	shift
	n=$#
	local items=("$@")
	for ((i = 0; i < n; i++)); do
		printf '%s\n' "${items[$(( (i + k) % n ))]}"
	done
}

start=$(date +%s)
for ((r = 0; r <= rounds; r++)); do
	if [ "$r" -eq 0 ]; then
		for v in "${variants[@]}"; do run_pgbench "$v" 0 "$warmup_seconds"; done
		run_mixed 0 "$warmup_seconds"
	else
		# short runs, the tables taking turns (order rotating)
		for ((s = 1; s <= pg_runs; s++)); do
			pr=$(( pg_runs * (r - 1) + s ))
			for v in $(rotated "$pr" "${variants[@]}"); do
				run_pgbench "$v" "$pr" "$seconds"
			done
		done
		run_mixed "$r" "$mixed_seconds"
	fi
	run_server "$r"
	echo "retention_insert: round $r of $rounds done$([ "$r" -eq 0 ] && echo ' (warm-up, not counted)')" >&2
done
echo "retention_insert: measured in $(( $(date +%s) - start )) s" >&2

# Where the time of the C trigger goes: a CPU profile (perf, when it can
# attach to the backend) of one INSERT ... SELECT into the C table and one
# into the table without trigger.  Not counted in the results.
# profile <variant>: perf report of the backend, "<percent> <symbol>" lines.
profile() {
	local v=$1 bpid i session rec
	q -c "TRUNCATE bench.ri_$v" -c "CHECKPOINT"
	rm -f "$work/profile.pid"
	psql -X -q -At -v ON_ERROR_STOP=1 -c "SELECT pg_backend_pid()" -c "SELECT pg_sleep(1)" \
		-c "SET jit = off" -c "SELECT bench.insert_all('$v')" >"$work/profile.pid" &
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
	perf record -q -F 999 -p "$bpid" -o "$work/perf.$v.data" >/dev/null 2>&1 &
	rec=$!
	wait "$session" || return 1
	wait "$rec" || return 1
	perf report -i "$work/perf.$v.data" --no-children --sort symbol --stdio 2>/dev/null |
		sed -n 's/^ *\([0-9.]*\)%  *\[[^]]*\] \([^ ]*\).*/\1 \2/p'
}
profile_c=""
if command -v perf >/dev/null 2>&1 && perf record -q -o "$work/perf.test" true >/dev/null 2>&1 \
	&& profile none >"$work/profile.none" && profile c >"$work/profile.c" \
	&& [ -s "$work/profile.none" ] && [ -s "$work/profile.c" ]; then
	# the functions the trigger runs, in two groups: calling it (trigger
	# manager, fmgr bookkeeping) and its checks (reading the anchors, the
	# timestamp arithmetic); their share of the C run's samples, and the
	# share the same functions have in the run without trigger
	profile_c=$(awk -v call="ExecBRInsertTriggers ExecCallTriggerFunc pgstat_init_function_usage pgstat_end_function_usage" \
		-v checks="retention_trigger build_plan expiry_of is_expired compute_bounds anchor_int int_anchor check_subject_rules heap_getattr nocachegetattr date_timestamptz date2timestamptz_opt_overflow timestamptz_pl_interval timestamp2tm tm2timestamp j2date date2j DetermineTimeZoneOffset DetermineTimeZoneOffsetInternal pg_next_dst_boundary pg_localtime localsub timesub GetCurrentTransactionStartTimestamp DirectFunctionCall1Coll DirectFunctionCall2Coll dt2time time2t" '
		BEGIN {
			n = split(call, a, " "); for (i = 1; i <= n; i++) group[a[i]] = "call"
			n = split(checks, a, " "); for (i = 1; i <= n; i++) group[a[i]] = "checks"
		}
		NR == FNR { if ($2 in group) base += $1; next }
		$2 in group {
			g = group[$2]; sum[g] += $1
			if ($1 >= 0.1) list[g] = list[g] (list[g] ? ", " : "") "`" $2 "` " $1 " %"
		}
		END {
			printf "the checks %.1f %% (%s), calling the trigger %.1f %% (%s); the same functions have %.1f %% of the samples of the run without trigger",
				sum["checks"], list["checks"], sum["call"], list["call"], base
		}' "$work/profile.none" "$work/profile.c")
	echo "retention_insert: profile of the C trigger: $profile_c" >&2
else
	echo "retention_insert: no CPU profile (perf missing or not allowed)" >&2
fi
q -c "TRUNCATE bench.ri_none, bench.ri_c, bench.ri_plpgsql"

# Every server-side measurement inserted every row.
bad=$(q -c "SELECT count(*) FROM bench.results WHERE kind = 'server' AND nrows <> $rows")
if [ "$bad" != 0 ]; then
	echo "retention_insert: $bad server-side measurements did not insert every row" >&2
	exit 1
fi

version=$(q -c "SHOW server_version")
settings=$(q -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings
	WHERE name IN ('shared_buffers', 'fsync', 'wal_level', 'max_wal_size', 'synchronous_commit')")
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

# Medians, then overheads: overhead = time per unit of work with the
# trigger - the same without.  Units of work: a pgbench transaction (time
# 1/tps, in µs), a server-side round (ms for BENCH_ROWS rows).
cat >"$work/stats.sql" <<'SQL'
CREATE TEMP VIEW t AS
	SELECT kind AS m, variant, round, CASE kind WHEN 'pgbench' THEN 1e6 / value ELSE value END AS t,	-- µs; ms
		   value AS shown
	FROM bench.results;
CREATE TEMP VIEW w AS
	WITH med AS (
		SELECT m, variant, percentile_cont(0.5) WITHIN GROUP (ORDER BY t) AS t,
			   percentile_cont(0.5) WITHIN GROUP (ORDER BY shown) AS shown
		FROM t GROUP BY m, variant
	)
	SELECT m,
		   array_position('{pgbench,mixed,server}'::text[], m) AS ord,
		   CASE m WHEN 'server' THEN :rows / 1000.0 ELSE 1.0 END AS per,	-- units a µs a row
		   max(shown) FILTER (WHERE variant = 'none') AS s_none,
		   max(shown) FILTER (WHERE variant = 'c') AS s_c,
		   max(shown) FILTER (WHERE variant = 'plpgsql') AS s_pl,
		   max(t) FILTER (WHERE variant = 'none') AS t_none,
		   max(t) FILTER (WHERE variant = 'c') AS t_c,
		   max(t) FILTER (WHERE variant = 'plpgsql') AS t_pl,
		   max(t) FILTER (WHERE variant = 'c_noop') AS t_noop
	FROM med GROUP BY m;
CREATE TEMP VIEW per_round AS	-- C overhead of each round, against the no-trigger run of the same round
	SELECT a.m, min(100 * (c.t / a.t - 1)) AS lo, max(100 * (c.t / a.t - 1)) AS hi,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY 100 * (c.t / a.t - 1)) AS mid
	FROM t a JOIN t c USING (m, round)
	WHERE a.variant = 'none' AND c.variant = 'c'
	GROUP BY a.m;
SQL
stats() { q -v rows="$rows" -f "$work/stats.sql" -c "$1"; }
table=$(stats "
SELECT format('| %s | %s | %s | %s | **%s %%** | %s %% (%s to %s %%) | %s %% | **%s** | %s | %s |',
			  CASE m WHEN 'pgbench' THEN 'pgbench, single-row INSERT, one table a run: tps'
					 WHEN 'mixed' THEN 'pgbench, the three mixed in each run: mean latency, µs'
					 ELSE 'INSERT ... SELECT of ' || to_char($rows, 'FM9,999,999,999') || ' rows: ms' END,
			  round(s_none::numeric, 1), round(s_c::numeric, 1), round(s_pl::numeric, 1),
			  round((100 * (t_c / t_none - 1))::numeric, 1),
			  round(mid::numeric, 1), round(lo::numeric, 1), round(hi::numeric, 1),
			  round((100 * (t_pl / t_none - 1))::numeric, 1),
			  CASE WHEN t_c > t_none THEN round(((t_pl - t_none) / (t_c - t_none))::numeric, 1) || 'x'
				   ELSE 'n/a (C overhead ≤ 0)' END,
			  CASE WHEN 100 * (t_c / t_none - 1) <= $goal_pct THEN 'yes' ELSE '**no**' END,
			  CASE WHEN t_c <= t_none THEN 'n/a'
				   WHEN (t_pl - t_none) / (t_c - t_none) >= $goal_ratio THEN 'yes' ELSE '**no**' END)
FROM w JOIN per_round USING (m) ORDER BY ord")
perrow=$(stats "
SELECT format('| %s | %s | %s | %s | %s |',
			  round((t_none / per)::numeric, 2), round(((t_c - t_none) / per)::numeric, 2),
			  round(((t_noop - t_none) / per)::numeric, 2), round(((t_c - t_noop) / per)::numeric, 2),
			  round(((t_pl - t_none) / per)::numeric, 2))
FROM w WHERE m = 'server'")
by_round() {	# by_round <kind>: the values of every round, by variant
	q -c "SELECT string_agg(variant || ': ' || vals, '; ' ORDER BY ord) FROM (
		SELECT variant, array_position('{none,c,plpgsql,c_noop}'::text[], variant) AS ord,
			   string_agg(round(value::numeric, CASE '$1' WHEN 'mixed' THEN 1 ELSE 0 END)::text, ', ' ORDER BY round) AS vals
		FROM bench.results WHERE kind = '$1' GROUP BY variant) s"
}
rounds_pg=$(by_round pgbench)
rounds_mixed=$(by_round mixed)

# The verdicts, and the figures the findings quote.
IFS='|' read -r srv_none_us srv_c_us srv_pct srv_noop_us srv_ratio srv_met mix_pct mix_ratio mix_met <<<"$(stats "
SELECT round((s.t_none / s.per)::numeric, 2), round(((s.t_c - s.t_none) / s.per)::numeric, 2),
	   round((100 * (s.t_c / s.t_none - 1))::numeric, 1),
	   round(((s.t_noop - s.t_none) / s.per)::numeric, 2),
	   round(((s.t_pl - s.t_none) / nullif(s.t_c - s.t_none, 0))::numeric, 1),
	   100 * (s.t_c / s.t_none - 1) <= $goal_pct,
	   round((100 * (x.t_c / x.t_none - 1))::numeric, 1),
	   round(((x.t_pl - x.t_none) / nullif(x.t_c - x.t_none, 0))::numeric, 1),
	   100 * (x.t_c / x.t_none - 1) <= $goal_pct
FROM w s, w x WHERE s.m = 'server' AND x.m = 'mixed'")"
findings="- Per row (INSERT ... SELECT), the C trigger costs ${srv_c_us} µs, ${srv_pct} % of the
  ${srv_none_us} µs an INSERT takes here without trigger; the goal of at most
  ${goal_pct} % is $([ "$srv_met" = t ] && echo met || echo '**missed**') there. The PL/pgSQL trigger costs ${srv_ratio:-?}x as much.
- In single-row transactions (the mixed pgbench runs, which this machine's
  noise disturbs least) the C trigger adds ${mix_pct} % to a transaction,
  the goal is $([ "$mix_met" = t ] && echo met || echo '**missed**'); PL/pgSQL adds ${mix_ratio:-?}x as much. The separate pgbench
  runs (first row) measure the same with far more noise: see the range of
  their per-turn overheads.
"
if [ "$srv_met" != t ] || [ "$mix_met" != t ]; then
	findings+="- What is left to gain: calling the trigger costs ${srv_noop_us} µs a row (*C,
  returning at once* minus *none*); by the CPU profile above, most of the
  trigger's own time goes to reading the row. The anchors
  and values are read with \`heap_getattr()\` one column at a time, and
  since \`email\` (variable length) comes before them, every call walks the
  tuple from its start (\`nocachegetattr\`, the trigger's largest item).
  Suggestions for \`src/retention_trigger.c\`: read them through the
  trigger's slot (\`trigdata->tg_trigslot\` / \`tg_newslot\` with
  \`slot_getattr()\`, PostgreSQL 12+), which deforms the tuple once, up to
  the last column needed, and keeps it deformed; keep the plan found for
  the statement in \`fn_extra\` instead of a hash lookup a row. In
  single-row transactions the per-transaction bounds are computed for every
  row (now() changes with each transaction), which brings back the
  time-zone arithmetic (\`timestamp2tm\`, \`j2date\`, ... show up in a CPU
  profile of a single-row pgbench run, about 1 % of it); bounds kept
  across transactions (lo computed at t, hi at t + an hour: valid for any
  now() in between) would avoid that.
"
fi
findings=${findings%$'\n'}
rounds_srv=$(by_round server)
profile_note=""
if [ -n "$profile_c" ]; then
	profile_note="- CPU profile (\`perf record\` of the backend during one more INSERT ...
  SELECT into the C table, and one into the table without trigger), the
  functions the C trigger runs, as shares of the C run's samples:
  ${profile_c}.
"
fi

cat <<EOF
## retention_insert: INSERT with the retention trigger, C vs PL/pgSQL

What the retention trigger of \`privacy_tags.enforce()\` costs an INSERT.
Identical tables (bigint identity primary key, \`customer_id\`,
\`email text\`, \`last_contact date\`, \`ip inet\`, \`seen_at timestamptz\`),
tagged alike: \`email\` with \`retain=3 years after last_contact\` (delete),
\`ip\` with \`retain=30 days after seen_at; on_expiry=nullify\`. One has no
trigger (*none*), one the C trigger installed by \`privacy_tags.enforce()\`
(*C*), one the same checks as a PL/pgSQL \`BEFORE INSERT OR UPDATE\` row
trigger (*PL/pgSQL*: raise 23514 if \`last_contact::timestamptz + '3 years'
<= now()\`, or if \`ip\` is not NULL and \`seen_at + '30 days' <= now()\`);
the set-up checks that both triggers refuse and pass the same rows. Every row
inserted is inside its windows, so the triggers let every row through.

- **pgbench**: \`pgbench -n -M prepared -c ${clients} -j ${threads} -T ${seconds}\`
  running one single-row INSERT a transaction
  (\`bench/retention_insert_pgbench.sql\`: random customer, last contact 0–1000
  days ago, seen 0–28.9 days ago), with \`synchronous_commit=off\` (and the
  throwaway cluster has \`fsync=off\`), so commits do not wait for the disk;
  the table is emptied (TRUNCATE) and a CHECKPOINT taken before every run.
  Short runs, the three tables taking turns run by run (the order
  rotating), so that load from elsewhere on the shared machine falls on
  every table alike: $(( pg_runs * rounds )) runs of each (${pg_runs} a round), after a
  ${warmup_seconds}-second warm-up run of each.
- **pgbench, mixed**: the load on this shared machine changes faster than
  the runs above can follow, so also one run a round (-T ${mixed_seconds}, ${rounds} in
  all) of the three scripts together (\`-f none.sql@1 -f c.sql@1 -f
  plpgsql.sql@1\`): every transaction picks a table at random, so the three
  meet exactly the same conditions, and each one's mean latency (from the
  transaction log, \`-l\`) is its time per transaction; with all clients
  sharing the CPUs, the differences between the three are what their
  triggers cost, scaled alike.
- **INSERT ... SELECT**: the ${rows} rows of a prepared source table (same
  distributions) inserted into each emptied table (after a CHECKPOINT) by
  INSERT ... SELECT, timed inside the server (\`clock_timestamp()\` around
  each statement, commits not included). This leaves out the
  per-transaction costs (commit, round trip, parse) and shows what the
  trigger costs a row. The rows go in as chunks of ${chunk_rows}, one
  transaction each, the tables taking turns chunk by chunk (order rotating),
  so that load from elsewhere on the shared machine falls on every table
  alike; a table's time is the sum of its chunks. ${rounds} rounds after a
  warm-up round. A fourth table, *C, returning at once*, has the C trigger
  too but is written with \`privacy_tags.purging = on\`, under which the
  trigger returns the row before looking at it: what calling any BEFORE ROW
  trigger costs.
- Values are medians: of the pgbench runs, of the INSERT ... SELECT rounds.

- Command: \`${BENCH_COMMAND:-./scripts/in_cluster.sh ./bench/run.sh retention_insert}\`
- Date: ${BENCH_DATE:-$(date -u +%Y-%m-%d)}
- PostgreSQL: ${version}; ${settings}; jit off
${source_note}- Machine: $(nproc) CPUs${cpu:+, $cpu} (shared)

| measurement | none | C | PL/pgSQL | C overhead vs none | C overhead, per round: median (range) | PL/pgSQL overhead vs none | overhead ratio PL/pgSQL ÷ C | goal: C ≤ ${goal_pct} % slower | goal: ratio ≥ ${goal_ratio}x |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
${table}

- *overhead*: time per transaction (pgbench: 1/tps; mixed: the mean
  latency) or for the ${rows} rows
  with the trigger minus the same without, as a percentage of the time
  without, from the medians (the goals are judged on these). *Per round*:
  the C overhead of each INSERT ... SELECT round, each turn of pgbench
  runs or each mixed run, against the no-trigger table in the same round,
  turn or run; their median, lowest and highest. Pairing runs that were close in time
  takes out some of the slower drifts in the machine's load.
- *overhead ratio*: PL/pgSQL overhead ÷ C overhead.

Per row, INSERT ... SELECT (µs, from the medians):

| INSERT, no trigger | C trigger overhead | of which: calling a BEFORE ROW trigger | of which: the checks | PL/pgSQL trigger overhead |
| ---: | ---: | ---: | ---: | ---: |
${perrow}

- *calling a BEFORE ROW trigger*: *C, returning at once* minus *none* (the
  trigger manager fetches the row as a heap tuple and calls the function
  through fmgr, with per-call statistics bookkeeping); *the checks*: *C*
  minus *C, returning at once* (finding the table's plan, reading the
  anchors and values from the tuple, comparing them with the bounds).
${profile_note}- pgbench tps by run: ${rounds_pg}.
- pgbench, mixed, mean latency (µs) by run: ${rounds_mixed}.
- INSERT ... SELECT ms by round: ${rounds_srv}.

Findings:

${findings}
EOF
