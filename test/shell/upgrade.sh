#!/usr/bin/env bash
# Upgrades: a database made with version 1.0 and filled (tags, subject keys,
# an enforced table, consents, holds, audit entries, stored privacy_tag
# values) is updated with ALTER EXTENSION ... UPDATE; afterwards
#   - every object of the extension is the same as in a fresh install of the
#     new version (definitions, arguments, grants, comments, table columns),
#   - the data, the labels and the audit log are as before,
#   - everything works, the new version's checks included,
#   - stored values keep their on-disk format (version byte 1), which is what
#     lets pg_upgrade carry them over as they are.
# Speaks TAP. Runs against the cluster in the environment.
set -euo pipefail
old=pt_upgrade_old
new=pt_upgrade_new
dir=$(mktemp -d)
trap 'rm -rf "$dir"; for d in $old $new; do dropdb --if-exists $d >/dev/null 2>&1 || true; done' EXIT
for d in $old $new; do dropdb --if-exists $d >/dev/null 2>&1 || true; done

to=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$(dirname "$0")/../../privacy_tags.control")

n=0
check() {	# check <description> <command...>
	n=$((n + 1))
	if "${@:2}" >"$dir/out" 2>&1; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		sed 's/^/# /' "$dir/out"
	fi
}
q() {	# q <db> <sql>: one value
	psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
same() {	# same <expected> <actual>
	if [ "$1" = "$2" ]; then return 0; fi
	echo "expected: $1"
	echo "actual:   $2"
	return 1
}

upgrade_from() {	# upgrade_from <version>: fill a database made with it, update, compare
from=$1
for d in $old $new; do dropdb --if-exists $d >/dev/null 2>&1 || true; done
createdb $old
createdb $new
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -d $old <<SQL
CREATE EXTENSION privacy_tags VERSION '$from';
SET search_path = public, privacy_tags;
SELECT add_category('loyalty', 'Loyalty programme membership.', ccpa => 'D');
CREATE TABLE customers (id int PRIMARY KEY, email text, full_name text, last_contact date, created_at timestamptz DEFAULT now());
CREATE TABLE invoices (id int PRIMARY KEY, customer_id int REFERENCES customers, amount numeric, issued_on date);
CREATE TABLE inventory (id serial, tag privacy_tag);
SELECT tag('customers', 'email', 'contact.email; basis=consent; purpose=newsletter; retain=3 years after last_contact');
SELECT tag('customers', 'full_name', 'identifiers.name; basis=contract; retain=3 years after last_contact');
SELECT tag('invoices', 'amount', 'financial.invoice; basis=legal_obligation; retain=7 years after issued_on');
SELECT set_subject('customers', 'id', 'customer', 'created_at');
SELECT grant_consent('customer', '1', 'newsletter');
SELECT grant_consent('customer', '2', 'newsletter');
INSERT INTO customers (id, email, full_name, last_contact) VALUES
  (1, 'one@example.com', 'One', current_date), (2, 'two@example.com', 'Two', current_date - 365 * 4),
  (3, NULL, 'Three', current_date - 365 * 4);
INSERT INTO invoices VALUES (10, 1, 100, current_date), (20, 2, 200, current_date);
INSERT INTO inventory (tag) VALUES ('contact.email'), ('health.condition; basis=consent; special=explicit_consent; purpose=care; retain=1 year 6 months after seen; on_expiry=nullify');
SELECT enforce('customers');
SELECT enforce('invoices');
SELECT hold('customer', '2', 'pending claim');
SELECT grant_consent('customer', '03', 'survey');	-- stored as given before 1.2
SELECT * FROM purge(dry_run => true);
SQL

snapshot() {	# the data, labels and audit log a user has in the database
	psql -X -A -t -v ON_ERROR_STOP=1 -d "$1" -c "
	  SELECT string_agg(format('%s|%s|%s', relation, column_name, tag), E'\n' ORDER BY relation::text, column_name)
	    FROM privacy_tags.columns" -c "
	  SELECT string_agg(format('%s|%s|%s', relation, column_name, subject_type), E'\n' ORDER BY relation::text)
	    FROM privacy_tags.subjects" -c "
	  SELECT string_agg(format('%s|%s', id, tag), E'\n' ORDER BY id) FROM inventory" -c "
	  SELECT string_agg(format('%s|%s|%s', id, email, full_name), E'\n' ORDER BY id) FROM customers" -c "
	  SELECT string_agg(format('%s|%s|%s|%s', id, action, subject_type, rows), E'\n' ORDER BY id) FROM privacy_tags.audit_log WHERE action <> 'update'" -c "
	  SELECT string_agg(format('%s|%s', ltrim(subject_id, '0'), purpose), ',' ORDER BY ltrim(subject_id, '0')) FROM privacy_tags.consents" -c "
	  SELECT count(*) FROM privacy_tags.legal_holds WHERE released_at IS NULL" -c "
	  SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'privacy_tags_retention' ORDER BY tgrelid::regclass::text"
}
snapshot $old >"$dir/before.txt"

check "the old database has version $from" same "$from" "$(q $old "SELECT extversion FROM pg_extension WHERE extname = 'privacy_tags'")"
check "ALTER EXTENSION privacy_tags UPDATE (from $from to $to)" q $old "ALTER EXTENSION privacy_tags UPDATE"
check "the updated database has version $to" same "$to" "$(q $old "SELECT extversion FROM pg_extension WHERE extname = 'privacy_tags'")"
q $new "CREATE EXTENSION privacy_tags"

# Every member of the extension, as a fresh install of $to has it.
members() {
	psql -X -A -t -v ON_ERROR_STOP=1 -d "$1" -c "
	  SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
	         || coalesce(' | ' || obj_description(d.objid, d.classid::regclass::name), '')
	         || CASE WHEN d.classid = 'pg_proc'::regclass
	                 THEN E'\n' || pg_get_functiondef(d.objid) || ' | acl ' || coalesce((SELECT proacl::text FROM pg_proc WHERE oid = d.objid), '')
	                 WHEN d.classid = 'pg_class'::regclass
	                 THEN ' | acl ' || coalesce((SELECT relacl::text FROM pg_class WHERE oid = d.objid), '')
	                      || coalesce(E'\n' || pg_get_viewdef(d.objid), '')
	                      || coalesce(E'\n' || (SELECT string_agg(format('%s %s %s %s', a.attname, format_type(a.atttypid, a.atttypmod),
	                                                                      a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid)), ', ' ORDER BY a.attnum)
	                                             FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	                                            WHERE a.attrelid = d.objid AND a.attnum > 0 AND NOT a.attisdropped), '')
	                 ELSE '' END
	    FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	   WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'privacy_tags' AND d.deptype = 'e'
	   ORDER BY 1" -c "
	  SELECT string_agg(x, E'\n' ORDER BY x) FROM (SELECT format('%s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS x
	    FROM pg_constraint WHERE connamespace = 'privacy_tags'::regnamespace) c" -c "
	  SELECT string_agg(pg_get_indexdef(indexrelid), E'\n' ORDER BY pg_get_indexdef(indexrelid))
	    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'privacy_tags'::regnamespace" -c "
	  SELECT string_agg(format('%s %s', tgrelid::regclass, pg_get_triggerdef(t.oid)), E'\n' ORDER BY format('%s %s', tgrelid::regclass, pg_get_triggerdef(t.oid)))
	    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'privacy_tags'::regnamespace"
}
members $old >"$dir/members_updated.txt"
members $new >"$dir/members_fresh.txt"
check "every object of the extension is as in a fresh install of $to (from $from) ($(grep -c . "$dir/members_fresh.txt") lines compared)" \
	diff -u "$dir/members_fresh.txt" "$dir/members_updated.txt"

snapshot $old >"$dir/after.txt"
check "data, tags, subject keys, consents, holds, triggers and audit log are unchanged by the update (from $from)" \
	diff -u "$dir/before.txt" "$dir/after.txt"

# Stored values keep their format: version byte 1, read straight off the
# heap page (pageinspect) and in the binary send format.
ondisk=$(q $old "CREATE EXTENSION IF NOT EXISTS pageinspect;
	SELECT string_agg(DISTINCT (CASE WHEN get_byte(a[2], 0) & 1 = 1 THEN get_byte(a[2], 1)	-- 1-byte varlena header
	                                 ELSE get_byte(a[2], 4) END)::text, ',')
	  FROM heap_page_items(get_raw_page('inventory', 0)) h,
	       LATERAL tuple_data_split('inventory'::regclass, h.t_data, h.t_infomask, h.t_infomask2, h.t_bits) a" | tail -n 1)
check "stored privacy_tag values carry format version 1 on disk (from $from)" same "1" "$ondisk"
check "and in the binary format, and read back unchanged (from $from)" same "1|1|true" \
	"$(q $old "SELECT min(get_byte(privacy_tags.privacy_tag_send(tag), 0)) || '|' || max(get_byte(privacy_tags.privacy_tag_send(tag), 0))
	                  || '|' || bool_and(tag OPERATOR(privacy_tags.=) tag::text::privacy_tags.privacy_tag) FROM inventory")"

# Everything works after the update.
check "the trigger still refuses an expired write (from $from)" same "23514" \
	"$(q $old "DO \$\$ BEGIN INSERT INTO customers (id, email, last_contact) VALUES (9, 'x@example.com', '2000-01-01');
	            EXCEPTION WHEN others THEN RAISE NOTICE '%', SQLSTATE; END \$\$" 2>&1 | sed -n 's/^NOTICE: *//p')"
check "purge deletes the expired row and keeps the held one (from $from)" same "customers|email|delete|1,customers|email|held|1,customers|full_name|held|1" \
	"$(q $old "SELECT string_agg(format('%s|%s|%s|%s', relation, column_name, action, rows), ',' ORDER BY 2, 3) FROM privacy_tags.purge() WHERE rows > 0")"
check "subject_access exports the subject's rows (from $from)" same "2" \
	"$(q $old "SELECT privacy_tags.subject_access('customer', '1') -> 'summary' ->> 'records'")"
check "erase keeps the invoice (legal obligation) and nulls the rest (from $from)" same "1|1" \
	"$(q $old "SELECT (privacy_tags.erase('customer', '1') -> 'tables' -> 'public.invoices' ->> 'kept') || '|' ||
	                  (SELECT count(*) FROM invoices WHERE customer_id = 1)")"
check "stored subject ids are normalised by the key type (from $from)" same "3|1" \
	"$(q $old "SELECT string_agg(subject_id, ',') || '|' || (SELECT string_agg(details ->> 'subject_ids_normalised', ',')
	                  FROM privacy_tags.audit_log WHERE action = 'update') FROM privacy_tags.consents WHERE purpose = 'survey'")"
check "internal functions are closed to privacy_admin after the update (from $from)" same "0" \
	"$(q $old "SELECT count(*) FROM pg_proc WHERE pronamespace = 'privacy_tags'::regnamespace AND starts_with(proname::text, '_')
	                  AND (has_function_privilege('privacy_admin', oid, 'EXECUTE') OR has_function_privilege('public', oid, 'EXECUTE'))")"
check "1.1's checks: an unknown subject type is an error (from $from)" same "42704" \
	"$(q $old "DO \$\$ BEGIN PERFORM privacy_tags.erase('custmer', '1');
	            EXCEPTION WHEN others THEN RAISE NOTICE '%', SQLSTATE; END \$\$" 2>&1 | sed -n 's/^NOTICE: *//p')"
check "tagging and retagging still rewrites the trigger (from $from)" same "1" \
	"$(q $old "SELECT privacy_tags.tag('customers', 'email', 'contact.email; basis=consent; purpose=newsletter; retain=1 year after last_contact');
	           SELECT count(*) FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND pg_get_triggerdef(oid) LIKE '%1 year after%'" | tail -n 1)"
check "DROP EXTENSION after the update leaves no function, table or type behind (from $from)" same "0" \
	"$(q $old "SET client_min_messages = warning; DROP EXTENSION privacy_tags CASCADE;
	           SELECT (SELECT count(*) FROM pg_proc WHERE pronamespace = 'privacy_tags'::regnamespace)
	                + (SELECT count(*) FROM pg_class WHERE relnamespace = 'privacy_tags'::regnamespace)
	                + (SELECT count(*) FROM pg_type WHERE typnamespace = 'privacy_tags'::regnamespace)" | tail -n 1)"

}

# every released version, updated along the chain of upgrade scripts
upgrade_from 1.0
upgrade_from 1.1
echo "1..$n"
