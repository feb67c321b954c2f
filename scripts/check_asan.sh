#!/usr/bin/env bash
# make check-asan: the extension built with AddressSanitizer and
# UndefinedBehaviorSanitizer, every suite (pg_regress, isolation, pgTAP, shell
# tests) run against it in a server started with the sanitizer runtime
# preloaded.  Passes when every test passes and no sanitizer reported
# anything; prints "N passed, N failed, N sanitizer reports" last.
#
# The system's PostgreSQL installation is not touched: its bin, lib and share
# directories are copied into a scratch root (PostgreSQL finds its share and
# lib directories relative to its binaries), the sanitized build is installed
# there with DESTDIR, and a cluster of that copy is started on a private
# socket.  The copy's bin/postgres becomes a wrapper that execs the real
# (Debian, uninstrumented) server binary with the sanitizer runtime preloaded,
# so every server started from the copy runs sanitized: this cluster and the
# ones the shell tests start themselves (test/shell/faults.sh, via
# PG_BINDIR).  Needs root (the server runs as the postgres user), gcc's
# libasan and libubsan (libgcc-12-dev, present with gcc).
#
# A shim is preloaded with the runtime (asan_init_shim.so, built here), for
# two reasons:
#   * Preloaded into a program that is not linked with it, the ASan runtime
#     initialises itself lazily, on the first call it intercepts.  Libraries
#     Debian's postgres links (libgpg-error, gnutls) call bindtextdomain()
#     from their constructors, which run before the runtime's own; glibc's
#     bindtextdomain() calls malloc() holding its gettext lock as a writer,
#     the runtime initialises inside that malloc(), and its initialisation
#     calls dlsym() and dlerror(), whose message goes through dcgettext(),
#     which takes the same lock as a reader: EDEADLK, ignored, two unlocks,
#     a corrupt lock, and the next bindtextdomain() (postgres's own, in
#     main()) waits forever.  The shim's bindtextdomain() and
#     bind_textdomain_codeset() call malloc() first, so the runtime
#     initialises outside the lock, then call glibc's.
#   * gcc's UBSan runtime (libubsan) initialises lazily too, at its first
#     report, in a backend; it reads its options from /proc/self/environ,
#     which a backend has overwritten with its ps title by then, so
#     UBSAN_OPTIONS is lost and reports went to stderr.  The shim defines
#     __ubsan_default_options() (read at that initialisation) and, from its
#     constructor in the postmaster, points libubsan's own report file at
#     $root/san/ubsan (libubsan's initialisation sets the report path through
#     the __sanitizer_set_report_path() that libasan, first in the lookup
#     order, interposes: UBSan's log_path is therefore ASan's).
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh || exit 1

root=$(mktemp -d "${TMPDIR:-/tmp}/privacy_tags_asan.XXXXXX")
chmod 755 "$root"
port=${ASAN_PORT:-54329}
bindir=$(pg_config --bindir)
sharedir=$(pg_config --sharedir)
pkglibdir=$(pg_config --pkglibdir)
pgroot=$(dirname "$bindir")	# /usr/lib/postgresql/15: bin and lib
libasan=$(gcc -print-file-name=libasan.so)
libubsan=$(gcc -print-file-name=libubsan.so)

stop() {
	if [ -f "$root/data/postmaster.pid" ]; then
		runuser -u postgres -- "$root$bindir/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null 2>&1
	fi
}
trap 'stop; [ -n "${KEEP_ASAN_ROOT:-}" ] || rm -rf "$root"' EXIT
broken() {	# broken <message>: the setup failed; no test ran
	echo "check-asan: $1" >&2
	echo "0 passed, 1 failed, 0 sanitizer reports"
	exit 1
}

# --- a private copy of the installation ---------------------------------------
mkdir -p "$root$(dirname "$pgroot")" "$root$(dirname "$sharedir")"
cp -a "$pgroot" "$root$pgroot"
cp -a "$sharedir" "$root$sharedir"
[ -d "$root$pkglibdir" ] || broken "$pkglibdir is not under $pgroot"

