#!/usr/bin/env bash
# subject_access_growth: how subject_access() grows with the number of
# tables that hold a subject's rows, next to one hand-written query that
# builds the same data over the same tables (parsed and planned on every
# call, as a client's query is).  10, 100 and 400 tables of BENCH_ROWS rows,
# a customer having about 4 rows in each.  Interleaved, rounds, medians; the
# cost per added table of each side, and a plot (gnuplot, from Debian's
# gnuplot-nox) in bench/subject_access_growth.png.
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
#
#   BENCH_ROWS    rows a table has (default 20000)
#   BENCH_REPEAT  rounds counted, after one warm-up round (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${BENCH_ROWS:-20000}
rounds=${BENCH_REPEAT:-5}
customers=$(( rows / 4 ))
calls=40			# calls a side, size and round
sizes=(10 100 200 400)
goal=2				# subject_access()'s cost per added table at most this many times the query's
db=privacy_tags_bench_growth
export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "subject_access_growth: set-up, 710 tables of $rows rows ($customers customers)" >&2
start=$(date +%s)
q -v rows="$rows" -v customers="$customers" <<'SQL' >/dev/null
CREATE EXTENSION privacy_tags;
CREATE SCHEMA g;
-- four sets of tables, one per subject type: g10 has 10 tables, g100 100,
-- g200 200, g400 400 (710 in all), each a copy of the template
CREATE TABLE g.template AS
SELECT i AS id, 1 + (hashint4(i) & 2147483647) % :customers AS customer_id,
       'user' || i || '@example.com' AS email, '+46 70 ' || i AS phone, now() - (i % 90) * interval '1 day' AS last_seen,
       i % 1000 AS amount, 'note ' || i AS note
  FROM generate_series(1, :rows) i;
DO $$
DECLARE
    n int;
BEGIN
    FOREACH n IN ARRAY ARRAY[10, 100, 200, 400] LOOP
        FOR k IN 1..n LOOP
            EXECUTE format('CREATE TABLE g.t%s_%s AS SELECT * FROM g.template', n, k);
            EXECUTE format('CREATE INDEX ON g.t%s_%s (customer_id)', n, k);
            PERFORM privacy_tags.set_subject(format('g.t%s_%s', n, k)::regclass, 'customer_id', 'g' || n);
            PERFORM privacy_tags.tag(format('g.t%s_%s', n, k)::regclass, 'email', 'contact.email; basis=contract');
            PERFORM privacy_tags.tag(format('g.t%s_%s', n, k)::regclass, 'phone',
                                     'contact.phone; basis=legitimate_interests; retain=90 days after last_seen; on_expiry=nullify');
        END LOOP;
    END LOOP;
