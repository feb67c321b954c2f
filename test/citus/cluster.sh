# test/citus/cluster.sh: a throwaway Citus cluster (a coordinator and two
# workers on loopback ports, in a temporary directory) for test/citus/run.sh
# and bench/citus_purge.sh.  Sourced, not run.  Uses the PostgreSQL that
# PG_CONFIG names (default: pg_config on PATH), which must have citus and
# pg_cron installed, and privacy_tags installed (make install).
#
#   CITUS_PORT     first of the three ports (default 54391)
#   CITUS_DB       database (default privacy_tags_citus)
#   CITUS_KEEP=1   leave the cluster running at exit (prints how to stop it)

PG_CONFIG=${PG_CONFIG:-pg_config}
CITUS_PORT=${CITUS_PORT:-54391}
CITUS_DB=${CITUS_DB:-privacy_tags_citus}
CITUS_BIN=$("$PG_CONFIG" --bindir 2>/dev/null)
CITUS_LIB=$("$PG_CONFIG" --pkglibdir 2>/dev/null)
CITUS_SHARE=$("$PG_CONFIG" --sharedir 2>/dev/null)

# Why the cluster cannot be started here, or nothing when it can.
citus_missing() {
    if [ -z "$CITUS_BIN" ]; then echo "no PostgreSQL found (pg_config: $PG_CONFIG)"; return; fi
    [ -f "$CITUS_LIB/citus.so" ] && [ -f "$CITUS_SHARE/extension/citus.control" ] ||
        { echo "the citus extension is not installed in $CITUS_LIB"; return; }
    [ -f "$CITUS_LIB/pg_cron.so" ] || { echo "pg_cron is not installed in $CITUS_LIB"; return; }
    [ -f "$CITUS_LIB/privacy_tags.so" ] && [ -f "$CITUS_SHARE/extension/privacy_tags.control" ] ||
        { echo "privacy_tags is not installed in $CITUS_LIB (make install)"; return; }
}

# Run a command as the cluster's owner (postgres when we are root).
citus_as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# psql against node n (0: coordinator, 1 and 2: workers), unaligned, quiet.
cpsql() {
    local n=$1; shift
    "$CITUS_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$CITUS_DIR" -p $((CITUS_PORT + n)) \
        -U postgres -d "$CITUS_DB" "$@"
}

citus_stop() {
    [ -n "$CITUS_DIR" ] || return 0
    for n in 0 1 2; do
        [ -f "$CITUS_DIR/node$n/postmaster.pid" ] &&
            citus_as_owner "$CITUS_BIN/pg_ctl" -D "$CITUS_DIR/node$n" -m immediate -w stop >/dev/null 2>&1
    done
    rm -rf "$CITUS_DIR"
    CITUS_DIR=
}

# Start the three nodes, make the database with citus, pg_cron and
# privacy_tags, and add the workers.  Prints progress to stderr.
citus_start() {
    CITUS_DIR=$(mktemp -d /tmp/privacy_tags_citus.XXXXXX)
    chmod 755 "$CITUS_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$CITUS_DIR"
    for n in 0 1 2; do
        citus_as_owner "$CITUS_BIN/initdb" -D "$CITUS_DIR/node$n" -U postgres -A trust >/dev/null || return 1
        cat >> "$CITUS_DIR/node$n/postgresql.conf" <<CONF
port = $((CITUS_PORT + n))
listen_addresses = '127.0.0.1'
unix_socket_directories = '$CITUS_DIR'
shared_preload_libraries = 'citus,pg_cron'
cron.database_name = '$CITUS_DB'
cron.use_background_workers = on
max_worker_processes = 32
max_connections = 100
max_prepared_transactions = 100
wal_level = logical
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
citus.shard_count = 32
log_min_messages = warning
CONF
        citus_as_owner "$CITUS_BIN/pg_ctl" -D "$CITUS_DIR/node$n" -l "$CITUS_DIR/node$n.log" -w start >/dev/null || return 1
        "$CITUS_BIN/psql" -X -q -h "$CITUS_DIR" -p $((CITUS_PORT + n)) -U postgres -d postgres \
            -c "CREATE DATABASE $CITUS_DB" || return 1
        cpsql $n -c "CREATE EXTENSION citus" || return 1
    done
    cpsql 0 -c "SELECT citus_set_coordinator_host('127.0.0.1', $CITUS_PORT)" >/dev/null || return 1
    for n in 1 2; do
        cpsql 0 -c "SELECT citus_add_node('127.0.0.1', $((CITUS_PORT + n)))" >/dev/null || return 1
    done
    # propagated to the workers by Citus
    cpsql 0 -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION privacy_tags" \
        -c "ALTER DATABASE $CITUS_DB SET session_preload_libraries = 'privacy_tags'" || return 1
}
