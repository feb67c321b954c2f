#!/usr/bin/env bash
# The documents of subject_access() and the reports of erase() and
# withdraw_consent() validate against the JSON Schemas in schema/, checked
# with ajv (installed from the npm registry into a scratch directory).
# Speaks TAP. Runs against the cluster in the environment.
set -euo pipefail
if [ -n "${PT_SKIP_JSON_SCHEMA:-}" ]; then	# make test-versions: no npm registry in a chroot
	echo "1..0 # SKIP $PT_SKIP_JSON_SCHEMA"
	exit 0
fi
cd "$(dirname "$0")/../.."
db=pt_json_schema
dir=$(mktemp -d)
trap 'rm -rf "$dir"; dropdb --if-exists $db >/dev/null 2>&1 || true' EXIT
dropdb --if-exists $db >/dev/null 2>&1 || true
createdb $db

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
	fi
fi
(cd "$dir" && npm install --silent --no-audit --no-fund ajv@8 ajv-formats@3 >/dev/null 2>&1)

psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -d $db <<'SQL'
CREATE EXTENSION privacy_tags;
SET TimeZone = 'UTC';
CREATE TABLE people (id int PRIMARY KEY, name text, email text, news text, joined timestamptz NOT NULL);
CREATE TABLE orders (id int PRIMARY KEY, person_id int NOT NULL REFERENCES people, note text, placed date NOT NULL);
CREATE TABLE receipts (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders, total numeric NOT NULL, issued date NOT NULL);
CREATE TABLE scans (person_id int REFERENCES people, finger bytea);
SELECT privacy_tags.set_subject('people', 'id', 'person', 'joined');
SELECT privacy_tags.tag('people', 'name', 'identifiers.name; basis=contract; purpose=account');
SELECT privacy_tags.tag('people', 'email', 'contact.email; basis=contract; purpose=account; retain=3 years after joined');
SELECT privacy_tags.tag('people', 'news', 'contact.email; basis=consent; purpose=newsletter');
SELECT privacy_tags.tag('orders', 'note', 'communications.content; basis=contract; purpose=delivery; retain=1 year after placed; on_expiry=nullify');
SELECT privacy_tags.tag('receipts', 'total', 'financial.invoice; basis=legal_obligation; purpose=billing; retain=7 years after issued');
SELECT privacy_tags.tag('scans', 'finger', 'biometric.fingerprint; basis=consent; special=explicit_consent; purpose=door');
INSERT INTO people VALUES (1, 'Ann', 'ann@example.com', 'ann+n@example.com', '2024-01-01'), (2, 'Ben', 'ben@example.com', NULL, '2025-01-01');
INSERT INTO orders VALUES (10, 1, 'door', '2024-02-01'), (11, 1, NULL, '2025-02-01'), (12, 2, 'gate', '2025-03-01');
INSERT INTO receipts VALUES (100, 10, 9.5, '2024-02-01');
INSERT INTO scans VALUES (1, '\x0102');
SELECT privacy_tags.grant_consent('person', '1', 'newsletter');
SELECT privacy_tags.hold('person', '2', 'audit');
SELECT privacy_tags.restrict('person', '2', 'contested');
SELECT privacy_tags.set_controller('Example AB', 'privacy@example.com', dpo => 'D. Po', supervisory_authority => 'IMY');
SELECT privacy_tags.add_recipient('Mailer', 'processor', 'US', '{newsletter,account}', safeguard => 'scc');
SELECT privacy_tags.add_recipient('Courier', 'controller', 'SE', '{delivery}');
SELECT privacy_tags.add_security_measure('Encryption at rest');
SELECT privacy_tags.add_source('orders', 'partner shop', 'note');
SELECT privacy_tags.add_automated_decision('account', 'Fraud score', 'Rules on order history', 'May block an order');
SELECT privacy_tags.set_processing_role('door', 'processor', 'Building owner', 'owner@example.com');
SQL

