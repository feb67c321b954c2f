#!/usr/bin/env bash
# Fault tests: a backend killed with pg_terminate_backend() and the server
# stopped with `pg_ctl stop -m immediate` in the middle of purge(), of
# CALL run_purge() and of erase().  After each fault (and a restart, with
# crash recovery, where the server was stopped), every invariant holds:
#   * nothing outside the operation's expected effect changed: no unexpired
#     value lost, no held subject touched, no other subject touched, no row
#     added;
#   * purge() and erase() run in one transaction: an interrupted one leaves
#     neither a change nor an audit row;
#   * run_purge() commits per batch: an interrupted one leaves exactly the
#     committed batches, each with its audit row, and the audit rows add up
#     to the rows actually removed or nulled;
#   * re-running the operation completes the work: every expired value is
#     gone (purge), every erasable value of the subject is gone and its
#     legal-obligation data stays (erase), and the audit log agrees.
# "The middle" is made deterministic with a user row trigger that waits on
# an advisory lock held by another session; the test polls pg_stat_activity
# until the operation is waiting there (and a sequence bumped by a DELETE
# trigger shows how far it got) before it kills.
#
# Runs its own throwaway cluster (initdb in a temporary directory, Unix
# socket only, run as the postgres OS user when started as root), since it
# stops the server; the cluster in the environment is not used.  The
# extension must be installed.  Speaks TAP.
set -euo pipefail

bindir=${PG_BINDIR:-$("${PG_CONFIG:-pg_config}" --bindir)}	# PG_BINDIR: another installation's (make check-asan)
tmp=${TMPDIR:-/tmp}
[ "$(id -u)" -eq 0 ] && tmp=/tmp	# the postgres OS user must reach it
dir=$(mktemp -d "$tmp/pt_faults.XXXXXX")
data=$dir/data
log=$dir/server.log

as_pg() {	# run a server-side command as the postgres OS user when root
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
	set +e
	if [ -f "$data/postmaster.pid" ]; then
		as_pg "$bindir/pg_ctl" -D "$data" stop -m immediate -w -t 30 >/dev/null 2>&1
	fi
	for p in $(jobs -p); do	# background psql sessions not yet reaped
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"

# a port nobody listens on (the server listens on its own socket directory
# only, so this matters only for the socket's file name)
for _ in $(seq 50); do
	port=$((20000 + RANDOM % 30000))
	if ! (ss -Hltn 2>/dev/null || true) | grep -q ":$port\b" && [ ! -e "/tmp/.s.PGSQL.$port" ] \
		&& [ ! -e "/var/run/postgresql/.s.PGSQL.$port" ]; then
		break
	fi
done

unset PGSERVICE PGSERVICEFILE PGHOSTADDR PGOPTIONS PGSSLMODE PGCLUSTER PGPASSWORD PGPASSFILE PGAPPNAME \
	PGTARGETSESSIONATTRS PGCONNECT_TIMEOUT || true
export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=pt_faults

as_pg "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
	cat "$dir/initdb.log" >&2
	echo "Bail out! initdb failed"
	exit 1
}
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
max_connections = 20
shared_buffers = 16MB
timezone = 'UTC'
log_timezone = 'UTC'
EOF

server_start() {
	as_pg "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 120 start >/dev/null
}
server_start || {
	cat "$log" >&2
	echo "Bail out! the test cluster did not start"
	exit 1
}

psql_() { "$bindir/psql" -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }
sql() { psql_ -c "$1"; }