END $$;
DROP TABLE g.template;
VACUUM ANALYZE;
-- the hand-written query over the first n tables, the id as $1
CREATE FUNCTION g.hand_sql(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
    SELECT 'SELECT jsonb_object_agg(k, v) FILTER (WHERE v IS NOT NULL) FROM ('
           || string_agg(format('SELECT %L AS k, (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.ctid) FROM g.t%s_%s t WHERE t.customer_id = $1) AS v',
                                format('g.t%s_%s', n, k), n, k), ' UNION ALL ' ORDER BY k)
           || ') x'
      FROM generate_series(1, n) k
$f$;
CREATE TABLE g.times (side text, n int, round int, ms float8);
CREATE PROCEDURE g.measure(rounds int, calls int) LANGUAGE plpgsql AS $p$
DECLARE
    v jsonb;
    t0 timestamptz;
    sql text;
    id bigint;
    n int;
    nc int := (SELECT count(DISTINCT customer_id) FROM g.t10_1);
BEGIN
    FOR r IN 0..rounds LOOP
        FOR i IN 1..calls LOOP
            FOREACH n IN ARRAY ARRAY[10, 100, 200, 400] LOOP
                id := 1 + (hashint4(i * 7919 + r * 104729) & 2147483647) % nc;
                sql := g.hand_sql(n);
                -- the two sides take turns, the order rotating
                FOR s IN 0..1 LOOP
                    IF (s + i + r) % 2 = 0 THEN
                        t0 := clock_timestamp();
                        v := privacy_tags.subject_access('g' || n, id::text);
                        IF r > 0 THEN
                            INSERT INTO g.times VALUES ('ext', n, r, 1000 * extract(epoch FROM clock_timestamp() - t0));
                        END IF;
                    ELSE
                        t0 := clock_timestamp();
                        EXECUTE sql INTO v USING id;
                        IF r > 0 THEN
                            INSERT INTO g.times VALUES ('hand', n, r, 1000 * extract(epoch FROM clock_timestamp() - t0));
                        END IF;
                    END IF;
                END LOOP;
            END LOOP;
        END LOOP;
        COMMIT;
        RAISE NOTICE 'subject_access_growth: round % of % done%', r, rounds,
            CASE WHEN r = 0 THEN ' (warm-up, not counted)' ELSE '' END;
    END LOOP;
END $p$;
SQL
echo "subject_access_growth: built in $(( $(date +%s) - start )) s" >&2
# the two sides give the same data
check=$(q <<'SQL'
DO $$
DECLARE a jsonb; b jsonb; ok boolean := true; n int;
BEGIN
    FOREACH n IN ARRAY ARRAY[10, 100, 200, 400] LOOP
        FOR id IN 1..5 LOOP
            a := privacy_tags.subject_access('g' || n, id::text) -> 'data';
            EXECUTE g.hand_sql(n) INTO b USING id::bigint;
            ok := ok AND a = coalesce(b, '{}');
        END LOOP;
    END LOOP;
    IF NOT ok THEN
        RAISE EXCEPTION 'subject_access() and the hand-written query disagree';
    END IF;
END $$;
SELECT 'same';
SQL
)
[ "$check" = same ] || { echo "subject_access_growth: the two sides disagree" >&2; exit 1; }
echo "subject_access_growth: $rounds rounds + 1 warm-up, $calls calls a side and size a round" >&2
q -c "CALL g.measure($rounds, $calls)" 2>&1 | sed -n 's/^NOTICE: *//p' >&2

# the fixed cost: a subject without rows, at 10 tables
fixed=$(q -c "DO \$\$ DECLARE t0 timestamptz; v jsonb; ms float8[] := '{}'; BEGIN v := privacy_tags.subject_access('g10', '0');
    FOR i IN 1..200 LOOP t0 := clock_timestamp(); v := privacy_tags.subject_access('g10', (-i)::text);
    ms := ms || 1000 * extract(epoch FROM clock_timestamp() - t0); END LOOP;
    RAISE NOTICE 'fixed %', (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(ms) x); END \$\$" 2>&1 | sed -n 's/.*NOTICE: *fixed //p')
stats=$(q -F '|' -c "
SELECT side, n, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM g.times GROUP BY side, n ORDER BY side, n")
printf '%s\n' "$stats" >"$work/med.txt"
awk -F'|' '$1 == "ext" { print $2, $3 > "'"$work"'/ext.dat" } $1 == "hand" { print $2, $3 > "'"$work"'/hand.dat" }' "$work/med.txt"
table=$(q -c "
WITH m AS (SELECT side, n, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM g.times GROUP BY side, n)
SELECT format('| %s | %s | %s | %s |', a.n, round(a.ms::numeric, 2), round(b.ms::numeric, 2), round((a.ms / b.ms)::numeric, 2))
  FROM m a JOIN m b ON b.n = a.n AND b.side = 'hand' WHERE a.side = 'ext' ORDER BY a.n")
slopes=$(q -c "
WITH m AS (SELECT side, n, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM g.times GROUP BY side, n),
     s AS (SELECT side, regr_slope(ms, n) AS per_table FROM m GROUP BY side)
SELECT format('| %s | %s | %s |', e.per_table * 1000, h.per_table * 1000, round((e.per_table / h.per_table)::numeric, 2))
       || '|' || CASE WHEN e.per_table <= $goal * h.per_table THEN 'yes' ELSE '**no**' END
  FROM s e, s h WHERE e.side = 'ext' AND h.side = 'hand'")
per_ext=$(echo "$slopes" | cut -d'|' -f2 | xargs printf '%.1f')
per_hand=$(echo "$slopes" | cut -d'|' -f3 | xargs printf '%.1f')
ratio=$(echo "$slopes" | cut -d'|' -f4 | xargs)
met=$(echo "$slopes" | cut -d'|' -f6)
plot="bench/subject_access_growth.png"
if command -v gnuplot >/dev/null; then
	gnuplot <<EOF
set terminal png size 800,480 noenhanced
set output '$plot'
set title 'subject_access() and the hand-written query, by tables holding the subject ($BENCH_DATE)'
set xlabel 'tables'
set ylabel 'ms a call (median)'
set key left top
set grid
plot '$work/ext.dat' using 1:2 with linespoints title 'subject_access()', \
     '$work/hand.dat' using 1:2 with linespoints title 'hand-written query'
EOF
	plotnote="The plot, \`$plot\`:"
else
	plotnote="(gnuplot is not installed: \`apt-get install gnuplot-nox\`; the plot below is from an earlier run.)"
fi

cat <<EOF
## subject_access_growth: cost per table, subject_access() vs a hand-written query

\`subject_access()\` for one customer over 10, 100, 200 and 400 tables of $rows
rows each (four subject types, one per set of tables) (about 4 rows of the customer in each table; every table has two
tagged columns, one with a window), next to one hand-written query that
builds the same \`data\` (\`SELECT jsonb_object_agg(...) FROM (SELECT 'g.t400_1',
(SELECT jsonb_agg(to_jsonb(t) ORDER BY t.ctid) FROM g.t400_1 t WHERE t.customer_id = \$1) UNION ALL
...)\`, run with \`EXECUTE ... USING\`, so parsed and planned on every call).
The set-up checks that both give the same data. $rounds rounds after a
warm-up round, $calls calls a side and size a round, the sides taking
turns; medians (ms).

| tables | subject_access() ms | hand-written ms | ratio |
| ---: | ---: | ---: | ---: |
$table

Fixed cost of a call, a subject with no rows at 10 tables (median of 200
calls): **${fixed} ms** (goal: at most 0.3 ms).

Cost per added table (least-squares slope over the four sizes, µs):
subject_access() **$per_ext**, hand-written **$per_hand**: **${ratio}x**
(goal: at most ${goal}x): ${met}.

$plotnote

![subject_access() and the hand-written query by tables]($plot)

Command: \`$BENCH_COMMAND\`, $BENCH_DATE.
EOF
