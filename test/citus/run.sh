#!/bin/bash
# test/citus/run.sh: privacy_tags on a Citus cluster.  Starts a coordinator
# and two workers on loopback ports (see cluster.sh), distributes a schema of
# customers, orders and web visits co-located by customer id, and runs the
# whole feature set through the coordinator.  Speaks TAP; exits non-zero
# when a check fails.  Skips (exit 0) when the local PostgreSQL (PG_CONFIG,
# else pg_config on PATH) has no citus extension.  Not part of make test.
#
#   PG_CONFIG=/path/to/pg_config bash test/citus/run.sh
set -u
cd "$(dirname "$0")"
. ./cluster.sh

missing=$(citus_missing)
if [ -n "$missing" ]; then
    echo "1..0 # SKIP $missing"
    exit 0
fi
if [ "${CITUS_KEEP:-0}" = 1 ]; then
    trap 'echo "# cluster kept in $CITUS_DIR (ports $CITUS_PORT-$((CITUS_PORT + 2)))"' EXIT
else
    trap citus_stop EXIT
fi
if ! citus_start 2>"${TMPDIR:-/tmp}/citus_start.$$"; then
    echo "Bail out! the cluster did not start: $(head -c 500 "${TMPDIR:-/tmp}/citus_start.$$")"
    rm -f "${TMPDIR:-/tmp}/citus_start.$$"
    exit 1
fi
rm -f "${TMPDIR:-/tmp}/citus_start.$$"

echo "# $("$CITUS_BIN/postgres" --version); citus $(cpsql 0 -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'"); $(cpsql 0 -c "SELECT citus_version()" | cut -d, -f1)"
T=0
FAILED=0

ok() {      # ok NAME: the last check passed
    T=$((T + 1)); echo "ok $T - $1"
}
notok() {   # notok NAME DIAGNOSTIC
    T=$((T + 1)); FAILED=$((FAILED + 1)); echo "not ok $T - $1"
    printf '%s\n' "$2" | head -20 | sed 's/^/#   /'
}

# is NAME EXPECTED SQL...: the output of the statements on the coordinator
# (psql -At, errors shown with their SQLSTATE) is EXPECTED.
is() {
    local name=$1 expected=$2; shift 2
    local out
    out=$(node_sql 0 "$@" 2>&1)
    if [ "$out" = "$expected" ]; then ok "$name"; else notok "$name" "expected: $expected
got: $out"; fi
}
# is_on N NAME EXPECTED SQL...: the same on node N.
is_on() {
    local n=$1 name=$2 expected=$3; shift 3
    local out
    out=$(node_sql "$n" "$@" 2>&1)
    if [ "$out" = "$expected" ]; then ok "$name"; else notok "$name" "expected: $expected
got: $out"; fi
}
# fails NAME PATTERN SQL...: the statements fail, and the error (with its
# SQLSTATE, verbose) matches the extended regular expression PATTERN.
fails() {
    local name=$1 pattern=$2; shift 2
    local out
    if out=$(node_sql 0 "$@" 2>&1); then
        notok "$name" "succeeded: $out"
    elif printf '%s' "$out" | grep -Ezq -- "$pattern"; then ok "$name"
    else notok "$name" "expected an error matching: $pattern
got: $out"; fi
}
# runs NAME SQL...: the statements succeed.
runs() {
    local name=$1; shift
    local out
    if out=$(node_sql 0 "$@" 2>&1); then ok "$name"; else notok "$name" "$out"; fi
}
node_sql() {
    local n=$1; shift
    local args=()
    for s in "$@"; do args+=(-c "$s"); done
    cpsql "$n" -v VERBOSITY=verbose "${args[@]}"
}
q() { cpsql 0 -c "$1"; }

