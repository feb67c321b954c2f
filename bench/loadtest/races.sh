#!/usr/bin/env bash
# The races the load test runs into, each set up deterministically: a third
# session holds a row lock so that the two sides take their locks in the
# order that makes them collide; the script waits (polling
# pg_stat_activity) until each side is blocked where it should be, then
# lets the holder go.  A side that does not block (a fixed extension may
# take its locks differently) is waited for up to 10 s, then the holder is
# released anyway, so a fix does not make a race hang or fail.
#
# Prints one line per race, "race: <name> ... ok" or "... FAILED (...)",
# and exits non-zero when one fails.  Run by bench/loadtest.sh; alone:
#   ./scripts/in_cluster.sh ./bench/loadtest/races.sh
set -uo pipefail

db=privacy_tags_loadtest_races
export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db" || exit 1
work=$(mktemp -d)
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# a fresh schema: customers (subject), orders (ON DELETE CASCADE, no subject
# column), invoices (subject column, NO ACTION key, legal-obligation amount);
# windows in days, anchors are dates
setup() {
	q >/dev/null <<'EOF'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS privacy_tags;
DROP SCHEMA IF EXISTS r CASCADE;
CREATE SCHEMA r;
CREATE TABLE r.go (go boolean NOT NULL);
INSERT INTO r.go VALUES (false);
CREATE TABLE r.customers (id int PRIMARY KEY, name text, last_active date NOT NULL);
CREATE TABLE r.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES r.customers ON DELETE CASCADE,
                       item text, shipping text, ordered date NOT NULL);
CREATE INDEX ON r.orders (customer_id);
CREATE TABLE r.invoices (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES r.customers,
                         amount numeric NOT NULL, billing_name text, issued date NOT NULL);
SELECT privacy_tags.set_subject('r.customers', 'id', 'customer');
SELECT privacy_tags.set_subject('r.invoices', 'customer_id', 'customer');
SELECT privacy_tags.tag('r.customers', 'name', 'identifiers.name; basis=contract; retain=30 days after last_active');
SELECT privacy_tags.tag('r.orders', 'item', 'commercial.order; basis=contract; retain=30 days after ordered');
SELECT privacy_tags.tag('r.orders', 'shipping', 'contact.shipping_address; basis=contract; retain=10 days after ordered; on_expiry=nullify');
SELECT privacy_tags.tag('r.invoices', 'amount', 'financial.invoice; basis=legal_obligation; retain=7 years after issued');
SELECT privacy_tags.tag('r.invoices', 'billing_name', 'identifiers.name; basis=contract; retain=10 days after issued; on_expiry=nullify');
EOF
}

# session <name> <sql...>: run in the background as application_name
# race_<name>; its output (terse errors) goes to $work/<name>
session() {
	local name=$1
	shift
	PGAPPNAME=race_$name psql -X -q -At -v VERBOSITY=terse "$@" >"$work/$name" 2>&1 &
}

# hold <sql>: a session that runs <sql> (taking row locks) in a transaction
# and keeps it open until r.go is set
hold() {
	session holder -c "BEGIN" -c "$1" \
		-c "DO \$\$ BEGIN LOOP EXIT WHEN (SELECT go FROM r.go); PERFORM pg_sleep(0.02); END LOOP; END \$\$" \
		-c "COMMIT"
	wait_for holder "state = 'active' AND query LIKE 'DO%'"
}

# wait_for <name> <condition on pg_stat_activity>: up to 10 s
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'race_$1' AND $2")" = 1 ] && return 0
		sleep 0.05
	done
	echo "  ($1 did not get there: $2)" >>"$work/notes"
	return 1
}
blocked() { wait_for "$1" "wait_event_type = 'Lock'"; }
release() { q -c "UPDATE r.go SET go = true"; wait; }

