#!/usr/bin/env bash
# Fuzz the privacy_tag text parsers (src/privacy_tag_parse.c) with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/fuzz.sh [RUNS]		(default 1000000; also: make fuzz FUZZ_RUNS=N)
#
# Installs clang-14 and libFuzzer when missing (needs root), builds
# fuzz/fuzz_parse, and runs it for RUNS inputs starting from the checked-in
# seeds in fuzz/corpus/.  New inputs go to a scratch copy of the corpus, so
# the checked-in one is never modified.  A crashing input is saved as
# fuzz/crash-<sha1> (git-ignored).  Exits non-zero on any crash or invariant
# violation; prints a one-line summary last.
set -euo pipefail

RUNS=${1:-1000000}
case $RUNS in
	'' | *[!0-9]*)
		echo "usage: $0 [RUNS]   (RUNS a non-negative integer, got \"$RUNS\")" >&2
		exit 2
		;;
esac

cd "$(dirname "$0")/.."

# --- toolchain ---------------------------------------------------------------
packages=(clang-14 libfuzzer-14-dev libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]}" >&2
		echo "run as root, or: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- build ---------------------------------------------------------------------
echo "building fuzz/fuzz_parse"
clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Isrc src/privacy_tag_parse.c fuzz/fuzz_parse.c -o fuzz/fuzz_parse

# --- run -----------------------------------------------------------------------
scratch=$(mktemp -d "${TMPDIR:-/tmp}/privacy_tags_fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/corpus"
cp fuzz/corpus/* "$scratch/corpus/"

echo "fuzzing: $RUNS runs, seeds from fuzz/corpus ($(ls fuzz/corpus | wc -l) files)"
start=$(date +%s)
set +e
# libFuzzer writes new inputs only into the first corpus directory (the
# scratch copy); fuzz/corpus is read from only.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	fuzz/fuzz_parse -runs="$RUNS" -max_len=4096 -print_final_stats=1 \
	-artifact_prefix=fuzz/ "$scratch/corpus" fuzz/corpus 2>&1 | tee "$scratch/log"
rc=${PIPESTATUS[0]}
set -e
elapsed=$(($(date +%s) - start))

done_runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$scratch/log" | tail -n 1)
[ -n "$done_runs" ] || done_runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$scratch/log" | tail -n 1)
new_units=$(ls "$scratch/corpus" | wc -l)
artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$scratch/log" | tail -n 1)

if [ "$rc" -eq 0 ]; then
	echo "fuzz: OK - ${done_runs:-?} runs in ${elapsed}s, corpus $new_units inputs (not kept), exit $rc"
else
	echo "fuzz: FAILED - crash after ${done_runs:-?} of $RUNS runs in ${elapsed}s${artifact:+, input saved to $artifact}, exit $rc"
fi
exit "$rc"