# -- the schema ---------------------------------------------------------------
# customers and orders tagged and enforced before distribution, with rows
# already past their windows; web visits tagged after; one reference table
# and one local table.
runs "schema: tables and tags before distribution" \
  "CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text,
                           last_contact_at timestamptz, created_at timestamptz NOT NULL DEFAULT now())" \
  "CREATE TABLE orders (customer_id bigint NOT NULL, id bigint NOT NULL, amount numeric NOT NULL,
                        note text, issued_on date NOT NULL, PRIMARY KEY (customer_id, id))" \
  "CREATE TABLE visits (customer_id bigint NOT NULL, id bigint NOT NULL, ip inet, seen_at timestamptz NOT NULL,
                        PRIMARY KEY (customer_id, id))" \
  "CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL)" \
  "CREATE TABLE newsletter_signups (id bigint PRIMARY KEY, email text, signed_up_at timestamptz NOT NULL)" \
  "SELECT privacy_tags.set_subject('customers', 'id', 'customer')" \
  "SELECT privacy_tags.tag('customers', 'name', 'identifiers.name; basis=contract')" \
  "SELECT privacy_tags.tag('customers', 'email', 'contact.email; basis=consent; purpose=newsletter; retain=3 years after last_contact_at')" \
  "SELECT privacy_tags.set_subject('orders', 'customer_id', 'customer')" \
  "SELECT privacy_tags.tag('orders', 'amount', 'financial.invoice; basis=legal_obligation; retain=7 years after issued_on')" \
  "SELECT privacy_tags.tag('orders', 'note', 'contact.email; basis=contract; retain=2 years after issued_on; on_expiry=nullify')" \
  "SELECT privacy_tags.tag('newsletter_signups', 'email', 'contact.email; basis=consent; retain=1 year after signed_up_at')"
runs "rows before enforcement, some past their windows" \
  "INSERT INTO customers (id, name, email, last_contact_at)
   SELECT i, 'name ' || i, 'c' || i || '@example.com',
          CASE WHEN i <= 10 THEN now() - interval '4 years' ELSE now() - interval '1 month' END
     FROM generate_series(1, 40) i" \
  "INSERT INTO orders SELECT c, o, 10 * o, 'note', CASE WHEN c <= 5 OR c = 12 THEN current_date - 3000 ELSE current_date - 400 END
     FROM generate_series(1, 40) c, generate_series(1, 3) o" \
  "INSERT INTO newsletter_signups SELECT i, 'n' || i || '@example.com', now() - interval '2 years' FROM generate_series(1, 5) i"
is "enforce() before distribution" "1
2" \
  "SELECT privacy_tags.enforce('customers')" "SELECT privacy_tags.enforce('orders')"
runs "create_distributed_table on enforced tables holding expired rows (no Citus setting)" \
  "SELECT create_distributed_table('customers', 'id')" \
  "SELECT create_distributed_table('orders', 'customer_id', colocate_with => 'customers')" \
  "SELECT create_distributed_table('visits', 'customer_id', colocate_with => 'customers')" \
  "SELECT create_reference_table('countries')"
is "the expired rows were copied into the shards" "40|120" \
  "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders)"
runs "tag() and set_subject() after distribution" \
  "SELECT privacy_tags.set_subject('visits', 'customer_id', 'customer')" \
  "SELECT privacy_tags.tag('visits', 'ip', 'network.ip_address; basis=legitimate_interests; retain=30 days after seen_at; on_expiry=nullify')" \
  "SELECT privacy_tags.tag('countries', 'name', 'identifiers.name; basis=contract')"
is "enforce() after distribution (no Citus setting)" "1" "SELECT privacy_tags.enforce('visits')"
is "every shard of the three tables has the trigger, with the windows in its arguments" "48,48" \
  "SELECT string_agg(result, ',' ORDER BY nodeport) FROM run_command_on_workers(\$\$SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'privacy_tags_retention_%' AND encode(tgargs, 'escape') LIKE '%retain=%'\$\$)"
# (32 shards of three tables split over two workers: 48 each)
is_on 1 "labels set by tag() after distribution reach the workers' table definitions" \
  "visits|ip|network.ip_address" \
  "SELECT relation, column_name, category FROM privacy_tags.columns WHERE relation = 'visits'::regclass"
is "the tables the workers' triggers read are reference tables" \
  "privacy_tags.audit_key|n
privacy_tags.consents|n
privacy_tags.legal_holds|n
privacy_tags.restrictions|n
privacy_tags.suppressions|n" \
  "SELECT logicalrelid::text, partmethod FROM pg_dist_partition WHERE logicalrelid::text LIKE 'privacy_tags.%' ORDER BY 1"
is "citus_setup() again changes nothing" "0" "SELECT privacy_tags.citus_setup()"

# -- the retention trigger ----------------------------------------------------------
fails "an expired INSERT is refused with 23514, naming the distributed table" \
  '23514: value of column "email" of relation "customers" expired at' \
  "INSERT INTO customers VALUES (100, 'x', NULL, now() - interval '4 years')" \
  "UPDATE customers SET email = 'x@example.com' WHERE id = 100"
fails "an expired INSERT of a row without consent columns: 23514" \
  '23514: value of column "ip" of relation "visits" expired at' \
  "INSERT INTO visits VALUES (1, 1, '10.0.0.1', now() - interval '40 days')"
