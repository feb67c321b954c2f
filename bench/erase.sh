#!/usr/bin/env bash
# erase: privacy_tags.erase() of one subject's BENCH_ROWS rows (set-based, in
# the server) against a client erasing the same rows one statement a row over
# its connection, in one transaction.  Interleaved, rounds, medians.
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
#
#   BENCH_ROWS    rows of the erased subject (default 1000: half in each table)
#   BENCH_REPEAT  rounds counted, after one warm-up round (default 9)
set -euo pipefail
cd "$(dirname "$0")/.."

subject_rows=${BENCH_ROWS:-1000}
rounds=${BENCH_REPEAT:-9}
background=100000	# other customers' rows in each table
subject=424242		# the erased customer (the others are 1 .. background/10)
warm=1				# the customer of the warm-up runs (rolled back)
db=privacy_tags_bench_erase
small=2			# a customer with 10 + 10 rows, erased to show erase()'s fixed cost
sides=(erase set_based client client_prepared server_loop erase_small)

export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "erase: set-up, subject with $subject_rows rows, $background rows of other customers in each of 2 tables" >&2
q -v subject_rows="$subject_rows" -v background="$background" -v subject="$subject" -f bench/erase.sql >/dev/null

# The psql scripts of the sides.  Each runs in a fresh session, first once
# for another customer with its effects rolled back (so that the session has
# compiled the functions, loaded the catalog entries and, for the prepared
# side, prepared its statements), then for the subject, timed with the
# server's clock_timestamp() from before BEGIN to after COMMIT.  Each prints
# "<ms> <statements sent> <report check>".
start_timer='SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset'
stop_timer='SELECT round((1000 * (extract(epoch FROM clock_timestamp()) - :t0))::numeric, 3) AS ms \gset'

# erase_script <customer> <rows deleted> <rows nulled>
erase_script() {
	cat <<EOF
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT privacy_tags.erase('customer', '$warm') \g /dev/null
ROLLBACK;
$start_timer
BEGIN;
SELECT privacy_tags.erase('customer', '$1') AS report \gset
COMMIT;
$stop_timer
SELECT :'ms', 1, CASE WHEN r #>> '{tables,bench.events,deleted}' = '$2'
					   AND r #>> '{tables,bench.invoices,nulled}' = '$3'
					   AND r #>> '{tables,bench.invoices,kept_because,legal_obligation}' = '$3'
					  THEN 'ok' ELSE r::text END
  FROM (SELECT :'report'::jsonb AS r) x;
EOF
}
erase_script "$subject" $(( subject_rows / 2 )) $(( subject_rows - subject_rows / 2 )) >"$work/erase.sql"
erase_script "$small" 10 10 >"$work/erase_small.sql"

# client <execute-del> <execute-upd>: the row-by-row client; the ids are
# looked up with one query a table, then every row gets its own statement
# (psql's \gexec sends each as a query of its own and waits for its result)
client_body() {
	local x=$1 del=$2 upd=$3
	cat <<EOF
BEGIN;
SELECT format('$del', id) FROM bench.events WHERE customer_id = $x ORDER BY id \gexec
SELECT format('$upd', id) FROM bench.invoices WHERE customer_id = $x ORDER BY id \gexec
EOF
}
{
	echo '\set ON_ERROR_STOP 1'
	client_body "$warm" 'DELETE FROM bench.events WHERE id = %s' 'UPDATE bench.invoices SET email = NULL, address = NULL WHERE id = %s'
	echo 'ROLLBACK;'
	echo "$start_timer"
	client_body "$subject" 'DELETE FROM bench.events WHERE id = %s' 'UPDATE bench.invoices SET email = NULL, address = NULL WHERE id = %s'
	echo 'COMMIT;'
	echo "$stop_timer"
	echo "SELECT :'ms', $(( subject_rows + 4 )), 'ok';"
} >"$work/client.sql"
{
	echo '\set ON_ERROR_STOP 1'
	echo 'PREPARE del(bigint) AS DELETE FROM bench.events WHERE id = $1;'
	echo 'PREPARE upd(bigint) AS UPDATE bench.invoices SET email = NULL, address = NULL WHERE id = $1;'
	client_body "$warm" 'EXECUTE del(%s)' 'EXECUTE upd(%s)'
	echo 'ROLLBACK;'
	echo "$start_timer"
	client_body "$subject" 'EXECUTE del(%s)' 'EXECUTE upd(%s)'
	echo 'COMMIT;'
	echo "$stop_timer"
	echo "SELECT :'ms', $(( subject_rows + 4 )), 'ok';"
} >"$work/client_prepared.sql"
cat >"$work/server_loop.sql" <<EOF
\set ON_ERROR_STOP 1
BEGIN;
CALL bench.loop_erase($warm);
ROLLBACK;
$start_timer
BEGIN;
CALL bench.loop_erase($subject);
COMMIT;
$stop_timer
SELECT :'ms', 1, 'ok';
EOF

