#!/usr/bin/env bash
# citus_purge: privacy_tags.purge() of expired rows of a distributed table
# (32 shards over two workers) through the coordinator, against the plain
# statement that changes the same rows through the coordinator: DELETE for
# a column whose window deletes the row, UPDATE ... SET col = NULL for a
# nullify column.  Starts its own Citus cluster (test/citus/cluster.sh: a
# coordinator and two workers on loopback ports); needs citus, pg_cron and
# privacy_tags installed in the PostgreSQL of PG_CONFIG.  Prints the
# BENCHMARKS.md section.  Not part of make bench.
#
#   BENCH_ROWS    expired rows of each table (default 100000; as many again
#                 that are not expired)
#   BENCH_REPEAT  rounds (default 5); each reloads both tables, then times
#                 purge() and the plain statement, alternating which goes first
set -euo pipefail
cd "$(dirname "$0")/.."
. test/citus/cluster.sh

rows=${BENCH_ROWS:-100000}
rounds=${BENCH_REPEAT:-5}
goal=0.9
missing=$(citus_missing)
if [ -n "$missing" ]; then
    echo "citus_purge: skipped: $missing" >&2
    exit 0
fi
trap citus_stop EXIT
citus_start >&2

q() { cpsql 0 "$@"; }

q -c "CREATE TABLE b_del (customer_id bigint NOT NULL, id bigint NOT NULL, email text,
                          last_contact date NOT NULL, PRIMARY KEY (customer_id, id))" \
  -c "CREATE TABLE b_nul (customer_id bigint NOT NULL, id bigint NOT NULL, ip inet,
                          seen_at timestamptz NOT NULL, PRIMARY KEY (customer_id, id))" \
  -c "CREATE INDEX ON b_del (last_contact)" -c "CREATE INDEX ON b_nul (seen_at)" \
  -c "SELECT create_distributed_table('b_del', 'customer_id', shard_count => 32)" \
  -c "SELECT create_distributed_table('b_nul', 'customer_id', colocate_with => 'b_del')" \
  -c "SELECT privacy_tags.set_subject('b_del', 'customer_id', 'customer')" \
  -c "SELECT privacy_tags.set_subject('b_nul', 'customer_id', 'customer')" \
  -c "SELECT privacy_tags.tag('b_del', 'email', 'contact.email; basis=consent; retain=3 years after last_contact')" \
  -c "SELECT privacy_tags.tag('b_nul', 'ip', 'network.ip_address; basis=legitimate_interests; retain=30 days after seen_at; on_expiry=nullify')" \
  >/dev/null
shards=$(q -c "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'b_del'::regclass")

# load: the same rows every round, half expired
load() {
    q -c "TRUNCATE b_del, b_nul" \
      -c "INSERT INTO b_del SELECT i % 5000, i, 'c' || i || '@example.com',
                 CASE WHEN i <= $rows THEN current_date - 2000 ELSE current_date - 10 END
            FROM generate_series(1, 2 * $rows) i" \
      -c "INSERT INTO b_nul SELECT i % 5000, i, '10.0.0.1',
                 CASE WHEN i <= $rows THEN now() - interval '90 days' ELSE now() - interval '1 day' END
            FROM generate_series(1, 2 * $rows) i" \
      -c "VACUUM ANALYZE b_del" -c "VACUUM ANALYZE b_nul" >/dev/null
    for n in 0 1 2; do cpsql $n -c "CHECKPOINT" >/dev/null; done
}
# One side, timed in the server (clock_timestamp() around the statement,
# commit not included, as bench/purge.sh does), in a session that has run
# both statements once on nothing (functions compiled, Citus's metadata
# cached); its row count checked.
q -c "CREATE FUNCTION bench_time(stmt text, OUT ms float8, OUT n bigint) LANGUAGE plpgsql AS \$\$
      DECLARE t0 timestamptz := clock_timestamp();
      BEGIN
          IF stmt LIKE 'SELECT%' THEN EXECUTE stmt INTO n; ELSE EXECUTE stmt; GET DIAGNOSTICS n = ROW_COUNT; END IF;
          ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
      END \$\$" >/dev/null