n=0
ok() {	# ok <condition-exit-status> <description>
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
is() {	# is <got> <expected> <description>
	n=$((n + 1))
	if [ "$1" == "$2" ]; then
		echo "ok $n - $3"
	else
		echo "not ok $n - $3"
		echo "#   got:      $1"
		echo "#   expected: $2"
	fi
}
poll() {	# poll <seconds> <sql returning t when done>: 0 when it did in time
	local deadline=$((SECONDS + $1))
	while [ $SECONDS -lt "$deadline" ]; do
		[ "$(sql "$2" 2>/dev/null || true)" = t ] && return 0
		sleep 0.1
	done
	return 1
}

T="2026-06-01 00:00:00+00"	# the purge's as_of; the data is laid out around it

# A fresh database: customers (subject key id), invoices (legal obligation,
# 7 years) and visits (IP nulled after 30 days, row deleted after a year),
# 2,890 visits; customers 3 and 22 under legal hold.  snap.* keeps the
# original rows and snap.fate what each operation must do to each row,
# computed here with plain SQL.
setup_db() {
	psql_ -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS pt_faults" -c "CREATE DATABASE pt_faults" >/dev/null
	psql_ -o /dev/null -v T="$T" <<'SQL'
CREATE EXTENSION privacy_tags;
CREATE TABLE customers (id int PRIMARY KEY, name text, email text, ended_on date);
CREATE TABLE invoices (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                       amount numeric NOT NULL, issued_on date NOT NULL);
CREATE TABLE visits (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                     ip inet, page text, visited_at timestamptz NOT NULL);
CREATE INDEX ON invoices (customer_id);
CREATE INDEX ON visits (customer_id);
CREATE INDEX ON visits (visited_at);
SELECT privacy_tags.tag('customers', 'name', 'identifiers.name; basis=contract; retain=3 years after ended_on');
SELECT privacy_tags.tag('customers', 'email', 'contact.email; basis=contract; retain=3 years after ended_on');
SELECT privacy_tags.set_subject('customers', 'id', 'customer');
SELECT privacy_tags.tag('invoices', 'amount', 'financial.invoice; basis=legal_obligation; retain=7 years after issued_on');
SELECT privacy_tags.set_subject('invoices', 'customer_id', 'customer');
SELECT privacy_tags.tag('visits', 'ip', 'network.ip_address; basis=legitimate_interests; retain=30 days after visited_at; on_expiry=nullify');
SELECT privacy_tags.tag('visits', 'page', 'network.browsing_history; basis=legitimate_interests; retain=1 year after visited_at');
SELECT privacy_tags.set_subject('visits', 'customer_id', 'customer');

-- customers 21-30 ended their relationship in 2022 (expired); 21-25 have
-- nothing else, 26-29 have recent visits (so they stay), 30 only visits
-- older than a year (so it goes once they have gone)
INSERT INTO customers
SELECT i, 'Name ' || i, 'c' || i || '@example.com', CASE WHEN i > 20 THEN date '2022-01-15' END
  FROM generate_series(1, 30) i;
INSERT INTO invoices
SELECT 1000 + i, i, i * 10, CASE WHEN i <= 10 THEN date '2018-03-01' ELSE date '2025-03-01' END
  FROM generate_series(1, 20) i;
-- ages 7.5 to 798.5 days (never on a window's boundary); every tenth IP already NULL
INSERT INTO visits
SELECT c * 1000 + j, c, CASE WHEN j % 10 <> 0 THEN format('10.0.%s.%s', c, j)::inet END, '/page/' || j,
       :'T'::timestamptz - ((j * 7) % 800) * interval '1 day' - interval '12 hours'
  FROM generate_series(1, 29) c, generate_series(1, 120) j
 WHERE c <= 20 OR c >= 26 AND c <= 29;
INSERT INTO visits
SELECT 30000 + j, 30, '10.0.30.1', '/old/' || j, :'T'::timestamptz - (400 + j) * interval '1 day' - interval '12 hours'
  FROM generate_series(1, 10) j;
SELECT privacy_tags.hold('customer', '3', 'dispute');
SELECT privacy_tags.hold('customer', '22', 'dispute');

CREATE SCHEMA snap;
CREATE TABLE snap.customers AS SELECT * FROM customers;
CREATE TABLE snap.invoices AS SELECT * FROM invoices;
CREATE TABLE snap.visits AS SELECT * FROM visits;
CREATE TABLE snap.held (id int);
INSERT INTO snap.held VALUES (3), (22);
CREATE TABLE snap.fate (kind text, rel text, id int, fate text, PRIMARY KEY (kind, rel, id));
-- purge as of T
INSERT INTO snap.fate
SELECT 'purge', 'visits', id,
       CASE WHEN customer_id IN (SELECT id FROM snap.held) THEN 'keep'
            WHEN visited_at + interval '1 year' <= :'T'::timestamptz THEN 'delete'
            WHEN visited_at + interval '30 days' <= :'T'::timestamptz AND ip IS NOT NULL THEN 'nullify'
            ELSE 'keep' END
  FROM snap.visits;
INSERT INTO snap.fate
SELECT 'purge', 'invoices', id,
       CASE WHEN customer_id IN (SELECT id FROM snap.held) THEN 'keep'
            WHEN issued_on + interval '7 years' <= :'T'::timestamptz THEN 'delete'
            ELSE 'keep' END
  FROM snap.invoices;
INSERT INTO snap.fate
SELECT 'purge', 'customers', c.id,
       CASE WHEN c.id IN (SELECT id FROM snap.held) THEN 'keep'
            WHEN c.ended_on + interval '3 years' <= :'T'::timestamptz
                 AND NOT EXISTS (SELECT FROM snap.visits v JOIN snap.fate f ON (f.kind, f.rel, f.id) = ('purge', 'visits', v.id)
                                  WHERE v.customer_id = c.id AND f.fate <> 'delete')
                 AND NOT EXISTS (SELECT FROM snap.invoices v JOIN snap.fate f ON (f.kind, f.rel, f.id) = ('purge', 'invoices', v.id)
                                  WHERE v.customer_id = c.id AND f.fate <> 'delete') THEN 'delete'
            ELSE 'keep' END
  FROM snap.customers c;
-- erase of customer 7: visits go, the invoice (legal obligation) stays and
-- so does the customer row it points at, with name and email nulled
INSERT INTO snap.fate SELECT 'erase', 'visits', id, CASE WHEN customer_id = 7 THEN 'delete' ELSE 'keep' END FROM snap.visits;
INSERT INTO snap.fate SELECT 'erase', 'invoices', id, 'keep' FROM snap.invoices;
INSERT INTO snap.fate SELECT 'erase', 'customers', id, CASE WHEN id = 7 THEN 'nullify' ELSE 'keep' END FROM snap.customers;

-- the state of every original row (same, gone, nulled as the expiry or
-- erasure nulls it, changed otherwise) and every row not in the original
CREATE FUNCTION snap.status() RETURNS TABLE (rel text, id int, st text) LANGUAGE sql AS $f$
    SELECT 'customers', b.id, CASE WHEN c.id IS NULL THEN 'gone' WHEN to_jsonb(c) = to_jsonb(b) THEN 'same'
                                   WHEN to_jsonb(c) = to_jsonb(b) || '{"name": null, "email": null}' THEN 'nulled'
                                   ELSE 'changed' END
      FROM snap.customers b LEFT JOIN public.customers c ON c.id = b.id
    UNION ALL
    SELECT 'invoices', b.id, CASE WHEN c.id IS NULL THEN 'gone' WHEN to_jsonb(c) = to_jsonb(b) THEN 'same' ELSE 'changed' END
      FROM snap.invoices b LEFT JOIN public.invoices c ON c.id = b.id
    UNION ALL
    SELECT 'visits', b.id, CASE WHEN c.id IS NULL THEN 'gone' WHEN to_jsonb(c) = to_jsonb(b) THEN 'same'
                                WHEN to_jsonb(c) = to_jsonb(b) || '{"ip": null}' THEN 'nulled'
                                ELSE 'changed' END
      FROM snap.visits b LEFT JOIN public.visits c ON c.id = b.id
    UNION ALL
    SELECT 'customers', c.id, 'new' FROM public.customers c WHERE c.id NOT IN (SELECT id FROM snap.customers)
    UNION ALL
    SELECT 'invoices', c.id, 'new' FROM public.invoices c WHERE c.id NOT IN (SELECT id FROM snap.invoices)
    UNION ALL
    SELECT 'visits', c.id, 'new' FROM public.visits c WHERE c.id NOT IN (SELECT id FROM snap.visits)
$f$;
-- "rel.fate:state=count ..." of the rows as they are (skip: one customer
-- left out, with its rows)
CREATE FUNCTION snap.summary(p_kind text, p_skip int DEFAULT NULL) RETURNS text LANGUAGE sql AS $f$
    SELECT string_agg(format('%s.%s:%s=%s', rel, fate, st, k), ' ' ORDER BY rel, fate, st)
      FROM (SELECT s.rel, coalesce(f.fate, 'none') AS fate, s.st, count(*) AS k
              FROM snap.status() s LEFT JOIN snap.fate f ON (f.kind, f.rel, f.id) = (p_kind, s.rel, s.id)
             WHERE p_skip IS NULL OR NOT (s.rel = 'customers' AND s.id = p_skip)
             GROUP BY 1, 2, 3) x
$f$;
-- the same as it must be: untouched, or with the operation done
CREATE FUNCTION snap.expected(p_kind text, p_done boolean, p_skip int DEFAULT NULL) RETURNS text LANGUAGE sql AS $f$
    SELECT string_agg(format('%s.%s:%s=%s', rel, fate, st, k), ' ' ORDER BY rel, fate, st)
      FROM (SELECT rel, fate, CASE WHEN NOT p_done OR fate = 'keep' THEN 'same'
                                   WHEN fate = 'delete' THEN 'gone' ELSE 'nulled' END AS st, count(*) AS k
              FROM snap.fate
             WHERE kind = p_kind AND (p_skip IS NULL OR NOT (rel = 'customers' AND id = p_skip))
             GROUP BY 1, 2, 3) x
$f$;
-- rows in a state their fate does not allow: an unexpired value lost, a
-- held or other subject touched, a row changed some other way or added
CREATE FUNCTION snap.violations(p_kind text) RETURNS bigint LANGUAGE sql AS $f$
    SELECT count(*) FROM snap.status() s LEFT JOIN snap.fate f ON (f.kind, f.rel, f.id) = (p_kind, s.rel, s.id)
     WHERE NOT (s.st = 'same' OR s.st = 'gone' AND f.fate = 'delete' OR s.st = 'nulled' AND f.fate = 'nullify')
$f$;
-- what the purge changed, from the data and from the audit log
CREATE FUNCTION snap.purge_changes() RETURNS text LANGUAGE sql AS $f$
    SELECT format('customers=%s invoices=%s visits.page=%s visits.ip=%s',
                  count(*) FILTER (WHERE rel = 'customers' AND st = 'gone'),
                  count(*) FILTER (WHERE rel = 'invoices' AND st = 'gone'),
                  count(*) FILTER (WHERE rel = 'visits' AND st = 'gone'),
                  count(*) FILTER (WHERE rel = 'visits' AND st = 'nulled'))
      FROM snap.status()
$f$;
CREATE FUNCTION snap.purge_audit() RETURNS text LANGUAGE sql AS $f$
    SELECT format('customers=%s invoices=%s visits.page=%s visits.ip=%s',
                  coalesce(sum(rows) FILTER (WHERE relation::regclass = 'customers'::regclass), 0),
                  coalesce(sum(rows) FILTER (WHERE relation::regclass = 'invoices'::regclass), 0),
                  coalesce(sum(rows) FILTER (WHERE relation::regclass = 'visits'::regclass AND column_name = 'page'), 0),
                  coalesce(sum(rows) FILTER (WHERE relation::regclass = 'visits'::regclass AND column_name = 'ip'), 0))
      FROM privacy_tags.audit_log
     WHERE action = 'purge' AND relation IS NOT NULL AND details->>'dry_run' IS DISTINCT FROM 'true'
$f$;

-- fault injection: the gate waits while another session holds advisory
-- lock 4242 exclusively; visits deletions are counted in public.progress,
-- and the gate_at-th one waits at the gate
CREATE SEQUENCE public.progress;
CREATE TABLE public.gate_conf (gate_at bigint);
INSERT INTO public.gate_conf VALUES (NULL);
CREATE FUNCTION public.gate() RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM pg_catalog.pg_advisory_lock_shared(4242);
    PERFORM pg_catalog.pg_advisory_unlock_shared(4242);
END
$f$;
CREATE FUNCTION public.count_deletes() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF pg_catalog.nextval('public.progress') = (SELECT gate_at FROM public.gate_conf) THEN
        PERFORM public.gate();
    END IF;
    RETURN OLD;
END
$f$;
CREATE FUNCTION public.gate_trigger() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM public.gate();
    RETURN NEW;
END
$f$;
CREATE TRIGGER count_deletes BEFORE DELETE ON visits FOR EACH ROW EXECUTE FUNCTION public.count_deletes();
SQL
}

gate_pid=
op_pid=
gate_close() {	# another session takes the lock the gate waits on
	PGAPPNAME=pt_fault_gate "$bindir/psql" -X -q -c "SELECT pg_advisory_lock(4242)" -c "SELECT pg_sleep(600)" \
		>/dev/null 2>&1 &
	gate_pid=$!
	poll 60 "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	                          WHERE a.application_name = 'pt_fault_gate' AND l.locktype = 'advisory' AND l.granted)"
}
terminate() {	# terminate <application_name>: end its backends, wait until they are gone; t when they are
	# (as pg_terminate_backend(pid, 30000) does from PostgreSQL 14 on)
	local r
	r=$(sql "SELECT coalesce(bool_and(pg_terminate_backend(pid)), false) FROM pg_stat_activity WHERE application_name = '$1'")
	poll 30 "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = '$1')" || r=f
	echo "$r"
}
gate_open() {
	terminate pt_fault_gate >/dev/null
	wait "$gate_pid" 2>/dev/null || true
}
op_start() {	# op_start <sql>: in the background, as application pt_fault_op
	PGAPPNAME=pt_fault_op "$bindir/psql" -X -A -t -v ON_ERROR_STOP=1 -c "$1" >"$dir/op.out" 2>&1 &
	op_pid=$!
}
op_waits_at_gate() {	# op_waits_at_gate <query pattern>: it is running, blocked at the gate
	poll 60 "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'pt_fault_op' AND state = 'active'
	                           AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '$1')"
}
progress() { sql "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.progress"; }
op_rc=
sc=
kill_op() {	# kill_op terminate|crash
	if [ "$1" = terminate ]; then
		terminate pt_fault_op >"$dir/kill.out"
		op_rc=0
		wait "$op_pid" || op_rc=$?
		is "$(cat "$dir/kill.out")" t "$sc: pg_terminate_backend() ended the backend"
		ok "$(grep -q 'terminating connection due to administrator command' "$dir/op.out"; echo $?)" \
			"$sc: the client was told the backend was terminated"
		gate_open
	else
		as_pg "$bindir/pg_ctl" -D "$data" stop -m immediate -w -t 60 >/dev/null
		op_rc=0
		wait "$op_pid" || op_rc=$?
		wait "$gate_pid" 2>/dev/null || true
		local before
		before=$(grep -c 'not properly shut down; automatic recovery in progress' "$log" || true)
		server_start
		poll 60 "SELECT true" || true
		ok "$(grep -Eq 'server closed the connection unexpectedly|terminating connection due to immediate shutdown|connection to server .* lost' "$dir/op.out"; echo $?)" \
			"$sc: the client lost its connection in the crash"
		is "$(grep -c 'not properly shut down; automatic recovery in progress' "$log" || true)" "$((before + 1))" \
			"$sc: the restarted server ran crash recovery"
	fi
	ok "$([ "$op_rc" -ne 0 ]; echo $?)" "$sc: the interrupted call failed (psql exit status $op_rc)"
	ok "$(poll 30 "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name IN ('pt_fault_op', 'pt_fault_gate'))"; echo $?)" \
		"$sc: no session of the fault is left"
}

