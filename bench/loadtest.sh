#!/usr/bin/env bash
# loadtest: pgbench with several clients inserting and updating tagged,
# enforced tables while purges, run_purge batches, access exports and
# erasures run in the same mix, for a fixed time (or number of
# transactions); then a final purge and the invariants:
#   - no unexpired value lost,
#   - every expired value gone (held subjects and customers that invoices
#     point at kept, as documented),
#   - every erased subject gone except its legal-obligation data,
#   - no other subject touched,
#   - purges removed only what was expired when they ran,
#   - no errors other than the expected refusals (each predicted before the
#     write: expired anchor, missing consent, restriction, customer gone),
#   - access exports hold the subject's rows only,
#   - every export and erasure in the audit log,
#   - pgbench ran every transaction to the end;
# printed with the throughput; then the races the load runs into, each set
# up deterministically (bench/loadtest/races.sh).  Exits non-zero when an
# invariant or a race fails.  Not part of `make test`: `make loadtest` runs
# it in a throwaway cluster (./scripts/in_cluster.sh ./bench/loadtest.sh),
# against the installed extension.
#
# What runs is in bench/loadtest/: setup.sql (schema, tags, seed, ledger),
# harness.sql (the functions the tx_*.sql pgbench scripts call), check.sql
# (the invariants), races.sh.
#
#   LOAD_SECONDS       duration of the load, pgbench -T (default 90)
#   LOAD_TRANSACTIONS  if set, transactions per client instead (pgbench -t)
#   LOAD_CLIENTS       pgbench clients (default 4)
#   LOAD_THREADS       pgbench threads (default 2)
#   LOAD_CUSTOMERS     customers seeded (default 5000; 3 orders each, an
#                      invoice for 2 in 5)
#   LOAD_ERASE_PCT     share of the seeded customers erased during the run,
#                      spread over it (default 4)
#
# Once the load has run, the section "Load test" of BENCHMARKS.md (between
# <!-- bench:loadtest --> and <!-- /bench:loadtest -->) is rewritten with
# the results, failed invariants included; it is also printed on stdout.
# Under bench/run.sh (which sets BENCH_COMMAND) it only prints the section
# and run.sh puts it in place; run.sh runs it only when named
# (bench/run.sh loadtest): in `make bench`, which runs every bench/*.sh, it
# prints the section as it is and does nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${LOAD_SECONDS:-90}
transactions=${LOAD_TRANSACTIONS:-}
clients=${LOAD_CLIENTS:-4}
threads=${LOAD_THREADS:-2}
customers=${LOAD_CUSTOMERS:-5000}
erase_pct=${LOAD_ERASE_PCT:-4}
[ "$threads" -gt "$clients" ] && threads=$clients
db=privacy_tags_loadtest
dir=bench/loadtest
doc=BENCHMARKS.md

# the mix: script and weight (per cent of the transactions)
mix=(
	tx_order:28 tx_contact:20 tx_update_order:20 tx_invoice:10 tx_signup:8
	tx_access:8 tx_erase:3 tx_purge:2 tx_run_purge:1
)

# Under bench/run.sh without being named (make bench): not a benchmark;
# print the section as it stands, which run.sh puts back unchanged.
if [ -n "${BENCH_COMMAND:-}" ] && [[ "$BENCH_COMMAND" != *loadtest* ]]; then
	echo "loadtest: not run by make bench; make loadtest runs it" >&2
	awk '$0 == "<!-- bench:loadtest -->" { on = 1; next } $0 == "<!-- /bench:loadtest -->" { on = 0 } on' "$doc"
	exit 0
fi

# The command that reproduces this run, as quoted in BENCHMARKS.md.
standalone=false
if [ -z "${BENCH_COMMAND:-}" ]; then
	standalone=true
	vars=""
	for v in LOAD_SECONDS LOAD_TRANSACTIONS LOAD_CLIENTS LOAD_THREADS LOAD_CUSTOMERS LOAD_ERASE_PCT; do
		[ -n "${!v:-}" ] && vars+="$v=${!v} "
	done
	if [ -n "${MAKELEVEL:-}" ]; then
		BENCH_COMMAND="${vars}make loadtest"
	else
		BENCH_COMMAND="${vars}./scripts/in_cluster.sh ./bench/loadtest.sh"
	fi
fi
date_run=${BENCH_DATE:-$(date -u +%Y-%m-%d)}