fails "INSERT ... SELECT: 23514 with the hint" \
  '23514: value of column "ip" of relation "visits" expired at.*HINT:  Write a later "seen_at"' \
  "INSERT INTO visits SELECT i, 1, '10.0.0.1', now() - interval '40 days' FROM generate_series(1, 20) i"
fails "COPY: 23514" \
  '23514: value of column "ip" of relation "visits" expired' \
  "COPY visits FROM PROGRAM 'echo 1,2,10.0.0.1,2000-01-01' WITH (FORMAT csv)"
is "expired_writes = 'apply' (SET LOCAL) reaches the shards: the row is stored with the value nulled" "|1" \
  "BEGIN" "SET LOCAL privacy_tags.expired_writes = 'apply'" \
  "INSERT INTO visits VALUES (1, 3, '10.0.0.1', now() - interval '40 days')" "COMMIT" \
  "SELECT ip, count(*) FROM visits WHERE customer_id = 1 AND id = 3 GROUP BY ip"
is "expired_writes = 'apply' (session SET) reaches the shards in a transaction block: the delete action skips the row" "0" \
  "SET privacy_tags.expired_writes = 'apply'" \
  "BEGIN" "INSERT INTO orders VALUES (7, 9, 1, NULL, current_date - 3000)" "COMMIT" \
  "RESET privacy_tags.expired_writes" \
  "SELECT count(*) FROM orders WHERE customer_id = 7 AND id = 9"
fails "RESET in the same transaction block reaches them too" '23514: value of column "amount" of relation "orders"' \
  "BEGIN" "SET LOCAL privacy_tags.expired_writes = 'apply'" "INSERT INTO orders VALUES (7, 9, 1, NULL, current_date - 3000)" \
  "RESET privacy_tags.expired_writes" "INSERT INTO orders VALUES (7, 9, 1, NULL, current_date - 3000)" "COMMIT"
is "a fresh INSERT passes" "1" \
  "INSERT INTO visits VALUES (2, 1, '10.0.0.2', now())" "SELECT count(*) FROM visits WHERE customer_id = 2"
runs "a tag change on an enforced distributed table" \
  "SELECT privacy_tags.tag('visits', 'ip', 'network.ip_address; basis=legitimate_interests; retain=60 days after seen_at; on_expiry=nullify')"
is_on 1 "the shards' triggers carry the new window" "t" \
  "SELECT bool_and(encode(tgargs, 'escape') LIKE '%60 days%') FROM pg_trigger WHERE tgname LIKE 'privacy_tags_retention_%' AND tgrelid::regclass::text LIKE 'visits_%'"
is "a write 40 days old passes under the new window" "1" \
  "INSERT INTO visits VALUES (3, 1, '10.0.0.3', now() - interval '40 days')" "SELECT count(*) FROM visits WHERE customer_id = 3"

# -- consent and restriction ------------------------------------------------------
fails "a consent-based value without consent is refused (23514)" \
  '23514: column "email" of relation "customers" holds consent-based data' \
  "INSERT INTO customers VALUES (101, 'n', 'c101@example.com', now())"
is "after grant_consent() on the coordinator the shards accept it" "
1" \
  "SELECT privacy_tags.grant_consent('customer', '101', 'newsletter')" \
  "INSERT INTO customers VALUES (101, 'n', 'c101@example.com', now())" \
  "SELECT count(*) FROM customers WHERE id = 101"
is "grant_consent() twice (ON CONFLICT) works" "" \
  "SELECT privacy_tags.grant_consent('customer', '101', 'newsletter')"
is "restrict() on the coordinator" "1" "SELECT privacy_tags.restrict('customer', '101', 'disputed accuracy')"
fails "restrict() stops writes on the shards (55000)" \
  '55000: processing of this customer is restricted: relation "customers" cannot be changed' \
  "UPDATE customers SET name = 'changed' WHERE id = 101"
fails "... also to the subject's orders" '55000: processing of this customer is restricted: relation "orders"' \
  "INSERT INTO orders VALUES (101, 1, 5, NULL, current_date)"
is "lift_restriction() lets writes through again" "1
changed" \
  "SELECT privacy_tags.lift_restriction('customer', '101')" \
  "UPDATE customers SET name = 'changed' WHERE id = 101" "SELECT name FROM customers WHERE id = 101"

# -- erasure of a row past its delete window (before the purge) ---------------------
is "erase() of a subject whose kept rows have an expired delete window" "t" \
  "SELECT privacy_tags.erase('customer', '12') IS NOT NULL"
