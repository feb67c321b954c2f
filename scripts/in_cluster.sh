#!/usr/bin/env bash
# Run a command in a throwaway PostgreSQL cluster (pg_virtualenv), with
# pg_cron preloaded as the extension's scheduling tests need.
set -euo pipefail
# the cluster's major version: PGVER, else that of PG_CONFIG (as make sets them)
PGVER=${PGVER:-$("${PG_CONFIG:-pg_config}" --version 2>/dev/null | sed -nE 's/^PostgreSQL ([0-9]+).*/\1/p')}
PGVER=${PGVER:-15}
exec pg_virtualenv -t -v "$PGVER" \
	-o "shared_preload_libraries=pg_cron" \
	-o "cron.database_name=${CRON_DB:-privacy_tags_regress}" \
	-o "max_worker_processes=16" \
	"$@"
