#!/usr/bin/env bash
# Install the Debian packages privacy_tags needs to build, test and demo.
# Does nothing when everything is there; needs root (apt-get) otherwise.
set -euo pipefail

PGVER=${PGVER:-15}
packages=(
	"postgresql-$PGVER"
	"postgresql-server-dev-$PGVER"
	"postgresql-$PGVER-pgtap"
	"postgresql-$PGVER-cron"
	libtap-parser-sourcehandler-pgtap-perl
	make
	gcc
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
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
