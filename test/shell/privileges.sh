#!/usr/bin/env bash
# Who may execute each function of the extension: the catalog of a fresh
# install against the table in README.md (between the privileges markers).
# PUBLIC: any role; privacy_admin: its members (and superusers); owner: the
# extension's owner alone (every internal "_" function).  Speaks TAP.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=pt_privileges
dir=$(mktemp -d)
trap 'rm -rf "$dir"; dropdb --if-exists $db >/dev/null 2>&1 || true' EXIT
dropdb --if-exists $db >/dev/null 2>&1 || true
createdb $db
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION privacy_tags" -c "
  DO \$\$ BEGIN CREATE ROLE pt_privileges_nobody; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" >/dev/null
psql -X -A -t -v ON_ERROR_STOP=1 -d $db -c "
  SELECT format('| %s | %s |', p.oid::regprocedure,
                CASE WHEN has_function_privilege('pt_privileges_nobody', p.oid, 'EXECUTE') THEN 'PUBLIC'
                     WHEN has_function_privilege('privacy_admin', p.oid, 'EXECUTE') THEN 'privacy_admin'
                     ELSE 'owner' END)
    FROM pg_proc p
    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'privacy_tags'
   ORDER BY p.oid::regprocedure::text" >"$dir/catalog.txt"
sed -n '/<!-- privileges:begin -->/,/<!-- privileges:end -->/p' README.md | grep -E '^\| [a-z_]+\.' >"$dir/readme.txt" || true
if [ -n "${PRIVILEGES_PRINT:-}" ]; then	# print the table (to paste into README.md)
	cat "$dir/catalog.txt"
	exit 0
fi
n=0
n=$((n + 1))
if diff -u "$dir/readme.txt" "$dir/catalog.txt" >"$dir/diff"; then
	echo "ok $n - README's privilege table lists every function of the extension as the catalog has it ($(wc -l <"$dir/catalog.txt") functions)"
else
	echo "not ok $n - README's privilege table differs from the catalog"
	sed 's/^/# /' "$dir/diff"
fi
n=$((n + 1))
if grep -E '^\| privacy_tags\._' "$dir/catalog.txt" | grep -vqE '\| owner \|$'; then
	echo "not ok $n - an internal function is executable by PUBLIC or privacy_admin"
	grep -E '^\| privacy_tags\._' "$dir/catalog.txt" | grep -vE '\| owner \|$' | sed 's/^/# /'
else
	echo "ok $n - every internal function is executable by the extension's owner alone"
fi
psql -X -q -d $db -c "DROP ROLE IF EXISTS pt_privileges_nobody" >/dev/null 2>&1 || true
echo "1..$n"