failed=0
# report <race> <check query>: ok when no side got an error and the check
# query returns nothing; otherwise what went wrong
report() {
	local name=$1 check=$2 errors bad
	errors=$(grep -H '^ERROR:' "$work"/* 2>/dev/null | grep -v '/holder:' | sed "s|^$work/||; s/:ERROR:  /: /" | paste -sd ';' | sed 's/;/; /g')
	bad=$(q -c "$check" 2>&1)
	if [ -z "$errors" ] && [ -z "$bad" ]; then
		echo "race: $name ... ok"
	else
		echo "race: $name ... FAILED (${errors:+$errors}${errors:+${bad:+; }}${bad:+state: $bad})"
		failed=$(( failed + 1 ))
	fi
	[ -s "$work/notes" ] && cat "$work/notes" >&2
	rm -f "$work"/*
}

# 1. erase() against purge(): purge() nulls an expired billing name of the
#    subject's invoice, then (held up by another order) wants the subject's
#    order; erase() deletes that order, then wants the invoice.
setup
q -c "INSERT INTO r.customers VALUES (1, 'Ada', current_date), (2, 'Bo', current_date)" \
  -c "INSERT INTO r.invoices VALUES (1, 1, 10, 'Ada', current_date - 20)" \
  -c "INSERT INTO r.orders VALUES (1, 1, 'book', 'Storgatan 1', current_date - 20), (2, 2, 'pen', NULL, current_date - 40)"
hold "SELECT FROM r.orders WHERE id = 2 FOR UPDATE"
session purge -c "SELECT count(*) FROM privacy_tags.purge()"
blocked purge
session erase -c "SELECT privacy_tags.erase('customer', '1') IS NOT NULL"
blocked erase
release
report "erase() of a subject while purge() nulls its invoice and order" \
	"SELECT 'order 1 or 2 left, or invoice 1 not erased' WHERE EXISTS (SELECT FROM r.orders)
	    OR EXISTS (SELECT FROM r.invoices WHERE billing_name IS NOT NULL)"

# 2. erase() against run_purge(): erase() deletes the subject's first order
#    (held up at the second); run_purge() deletes the expired customer and
#    cascades into its orders; erase() then wants the customer.
setup
q -c "INSERT INTO r.customers VALUES (1, 'Ada', current_date - 100)" \
  -c "INSERT INTO r.orders VALUES (1, 1, 'book', NULL, current_date), (2, 1, 'pen', NULL, current_date)"
hold "SELECT FROM r.orders WHERE id = 2 FOR UPDATE"
session erase -c "SELECT privacy_tags.erase('customer', '1') IS NOT NULL"
blocked erase
session run_purge -c "CALL privacy_tags.run_purge()"
blocked run_purge
release
report "erase() of an expired subject while run_purge() deletes it (ON DELETE CASCADE)" \
	"SELECT 'customer 1 or its orders left' WHERE EXISTS (SELECT FROM r.customers) OR EXISTS (SELECT FROM r.orders)"

# 3. purge() against run_purge(), which started earlier (its as_of, fixed
#    when it starts, is 15 days back here): purge() deletes an order that
#    expired since (then is held up at the shipping addresses); run_purge()
#    did not take that order as expired, deletes the expired customer and
#    cascades into it; purge() then wants the customer.
setup
q -c "INSERT INTO r.customers VALUES (1, 'Ada', current_date - 100), (2, 'Bo', current_date)" \
  -c "INSERT INTO r.orders VALUES (1, 1, 'book', NULL, current_date - 40), (2, 2, 'pen', 'Storgatan 2', current_date - 20)"
hold "SELECT FROM r.orders WHERE id = 2 FOR UPDATE"
session purge -c "SELECT count(*) FROM privacy_tags.purge()"
blocked purge
session run_purge -c "CALL privacy_tags.run_purge(as_of => now() - interval '15 days')"
blocked run_purge
release
report "purge() while a run_purge() that started earlier deletes an expired customer (ON DELETE CASCADE)" \
	"SELECT 'customer 1 or order 1 left, or order 2''s address' WHERE EXISTS (SELECT FROM r.customers WHERE id = 1)
	    OR EXISTS (SELECT FROM r.orders WHERE id = 1) OR EXISTS (SELECT FROM r.orders WHERE shipping IS NOT NULL)"

# 4. purge() against a writer: purge() deletes an expired customer that
#    nothing points at, while an invoice for that customer is being
#    inserted (the insert's foreign-key check holds the customer row).
setup
q -c "INSERT INTO r.customers VALUES (1, 'Ada', current_date - 100)"
hold "INSERT INTO r.invoices VALUES (1, 1, 10, 'Ada', current_date)"
session purge -c "SELECT count(*) FROM privacy_tags.purge()"
blocked purge
release
report "purge() of an expired customer while an invoice for it is inserted" \
	"SELECT 'invoice 1 without its customer' WHERE EXISTS (SELECT FROM r.invoices i WHERE NOT EXISTS (SELECT FROM r.customers c WHERE c.id = i.customer_id))"

exit $(( failed > 0 ))