export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "loadtest: set-up, $customers customers" >&2
q -v customers="$customers" -v candidates="$erase_pct" -f "$dir/setup.sql" >/dev/null
seed=$(q -c "SELECT format('%s customers, %s orders, %s invoices; %s with newsletter consent, %s restricted, %s under legal hold, %s to be erased',
	(SELECT count(*) FROM lt.customers), (SELECT count(*) FROM lt.orders), (SELECT count(*) FROM lt.invoices),
	count(*) FILTER (WHERE consent), count(*) FILTER (WHERE restricted), count(*) FILTER (WHERE held),
	count(*) FILTER (WHERE erase_candidate)) FROM lt.subject_state")
echo "loadtest: seeded $seed" >&2
windows=$(q -c "SELECT string_agg(format('\`%s.%s\`: %s', tbl, col, substring(tag::text from 'retain=[^;]*; on_expiry=[a-z]*')), E'\n' ORDER BY tbl, col)
	FROM lt.tags WHERE privacy_tags.retention(tag) IS NOT NULL")
extversion=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'privacy_tags'")

args=(-n -c "$clients" -j "$threads" --max-tries=1 --failures-detailed -P 10)
if [ -n "$transactions" ]; then
	args+=(-t "$transactions")
	mode="$transactions transactions per client (pgbench -t)"
	total_tx=$(( transactions * clients ))
	q -c "UPDATE lt.config SET started_at = clock_timestamp(), seconds = NULL, total_tx = $total_tx"
else
	args+=(-T "$seconds")
	mode="$seconds s (pgbench -T)"
	q -c "UPDATE lt.config SET started_at = clock_timestamp(), seconds = $seconds, total_tx = NULL"
fi
for m in "${mix[@]}"; do
	args+=(-f "$dir/${m%%:*}.sql@${m##*:}")
done

# The server's log (pg_virtualenv's cluster, found by port): deadlocks that
# reach pgbench (run_purge cannot catch them) are reported there with the
# statements of both sides.
server_log=""
if command -v pg_lsclusters >/dev/null 2>&1; then
	server_log=$(pg_lsclusters -h 2>/dev/null | awk -v p="${PGPORT:-5432}" '$3 == p && $4 == "online" { print $7; exit }')
fi
log_offset=0
[ -n "$server_log" ] && [ -r "$server_log" ] && log_offset=$(stat -c %s "$server_log")

echo "loadtest: pgbench ${args[*]}" >&2
start=$(date +%s)
set +e
pgbench "${args[@]}" >"$work/pgbench.out" 2>"$work/pgbench.err"
pgbench_rc=$?
set -e
elapsed=$(( $(date +%s) - start ))
grep -E '^progress:' "$work/pgbench.err" | sed 's/^/  /' >&2 || true
echo "loadtest: pgbench exited with $pgbench_rc after $elapsed s" >&2

# pgbench's report: the totals and, per script, transactions, tps, failures
# and average latency
out=$work/pgbench.out
total=$(sed -n 's/^number of transactions actually processed: \([0-9/]*\).*/\1/p' "$out")
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
latency=$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' "$out")
per_script=$(awk '
	/^SQL script [0-9]+:/ { if (name != "") print name, w, n, t, f, l; name = $4; sub(/.*\//, "", name); sub(/\.sql$/, "", name); w = n = t = f = l = "-" }
	name != "" && /^ - weight: / { w = $3 }
	name != "" && /^ - [0-9]+ transactions / { n = $2; t = $0; sub(/.*tps = /, "", t); sub(/\).*/, "", t) }
	name != "" && /^ - number of failed transactions: / { f = $6 }
	name != "" && /^ - latency average = / { l = $5 }
	END { if (name != "") print name, w, n, t, f, l }' "$out")
# deadlocks in the server log during the load, one line each:
# "<victim> (<waiting for what>, <statement>) with <other>"
log_deadlocks=""
if [ -n "$server_log" ] && [ -r "$server_log" ]; then
	log_deadlocks=$(tail -c +$(( log_offset + 1 )) "$server_log" | awk '
		function who(q) {
			if (q ~ /erase_next/) return "erase() or a dry run"
			if (q ~ /lt\.purge\(\)/) return "purge()"
			if (q ~ /run_purge/) return "run_purge()"
			if (q ~ /lt\.access\(\)/) return "subject_access()"
			if (q ~ /lt\.w_/) return "a writer"
			return q
		}
		function flush() {
			if (inblk) print who(vq) " (" what ", " stmt ") with " who(oq)
			inblk = 0
		}
		/ ERROR:  deadlock detected/ {
			flush(); inblk = 1; incontext = 0
			match($0, /\[[0-9]+\]/); vpid = substr($0, RSTART + 1, RLENGTH - 2)
			vq = oq = stmt = "?"; what = "waiting"
			next
		}
		inblk && /^\tProcess [0-9]+: / {
			line = $0; sub(/^\tProcess /, "", line)
			pid = line; sub(/:.*/, "", pid); q = line; sub(/^[0-9]+: /, "", q)
			if (pid == vpid) vq = q; else oq = q
			next
		}
		inblk && / CONTEXT:  / {
			incontext = 1
			if (match($0, /while [a-z]+ tuple/)) w = substr($0, RSTART + 6, RLENGTH - 6); else w = "waiting"
			if (match($0, /in relation "[^"]*"/)) what = w " in " substr($0, RSTART + 13, RLENGTH - 14)
			next
		}
		inblk && incontext && stmt == "?" && /^\tSQL statement "/ {
			t = $0; sub(/^\tSQL statement "/, "", t); n = split(t, a, " ")
			stmt = a[1] " " a[2] " " a[3] (a[3] == "ONLY" ? " " a[4] : "")
			next
		}
		inblk && / STATEMENT:  / { flush() }
		END { flush() }' | sort | uniq -c | sort -rn | sed 's/^ *\([0-9]*\) \(.*\)/\2 x\1/' | paste -sd ';' | sed 's/;/; /g')
fi

pgbench_problems=""
if [ "$pgbench_rc" -ne 0 ] || [ -z "$total" ] || [ "${failed:-0}" != 0 ] || grep -q 'aborted' "$work/pgbench.err"; then
	pgbench_problems="pgbench exit status $pgbench_rc, ${failed:-?} failed transactions${log_deadlocks:+; deadlocks in the server log: $log_deadlocks}"
	cat "$out" >&2
	grep -v '^progress:' "$work/pgbench.err" | head -n 20 >&2 || true
fi

# The final purge, as of its transaction's now(); then nothing runs and the
# invariants are checked as of that instant.
t=$(q <<'EOF'
BEGIN;
SELECT set_config('lt.actor', 'final', true) \g /dev/null
SELECT now();
SELECT * FROM privacy_tags.purge() \g /dev/null
COMMIT;
EOF
)
echo "loadtest: final purge as of $t" >&2
q -v t="$t" -f "$dir/check.sql" >"$work/check.out"
invariants=$(grep '^invariant: ' "$work/check.out")
failed_inv=$(sed -n 's/^failed invariants: //p' "$work/check.out")
pgbench_line="invariant: pgbench ran every transaction to the end (${total:-?} transactions, ${failed:-?} failed, exit status $pgbench_rc) ... "
if [ -z "$pgbench_problems" ]; then
	pgbench_line+="ok"
else
	pgbench_line+="FAILED (${failed:-?}): $pgbench_problems"
	failed_inv=$(( ${failed_inv:-0} + 1 ))
fi
invariants=$(printf '%s\n%s' "$invariants" "$pgbench_line")
echo "$invariants" >&2
if [ "${failed_inv:-1}" != 0 ]; then
	echo "loadtest: the unexpected errors, in full:" >&2
	q -c "SELECT format('  %s %s %s: %s%s%s', op, outcome, sqlstate, regexp_replace(message, '\s+', ' ', 'g'),
			coalesce(' [other: ' || other || ']', ''), coalesce(' [context: ' || regexp_replace(context, '\s+', ' ', 'g') || ']', ''))
		FROM lt.events WHERE outcome IN ('error', 'accepted_unexpectedly') ORDER BY id LIMIT 10" >&2
fi

summary=$(q <<'EOF'
SELECT format('%s erasures (%s refused by legal hold), %s dry-run erasures, %s access exports (%s of erased subjects), %s purges (%s dry runs) and %s run_purge batches that changed rows; %s rows deleted and %s values nulled by purges',
	(SELECT count(*) FROM lt.subject_state WHERE erase_result = 'erased'),
	(SELECT count(*) FROM lt.subject_state WHERE erase_result = 'held'),
	(SELECT count(*) FROM lt.erase_log WHERE dry_run),
	(SELECT count(*) FROM lt.access_log), (SELECT count(*) FROM lt.access_log WHERE erased),
	(SELECT count(*) FROM lt.purge_log), (SELECT count(*) FROM lt.purge_log WHERE dry_run),
	(SELECT count(DISTINCT txid) FROM lt.removals WHERE actor = 'run_purge'),
	(SELECT count(*) FROM lt.removals WHERE actor IN ('purge', 'run_purge', 'final') AND op = 'DELETE'),
	(SELECT count(*) FROM lt.removals WHERE actor IN ('purge', 'run_purge', 'final') AND op = 'UPDATE'));
EOF
)
outcomes=$(q <<'EOF'
SELECT format('| %s | %s | %s | %s | %s | %s | %s |', e.op, count(*),
	count(*) FILTER (WHERE outcome = 'ok'),
	coalesce((SELECT string_agg(reason || ' ' || n, ', ' ORDER BY n DESC)
	            FROM (SELECT reason, count(*) AS n FROM lt.events r WHERE r.op = e.op AND r.outcome = 'refused' GROUP BY 1) x), '—'),
	count(*) FILTER (WHERE outcome = 'gone'), count(*) FILTER (WHERE outcome = 'skipped_erased'),
	count(*) FILTER (WHERE outcome IN ('error', 'accepted_unexpectedly')))
  FROM lt.events e GROUP BY e.op
 ORDER BY array_position('{order,contact,update_order,invoice,signup,access,erase,erase_dry_run,purge,purge_dry_run}'::text[], e.op);
EOF
)
final_rows=$(q -c "SELECT format('%s customers, %s orders, %s invoices', (SELECT count(*) FROM lt.customers),
	(SELECT count(*) FROM lt.orders), (SELECT count(*) FROM lt.invoices))")
version=$(q -c "SHOW server_version")
cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: *//' || true)
echo "loadtest: $summary" >&2
echo "loadtest: tps ${tps:-?}, latency average ${latency:-?} ms" >&2

# The races the load runs into, set up deterministically (bench/loadtest/races.sh).
echo "loadtest: races" >&2
set +e
races=$(bash "$dir/races.sh" 2>"$work/races.err")
races_rc=$?
set -e
[ -z "$races" ] && races="race: bench/loadtest/races.sh did not run (exit status $races_rc) ... FAILED"
echo "$races" >&2
grep -v '^$' "$work/races.err" >&2 || true
failed_races=$(grep -c 'FAILED' <<<"$races" || true)

script_table=$(while read -r name w n t f l; do
	case $name in
		tx_order) what='renew a customer'"'"'s last activity and insert an order' ;;
		tx_contact) what='change a customer'"'"'s phone (3 in 10: email too)' ;;
		tx_update_order) what='new shipping address for an order' ;;
		tx_invoice) what='insert an invoice for a customer' ;;
		tx_signup) what='insert a new customer (with consent for 2 in 3)' ;;
		tx_access) what='`subject_access()`, checked' ;;
		tx_erase) what='`erase()` of the next subject (paced), otherwise a dry run' ;;
		tx_purge) what='`purge()` (1 in 5 a dry run)' ;;
		tx_run_purge) what='`CALL run_purge(batch_size => 100)`' ;;
		*) what=$name ;;
	esac
	printf '| `%s` | %s | %s | %s | %.1f | %s | %s |\n' "$name" "$what" "$w" "$n" "$t" "$l" "$f"
