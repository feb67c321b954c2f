#!/usr/bin/env bash
# make test-versions: `make test` on each PostgreSQL major version that one
# of Debian's suites ships, each in a chroot of that suite made with
# debootstrap from Debian's archive and kept for the next run.
#
#   scripts/test_versions.sh [VERSION...]	(default: 13 15 17 18)
#
# For each version: build the chroot the first time (debootstrap, then that
# suite's postgresql-NN, postgresql-server-dev-NN, postgresql-NN-pgtap,
# postgresql-NN-cron and what make test needs; for 13, whose server-dev
# package lacks it, pg_isolation_regress built from Debian's source package
# of that postgresql-13), copy the working tree in
# (the files git knows or would add: no build output), mount /proc and
# /dev/shm, run `make test PG_CONFIG=/usr/lib/postgresql/NN/bin/pg_config`
# there and unmount again.  Prints one line per version and, last, the sum
# "N passed, N failed" over all of them; exits non-zero when any failed.
#
# The JSON Schema test (test/shell/json_schema.sh) is skipped in the
# chroots: it installs ajv from the npm registry, which a chroot may not
# reach; it is the same on every version and runs with `make test` on the
# host.
#
# Environment:
#   CHROOT_CACHE	where the chroots live (/var/cache/privacy_tags/chroots)
#   TEST_VERSIONS_LOGS	where each version's output is kept until the next
#			run (/var/cache/privacy_tags/logs)
#   DEBIAN_MIRROR	the archive (http://deb.debian.org/debian)
#   SECURITY_MIRROR	its security updates (http://deb.debian.org/debian-security)
#   CHROOT_UPGRADE=1	apt-get dist-upgrade each chroot before its run (sid
#			changes daily; the chroots are otherwise kept as built)
#   VERBOSE=1		print each version's whole output, not only on failure
# Needs root (debootstrap, chroot, mount).  Runs one version at a time.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

CACHE=${CHROOT_CACHE:-/var/cache/privacy_tags/chroots}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ $# -gt 0 ]; then versions=("$@"); else versions=(13 15 17 18); fi
# (make passes VERSIONS="13 15" as one argument)
read -r -a versions <<<"${versions[*]}"

die() { echo "test-versions: $*" >&2; exit 1; }

# The Debian suite that ships each major version of PostgreSQL as
# postgresql-NN (with -server-dev, -pgtap and -cron beside it).
suite_of() {
	case $1 in
	13) echo bullseye ;;	# Debian 11
	15) echo bookworm ;;	# Debian 12
	17) echo trixie ;;		# Debian 13
	18) echo sid ;;			# Debian unstable
	*) return 1 ;;
	esac
}

for v in "${versions[@]}"; do
	if ! suite_of "$v" >/dev/null; then
		case $v in
		14 | 16) die "PostgreSQL $v: no Debian suite ships postgresql-$v (Debian 11 has 13, 12 has 15, 13 has 17, unstable 18); choose from 13 15 17 18" ;;
		*) die "PostgreSQL '$v': not a version this script tests; choose from 13 15 17 18" ;;
		esac
	fi
done

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mount); run it as root"
command -v git >/dev/null && git -C "$src" rev-parse --git-dir >/dev/null 2>&1 ||
	die "$src is not a git work tree (the files to copy into the chroots are the ones git knows)"
if ! command -v debootstrap >/dev/null; then
	command -v apt-get >/dev/null || die "debootstrap is missing and there is no apt-get to install it"
	echo "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } ||
		die "could not install debootstrap (apt-get install debootstrap)"
fi

LOGS=${TEST_VERSIONS_LOGS:-$(dirname "$CACHE")/logs}
mkdir -p "$CACHE" "$LOGS" || die "cannot create $CACHE or $LOGS"
exec 9>"$CACHE/.lock"
flock -w 3600 9 || die "another test-versions holds $CACHE/.lock"

mounted=()	# mount points to undo, in order
child=		# the process group of the command running in a chroot
unmount_all() {
	local i m
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		m=${mounted[i]}
		mountpoint -q "$m" && { umount "$m" 2>/dev/null || umount -l "$m"; }
	done
	mounted=()
}
cleanup() {
	if [ -n "$child" ]; then	# interrupted: end make test and its cluster first
		kill -TERM -- "-$child" 2>/dev/null
		sleep 2
		kill -KILL -- "-$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	unmount_all
}
trap cleanup EXIT
trap 'echo "test-versions: interrupted" >&2; exit 130' INT TERM HUP

unmount_stale() {	# unmount_stale <dir>: mounts a killed run left behind
	local m
	for m in "$1/dev/shm" "$1/proc"; do
		mountpoint -q "$m" 2>/dev/null && { umount "$m" 2>/dev/null || umount -l "$m"; }
	done
	return 0
}

