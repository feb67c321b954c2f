#!/usr/bin/env bash
# Tags, subject keys and user categories survive pg_dump -Fc / pg_restore -j 2
# into a fresh database, and a plain-format dump restored with psql.
# Speaks TAP. Runs against the cluster in the environment.
set -euo pipefail
src=pt_dump_src
dst=pt_dump_dst
dst2=pt_dump_dst_plain
dir=$(mktemp -d)
trap 'rm -rf "$dir"; for d in $src $dst $dst2; do dropdb --if-exists $d >/dev/null 2>&1 || true; done' EXIT
for d in $src $dst $dst2; do dropdb --if-exists $d >/dev/null 2>&1 || true; done

createdb $src
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -d $src <<'SQL'
CREATE EXTENSION privacy_tags;
SELECT privacy_tags.add_category('loyalty', 'Loyalty programme membership.', ccpa => 'D');
SELECT privacy_tags.add_category('loyalty.points', 'Points balance.');
CREATE SCHEMA "Shop Data";
CREATE TABLE "Shop Data"."Customers" (
    id int PRIMARY KEY,
    "E-mail" text,
    points int,
    "Last Contact" date,
    created_at timestamptz);
CREATE TABLE "Shop Data".orders (
    id int PRIMARY KEY,
    customer_id int REFERENCES "Shop Data"."Customers",
    placed_at timestamptz,
    ip inet,
    tags privacy_tags.privacy_tag);
INSERT INTO "Shop Data"."Customers" VALUES (1, 'a@example.com', 10, '2024-01-01', now());
INSERT INTO "Shop Data".orders VALUES (1, 1, now(), '192.0.2.1', 'contact.email; retain=3 years after x');
SELECT privacy_tags.tag('"Shop Data"."Customers"', 'E-mail', 'contact.email; basis=consent; purpose=newsletter; retain=3 years after "Last Contact"');
SELECT privacy_tags.tag('"Shop Data"."Customers"', 'points', 'loyalty.points; basis=contract');
SELECT privacy_tags.set_subject('"Shop Data"."Customers"', 'id', 'customer', 'created_at');
SELECT privacy_tags.tag('"Shop Data".orders', 'ip', 'network.ip_address; basis=legitimate_interests; retain=30 days after placed_at; on_expiry=nullify');
SELECT privacy_tags.enforce('"Shop Data".orders');
SELECT privacy_tags.hold('customer', '1', 'litigation');
-- 1.2: a masked tag (on-disk version 2), a declared link, a consent ended by erasure
CREATE TABLE "Shop Data".visits (id int PRIMARY KEY, member text, page text);
SELECT privacy_tags.tag('"Shop Data".visits', 'page', 'network.browsing_history; basis=consent; mask=''(gone)''');
SELECT privacy_tags.link('"Shop Data".visits', '{member}', '"Shop Data"."Customers"', '{id}');
INSERT INTO "Shop Data".orders (id, customer_id, tags) VALUES (2, 1, 'contact.email; mask=hash');
-- 1.2: the declarations of the record of processing, an objection (deferred:
-- the customer is held), a request
SELECT privacy_tags.set_controller('Shop AB', 'privacy@example.com', dpo => 'D. P. O.');
SELECT privacy_tags.add_recipient('HubSpot', 'processor', 'US', '{newsletter}', 'scc');
SELECT privacy_tags.add_security_measure('encrypted backups');
SELECT privacy_tags.object('customer', '1', 'direct_marketing');
SELECT privacy_tags.open_request('access', 'customer', '1');
SQL