is "... the orders are kept (legal obligation), the customer's erasable values go" "3|0" \
  "SELECT (SELECT count(*) FROM orders WHERE customer_id = 12), (SELECT count(*) FROM customers WHERE id = 12)"

# -- purge ----------------------------------------------------------------------
is "hold() on the coordinator" "t" "SELECT privacy_tags.hold('customer', '3', 'litigation') IS NOT NULL"
is "purge(dry_run => true) reports and changes nothing" \
  "customers|email|delete|9
customers|email|held|1
newsletter_signups|email|delete|5
orders|amount|delete|15
orders|amount|held|3
orders|note|held|3
visits|ip|nullify|0
120|39" \
  "SELECT relation, column_name, action, rows FROM privacy_tags.purge(dry_run => true) WHERE rows > 0 OR relation = 'visits'::regclass ORDER BY relation::text, column_name, action" \
  "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customers WHERE id <= 40)"
is "purge(rel) purges that table only" "newsletter_signups|email|delete|5" \
  "SELECT relation, column_name, action, rows FROM privacy_tags.purge('newsletter_signups')"
is "purge() deletes and nullifies on the shards, skipping held subjects" \
  "customers|email|delete|9
customers|email|held|1
orders|amount|delete|15
orders|amount|held|3
orders|note|held|3" \
  "SELECT relation, column_name, action, rows FROM privacy_tags.purge() WHERE rows > 0 ORDER BY relation::text, column_name, action"
is "what is left" "105|105|30" \
  "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM orders WHERE note IS NOT NULL), (SELECT count(*) FROM customers WHERE id <= 40)"
is "the audit log is written on the coordinator" "t" \
  "SELECT count(*) >= 4 FROM privacy_tags.audit_log WHERE action = 'purge' AND rows > 0"
is "release(), then CALL run_purge() in batches purges the held subject's rows" "1
102|102|29" \
  "SELECT privacy_tags.release('customer', '3')" \
  "CALL privacy_tags.run_purge(batch_size => 2)" \
  "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM orders WHERE note IS NOT NULL), (SELECT count(*) FROM customers WHERE id <= 40)"
fails "after purge() in the same transaction the shards check writes again (INSERT)" \
  '23514: value of column "ip" of relation "visits" expired' \
  "BEGIN" "SELECT count(*) FROM privacy_tags.purge('visits')" \
  "INSERT INTO visits VALUES (1, 50, '10.0.0.1', now() - interval '90 days')" "COMMIT"
fails "... (COPY)" '23514: value of column "ip" of relation "visits" expired' \
  "BEGIN" "SELECT count(*) FROM privacy_tags.purge('visits')" \
  "COPY visits FROM PROGRAM 'echo 1,51,10.0.0.1,2000-01-01' WITH (FORCE_NULL (ip), FORMAT csv)" "COMMIT"
fails "... (after a rolled-back savepoint)" '23514: value of column "ip" of relation "visits" expired' \
  "BEGIN" "SELECT count(*) FROM privacy_tags.purge('visits')" \
  "SAVEPOINT a" "INSERT INTO visits VALUES (1, 52, '10.0.0.1', now())" "ROLLBACK TO SAVEPOINT a" \
  "INSERT INTO visits VALUES (1, 53, '10.0.0.1', now() - interval '90 days')" "COMMIT"
is "run_purge() committed in batches" "t" \
  "SELECT count(*) > 1 FROM privacy_tags.audit_log WHERE action = 'purge' AND details ->> 'batch' = 'true'"
runs "more expired rows (old visits), for the scheduled purge" \
  "SET citus.enable_unsafe_triggers = on" "ALTER TABLE visits DISABLE TRIGGER privacy_tags_retention" \
  "INSERT INTO visits SELECT i, 10, '10.1.0.1', now() - interval '90 days' FROM generate_series(1, 40) i" \
  "ALTER TABLE visits ENABLE TRIGGER privacy_tags_retention"
is "schedule_purge() registers the job with pg_cron" "t
CALL privacy_tags.run_purge()" \
  "SELECT privacy_tags.schedule_purge('* * * * *') IS NOT NULL" \
  "SELECT command FROM cron.job WHERE jobname = 'privacy_tags_purge'"

