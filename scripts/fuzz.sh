#!/usr/bin/env bash
# Fuzz every parser of untrusted text in the extension with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer:
#
#   parse	fuzz/fuzz_parse.c on src/privacy_tag_parse.c: tag text (the type's
#			input, security labels, trigger arguments), subject labels,
#			category paths, and quoted column names (pt_format_ident)
#   value	fuzz/fuzz_value.c on src/value_match.c: the recognisers that
#			discover() and value_kind() run on column values
#
#   scripts/fuzz.sh [RUNS]	(default 10000000; also: make fuzz FUZZ_RUNS=N)
#
# RUNS is the total over all targets, split evenly between them.  With two
# or more cores the targets run at the same time (FUZZ_PARALLEL=0: one after
# the other).  Installs clang-14 and libFuzzer when missing (needs root),
# builds fuzz/fuzz_<target>, and runs each from its checked-in seeds
# (fuzz/corpus/, fuzz/corpus_value/).  New inputs go to scratch copies, so
# the checked-in corpora are never modified.  A crashing input is saved as
# fuzz/crash-<sha1> (git-ignored); reproduce with fuzz/fuzz_<target> FILE.
# Exits non-zero on any crash, leak, timeout or invariant violation, or when
# a target ran fewer inputs than asked; prints a one-line summary last.
set -euo pipefail

RUNS=${1:-10000000}
case $RUNS in
	'' | *[!0-9]*)
		echo "usage: $0 [RUNS]   (RUNS a non-negative integer, got \"$RUNS\")" >&2
		exit 2
		;;
esac

cd "$(dirname "$0")/.."

# name, code under test, harness, seed corpus, -max_len
targets=(parse value)
declare -A src=([parse]=src/privacy_tag_parse.c [value]=src/value_match.c)
declare -A harness=([parse]=fuzz/fuzz_parse.c [value]=fuzz/fuzz_value.c)
declare -A seeds=([parse]=fuzz/corpus [value]=fuzz/corpus_value)
declare -A maxlen=([parse]=4096 [value]=512)

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

scratch=$(mktemp -d "${TMPDIR:-/tmp}/privacy_tags_fuzz.XXXXXX")
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -------------------------------------------------------------------
# The code under test gets libFuzzer's coverage and comparison tracing; the
# harness only the sanitizers, so that its own checks neither guide the
# fuzzer nor slow it down.
cflags=(-g -O1 -Wall -fsanitize=address,undefined -fno-sanitize-recover=undefined -Isrc)
for t in "${targets[@]}"; do
	echo "building fuzz/fuzz_$t"
	clang-14 "${cflags[@]}" -fsanitize=fuzzer-no-link -c "${src[$t]}" -o "$scratch/$t-src.o"
	clang-14 "${cflags[@]}" -c "${harness[$t]}" -o "$scratch/$t-harness.o"
	clang-14 "${cflags[@]}" -fsanitize=fuzzer "$scratch/$t-src.o" "$scratch/$t-harness.o" \
		-o "fuzz/fuzz_$t"
done