mount_chroot() {	# mount_chroot <dir>: /proc and /dev/shm (POSIX shared memory)
	local d=$1
	unmount_stale "$d"
	mount -t proc proc "$d/proc" || return 1
	mounted+=("$d/proc")
	mkdir -p "$d/dev/shm"
	mount -t tmpfs -o mode=1777,nosuid,nodev shm "$d/dev/shm" || return 1
	mounted+=("$d/dev/shm")
	cp /etc/resolv.conf "$d/etc/resolv.conf" 2>/dev/null || true
	[ -s "$d/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' >"$d/etc/hosts"
}

in_chroot() {	# in_chroot <dir> <command...>: a clean environment
	local d=$1
	shift
	chroot "$d" /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
		"$@"
}

packages_for() {	# what make test needs (scripts/deps.sh installs the same)
	echo "postgresql-$1 postgresql-server-dev-$1 postgresql-$1-pgtap postgresql-$1-cron" \
		"libtap-parser-sourcehandler-pgtap-perl make gcc libc6-dev iproute2"
}

apt_in_chroot() {	# apt_in_chroot <version> <dir>: the packages of packages_for
	# shellcheck disable=SC2046
	in_chroot "$2" apt-get update -qq &&
		{ [ "${CHROOT_UPGRADE:-}" != 1 ] || in_chroot "$2" apt-get dist-upgrade -y -qq; } &&
		in_chroot "$2" apt-get install -y -qq --no-install-recommends $(packages_for "$1")
}

# Debian 11's postgresql-server-dev-13 lacks pg_isolation_regress (14 on
# ship it): build it and isolationtester from Debian's source package of
# the installed postgresql-13 and put them where PGXS looks for them.
isolation_tools() {	# isolation_tools <version> <dir>
	local v=$1 d=$2 pgxs
	pgxs=/usr/lib/postgresql/$v/lib/pgxs/src/test/isolation
	[ -x "$d$pgxs/pg_isolation_regress" ] && return 0
	grep -q '^deb-src' "$d/etc/apt/sources.list" ||
		sed -n 's/^deb /deb-src /p' "$d/etc/apt/sources.list" >>"$d/etc/apt/sources.list"
	in_chroot "$d" apt-get update -qq &&
		in_chroot "$d" apt-get install -y -qq --no-install-recommends dpkg-dev bzip2 xz-utils &&
		in_chroot "$d" bash -euc "
			rm -rf /tmp/pgsrc && mkdir /tmp/pgsrc && cd /tmp/pgsrc
			apt-get source -qq postgresql-$v=\$(dpkg-query -W -f='\${Version}' postgresql-$v)
			cd postgresql-$v-*/
			./configure --quiet --without-readline --without-zlib --without-icu --without-llvm --without-openssl
			make -s -j2 -C src/test/isolation all
			install -d $pgxs
			install -m 755 src/test/isolation/pg_isolation_regress src/test/isolation/isolationtester $pgxs/
			cd / && rm -rf /tmp/pgsrc"
}

# ensure_chroot <version> <suite> <dir> <log>: build what is not there yet
ensure_chroot() {
	local v=$1 suite=$2 d=$3 log=$4 want
	want="$suite: $(packages_for "$v")"
	[ "$v" = 13 ] && want="$want + pg_isolation_regress"
	if [ -f "$d/.privacy_tags-ready" ] && [ "$(cat "$d/.privacy_tags-ready")" = "$want" ]; then
		[ "${CHROOT_UPGRADE:-}" = 1 ] || return 0
	fi
	if [ ! -f "$d/.privacy_tags-debootstrap" ]; then
		echo "PostgreSQL $v: building the $suite chroot in $d (debootstrap from $MIRROR)"
		rm -rf --one-file-system "$d.new"
		if ! debootstrap --variant=minbase "$suite" "$d.new" "$MIRROR" >"$log" 2>&1; then
			tail -n 30 "$log" >&2
			echo "PostgreSQL $v: debootstrap $suite failed (log above)" >&2
			return 1
		fi
		touch "$d.new/.privacy_tags-debootstrap"
		unmount_stale "$d"
		rm -rf --one-file-system "$d"
		mv "$d.new" "$d"
	fi
	if [ "$suite" != sid ]; then	# a stable suite: with its point and security updates
		{
			echo "deb $MIRROR $suite main"
			echo "deb $MIRROR $suite-updates main"
			echo "deb ${SECURITY_MIRROR:-http://deb.debian.org/debian-security} $suite-security main"
		} >"$d/etc/apt/sources.list"
	fi
	# A mirror or a snapshot of the archive may lag the clock: apt would
	# refuse its Release files as expired (sid's are valid for a week).
	echo 'Acquire::Check-Valid-Until "false";' >"$d/etc/apt/apt.conf.d/99privacy-tags"
	echo "PostgreSQL $v: installing $(packages_for "$v") in the $suite chroot"
	# no service starts inside the chroot (the tests run their own clusters)
	printf '#!/bin/sh\nexit 101\n' >"$d/usr/sbin/policy-rc.d"
	chmod 755 "$d/usr/sbin/policy-rc.d"
	mount_chroot "$d" || { echo "PostgreSQL $v: cannot mount /proc or /dev/shm in $d" >&2; return 1; }
	if ! apt_in_chroot "$v" "$d" >>"$log" 2>&1; then
		if [ "$suite" = sid ] || ! grep -q -- "-security" "$d/etc/apt/sources.list"; then
			unmount_all
			tail -n 30 "$log" >&2
			echo "PostgreSQL $v: apt-get in the $suite chroot failed (log above)" >&2
			return 1
		fi
		# the security archive (or the mirror of it) may lack a file its
		# index names: then the suite and its point updates alone
		echo "PostgreSQL $v: apt-get failed with $suite-security; trying without it" >&2
		grep -E '^E:' "$log" | tail -n 3 >&2
		sed -i '/-security/d' "$d/etc/apt/sources.list"
		if ! apt_in_chroot "$v" "$d" >>"$log" 2>&1; then
			unmount_all
			tail -n 30 "$log" >&2
			echo "PostgreSQL $v: apt-get in the $suite chroot failed (log above)" >&2
			return 1
		fi
	fi
	if [ "$v" = 13 ]; then
		echo "PostgreSQL $v: building pg_isolation_regress from Debian's source of postgresql-$v"
		if ! isolation_tools "$v" "$d" >>"$log" 2>&1; then
			unmount_all
			tail -n 30 "$log" >&2
			echo "PostgreSQL $v: could not build pg_isolation_regress in the $suite chroot (log above)" >&2
			return 1
		fi
	fi
	in_chroot "$d" apt-get clean >/dev/null 2>&1
	unmount_all
	echo "$want" >"$d/.privacy_tags-ready"
}

# copy_tree <dir>: the working tree (tracked and untracked-but-not-ignored
# files, as they are now) into <dir>/build/privacy_tags
copy_tree() {
	local dest=$1/build/privacy_tags
	rm -rf --one-file-system "$dest"
	mkdir -p "$dest"
	chmod 755 "$1/build"
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -xf - -C "$dest"
}

skip_note="test/shell/json_schema.sh skipped in the chroot (it needs the npm registry; it runs with make test on the host)"
total_passed=0
total_failed=0
lines=()
overall_start=$(date +%s)
for v in "${versions[@]}"; do
	suite=$(suite_of "$v")
	d=$CACHE/$suite
	log=$LOGS/$v.log	# kept until the next run
	start=$(date +%s)
	if ! ensure_chroot "$v" "$suite" "$d" "$log"; then
		lines+=("PostgreSQL $v ($suite): 0 passed, 1 failed (the chroot could not be built; see above)")
		total_failed=$((total_failed + 1))
		continue
	fi
	built=$(($(date +%s) - start))
	echo "PostgreSQL $v: make test in the $suite chroot"
	copy_tree "$d"
	if ! mount_chroot "$d"; then
		unmount_all
		lines+=("PostgreSQL $v ($suite): 0 passed, 1 failed (cannot mount /proc or /dev/shm in $d)")
		total_failed=$((total_failed + 1))
		continue
	fi
	t0=$(date +%s)
	# in a process group of its own, which an interrupt ends whole
	setsid bash -c "$(declare -f in_chroot); in_chroot \"\$@\"" in_chroot "$d" \
		PT_SKIP_JSON_SCHEMA="$skip_note" \
		bash -c "cd /build/privacy_tags && make test PG_CONFIG=/usr/lib/postgresql/$v/bin/pg_config" \
		>"$log" 2>&1 </dev/null &
	child=$!
	wait "$child"
	rc=$?
	child=
	unmount_all
	took=$(($(date +%s) - t0))
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	release=$(in_chroot "$d" "/usr/lib/postgresql/$v/bin/pg_config" --version 2>/dev/null | sed -E 's/^PostgreSQL ([^ ]+).*/\1/')
	if [ -z "$summary" ]; then
		summary="0 passed, 1 failed"
		rc=1
	fi
	p=${summary%% passed*}
	f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$summary")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then	# it failed without counting a failure
		f=1
		summary="$p passed, $f failed"
		note="; make test exited $rc"
	else
		note=""
	fi
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	if [ $rc -ne 0 ] || [ "${VERBOSE:-}" = 1 ]; then
		echo "---- output of make test on PostgreSQL $v ($suite)"
		cat "$log"
		echo "---- end of PostgreSQL $v"
	fi
	grep -q 'json_schema.sh.*skipped' "$log" && note="$note; json_schema.sh skipped: runs on the host"
	grep -q 'isolation tests skipped' "$log" && note="$note; isolation tests skipped: no pg_isolation_regress in postgresql-server-dev-$v"
	setup=""
	[ "$built" -gt 5 ] && setup=", chroot set up in ${built} s"
	[ $rc -ne 0 ] && note="$note; output in $log"
	lines+=("PostgreSQL $v ($suite): $summary (server $release, make test ${took} s$setup$note)")
done

echo "== test-versions ($(($(date +%s) - overall_start)) s, chroots in $CACHE)"
printf '%s\n' "${lines[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
