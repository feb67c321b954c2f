#!/usr/bin/env bash
# Run the benchmarks against the cluster in the environment (PGHOST etc., as
# set by pg_virtualenv; `make bench` wraps this in ./scripts/in_cluster.sh).
#
#   bench/run.sh            run every bench/<name>.sh
#   bench/run.sh NAME...    run only those (e.g. bench/run.sh type_io)
#
# The protocol for a benchmark bench/<name>.sh:
#   - it runs against the cluster in the environment, in a database of its
#     own that it creates and drops;
#   - it prints progress on stderr and, on success, its whole section of
#     BENCHMARKS.md (heading, table, notes; Markdown) on stdout;
#   - it may read BENCH_COMMAND (the command line that reproduces the run,
#     to be quoted in the section), BENCH_DATE and BENCH_ROWS/BENCH_REPEAT.
# This script keeps the raw section in bench/results/<name>.md and puts it
# into BENCHMARKS.md between the markers <!-- bench:<name> --> and
# <!-- /bench:<name> -->, replacing what was there (appending the section
# when the markers are missing).  A benchmark that fails leaves its section
# as it was, and this script then exits non-zero after running the others.
set -uo pipefail
cd "$(dirname "$0")/.."

doc=BENCHMARKS.md
mkdir -p bench/results

if [ $# -gt 0 ]; then
	names=("$@")
else
	names=()
	for f in bench/*.sh; do
		n=$(basename "$f" .sh)
		[ "$n" = run ] && continue
		names+=("$n")
	done
fi

# The command that reproduces this run, as quoted in BENCHMARKS.md.
vars=""
for v in BENCH_TABLES BENCH_ROWS BENCH_REPEAT; do
	[ -n "${!v:-}" ] && vars+="$v=${!v} "
done
if [ $# -eq 0 ] && [ -n "${MAKELEVEL:-}" ]; then
	BENCH_COMMAND="${vars}make bench"
else
	BENCH_COMMAND="${vars}./scripts/in_cluster.sh ./bench/run.sh${*:+ $*}"
fi
export BENCH_COMMAND
BENCH_DATE=$(date -u +%Y-%m-%d)
export BENCH_DATE

if [ ! -f "$doc" ]; then
	cat >"$doc" <<'EOF'
# Benchmarks

How fast privacy_tags is next to what PostgreSQL offers for the same job.

Every benchmark runs with `make bench`, which builds and installs the
extension and runs `bench/run.sh` in a throwaway cluster
(`./scripts/in_cluster.sh`); `./scripts/in_cluster.sh ./bench/run.sh NAME`
runs one. Each `bench/NAME.sh` rewrites its own section below.

The machines these numbers come from are shared and noisy, so absolute times
vary from run to run. What to read is the ratio: the two sides of a
comparison run in the same session, interleaved, several rounds, and each
side's time is the median of its rounds.
EOF
fi

# splice <name> <section-file>: replace the marked section of $doc.
splice() {
	local name=$1 body=$2 tmp
	local open="<!-- bench:$name -->" close="<!-- /bench:$name -->"
	tmp=$(mktemp "$doc.XXXXXX")
	if grep -qxF "$open" "$doc" && grep -qxF "$close" "$doc"; then
		awk -v om="$open" -v cm="$close" -v body="$body" '
			$0 == om { print; while ((getline line < body) > 0) print line; skip = 1; next }
			$0 == cm { skip = 0 }
			!skip { print }
		' "$doc" >"$tmp"
	else
		{ cat "$doc"; echo; echo "$open"; cat "$body"; echo "$close"; } >"$tmp"
	fi
	cat "$tmp" >"$doc"	# in place, keeping the file's mode
	rm -f "$tmp"
}

failed=()
for name in "${names[@]}"; do
	script="bench/$name.sh"
	if [ ! -f "$script" ]; then
		echo "no such benchmark: $script" >&2
		failed+=("$name")
		continue
	fi
	echo "== bench $name" >&2
	out="bench/results/$name.md"
	if bash "$script" >"$out.tmp" && [ -s "$out.tmp" ]; then
		mv "$out.tmp" "$out"
		splice "$name" "$out"
		echo "-- $name: section updated in $doc" >&2
		cat "$out"
	else
		echo "-- $name: FAILED; its section in $doc is left as it was" >&2
		failed+=("$name")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "failed benchmarks: ${failed[*]}" >&2
	exit 1
fi