doc() {	# doc <file> <sql>
	psql -X -A -t -v ON_ERROR_STOP=1 -d $db -c "$2" >"$dir/$1.json"
}
doc access_full       "SELECT privacy_tags.subject_access('person', '1')"
doc access_since      "SELECT privacy_tags.subject_access('person', '1', since => '2025-01-01')"
doc access_portable   "SELECT privacy_tags.subject_access('person', '1', portable_only => true)"
doc access_unknown    "SELECT privacy_tags.subject_access('person', '404')"
doc access_restricted "SELECT privacy_tags.subject_access('person', '2')"
doc erase_dry         "SELECT privacy_tags.erase('person', '1', dry_run => true)"
doc erase_held        "SELECT privacy_tags.erase('person', '2')"
doc withdraw          "SELECT privacy_tags.withdraw_consent('person', '1', 'newsletter')"
doc suppress          "SELECT privacy_tags.suppress('person', '1')"
doc erase_real        "SELECT privacy_tags.erase('person', '1')"
doc record            "SELECT privacy_tags.processing_record()"
doc ledger            "SELECT privacy_tags.export_ledger()"
doc reapply           "SELECT privacy_tags.reapply_erasures(dry_run => true)"
doc objection_access  "SELECT privacy_tags.subject_access('person', '2') FROM (SELECT privacy_tags.object('person', '2', 'newsletter')) o"

cat >"$dir/validate.js" <<'JS'
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");
const fs = require("fs");
const [schemaFile, ...docs] = process.argv.slice(2);
const ajv = new Ajv2020({allErrors: true, strict: true});
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, "utf8")));
let n = 0, failed = 0;
for (const f of docs) {
  n++;
  const ok = validate(JSON.parse(fs.readFileSync(f, "utf8")));
  console.log(`${ok ? "ok" : "not ok"} - ${f.replace(/.*\//, "")} matches ${schemaFile.replace(/.*\//, "")}`);
  if (!ok) { failed++; console.log("# " + JSON.stringify(validate.errors)); }
}
process.exit(failed ? 1 : 0);
JS
rc=0
NODE_PATH="$dir/node_modules" node "$dir/validate.js" schema/subject_access.schema.json \
	"$dir"/access_*.json | awk '{ if ($1 == "ok" || $1 == "not") { n++; sub(/^(ok|not ok)/, "& " n) } print }' || rc=1
NODE_PATH="$dir/node_modules" node "$dir/validate.js" schema/erasure.schema.json \
	"$dir"/erase_*.json "$dir"/withdraw.json "$dir"/suppress.json | awk '{ if ($1 == "ok" || $1 == "not") { n++; sub(/^(ok|not ok)/, "& " n+5) } print }' || rc=1
NODE_PATH="$dir/node_modules" node "$dir/validate.js" schema/processing_record.schema.json \
	"$dir"/record.json | sed 's/^ok /ok 12 /; s/^not ok /not ok 12 /' || rc=1
NODE_PATH="$dir/node_modules" node "$dir/validate.js" schema/erasure_ledger.schema.json \
	"$dir"/ledger.json | sed 's/^ok /ok 13 /; s/^not ok /not ok 13 /' || rc=1
NODE_PATH="$dir/node_modules" node "$dir/validate.js" schema/reapply.schema.json \
	"$dir"/reapply.json | sed 's/^ok /ok 14 /; s/^not ok /not ok 14 /' || rc=1
NODE_PATH="$dir/node_modules" node "$dir/validate.js" schema/subject_access.schema.json \
	"$dir"/objection_access.json | sed 's/^ok /ok 15 /; s/^not ok /not ok 15 /' || rc=1
# and a schema that cannot fail is no test: a broken document must be refused
echo '{"format": "privacy_tags.subject_access/2"}' >"$dir/broken.json"
if NODE_PATH="$dir/node_modules" node "$dir/validate.js" schema/subject_access.schema.json "$dir/broken.json" >/dev/null; then
	echo "not ok 11 - a document missing its required parts is refused"; rc=1
else
	echo "ok 11 - a document missing its required parts is refused"
fi
echo "1..15"
exit $rc
