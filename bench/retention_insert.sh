#!/usr/bin/env bash
# retention_insert: what the retention trigger costs an INSERT.  Three
# identical tables: no trigger, the C trigger of privacy_tags.enforce(), and
# the same checks written as a PL/pgSQL trigger.  Two measurements, both
# interleaved round by round:
#   - pgbench: single-row INSERTs from several clients for a fixed time (tps);
#   - server side: one INSERT ... SELECT of BENCH_ROWS rows, timed inside the
#     server, which leaves out commits and round trips and so shows the
#     per-row cost of the trigger (two passes a round).
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
#
#   BENCH_ROWS    rows of the server-side INSERT ... SELECT (default 1000000)
#   BENCH_REPEAT  rounds counted, after one shorter warm-up round (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${BENCH_ROWS:-1000000}
rounds=${BENCH_REPEAT:-5}
clients=4
threads=2
seconds=10
warmup_seconds=3
goal_pct=5		# C trigger at most this much slower than no trigger
goal_ratio=3	# PL/pgSQL overhead at least this many times the C overhead
db=privacy_tags_bench_retention_insert
variants=(none c plpgsql)			# pgbench
server_variants=(none c plpgsql c_noop)	# INSERT ... SELECT

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

# run_server <variant> <pass>: one INSERT ... SELECT on an empty table
# (variant c_noop: table ri_c, its trigger returning at once).
run_server() {
	local v=$1 p=$2 ms
	q -c "TRUNCATE bench.ri_${v%_noop}" -c "CHECKPOINT"
	ms=$(q -c "SET jit = off" -c "SELECT round(bench.time_insert('$v', $p)::numeric, 1)")
	echo "  pass $p INSERT ... SELECT, $v: $ms ms" >&2
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
	secs=$seconds
	[ "$r" -eq 0 ] && secs=$warmup_seconds
	for v in $(rotated "$r" "${variants[@]}"); do
		run_pgbench "$v" "$r" "$secs"
	done
	# two server-side passes a round (pass 2r-1 and 2r; 0 is the warm-up)
	for p in $(( r == 0 ? 0 : 2 * r - 1 )) $(( 2 * r )); do
		for v in $(rotated "$p" "${server_variants[@]}"); do
			run_server "$v" "$p"
		done
		[ "$r" -eq 0 ] && break
	done
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
		-c "SET jit = off" -c "SELECT bench.time_insert('$v', 0)" >"$work/profile.pid" &
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

# Medians (and, server side, the fastest run), then overheads: overhead =
# time per unit of work with the trigger - the same without.  Units of work:
# a pgbench transaction (time 1/tps, in µs), a server-side statement (ms).
cat >"$work/stats.sql" <<'SQL'
CREATE TEMP VIEW t AS
	SELECT 'pgbench' AS m, variant, round, 1e6 / value AS t, value AS shown
	FROM bench.results WHERE kind = 'pgbench'
	UNION ALL
	SELECT 'server', variant, round, value, value FROM bench.results WHERE kind = 'server'
	UNION ALL
	SELECT 'fastest', variant, round, value, value FROM bench.results WHERE kind = 'server';
CREATE TEMP VIEW w AS
	WITH med AS (
		SELECT m, variant,
			   CASE m WHEN 'fastest' THEN min(t) ELSE percentile_cont(0.5) WITHIN GROUP (ORDER BY t) END AS t,
			   CASE m WHEN 'fastest' THEN min(shown) ELSE percentile_cont(0.5) WITHIN GROUP (ORDER BY shown) END AS shown
		FROM t GROUP BY m, variant
	)
	SELECT m,
		   array_position('{pgbench,server,fastest}'::text[], m) AS ord,
		   CASE m WHEN 'pgbench' THEN 1.0 ELSE :rows / 1000.0 END AS per,	-- units a µs a row
		   max(shown) FILTER (WHERE variant = 'none') AS s_none,
		   max(shown) FILTER (WHERE variant = 'c') AS s_c,
		   max(shown) FILTER (WHERE variant = 'plpgsql') AS s_pl,
		   max(t) FILTER (WHERE variant = 'none') AS t_none,
		   max(t) FILTER (WHERE variant = 'c') AS t_c,
		   max(t) FILTER (WHERE variant = 'plpgsql') AS t_pl,
		   max(t) FILTER (WHERE variant = 'c_noop') AS t_noop
	FROM med GROUP BY m;
CREATE TEMP VIEW per_round AS	-- C overhead of each round, against the no-trigger run of the same round
	SELECT a.m, min(100 * (c.t / a.t - 1)) AS lo, max(100 * (c.t / a.t - 1)) AS hi
	FROM t a JOIN t c USING (m, round)
	WHERE a.variant = 'none' AND c.variant = 'c'
	GROUP BY a.m;
SQL
stats() { q -v rows="$rows" -f "$work/stats.sql" -c "$1"; }
table=$(stats "
SELECT format('| %s | %s | %s | %s | **%s %%** | %s | %s %% | **%s** | %s | %s |',
			  CASE m WHEN 'pgbench' THEN 'pgbench, single-row INSERT: tps, median'
					 WHEN 'server' THEN 'INSERT ... SELECT of ' || to_char($rows, 'FM9,999,999,999') || ' rows: ms, median'
					 ELSE 'the same: ms, fastest run' END,
			  round(s_none::numeric, 1), round(s_c::numeric, 1), round(s_pl::numeric, 1),
			  round((100 * (t_c / t_none - 1))::numeric, 1),
			  CASE WHEN m = 'fastest' THEN '—'
				   ELSE round(lo::numeric, 1) || ' to ' || round(hi::numeric, 1) || ' %' END,
			  round((100 * (t_pl / t_none - 1))::numeric, 1),
			  CASE WHEN t_c > t_none THEN round(((t_pl - t_none) / (t_c - t_none))::numeric, 1) || 'x'
				   ELSE 'n/a (C overhead ≤ 0)' END,
			  CASE WHEN 100 * (t_c / t_none - 1) <= $goal_pct THEN 'yes' ELSE '**no**' END,
			  CASE WHEN t_c <= t_none THEN 'n/a'
				   WHEN (t_pl - t_none) / (t_c - t_none) >= $goal_ratio THEN 'yes' ELSE '**no**' END)
FROM w JOIN per_round USING (m) ORDER BY ord")
perrow=$(stats "
SELECT format('| %s | %s | %s | %s | %s | %s |',
			  CASE m WHEN 'server' THEN 'medians' ELSE 'fastest runs' END,
			  round((t_none / per)::numeric, 2), round(((t_c - t_none) / per)::numeric, 2),
			  round(((t_noop - t_none) / per)::numeric, 2), round(((t_c - t_noop) / per)::numeric, 2),
			  round(((t_pl - t_none) / per)::numeric, 2))
FROM w WHERE m <> 'pgbench' ORDER BY ord")
by_round() {	# by_round <kind>: the values of every round (pass), by variant
	q -c "SELECT string_agg(variant || ': ' || vals, '; ' ORDER BY ord) FROM (
		SELECT variant, array_position('{none,c,plpgsql,c_noop}'::text[], variant) AS ord,
			   string_agg(round(value::numeric)::text, ', ' ORDER BY round) AS vals
		FROM bench.results WHERE kind = '$1' GROUP BY variant) s"
}
rounds_pg=$(by_round pgbench)
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
Three identical tables (bigint identity primary key, \`customer_id\`,
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
  ${rounds} rounds after a ${warmup_seconds}-second warm-up round, the order of
  the three tables rotating from round to round.
- **INSERT ... SELECT**: the ${rows} rows of a prepared source table (same
  distributions) inserted by one statement on an emptied table after a
  CHECKPOINT, timed inside the server (\`clock_timestamp()\` around the
  statement; commit not included). This leaves out the per-transaction costs
  (commit, round trip, parse) and shows what the trigger costs a row. Two
  passes a round, $(( 2 * rounds )) in all after a warm-up pass, the order of
  the variants rotating from pass to pass. A fourth variant, *C, returning
  at once*, inserts into the C table with \`privacy_tags.purging = on\`,
  under which the C trigger returns the row before looking at it: what
  calling any BEFORE ROW trigger costs.

- Command: \`${BENCH_COMMAND:-./scripts/in_cluster.sh ./bench/run.sh retention_insert}\`
- Date: ${BENCH_DATE:-$(date -u +%Y-%m-%d)}
- PostgreSQL: ${version}; ${settings}; jit off
${source_note}- Machine: $(nproc) CPUs${cpu:+, $cpu} (shared)

| measurement | none | C | PL/pgSQL | C overhead vs none | C overhead, per round | PL/pgSQL overhead vs none | overhead ratio PL/pgSQL ÷ C | goal: C ≤ ${goal_pct} % slower | goal: ratio ≥ ${goal_ratio}x |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
${table}

- *overhead*: time per transaction (pgbench: 1/tps) or per statement with
  the trigger minus the same without, as a percentage of the time without.
  *Per round*: the lowest and highest of the rounds' (passes') C overheads,
  each against the no-trigger run of the same round. *Fastest run*: the
  shortest of each variant's runs, which other load on the shared machine
  disturbs least.
- *overhead ratio*: PL/pgSQL overhead ÷ C overhead.

Per row, INSERT ... SELECT (µs):

| statistic | INSERT, no trigger | C trigger overhead | of which: calling a BEFORE ROW trigger | of which: the checks | PL/pgSQL trigger overhead |
| --- | ---: | ---: | ---: | ---: | ---: |
${perrow}

- *calling a BEFORE ROW trigger*: *C, returning at once* minus *none* (the
  trigger manager fetches the row as a heap tuple, calls the function
  through fmgr, with per-call statistics bookkeeping); *the checks*: *C*
  minus *C, returning at once* (finding the table's plan, reading the
  anchors and values from the tuple, comparing them with the bounds).
${profile_note}- pgbench tps by round: ${rounds_pg}.
- INSERT ... SELECT ms by pass: ${rounds_srv}.
EOF