# set_based: what a DBA writes by hand for the same changes, one DELETE and
# one UPDATE through the same indexes
cat >"$work/set_based.sql" <<EOF
\set ON_ERROR_STOP 1
BEGIN;
DELETE FROM bench.events WHERE customer_id = $warm;
UPDATE bench.invoices SET email = NULL, address = NULL WHERE customer_id = $warm;
ROLLBACK;
$start_timer
BEGIN;
DELETE FROM bench.events WHERE customer_id = $subject;
UPDATE bench.invoices SET email = NULL, address = NULL WHERE customer_id = $subject;
COMMIT;
$stop_timer
SELECT :'ms', 2, 'ok';
EOF

restore() { q -c "CALL bench.restore()" -c "VACUUM (ANALYZE) bench.events, bench.invoices" -c "CHECKPOINT"; }

# run <side> <round>: rebuild the tables, VACUUM and CHECKPOINT (not timed),
# run the side, check what it left.
run() {
	local side=$1 r=$2 out ms n check bad x=$subject
	[ "$side" = erase_small ] && x=$small
	restore
	out=$(q -F ' ' -f "$work/$side.sql")
	read -r ms n check <<<"$out"
	if [ "$check" != ok ]; then
		echo "erase: $side, round $r: unexpected report: $out" >&2
		return 1
	fi
	bad=$(q -c "SELECT bench.check_erased($x)")
	if [ -n "$bad" ]; then
		echo "erase: $side, round $r: $bad" >&2
		return 1
	fi
	if [ "$r" -gt 0 ]; then
		q -c "INSERT INTO bench.results VALUES ($r, '$side', $ms, $n)"
	fi
	echo "  round $r $side: $ms ms" >&2
}