# -- a table owned by a role that is not a superuser -----------------------------
# (the workers' connections of a purge run as the owner, who must be allowed
# to set privacy_tags.purging there: GRANT SET ON PARAMETER on every node;
# not co-located with the other owner's tables: Citus refuses one
# transaction that changes a group's placements as one role and reads them
# as another)
runs "a distributed, enforced table of a role that is not a superuser, with expired rows" \
  "CREATE ROLE app_owner LOGIN" "GRANT CREATE ON SCHEMA public TO app_owner" "SET ROLE app_owner" \
  "CREATE TABLE app_t (id bigint PRIMARY KEY, email text, note text, seen date NOT NULL)" \
  "INSERT INTO app_t VALUES (1, 'a@example.com', 'n', current_date - 400), (2, 'b@example.com', 'n', current_date - 40)" \
  "SELECT privacy_tags.set_subject('app_t', 'id', 'customer')" \
  "SELECT privacy_tags.tag('app_t', 'email', 'contact.email; basis=contract; retain=1 year after seen')" \
  "SELECT privacy_tags.tag('app_t', 'note', 'contact.email; basis=contract; retain=1 month after seen; on_expiry=nullify')" \
  "SELECT privacy_tags.enforce('app_t')" "SELECT create_distributed_table('app_t', 'id', colocate_with => 'none')"
for n in 0 1 2; do
    is_on $n "GRANT SET ON PARAMETER privacy_tags.purging TO app_owner (node $n)" "" \
      "GRANT SET ON PARAMETER privacy_tags.purging TO app_owner"
done
is "purge() of it: both columns, as its owner on the shards" "app_t|email|delete|1
app_t|note|nullify|1
2|" \
  "SELECT relation, column_name, action, rows FROM privacy_tags.purge('app_t') ORDER BY column_name" \
  "SELECT id, note FROM app_t"

# -- data-subject rights ---------------------------------------------------------
is "subject_access() through the coordinator" "customer|7|t|3" \
  "SELECT d #>> '{subject,type}', d #>> '{subject,id}', d ? 'data', jsonb_array_length(d #> '{data,public.orders}')
     FROM privacy_tags.subject_access('customer', '7') d"
is "erase(dry_run) changes nothing" "t
1" \
  "SELECT privacy_tags.erase('customer', '13', dry_run => true) IS NOT NULL" "SELECT count(*) FROM customers WHERE id = 13"
is "withdraw_consent() erases the consent-based data" "t
|t" \
  "SELECT privacy_tags.withdraw_consent('customer', '101', 'newsletter') IS NOT NULL" \
  "SELECT email, name IS NOT NULL FROM customers WHERE id = 101"
fails "... and the shards refuse new such writes" '23514: column "email" of relation "customers" holds consent-based data' \
  "UPDATE customers SET email = 'again@example.com' WHERE id = 101"
is "suppress() records the subject and withdraws every consent" "true
t" \
  "SELECT privacy_tags.suppress('customer', '14') ->> 'suppressed'" \
  "SELECT privacy_tags.is_suppressed('customer', '14')"
is "subject_graph() lists the distributed tables" "app_t
customers
orders
visits" \
  "SELECT DISTINCT relation::text FROM privacy_tags.subject_graph('customer') ORDER BY 1"

# -- reports ----------------------------------------------------------------------
is "the columns view" "6" "SELECT count(*) FROM privacy_tags.columns WHERE relation::text IN ('customers', 'orders', 'visits', 'countries')"
is "processing_record()" "t" "SELECT privacy_tags.processing_record() ? 'processing_activities' OR privacy_tags.processing_record() IS NOT NULL"
is "discover() over distributed tables" "t" "SELECT count(*) >= 0 FROM privacy_tags.discover('public')"
is "unenforce() on a distributed table removes the shards' triggers" "t
0,0" \
  "SELECT privacy_tags.unenforce('visits')" \
  "SELECT string_agg(result, ',' ORDER BY nodeport) FROM run_command_on_workers(\$\$SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'privacy_tags_retention_%' AND tgrelid::regclass::text LIKE 'visits%'\$\$)"

# -- the scheduled purge ran (pg_cron starts it within a minute) -------------------
for i in $(seq 1 75); do
    [ "$(q "SELECT count(*) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')")" != 0 ] && break
    sleep 1
done
is "the scheduled purge succeeded" "succeeded" \
  "SELECT status || coalesce(nullif(' ' || return_message, ' CALL'), '') FROM cron.job_run_details ORDER BY runid LIMIT 1"
is "... and nulled the old visits" "0" "SELECT count(*) FROM visits WHERE id = 10 AND ip IS NOT NULL"

echo "1..$T"
echo "# $((T - FAILED)) of $T checks passed"
[ "$FAILED" = 0 ]