done <<<"$per_script")

if [ "$failed_inv" = 0 ] && [ "$failed_races" = 0 ]; then
	verdict="**Result: passed** — every invariant holds and every race ends well."
else
	verdict="**Result: FAILED** — ${failed_inv} invariant(s) and ${failed_races} race(s) failed (the lines marked FAILED below)."
fi

section=$work/section.md
cat >"$section" <<EOF
## Load test: writers, purges, exports and erasures at once

Not a speed comparison but a check under concurrency: pgbench clients
insert and update tagged, enforced tables while \`purge()\`,
\`run_purge()\`, \`subject_access()\` and \`erase()\` run in the same mix;
then a final purge, and the invariants are checked against a ledger the
writers keep; then the races the load runs into, each set up
deterministically. \`make loadtest\` (not part of \`make test\`) runs
\`bench/loadtest.sh\` in a throwaway cluster; \`bench/loadtest/\` holds the
schema, the harness functions, the pgbench scripts, the checks and the
races.

- **Schema** (\`bench/loadtest/setup.sql\`): \`lt.customers\` (subject
  column \`id\`; \`email\` consent-based, purpose newsletter), \`lt.orders\`
  (reached through a foreign key only, \`ON DELETE CASCADE\`),
  \`lt.invoices\` (subject column \`customer_id\`; \`amount\`
  \`basis=legal_obligation\`; its foreign key, \`NO ACTION\`, keeps the
  purge from deleting the customer), all three enforced. Time is
  compressed so that values expire while the load runs; the windows:
$(sed 's/^/  - /' <<<"$windows")
- **Seed**: ${seed}; anchors spread over the last 4 minutes, so part of
  the data is expired before the load starts; loaded before \`enforce()\`.
- **Writers** run one PL/pgSQL function a transaction
  (\`bench/loadtest/harness.sql\`); each predicts, from the row, the
  windows, \`now()\` (the trigger's clock) and the subject's consent and
  restriction, whether the trigger must refuse the write, and checks that it
  refuses exactly those, with the SQLSTATE and message predicted (a
  foreign-key error counts as expected only when the customer is gone). 5 %
  of sign-ups and orders carry an anchor already past a window, 1 in 10
  sign-ups an email without consent. Every write that commits is copied to
  a ledger table in the same transaction; a writer that finds its row
  different from the ledger checks that a purge nulled the value. A writer
  locks its subject's row of \`lt.subject_state\` FOR SHARE, the eraser FOR
  UPDATE: once a subject is erased, nobody writes for it again.
- **The privacy side** runs in the same mix, so purges, erasures and
  exports overlap each other and the writers: erasures of ${erase_pct} % of
  the seeded customers, spread over the run (the held ones must be
  refused), dry-run erasures in between, access exports (half of them of
  subjects already erased), \`purge()\` and \`run_purge()\`. Errors are
  caught and recorded (a deadlock with what the other backend was running),
  except in \`run_purge()\`, which cannot run under an exception block:
  those reach pgbench, and the server log says what was on the other side.
  A trigger on the three tables records every change made while
  \`privacy_tags.purging\` is on (purges and erasures), with the
  transaction's \`now()\`.
- **Invariants** (\`bench/loadtest/check.sql\`), after a final \`purge()\`
  as of its \`now()\`: the content the three tables must have is computed
  from the ledger, the windows, the holds, the erasures and the foreign
  keys, and compared value by value with what is there; every change a
  purge made is checked against the windows as of that purge's transaction,
  every change an erasure made against its subject.
- **Races** (\`bench/loadtest/races.sh\`): each on a fresh small schema of
  the same shape, a third session holds a row lock so that the two sides
  take their locks in the colliding order; the script waits until each side
  is blocked where it should be, then lets the holder go, and expects both
  sides to succeed and the data to end up right.

- Command: \`${BENCH_COMMAND}\`
- Date: ${date_run}
- PostgreSQL: ${version}; privacy_tags ${extversion}
- Machine: $(nproc) CPUs${cpu:+, $cpu} (shared)
- Load: ${clients} clients, ${threads} threads, ${mode}: \`pgbench ${args[*]}\`

${verdict}

| script | transaction | weight | transactions | tps | latency average, ms | failed |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
${script_table}
| **all** | | 100 | ${total} | **$(printf '%.1f' "${tps:-0}")** | ${latency} | ${failed} |

How the transactions ended (*refused*: the refusals predicted, by reason;
*gone*: the row to update was purged first; *skipped*: the subject was
erased; *errors*: everything else, and refusals that did not come):

| transaction | count | ok | refused | gone | skipped | errors |
| --- | ---: | ---: | --- | ---: | ---: | ---: |
${outcomes}

In all: ${summary}. Left at the end: ${final_rows}.

\`\`\`
${invariants}
${races}
\`\`\`
EOF

cat "$section"
if $standalone && [ -n "$total" ]; then
	# put the section in place, as bench/run.sh does
	open="<!-- bench:loadtest -->"
	close="<!-- /bench:loadtest -->"
	tmp=$(mktemp "$doc.XXXXXX")
	if grep -qxF "$open" "$doc" && grep -qxF "$close" "$doc"; then
		awk -v om="$open" -v cm="$close" -v body="$section" '
			$0 == om { print; while ((getline line < body) > 0) print line; skip = 1; next }
			$0 == cm { skip = 0 }
			!skip { print }
		' "$doc" >"$tmp"
	else
		{ cat "$doc"; echo; echo "$open"; cat "$section"; echo "$close"; } >"$tmp"
	fi
	cat "$tmp" >"$doc"
	rm -f "$tmp"
	mkdir -p bench/results
	cp "$section" bench/results/loadtest.md
	echo "loadtest: section updated in $doc" >&2
fi

if [ "$failed_inv" != 0 ] || [ "$failed_races" != 0 ]; then
	echo "loadtest: FAILED: $failed_inv invariant(s), $failed_races race(s)" >&2
	exit 1
fi
echo "loadtest: passed" >&2