# --- run ---------------------------------------------------------------------
declare -A want
n=${#targets[@]}
for i in "${!targets[@]}"; do
	t=${targets[$i]}
	want[$t]=$((RUNS / n + (i < RUNS % n ? 1 : 0)))
done

parallel=${FUZZ_PARALLEL:-1}
[ "$(nproc 2>/dev/null || echo 1)" -ge 2 ] || parallel=0

# libFuzzer writes new inputs only into the first corpus directory (the
# scratch copy); the checked-in seed directory is read from only.
run_target() {
	local t=$1
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		exec "fuzz/fuzz_$t" -runs="${want[$t]}" -max_len="${maxlen[$t]}" -timeout=10 \
		-print_final_stats=1 -artifact_prefix=fuzz/ \
		"$scratch/$t-corpus" "${seeds[$t]}" >"$scratch/$t.log" 2>&1
}

# the latest "#<runs>" status line of a target's log
progress() {
	grep -a -o '^#[0-9][0-9]*' "$scratch/$1.log" 2>/dev/null | tail -n 1 | tr -d '#'
}

declare -A rc start_t end_t
total_start=$(date +%s)
if [ "$parallel" = 1 ]; then
	echo "fuzzing ${targets[*]} in parallel: $RUNS runs in total"
else
	echo "fuzzing ${targets[*]} one after the other: $RUNS runs in total"
fi
for t in "${targets[@]}"; do
	echo "  $t: ${want[$t]} runs, seeds from ${seeds[$t]} ($(ls "${seeds[$t]}" | wc -l) files), -max_len=${maxlen[$t]}"
done

declare -A pid_of
for t in "${targets[@]}"; do
	mkdir "$scratch/$t-corpus"
	cp "${seeds[$t]}"/* "$scratch/$t-corpus/"
	start_t[$t]=$(date +%s)
	# in a subshell, which the fuzzer replaces (exec)
	set +e
	if [ "$parallel" = 1 ]; then
		(run_target "$t") &
		pids+=($!)
		pid_of[$t]=$!
	else
		(run_target "$t")
		rc[$t]=$?
		end_t[$t]=$(date +%s)
	fi
	set -e
done
if [ "$parallel" = 1 ]; then
	# report progress every 60 s until all targets are done
	remaining=$n
	ticks=0
	while [ "$remaining" -gt 0 ]; do
		remaining=0
		for t in "${targets[@]}"; do
			if [ -z "${rc[$t]+x}" ]; then
				if kill -0 "${pid_of[$t]}" 2>/dev/null; then
					remaining=$((remaining + 1))
				else
					set +e
					wait "${pid_of[$t]}"
					rc[$t]=$?
					set -e
					end_t[$t]=$(date +%s)
				fi
			fi
		done
		[ "$remaining" -gt 0 ] || break
		sleep 2
		ticks=$((ticks + 1))
		if [ $((ticks % 30)) -eq 0 ]; then
			line="  $(($(date +%s) - total_start))s:"
			for t in "${targets[@]}"; do
				line+=" $t $(progress "$t")/${want[$t]}"
			done
			echo "$line"
		fi
	done
	pids=()
fi
total_elapsed=$(($(date +%s) - total_start))

# --- report ------------------------------------------------------------------
total_runs=0
failed=()
for t in "${targets[@]}"; do
	log=$scratch/$t.log
	done_runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	[ -n "$done_runs" ] || done_runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)
	[ -n "$done_runs" ] || done_runs=$(progress "$t")
	done_runs=${done_runs:-0}
	speed=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	new_units=$(ls "$scratch/$t-corpus" | wc -l)
	artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	elapsed=$((${end_t[$t]} - ${start_t[$t]}))
	total_runs=$((total_runs + done_runs))
	if [ "${rc[$t]}" -eq 0 ] && [ "$done_runs" -ge "${want[$t]}" ]; then
		echo "fuzz $t: OK - $done_runs runs in ${elapsed}s (${speed:-?}/s), corpus $new_units inputs (not kept)"
	else
		failed+=("$t")
		echo "---- fuzz/fuzz_$t output (last 80 lines) ----"
		tail -n 80 "$log"
		echo "----"
		echo "fuzz $t: FAILED - exit ${rc[$t]} after $done_runs of ${want[$t]} runs in ${elapsed}s${artifact:+, input saved to $artifact (reproduce: fuzz/fuzz_$t $artifact)}"
	fi
done

if [ ${#failed[@]} -eq 0 ]; then
	echo "fuzz: OK - $total_runs runs in total (${targets[*]}) in ${total_elapsed}s, no crash"
	exit 0
fi
echo "fuzz: FAILED - ${failed[*]} failed; $total_runs of $RUNS runs in ${total_elapsed}s"
exit 1
