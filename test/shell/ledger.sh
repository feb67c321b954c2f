#!/usr/bin/env bash
# The erasure ledger survives a restore: fill a database, pg_dump it, erase
# two subjects (one fully, one by objection), restore the old dump into a new
# database, import the exported ledger, reapply: the two are erased again,
# nobody else changed, a subject created anew after its erasure is reported
# and not erased, and a second reapply changes nothing.  Speaks TAP. Runs
# against the cluster in the environment.
set -euo pipefail
src=pt_ledger_src
dst=pt_ledger_dst
dir=$(mktemp -d)
trap 'rm -rf "$dir"; for d in $src $dst; do dropdb --if-exists $d >/dev/null 2>&1 || true; done' EXIT
for d in $src $dst; do dropdb --if-exists $d >/dev/null 2>&1 || true; done
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$@"; }
n=0
fails=0
check() {	# check <name> <expected> <actual>
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "# expected: $2"
		echo "# actual:   $3"
		fails=$((fails + 1))
	fi
}

createdb $src
q $src -o /dev/null <<'SQL'
CREATE EXTENSION privacy_tags;
CREATE TABLE members (id int PRIMARY KEY, name text, email text, joined_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id int PRIMARY KEY, member_id int REFERENCES members, item text, ad_segment text);
SELECT privacy_tags.set_subject('members', 'id', 'member', 'joined_at');
SELECT privacy_tags.tag('members', 'name', 'identifiers.name; basis=contract');
SELECT privacy_tags.tag('members', 'email', 'contact.email; basis=contract');
SELECT privacy_tags.tag('orders', 'item', 'commercial.order; basis=contract');
SELECT privacy_tags.tag('orders', 'ad_segment', 'inferences.profile; basis=legitimate_interests; purpose=direct_marketing');
INSERT INTO members (id, name, email, joined_at)
SELECT i, 'member ' || i, 'm' || i || '@example.com', now() - interval '1 year' FROM generate_series(1, 5) i;
INSERT INTO orders SELECT i, i, 'item ' || i, 'segment ' || i FROM generate_series(1, 5) i;
SQL
pg_dump -Fc -f "$dir/before.dump" $src
# after the dump: member 2 erased, member 3 objects to direct marketing, and
# member 4 erased and then joins again (a new member with the same id)
q $src -o /dev/null <<'SQL'
SELECT privacy_tags.erase('member', '2');
SELECT privacy_tags.object('member', '3', 'direct_marketing');
SELECT privacy_tags.erase('member', '4');
SQL
q $src -c "SELECT privacy_tags.export_ledger()" >"$dir/ledger.json"
check "the ledger lists the three erasures, without any id" "3|0" \
	"$(q $src -c "SELECT jsonb_array_length(privacy_tags.export_ledger() -> 'entries') || '|' ||
	              (SELECT count(*) FROM jsonb_array_elements(privacy_tags.export_ledger() -> 'entries') e
	                WHERE e::text ~ '@example|\"[0-9]\"')")"

createdb $dst
pg_restore -d $dst "$dir/before.dump"
check "the restored database has every member back" "5|5" \
	"$(q $dst -c "SELECT (SELECT count(*) FROM members) || '|' || (SELECT count(ad_segment) FROM orders)")"
# the member who joined again, after the erasure, in the restored database
q $dst -c "UPDATE members SET joined_at = now() + interval '1 second', name = 'new member 4' WHERE id = 4" >/dev/null
check "import_ledger adds the entries the dump lacks" "3" \
	"$(echo "SELECT privacy_tags.import_ledger(:'ledger'::jsonb)" | q $dst -v ledger="$(cat "$dir/ledger.json")")"
check "importing again adds nothing" "0" \
	"$(echo "SELECT privacy_tags.import_ledger(:'ledger'::jsonb)" | q $dst -v ledger="$(cat "$dir/ledger.json")")"
check "a dry run of reapply_erasures changes nothing" "erase:erased,object:erased,erase:recreated|5" \
	"$(q $dst -c "SELECT string_agg(x ->> 'scope' || ':' || (x ->> 'action'), ',' ORDER BY x ->> 'erased_at')
	                FROM jsonb_array_elements(privacy_tags.reapply_erasures(dry_run => true) -> 'subjects') x")|$(q $dst -c "SELECT count(*) FROM members")"
check "reapply_erasures erases the two again and reports the member created anew" "erase:erased,object:erased,erase:recreated" \
	"$(q $dst -c "SELECT string_agg(x ->> 'scope' || ':' || (x ->> 'action'), ',' ORDER BY x ->> 'erased_at')
	                FROM jsonb_array_elements(privacy_tags.reapply_erasures() -> 'subjects') x")"
check "member 2 is gone, member 3's marketing segment is gone, everyone else is as dumped" \
	"1:member 1:m1@example.com:item 1:segment 1,3:member 3:m3@example.com:item 3:,4:new member 4:m4@example.com:item 4:segment 4,5:member 5:m5@example.com:item 5:segment 5" \
	"$(q $dst -c "SELECT string_agg(concat_ws(':', m.id, m.name, m.email, o.item, coalesce(o.ad_segment, '')), ',' ORDER BY m.id)
	                FROM members m LEFT JOIN orders o ON o.member_id = m.id")"
check "member 3's objection is back on record" "direct_marketing" \
	"$(q $dst -c "SELECT string_agg(purpose, ',') FROM privacy_tags.objections WHERE subject_id = '3' AND withdrawn_at IS NULL")"
check "a second reapply changes nothing" "object:unchanged,erase:recreated|4" \
	"$(q $dst -c "SELECT string_agg(x ->> 'scope' || ':' || (x ->> 'action'), ',' ORDER BY x ->> 'erased_at')
	                FROM jsonb_array_elements(privacy_tags.reapply_erasures() -> 'subjects') x")|$(q $dst -c "SELECT count(*) FROM members")"
echo "1..$n"
[ "$fails" -eq 0 ]