timed() {   # timed <expected rows> <sql> <warm-up sql>...
    local expected=$1 stmt=$2 out ms n args=()
    shift 2
    for w in "$@"; do args+=(-c "$w"); done
    out=$(q -c "SET jit = off" "${args[@]}" -c "SELECT ms, n FROM bench_time(\$\$${stmt}\$\$)" | tail -1)
    ms=${out%%|*}; n=${out##*|}
    [ "$n" = "$expected" ] || { echo "citus_purge: expected $expected rows, got: $out" >&2; exit 1; }
    echo "$ms"
}
cut_del=$(q -c "SELECT current_date - interval '3 years'" | cut -d' ' -f1)
declare -A t
for kind in delete nullify; do t[$kind,purge]=""; t[$kind,plain]=""; done
for r in $(seq 1 "$rounds"); do
    for kind in delete nullify; do
        if [ $kind = delete ]; then
            p="SELECT sum(rows) FROM privacy_tags.purge('b_del') WHERE action = 'delete'"
            h="DELETE FROM b_del WHERE last_contact <= '$cut_del'::date"
        else
            p="SELECT sum(rows) FROM privacy_tags.purge('b_nul') WHERE action = 'nullify'"
            h="UPDATE b_nul SET ip = NULL WHERE seen_at <= now() - interval '30 days' AND ip IS NOT NULL"
        fi
        if [ $((r % 2)) = 1 ]; then order="purge plain"; else order="plain purge"; fi
        for side in $order; do
            load
            warm=("SELECT count(*) FROM privacy_tags.purge('b_del', as_of => '2000-01-01')"
                  "SELECT count(*) FROM privacy_tags.purge('b_nul', as_of => '2000-01-01')"
                  "DELETE FROM b_del WHERE last_contact <= '1900-01-01'"
                  "UPDATE b_nul SET ip = NULL WHERE seen_at <= '1900-01-01' AND ip IS NOT NULL")
            if [ $side = purge ]; then ms=$(timed "$rows" "$p" "${warm[@]}"); else ms=$(timed "$rows" "$h" "${warm[@]}"); fi
            t[$kind,$side]="${t[$kind,$side]} $ms"
        done
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

pgv=$("$CITUS_BIN/postgres" --version | sed 's/^postgres (PostgreSQL) //')
citusv=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'")
echo "<!-- bench:citus_purge -->"
echo "## purge on Citus: privacy_tags.purge() vs plain DELETE / UPDATE through the coordinator"
echo
echo "- Date: $(date -u +%Y-%m-%d); PostgreSQL $pgv, Citus $citusv; a coordinator and two workers on one machine ($(nproc) cores), loopback"
echo "- A distributed table of $((2 * rows)) rows in $shards shards (distribution column customer_id), $rows of them expired; each round reloads it, vacuums, checkpoints, then times one side in a session that has run both statements once on nothing; the time is taken in the server (\`clock_timestamp()\` around the statement, commit not included, as for bench/purge.sh), jit off; $rounds rounds, medians, the sides alternating in going first"
echo "- delete: \`SELECT sum(rows) FROM privacy_tags.purge('b_del')\` (contact.email, retain=3 years after last_contact, a date) vs \`DELETE FROM b_del WHERE last_contact <= '<cut-off>'::date\`"
echo "- nullify: \`SELECT sum(rows) FROM privacy_tags.purge('b_nul')\` (network.ip_address, retain=30 days after seen_at, nullify) vs \`UPDATE b_nul SET ip = NULL WHERE seen_at <= now() - interval '30 days' AND ip IS NOT NULL\`"
echo "- Command: \`PG_CONFIG=<pg_config of a PostgreSQL with citus, pg_cron, privacy_tags> BENCH_ROWS=$rows BENCH_REPEAT=$rounds bash bench/citus_purge.sh\`"
echo
echo "| purge | rows | purge() ms | plain ms | purge() rows/s | plain rows/s | ratio | goal | met |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
for kind in delete nullify; do
    mp=$(echo "${t[$kind,purge]}" | median); mh=$(echo "${t[$kind,plain]}" | median)
    awk -v k=$kind -v n="$rows" -v p="$mp" -v h="$mh" -v g=$goal 'BEGIN {
        r = h / p; printf "| %s | %d | %.1f | %.1f | %.0f | %.0f | %.2f | %.2f | %s |\n", k, n, p, h, n / p * 1000, n / h * 1000, r, g, (r >= g) ? "yes" : "no" }'
done
echo
for kind in delete nullify; do
    echo "- ms by round: $kind, purge:${t[$kind,purge]}; $kind, plain:${t[$kind,plain]}"
done
echo "<!-- /bench:citus_purge -->"
