#!/usr/bin/env bash
# Run every test suite against the cluster in the environment (PGHOST etc.,
# as set by pg_virtualenv): pg_regress (sql/, expected/), pgTAP (test/*.sql,
# with pg_prove) and the shell tests (test/shell/*.sh, which speak TAP).
# Prints "N passed, N failed" last; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
log=$(mktemp -d)

count() {	# count <file> <ok-regex> <fail-regex>
	local p f
	p=$(grep -cE "$2" "$1" || true)
	f=$(grep -cE "$3" "$1" || true)
	passed=$((passed + p))
	failed=$((failed + f))
	echo "   -> $p passed, $f failed"
}

echo "== pg_regress"
make -s installcheck >"$log/regress.out" 2>&1
rc=$?
cat "$log/regress.out"
count "$log/regress.out" '(\.\.\. ok|^ok [0-9]+)' '(\.\.\. FAILED|^not ok [0-9]+|\.\.\. failed)'
if [ $rc -ne 0 ] && ! grep -qE '(FAILED|^not ok|failed)' "$log/regress.out"; then
	failed=$((failed + 1))	# pg_regress itself broke
fi
[ -f regression.diffs ] && head -200 regression.diffs
if compgen -G 'specs/*.spec' >/dev/null &&
	[ ! -x "$(dirname "$("${PG_CONFIG:-pg_config}" --pgxs)")/../test/isolation/pg_isolation_regress" ]; then
	echo "   isolation tests skipped (PostgreSQL $("${PG_CONFIG:-pg_config}" --version | sed 's/^PostgreSQL //')'s server-dev package has no pg_isolation_regress)"
fi

echo "== pgTAP"
export PGDATABASE=privacy_tags_tap
dropdb --if-exists privacy_tags_tap >/dev/null 2>&1
createdb privacy_tags_tap
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION pgtap; CREATE EXTENSION privacy_tags;" >/dev/null
pg_prove --verbose --failures test/*.sql >"$log/tap.out" 2>&1
rc=$?
grep -vE '^ok [0-9]+' "$log/tap.out"
count "$log/tap.out" '^ok [0-9]+' '^not ok [0-9]+'
if [ $rc -ne 0 ] && ! grep -qE '^not ok' "$log/tap.out"; then
	failed=$((failed + 1))	# a file died before its plan was done
fi

echo "== shell tests"
for t in test/shell/*.sh; do
	[ -e "$t" ] || continue
	echo "-- $t"
	bash "$t" >"$log/shell.out" 2>&1
	rc=$?
	cat "$log/shell.out"
	count "$log/shell.out" '^ok [0-9]+' '^not ok [0-9]+'
	if [ $rc -ne 0 ] && ! grep -qE '^not ok' "$log/shell.out"; then
		failed=$((failed + 1))
	fi
done

rm -rf "$log"
echo "$passed passed, $failed failed"
[ -n "${SUMMARY_FILE:-}" ] && echo "$passed passed, $failed failed" >"$SUMMARY_FILE"
[ "$failed" -eq 0 ]
