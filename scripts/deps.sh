#!/usr/bin/env bash
# Install the Debian packages privacy_tags needs to build, test and demo.
# Does nothing when everything is there; needs root (apt-get) otherwise.
set -euo pipefail

# PGVER: the major version of PostgreSQL (make derives it from PG_CONFIG);
# by default the one this Debian release ships.
if [ -z "${PGVER:-}" ]; then
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	case $codename in
	bullseye) PGVER=13 ;;
	bookworm) PGVER=15 ;;
	trixie) PGVER=17 ;;
	sid | forky) PGVER=18 ;;
	*) PGVER=15 ;;
	esac
fi
packages=(
	"postgresql-$PGVER"
	"postgresql-server-dev-$PGVER"
	"postgresql-$PGVER-pgtap"
	"postgresql-$PGVER-cron"
	libtap-parser-sourcehandler-pgtap-perl
	make
	gcc
	graphviz
)
missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages: ${missing[*]}" >&2
	echo "run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
	echo "deps: could not install ${missing[*]}" >&2
	echo "deps: PGVER=$PGVER: does this system's package archive have postgresql-$PGVER? (make test PGVER=NN or PG_CONFIG=/usr/lib/postgresql/NN/bin/pg_config chooses another installed version)" >&2
	exit 1
fi