# purge() or run_purge() interrupted, then re-run
purge_fault() {	# purge_fault purge|run_purge terminate|crash
	local op=$1 how=$2 call rerun rc
	sc=$op/$how
	echo "# $op() interrupted by $how"
	setup_db
	is "$(sql "SELECT snap.summary('purge')")" "$(sql "SELECT snap.expected('purge', false)")" \
		"$op/$how: the data is laid out as planned"
	is "$(sql "SELECT snap.purge_changes() || ' | ' || snap.expected('purge', true)")" \
		"customers=0 invoices=0 visits.page=0 visits.ip=0 | customers.delete:gone=5 customers.keep:same=25 invoices.delete:gone=9 invoices.keep:same=11 visits.delete:gone=1436 visits.keep:same=442 visits.nullify:nulled=1012" \
		"$op/$how: the purge must delete 5 customers, 9 invoices and 1436 visits, and null 1012 IP addresses"
	if [ "$op" = purge ]; then
		# one transaction: invoices, then visits.page (1436 DELETEs), then
		# visits.ip, whose first UPDATE waits at the gate
		sql "CREATE TRIGGER gate BEFORE UPDATE ON visits FOR EACH ROW EXECUTE FUNCTION public.gate_trigger()" >/dev/null
		call="SELECT count(*) FROM privacy_tags.purge(as_of => '$T')"
		rerun=$call
	else
		# batches of 100, committed one by one: customers, invoices, then
		# visits.page, whose 351st DELETE (in the 4th batch) waits at the gate
		sql "UPDATE public.gate_conf SET gate_at = 351" >/dev/null
		call="CALL privacy_tags.run_purge(as_of => '$T', batch_size => 100)"
		rerun=$call
	fi
	rc=0; gate_close || rc=$?
	ok $rc "$op/$how: the gate is closed"
	op_start "$call"
	ok "$(op_waits_at_gate "%privacy_tags.${op}(%"; echo $?)" "$op/$how: $op() is running, waiting at the gate (pg_stat_activity)"
	if [ "$op" = purge ]; then
		is "$(progress)" 1436 "$op/$how: it has deleted the 1436 expired visits in its transaction before the gate"
		is "$(sql "SELECT snap.purge_changes()")" "customers=0 invoices=0 visits.page=0 visits.ip=0" \
			"$op/$how: other sessions see none of it yet"
	else
		is "$(progress)" 351 "$op/$how: it is in the middle of its 4th batch of visits"
		is "$(sql "SELECT substring(snap.purge_changes() from 'visits.*')")" "visits.page=300 visits.ip=0" \
			"$op/$how: other sessions see its 3 committed batches of visits"
		is "$(sql "SELECT snap.purge_audit()")" "$(sql "SELECT snap.purge_changes()")" \
			"$op/$how: and an audit row for every committed batch"
	fi
	kill_op "$how"

	is "$(sql "SELECT snap.violations('purge')")" 0 \
		"$op/$how: no unexpired value lost, no held subject touched, nothing else changed"
	if [ "$op" = purge ]; then
		is "$(sql "SELECT snap.summary('purge')")" "$(sql "SELECT snap.expected('purge', false)")" \
			"$op/$how: the interrupted purge() changed nothing"
		is "$(sql "SELECT count(*) FROM privacy_tags.audit_log WHERE action = 'purge'")" 0 \
			"$op/$how: and left no audit row"
	else
		# (the order of the tables is run_purge's business: customers and
		# invoices may or may not have had their turn, but the visits
		# must show exactly the 3 committed batches)
		is "$(sql "SELECT substring(snap.purge_changes() from 'visits.*')")" "visits.page=300 visits.ip=0" \
			"$op/$how: exactly the 3 committed batches of visits remain deleted, the 4th is rolled back"
		is "$(sql "SELECT snap.purge_audit()")" "$(sql "SELECT snap.purge_changes()")" \
			"$op/$how: the audit rows add up to the rows removed"
		is "$(sql "SELECT string_agg(rows::text, ',' ORDER BY id) FROM privacy_tags.audit_log
		             WHERE action = 'purge' AND relation::regclass = 'visits'::regclass")" "100,100,100" \
			"$op/$how: one audit row per committed batch of visits, none for the lost batch"
	fi

	sql "UPDATE public.gate_conf SET gate_at = NULL" >/dev/null
	ok "$(sql "$rerun" >"$dir/rerun.out" 2>&1; echo $?)" "$op/$how: the re-run succeeds"
	is "$(sql "SELECT snap.violations('purge')")" 0 \
		"$op/$how: after the re-run, no unexpired value lost, no held subject touched, nothing else changed"
	# purge() and run_purge() alike purge children before parents, so
	# customer 30 (expired, only expired visits point at it) goes in the
	# same run (run_purge() got this wrong before 1.1: found by this test)
	is "$(sql "SELECT snap.summary('purge')")" "$(sql "SELECT snap.expected('purge', true)")" \
		"$op/$how: after the re-run, every expired value is gone and everything else is as it was"
	is "$(sql "SELECT count(*) FROM customers WHERE id = 30")" 0 \
		"$op/$how: customer 30 (expired, only expired visits point at it) is gone after the run"
	is "$(sql "SELECT snap.purge_audit()")" "$(sql "SELECT snap.purge_changes()")" \
		"$op/$how: the audit log agrees with the rows removed and nulled"
	if [ "$op" = purge ]; then
		is "$(sql "SELECT count(*) FROM privacy_tags.audit_log WHERE action = 'purge'")" 4 \
			"$op/$how: one audit row per column purged, all from the re-run"
	else
		is "$(sql "SELECT count(*) FILTER (WHERE rows <> 100) || ' ' || count(*) FROM privacy_tags.audit_log
		             WHERE action = 'purge' AND relation::regclass = 'visits'::regclass AND column_name = 'page'")" "1 15" \
			"$op/$how: visits were deleted in 15 batches (14 of 100), none lost or counted twice"
	fi
}

# erase() interrupted, then re-run
erase_fault() {	# erase_fault terminate|crash
	local how=$1 call="SELECT privacy_tags.erase('customer', '7')" rc
	sc=erase/$how
	echo "# erase() interrupted by $how"
	setup_db
	is "$(sql "SELECT snap.expected('erase', true)")" \
		"customers.keep:same=29 customers.nullify:nulled=1 invoices.keep:same=20 visits.delete:gone=120 visits.keep:same=2770" \
		"erase/$how: erasing customer 7 must delete 120 visits, keep the invoice and null the customer's name and email"
	# children first: visits (120 DELETEs), then the UPDATE of the
	# customer row, which waits at the gate
	sql "CREATE TRIGGER gate BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION public.gate_trigger()" >/dev/null
	rc=0; gate_close || rc=$?
	ok $rc "erase/$how: the gate is closed"
	op_start "$call"
	ok "$(op_waits_at_gate "%privacy_tags.erase(%"; echo $?)" "erase/$how: erase() is running, waiting at the gate (pg_stat_activity)"
	is "$(progress)" 120 "erase/$how: it has deleted the subject's 120 visits in its transaction before the gate"
	kill_op "$how"

	is "$(sql "SELECT snap.violations('erase')")" 0 "erase/$how: no other subject touched, nothing else changed"
	is "$(sql "SELECT snap.summary('erase')")" "$(sql "SELECT snap.expected('erase', false)")" \
		"erase/$how: the interrupted erase() changed nothing"
	is "$(sql "SELECT count(*) FROM privacy_tags.audit_log WHERE action = 'erase'")" 0 \
		"erase/$how: and left no audit row"

	ok "$(sql "$call" >"$dir/rerun.out" 2>&1; echo $?)" "erase/$how: the re-run succeeds"
	is "$(sql "SELECT snap.violations('erase')")" 0 "erase/$how: after the re-run, no other subject touched, nothing else changed"
	is "$(sql "SELECT snap.summary('erase')")" "$(sql "SELECT snap.expected('erase', true)")" \
		"erase/$how: after the re-run, the subject's data is gone but for the invoice kept by legal obligation"
	is "$(sql "SELECT count(*) || ' ' || sum(rows) || ' ' || bool_and(subject_hash = privacy_tags.subject_hash('customer', '7'))
	                  || ' ' || bool_and(details->>'dry_run' = 'false')
	                  || ' ' || sum((SELECT sum((v->>'deleted')::int) FROM jsonb_each(details->'tables') t(k, v)))
	                  || ' ' || sum((SELECT sum((v->>'nulled')::int) FROM jsonb_each(details->'tables') t(k, v)))
	             FROM privacy_tags.audit_log WHERE action = 'erase'")" "1 121 true true 120 1" \
		"erase/$how: one audit row, from the re-run, for 120 rows deleted and 1 nulled"
}

purge_fault purge terminate
erase_fault terminate
purge_fault run_purge crash
erase_fault crash
purge_fault purge crash
purge_fault run_purge terminate
echo "1..$n"
