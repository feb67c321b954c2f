#!/usr/bin/env bash
# Run the demo and put its output into README.md as the walkthrough
# (between the markers <!-- walkthrough --> and <!-- /walkthrough -->).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
CRON_DB=postgres ./scripts/in_cluster.sh psql -X -d postgres -v ON_ERROR_STOP=1 -f demo/demo.sql >"$out" 2>&1
python3 - "$out" <<'PY'
import re, sys
out = open(sys.argv[1]).read().splitlines()
# drop pg_virtualenv's own lines and psql's file/line prefixes
body = [l for l in out if not l.startswith(("Creating new PostgreSQL cluster", "Dropping cluster"))]
body = [re.sub(r"^psql:demo/demo.sql:\d+: ", "", l) for l in body]
text = "\n".join(body).strip("\n")
readme = open("README.md").read()
block = "<!-- walkthrough -->\n```\n" + text + "\n```\n<!-- /walkthrough -->"
readme = re.sub(r"<!-- walkthrough -->.*?<!-- /walkthrough -->", lambda m: block, readme, flags=re.S)
open("README.md", "w").write(readme)
PY