# --- the sanitized build, in a copy of the tree (the normal build is kept) -------
echo "== building with -fsanitize=address,undefined"
mkdir "$root/tree"
git ls-files -z | xargs -0 cp --parents -t "$root/tree"
# Every UBSan check gcc has, alignment included.  Signed overflow is not one
# here: PostgreSQL's CFLAGS (pg_config) have -fwrapv, which defines it.
san="-fsanitize=address,undefined -fno-omit-frame-pointer -g"
if ! make -s -C "$root/tree" COPT="$san" >"$root/build.log" 2>&1 ||
	! make -s -C "$root/tree" COPT="$san" install DESTDIR="$root" >>"$root/build.log" 2>&1; then
	cat "$root/build.log"
	broken "the sanitized build failed"
fi
if ! readelf -d "$root$pkglibdir/privacy_tags.so" | grep -q 'libasan' ||
	! readelf -d "$root$pkglibdir/privacy_tags.so" | grep -q 'libubsan'; then
	broken "the installed privacy_tags.so is not instrumented"
fi

# --- the sanitizer runtime, preloaded into every server of the copy ---------------
mkdir "$root/san"
chown postgres "$root/san"
# Leak checking is off: PostgreSQL frees by dropping memory contexts and at
# exit, which LeakSanitizer reports as leaks.  allocator_may_return_null: a
# failed malloc() returns NULL as with glibc (PostgreSQL reports "out of
# memory") instead of aborting.  abort_on_error: a backend with an ASan error
# dies at once (the postmaster restarts the cluster, tests fail too).
# detect_stack_use_after_return stays off (gcc 12's default, said outright):
# its fake stacks and the siglongjmp() out of every ERROR mix badly.  UBSan
# goes on after a report (halt_on_error=0, its default): every report is
# counted.  Reports go to $root/san/, one file per process and runtime:
# asan.PID, ubsan.PID.
asan_options="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:detect_stack_use_after_return=0:log_path=$root/san/asan"
ubsan_options="print_stacktrace=1:report_error_type=1:log_path=$root/san/asan"
cat >"$root/asan_init_shim.c" <<'EOF'
/* Preloaded after libasan into the server: see scripts/check_asan.sh. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

const char *__ubsan_default_options(void);

/* Initialise the ASan runtime, if it is not yet, outside any glibc lock. */
static void
asan_init_now(void)
{
	void	   *volatile p = malloc(1);

	free(p);
}

char *
bindtextdomain(const char *domain, const char *dir)
{
	static char *(*real) (const char *, const char *);

	asan_init_now();
	if (real == NULL)
		real = (char *(*) (const char *, const char *)) dlsym(RTLD_NEXT, "bindtextdomain");
	return real(domain, dir);
}

char *
bind_textdomain_codeset(const char *domain, const char *codeset)
{
	static char *(*real) (const char *, const char *);

	asan_init_now();
	if (real == NULL)
		real = (char *(*) (const char *, const char *)) dlsym(RTLD_NEXT, "bind_textdomain_codeset");
	return real(domain, codeset);
}

/* libubsan's options, whatever a backend has done to its environment. */
const char *
__ubsan_default_options(void)
{
	return UBSAN_DEFAULT_OPTIONS;
}

/* libubsan's own report file (its exported setter, not libasan's). */
__attribute__((constructor))
static void
ubsan_report_path(void)
{
	void	   *ubsan = dlopen(UBSAN_LIBRARY, RTLD_NOW | RTLD_NOLOAD);
	void		(*set_path) (const char *);

	if (ubsan == NULL)
		abort();
	set_path = (void (*) (const char *)) dlsym(ubsan, "__sanitizer_set_report_path");
	if (set_path == NULL)
		abort();
	set_path(UBSAN_REPORT_PATH);
}
EOF
gcc -O1 -fno-builtin -Wall -Werror -shared -fPIC -o "$root/asan_init_shim.so" "$root/asan_init_shim.c" -ldl \
	-DUBSAN_DEFAULT_OPTIONS="\"$ubsan_options\"" -DUBSAN_LIBRARY="\"$libubsan\"" \
	-DUBSAN_REPORT_PATH="\"$root/san/ubsan\"" || broken "the shim does not build"