start=$(date +%s)
for ((r = 0; r <= rounds; r++)); do
	for ((i = 0; i < ${#sides[@]}; i++)); do
		run "${sides[$(( (i + r) % ${#sides[@]} ))]}" "$r"
	done
	echo "erase: round $r of $rounds done$([ "$r" -eq 0 ] && echo ' (warm-up, not counted)')" >&2
done
echo "erase: measured in $(( $(date +%s) - start )) s" >&2

# Where the time of erase() goes: one more call under auto_explain
# (log_analyze), the executor time of every statement it runs on the two
# tables (planning not included), next to the whole call.
restore
q -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
	-c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_analyze = on" \
	-c "SET auto_explain.log_buffers = on" -c "SET auto_explain.log_timing = off" \
	-c "BEGIN" -c "SELECT privacy_tags.erase('customer', '$warm') IS NOT NULL" -c "ROLLBACK" \
	-c "SET client_min_messages = log" \
	-c "SELECT privacy_tags.erase('customer', '$subject') IS NOT NULL" \
	>/dev/null 2>"$work/autoexplain"
# "<ms>\t<statement>" for each statement on bench.events / bench.invoices
# (with the rows it touched: those of the scan under the DELETE or UPDATE
# node), and the top-level call
awk '
	/^LOG:  duration: / { flush(); d = $3; text = ""; inblk = 1; nrows = 0; rows = ""; next }
	inblk && /^Query Text:/ { text = $0; next }
	inblk && /actual rows=/ { nrows++; if (nrows == 2) { rows = $0; sub(/.*actual rows=/, "", rows); sub(/ .*/, "", rows) } }
	function flush(   k, m) {
		if (!inblk) return
		k = ""
		if (match(text, /^Query Text: DELETE FROM bench\.[a-z]+/)) k = "DELETE FROM " substr(text, 25, RLENGTH - 24) " (" rows " rows)"
		else if (match(text, /^Query Text: UPDATE bench\.[a-z]+/)) k = "UPDATE " substr(text, 20, RLENGTH - 19) " SET ... = NULL (" rows " rows)"
		else if (text ~ /count\(\*\) FILTER/) k = "counting the rows kept (one query a table)"
		else if (text ~ /^Query Text: SELECT count\(\*\) FROM bench\./) k = "NOT NULL check"
		else if (text ~ /^Query Text: SELECT privacy_tags\.erase/) k = "whole erase() call (executor)"
		if (k != "") printf "%s\t%s\n", d, k
		inblk = 0
	}
	END { flush() }
' "$work/autoexplain" >"$work/autoexplain.tsv"
if ! grep -q 'whole erase' "$work/autoexplain.tsv" || ! grep -q 'DELETE FROM' "$work/autoexplain.tsv"; then
	echo "erase: could not read the auto_explain output" >&2
	cat "$work/autoexplain" >&2
	exit 1
fi
breakdown=$(awk -F '\t' '
	{ ms[$2] += $1; if (!($2 in seen)) { order[++n] = $2; seen[$2] = 1 } }
	/whole erase/ { total = $1 }
	END {
		for (i = 1; i <= n; i++) if (order[i] !~ /whole/) { printf "| %s | %.2f | %.0f %% |\n", order[i], ms[order[i]], 100 * ms[order[i]] / total; sum += ms[order[i]] }
		printf "| everything else: finding the tables and tagged columns (catalog queries), planning the statements above, PL/pgSQL, report, audit_log | %.2f | %.0f %% |\n", total - sum, 100 * (total - sum) / total
		printf "| **whole erase() call** | %.2f | 100 %% |\n", total
	}' "$work/autoexplain.tsv")
plan_delete=$(awk '/^LOG:  duration: /{ p = 0 } /^Query Text: DELETE FROM bench\.events/ { p = 1 } p' "$work/autoexplain" | sed 's/^/    /')
plan_update=$(awk '/^LOG:  duration: /{ p = 0 } /^Query Text: UPDATE bench\.invoices/ { p = 1 } p' "$work/autoexplain" | sed 's/^/    /')

version=$(q -c "SHOW server_version")
settings=$(q -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
	WHERE name IN ('shared_buffers', 'fsync', 'synchronous_commit', 'wal_level')")
cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: *//' || true)
conn=$(q -c "SELECT CASE WHEN inet_client_addr() IS NULL THEN 'Unix-domain socket' ELSE 'TCP to ' || host(inet_server_addr()) END")

table=$(q <<EOF
WITH med AS (
	SELECT side, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms, min(ms) AS lo, max(ms) AS hi, max(statements) AS n
	FROM bench.results GROUP BY side
), e AS (SELECT ms FROM med WHERE side = 'erase'),
per_round AS (
	SELECT b.side, min(b.ms / a.ms) AS lo, max(b.ms / a.ms) AS hi
	FROM bench.results a JOIN bench.results b USING (round) WHERE a.side = 'erase' GROUP BY b.side
)
SELECT format('| %s | %s | %s | %s–%s | %s | %s | %s |',
			  CASE m.side WHEN 'erase' THEN '\`privacy_tags.erase()\`, one call'
						  WHEN 'erase_small' THEN '*for reference:* \`erase()\` of a customer with 10 + 10 rows'
						  WHEN 'client' THEN 'client, one statement a row'
						  WHEN 'client_prepared' THEN 'client, one prepared statement a row'
						  WHEN 'set_based' THEN 'hand-written set-based: one DELETE and one UPDATE'
						  ELSE 'PL/pgSQL loop in the server, one statement a row' END,
			  m.n, round(m.ms::numeric, 2), round(m.lo::numeric, 2), round(m.hi::numeric, 2),
			  CASE WHEN m.side = 'erase' THEN '1' WHEN m.side = 'erase_small' THEN round((m.ms / e.ms)::numeric, 2)::text
				   ELSE '**' || round((m.ms / e.ms)::numeric, 1) || 'x**' END,
			  CASE WHEN m.side = 'erase' THEN '—' WHEN m.side = 'erase_small' THEN round(p.lo::numeric, 2) || '–' || round(p.hi::numeric, 2)
				   ELSE round(p.lo::numeric, 1) || '–' || round(p.hi::numeric, 1) || 'x' END,
			  CASE WHEN m.side IN ('client', 'client_prepared') THEN
				   'reported: erase() ' || round((m.ms / e.ms)::numeric, 1) || 'x faster'
				   WHEN m.side = 'set_based' THEN
				   'erase() ' || round((e.ms / m.ms)::numeric, 1) || 'x this (goal 1.5x): '
				   || CASE WHEN e.ms / m.ms <= 1.5 THEN 'yes' ELSE '**no**' END ELSE '—' END)
FROM med m CROSS JOIN e JOIN per_round p USING (side)
ORDER BY array_position('{erase,set_based,client,client_prepared,server_loop,erase_small}'::text[], m.side)
EOF
)
by_round=$(q -c "
SELECT string_agg(side || ': ' || v, '; ' ORDER BY array_position('{erase,set_based,client,client_prepared,server_loop,erase_small}'::text[], side))
FROM (SELECT side, string_agg(round(ms::numeric, 1)::text, ', ' ORDER BY round) AS v FROM bench.results GROUP BY side) s")
# What the medians say about fixed and per-row costs.
costs=$(q <<EOF
WITH m AS (
	SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'erase') AS e,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'erase_small') AS es,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'client') AS c,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'client_prepared') AS cp,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'server_loop') AS l
	FROM bench.results
)
SELECT format('- erase() costs about %s ms whatever the number of rows (its median for a customer with 20 rows) and %s µs a row beyond that; the client, %s µs a statement (%s µs prepared), of which about %s µs (%s µs prepared) are the round trip and the statement''s parsing and planning (client minus the same statements run by the PL/pgSQL loop, a statement).',
			  round(es::numeric, 1), round((1000 * (e - es) / ($subject_rows - 20))::numeric, 1),
			  round((1000 * c / $(( subject_rows + 4 )))::numeric, 1), round((1000 * cp / $(( subject_rows + 4 )))::numeric, 1),
			  round((1000 * (c - l) / $(( subject_rows + 4 )))::numeric, 1), round((1000 * (cp - l) / $(( subject_rows + 4 )))::numeric, 1))
FROM m
EOF
)

cat <<EOF
## erase: one subject's ${subject_rows} rows, erase() vs row by row from a client

\`privacy_tags.erase('customer', X)\` against a client that erases the same
rows itself, one statement a row, in one transaction.

- **Tables**: \`bench.events\` (every tagged column — \`email\`, \`ip\`,
  \`payload\` — has a basis other than legal_obligation, so erase() deletes
  the subject's rows) and \`bench.invoices\` (\`amount\` is tagged
  \`basis=legal_obligation\`, so erase() keeps the rows and sets the other
  tagged columns, \`email\` and \`address\`, to NULL). Both have a bigint
  primary key and an indexed \`customer_id\` marked with
  \`set_subject(..., 'customer')\`; no foreign keys, no triggers; logged
  tables, autovacuum off.
- **Data**: customer X has $(( subject_rows / 2 )) rows in \`bench.events\` and
  $(( subject_rows - subject_rows / 2 )) in \`bench.invoices\` (${subject_rows} in all); each table also
  has ${background} rows of $(( background / 10 )) other customers. Rows are in random
  order, so X's rows are scattered over the heap.
- **Sides**, all doing the same changes (checked after every run: X's
  events gone, X's invoices there with \`amount\` and without \`email\` and
  \`address\`, other customers untouched; erase()'s report says
  $(( subject_rows / 2 )) deleted, $(( subject_rows - subject_rows / 2 )) nulled and kept for legal_obligation):
  - *erase()*: \`BEGIN; SELECT privacy_tags.erase('customer', 'X'); COMMIT;\`
    (one statement: erase() finds the tables, one set-based DELETE or
    UPDATE a table, writes its audit_log entry).
  - *client, one statement a row*: psql looks up the ids (one SELECT a
    table), then sends \`DELETE FROM bench.events WHERE id = \$id\` and
    \`UPDATE bench.invoices SET email = NULL, address = NULL WHERE id = \$id\`,
    one query and one round trip a row (\`\\gexec\`), between BEGIN and COMMIT
    over the connection (${conn}).
  - *client, prepared*: the same with the two statements prepared once
    (\`PREPARE\`, before the timed part), each row an \`EXECUTE del(\$id)\`.
  - *PL/pgSQL loop* (for reference, not a goal): the same statements, one a
    row, from a procedure in the server (\`CALL\`): no round trips, plans
    cached.
  - *erase() of a customer with 10 + 10 rows* (for reference): what
    erase() costs whatever the number of rows.
- **Runs**: each in a fresh session that first ran the same side for
  another customer and rolled it back (functions compiled, catalog cached,
  statements prepared); timed with the server's \`clock_timestamp()\` from
  before BEGIN to after COMMIT. Before every run, outside the timing, both
  tables are rebuilt from a copy (same rows in the same places every run),
  vacuumed, and a CHECKPOINT taken. ${rounds}
  rounds after a warm-up round, the order of the sides rotating.

- Command: \`${BENCH_COMMAND:-./scripts/in_cluster.sh ./bench/run.sh erase}\`
- Date: ${BENCH_DATE:-$(date -u +%Y-%m-%d)}
- PostgreSQL: ${version}; ${settings}
- Machine: $(nproc) CPUs${cpu:+, $cpu} (shared)

| side | statements sent | ms (median) | ms, fastest–slowest | time ÷ erase() time | the same, per round | goal (DESIGN.md: within 1.5x of the set-based statements) |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
${table}

- *statements sent*: for the clients, the two id look-ups, one a row,
  BEGIN and COMMIT.
- ms by round: ${by_round}.
${costs}

### Where the time of erase() goes

One more erase() of the same rows under auto_explain (\`log_analyze\`,
\`log_nested_statements\`; executor time of each statement, planning not
included), ms:

| statement | ms | share of the call |
| --- | ---: | ---: |
${breakdown}

<details><summary>auto_explain of the DELETE and the UPDATE erase() ran</summary>

${plan_delete}

${plan_update}

</details>
EOF