inventory() {
	psql -X -A -t -v ON_ERROR_STOP=1 -d "$1" -c "
	  SELECT string_agg(format('%s|%s|%s|%s', relation, column_name, tag, is_subject_key), E'\n' ORDER BY relation::text, column_name)
	    FROM privacy_tags.columns" -c "
	  SELECT string_agg(format('%s|%s|%s|%s', relation, column_name, subject_type, collected_at), E'\n' ORDER BY relation::text)
	    FROM privacy_tags.subjects" -c "
	  SELECT string_agg(format('%s|%s|%s|%s', name, parent, ccpa, builtin), E'\n' ORDER BY name)
	    FROM privacy_tags.categories WHERE NOT builtin" -c "
	  SELECT count(*) FROM privacy_tags.categories" -c "
	  SELECT string_agg(tags::text, ',') FROM \"Shop Data\".orders" -c "
	  SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'privacy_tags_retention'" -c "
	  SELECT string_agg(format('%s|%s|%s', action, subject_type, subject_hash = privacy_tags.subject_hash('customer', '1')), ',' ORDER BY id)
	    FROM privacy_tags.audit_log" -c "
	  SELECT count(*) FROM privacy_tags.legal_holds WHERE released_at IS NULL" -c "
	  SELECT string_agg(format('%s|%s|%s|%s', child, child_columns, parent, parent_columns), ',') FROM privacy_tags.links" -c "
	  SELECT string_agg(format('%s|%s', relation, kind), ',' ORDER BY relation::text) FROM privacy_tags.subject_graph('customer')" -c "
	  SELECT (SELECT string_agg(name || '|' || coalesce(dpo, ''), ',') FROM privacy_tags.controller) || ';' ||
	         (SELECT string_agg(name || '|' || country || '|' || safeguard, ',') FROM privacy_tags.recipients) || ';' ||
	         (SELECT count(*) FROM privacy_tags.security_measures) || ';' ||
	         (SELECT string_agg(purpose, ',') FROM privacy_tags.objections) || ';' ||
	         (SELECT count(*) FROM privacy_tags.requests) || ';' ||
	         (SELECT count(*) FROM privacy_tags.deferred_erasures) || ';' ||
	         coalesce((SELECT string_agg(scope, ',') FROM privacy_tags.erasure_ledger), 'no ledger entry')"
}
inventory $src >"$dir/src.txt"

n=0
check() {	# check <description> <command...>
	n=$((n + 1))
	if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}

pg_dump -Fc -f "$dir/db.dump" $src
createdb $dst
check "pg_restore -j 2 into a fresh database succeeds" \
	pg_restore -j 2 --exit-on-error -d $dst "$dir/db.dump"
inventory $dst >"$dir/dst.txt"
check "every tag, subject key, user category and stored tag value is restored (-Fc, -j 2)" \
	diff -u "$dir/src.txt" "$dir/dst.txt"
check "the source inventory holds the tags, subject key and categories" \
	test "$(grep -c '|' "$dir/src.txt")" -ge 6

pg_dump -Fp -f "$dir/db.sql" $src
createdb $dst2
check "a plain dump restores with psql" \
	psql -X -q -v ON_ERROR_STOP=1 -d $dst2 -f "$dir/db.sql" -o /dev/null
inventory $dst2 >"$dir/dst2.txt"
check "every tag is restored (plain format)" \
	diff -u "$dir/src.txt" "$dir/dst2.txt"
check "the restored retention trigger carries the windows" \
	grep -q "retention_trigger(.*'ip', 'network.ip_address" "$dir/dst.txt"
check "declared links, masked tags and the subject graph are restored" \
	grep -q 'visits|{member}|"Shop Data"."Customers"|{id}' "$dir/dst.txt"
check "the graph follows the restored link" \
	grep -q '"Shop Data".visits|child' "$dir/dst.txt"
check "the declarations, objections, requests and deferred erasures are in the inventory compared" \
	grep -q '^Shop AB|D. P. O.;HubSpot|US|scc;1;direct_marketing;1;1;no ledger entry$' "$dir/src.txt"
check "the restored audit key gives the same subject hashes" \
	grep -q "hold|customer|t" "$dir/dst.txt"
echo "1..$n"