mv "$root$bindir/postgres" "$root$bindir/postgres.real"
cat >"$root$bindir/postgres" <<EOF
#!/bin/bash
# check-asan: the real server binary, with the sanitizer runtimes preloaded
unset UBSAN_OPTIONS	# the shim's __ubsan_default_options() has them
LD_PRELOAD="$libasan $root/asan_init_shim.so $libubsan" ASAN_OPTIONS="$asan_options" exec -a "\$0" "$root$bindir/postgres.real" "\$@"
EOF
chmod 755 "$root$bindir/postgres"
if ! "$root$bindir/postgres" -V >"$root/version" 2>&1 || ! grep -q "PostgreSQL) 15" "$root/version"; then
	cat "$root/version"
	broken "the sanitized server does not start"
fi

# --- a cluster of the copy ----------------------------------------------------------------
mkdir -m 700 "$root/data"
mkdir "$root/sock" "$root/log"
chown postgres "$root/data" "$root/sock" "$root/log"
runuser -u postgres -- "$root$bindir/initdb" -D "$root/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
	--no-sync >"$root/initdb.log" 2>&1 || { cat "$root/initdb.log"; broken "initdb failed"; }
cat >>"$root/data/postgresql.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$root/sock'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'privacy_tags_regress'
max_worker_processes = 16
fsync = off
EOF
if ! runuser -u postgres -- "$root$bindir/pg_ctl" -D "$root/data" -l "$root/log/server.log" -w -t 120 start >/dev/null; then
	cat "$root/log/server.log"
	broken "the server did not start"
fi
maps=/proc/$(head -n 1 "$root/data/postmaster.pid")/maps
if ! grep -q 'libasan' "$maps" || ! grep -q 'libubsan' "$maps" || ! grep -q asan_init_shim "$maps"; then
	broken "the server runs without the sanitizer runtime"
fi

# --- every suite ------------------------------------------------------------------------
export PGHOST="$root/sock" PGPORT=$port PGUSER=postgres PGDATABASE=postgres
export PG_BINDIR="$root$bindir"	# test/shell/faults.sh starts its own clusters from these
export SUMMARY_FILE="$root/summary"
(cd "$root/tree" && ./scripts/run_tests.sh)
rc=$?
if [ -f "$root/tree/regression.diffs" ]; then
	cp "$root/tree/regression.diffs" "${TMPDIR:-/tmp}/check_asan.regression.diffs"
	echo "(regression.diffs kept in ${TMPDIR:-/tmp}/check_asan.regression.diffs)"
fi

stop
# A report is an ASan (or other sanitizer) ERROR line or a UBSan "runtime
# error"; the server log is searched too, for anything written to stderr.
pattern='==[0-9]+==ERROR: |runtime error: '
reports=$(cat "$root"/san/* 2>/dev/null | grep -cE "$pattern" || true)
if [ "$reports" -gt 0 ]; then
	echo "== sanitizer reports"
	cat "$root"/san/*
fi
logged=$(grep -cE "$pattern" "$root/log/server.log" || true)
if [ "$logged" -gt 0 ]; then
	echo "== sanitizer output in the server log"
	grep -E -A30 "$pattern" "$root/log/server.log" | head -200
	reports=$((reports + logged))
fi
summary=$(tail -n 1 "$SUMMARY_FILE" 2>/dev/null)
[ -n "$summary" ] || { summary="0 passed, 1 failed"; rc=1; }
echo "$summary, $reports sanitizer reports"
[ "$rc" -eq 0 ] && [ "$reports" -eq 0 ]
