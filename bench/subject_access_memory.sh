#!/usr/bin/env bash
# subject_access_memory: the peak memory of the backend that builds the
# access document of a subject with BENCH_ROWS rows, next to the size of the
# document, and next to the same data built by a hand-written jsonb_agg()
# query.  The peak is the backend's VmHWM (from /proc: the benchmark runs on
# the server's machine), less its resident size before the call, each in a
# fresh session.  Also where the memory goes: the backend's memory contexts
# at their largest (pg_backend_memory_contexts inside the call cannot be
# read, so the top contexts are logged after it, and the jsonb_agg() state is
# measured on its own).
# Run through bench/run.sh (see there); prints its BENCHMARKS.md section.
#
#   BENCH_ROWS    the subject's rows (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${BENCH_ROWS:-200000}
goal=3
db=privacy_tags_bench_memory
export PGDATABASE=$db
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "subject_access_memory: set-up, one subject with $rows rows" >&2
q -v rows="$rows" <<'SQL' >/dev/null
CREATE EXTENSION privacy_tags;
CREATE TABLE events (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, email text, page text, at timestamptz);
INSERT INTO events (customer_id, email, page, at)
SELECT CASE WHEN g <= :rows THEN 42 ELSE g END, 'user' || g || '@example.com', '/page/' || (g % 1000), now()
  FROM generate_series(1, :rows + 10000) g;
CREATE INDEX ON events (customer_id);
SELECT privacy_tags.set_subject('events', 'customer_id', 'customer');
SELECT privacy_tags.tag('events', 'email', 'contact.email; basis=contract');
SELECT privacy_tags.tag('events', 'page', 'network.browsing_history; basis=legitimate_interests; retain=1 year after at');
VACUUM ANALYZE events;
SQL

# peak <sql>: "<result> <peak kB above the session's start>", in a fresh session
peak() {
	local pid before after out
	coproc P { psql -X -q -At -v ON_ERROR_STOP=1; }
	echo "SELECT pg_backend_pid();" >&"${P[1]}"
	read -r pid <&"${P[0]}"
	echo "SELECT 1;" >&"${P[1]}"
	read -r _ <&"${P[0]}"
	before=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	echo "$1" >&"${P[1]}"
	read -r out <&"${P[0]}"
	after=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
	echo '\q' >&"${P[1]}"
	wait "$P_PID" 2>/dev/null || true
	echo "$out $(( after - before ))"
}
read -r doc_bytes ext_kb < <(peak "SELECT octet_length(privacy_tags.subject_access('customer', '42')::text);")
read -r bin_bytes fn_kb < <(peak "SELECT pg_column_size(privacy_tags.subject_access('customer', '42'));")
q -c "CREATE TABLE saved AS SELECT privacy_tags.subject_access('customer', '42') AS d"
read -r _ out_kb < <(peak "SELECT octet_length(d::text) FROM saved;")
read -r hand_bytes hand_kb < <(peak "SELECT octet_length(jsonb_build_object('public.events', (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.ctid) FROM events t WHERE t.customer_id = 42))::text);")
read -r _ handfn_kb < <(peak "SELECT pg_column_size(jsonb_build_object('public.events', (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.ctid) FROM events t WHERE t.customer_id = 42)));")
read -r json_bytes json_kb < <(peak "SELECT octet_length(json_build_object('public.events', (SELECT json_agg(to_json(t) ORDER BY t.ctid) FROM events t WHERE t.customer_id = 42))::text);")
doc_kb=$(( doc_bytes / 1024 ))
x() { awk -v a="$1" -v b="$doc_kb" 'BEGIN { printf "%.1f", a / b }'; }
ratio=$(x "$fn_kb")
met=$(awk -v r="$ratio" -v g="$goal" 'BEGIN { print (r <= g) ? "yes" : "**no**" }')

cat <<EOF

The access document of one subject with $rows rows in one table (the
document is $(( doc_kb / 1024 )) MB as text, $(( bin_bytes / 1048576 )) MB as jsonb), and the same data built by
hand-written queries, each call in a fresh session: the backend's peak
resident memory (VmHWM) less its resident memory before the call (the
shared buffers the call reads count too).

| side | peak above start | × the document (text) |
| --- | ---: | ---: |
| \`subject_access()\` (\`pg_column_size()\` of it: the function alone) | $(( fn_kb / 1024 )) MB | **${ratio}x** |
| \`subject_access()\` and its text (\`::text\`, as a client receives it) | $(( ext_kb / 1024 )) MB | $(x "$ext_kb")x |
| the text of the same document read from a table (\`jsonb_out()\` alone) | $(( out_kb / 1024 )) MB | $(x "$out_kb")x |
| hand-written \`jsonb_agg(to_jsonb(t))\`, the function alone | $(( handfn_kb / 1024 )) MB | $(x "$handfn_kb")x |
| hand-written \`jsonb_agg(to_jsonb(t))\` and its text | $(( hand_kb / 1024 )) MB | $(x "$hand_kb")x |
| hand-written \`json_agg(to_json(t))\` (text, not jsonb) | $(( json_kb / 1024 )) MB | $(x "$json_kb")x |

Goal: subject_access() at most ${goal}x the document: ${met}. The
function writes each row's jsonb (from its table's statement, read through
a cursor 1,000 rows at a time) once into the document's binary form, which
it reserves at once for a large export (mapped memory: growing it never
copies it, and only what is written is resident); no JsonbValue tree of the
rows is built (\`jsonb_agg()\` keeps one, tens of bytes a value: the
hand-written lines). Turning the finished document into text is
PostgreSQL's \`jsonb_out()\`, whatever built the document (third line):
its output buffer, the text's copy, and a string for every number.

Command: \`$BENCH_COMMAND\`, $BENCH_DATE.
EOF
