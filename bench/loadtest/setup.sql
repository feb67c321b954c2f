-- Load test: the application schema, its tags, the seed data, the ledger
-- (shadow tables kept by the writers) and the harness functions that
-- bench/loadtest/*.pgbench call.  Run by bench/loadtest.sh with psql
-- variables customers (seed customers) and candidates (share of them that
-- will be erased, in percent).
--
-- Time is compressed: retention windows are seconds, not years, so that
-- values expire while the load runs and purges race with writers that
-- renew the same rows.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE EXTENSION privacy_tags;
CREATE SCHEMA lt;

-- The application ------------------------------------------------------------

-- customers: the data subjects.  name goes with the row 120 s after the last
-- activity, phone is nulled after 60 s, email is consent-based (newsletter).
CREATE TABLE lt.customers (
    id             bigint PRIMARY KEY,
    name           text,
    phone          text,
    email          text,
    last_active_at timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON lt.customers (last_active_at);
CREATE SEQUENCE lt.customer_ids;

-- orders: reached from customers through a foreign key only (no subject
-- column); deleted with their customer.
CREATE TABLE lt.orders (
    id               bigserial PRIMARY KEY,
    customer_id      bigint NOT NULL REFERENCES lt.customers ON DELETE CASCADE,
    item             text,
    shipping_address text,
    ordered_at       timestamptz NOT NULL
);
CREATE INDEX ON lt.orders (customer_id);
CREATE INDEX ON lt.orders (ordered_at);

-- invoices: the amount is kept by law (7 years); the billing name is
-- nulled after 100 s.  The key blocks the purge of customers it points at.
CREATE TABLE lt.invoices (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES lt.customers,
    amount       numeric(10,2) NOT NULL,
    billing_name text,
    issued_at    timestamptz NOT NULL
);
CREATE INDEX ON lt.invoices (customer_id);
CREATE INDEX ON lt.invoices (issued_at);

-- The tags: the one place the windows are written.  The harness reads the
-- windows back from them (lt.win), so predictions and tags cannot disagree.
CREATE TABLE lt.tags (tbl text, col name, tag privacy_tags.privacy_tag, PRIMARY KEY (tbl, col));
INSERT INTO lt.tags VALUES
    ('customers', 'name',  'identifiers.name; basis=contract; purpose=account; retain=120 seconds after last_active_at; on_expiry=delete'),
    ('customers', 'phone', 'contact.phone; basis=legitimate_interests; purpose=support; retain=60 seconds after last_active_at; on_expiry=nullify'),
    ('customers', 'email', 'contact.email; basis=consent; purpose=newsletter'),
    ('orders', 'item', 'commercial.purchase_history; basis=contract; purpose=delivery; retain=90 seconds after ordered_at; on_expiry=delete'),
    ('orders', 'shipping_address', 'contact.shipping_address; basis=contract; purpose=delivery; retain=45 seconds after ordered_at; on_expiry=nullify'),
    ('invoices', 'amount', 'financial.invoice; basis=legal_obligation; purpose=billing; retain=7 years after issued_at; on_expiry=delete'),
    ('invoices', 'billing_name', 'identifiers.name; basis=contract; purpose=billing; retain=100 seconds after issued_at; on_expiry=nullify');
SELECT privacy_tags.tag(('lt.' || tbl)::regclass, col, tag) FROM lt.tags;
SELECT privacy_tags.set_subject('lt.customers', 'id', 'customer', collected_at => 'created_at');
SELECT privacy_tags.set_subject('lt.invoices', 'customer_id', 'customer', collected_at => 'issued_at');

CREATE FUNCTION lt.win(tbl text, col name) RETURNS interval
LANGUAGE sql STABLE AS $$
    SELECT privacy_tags.retention(t.tag) FROM lt.tags t WHERE t.tbl = $1 AND t.col = $2
$$;

-- The harness ------------------------------------------------------------------

CREATE TABLE lt.config (
    started_at timestamptz,     -- when the load started
    seconds    integer,         -- planned duration (-T), for pacing the erasures
    total_tx   bigint           -- planned transactions (-t mode), for pacing
);
INSERT INTO lt.config VALUES (NULL, NULL, NULL);

-- Who every subject is.  Writers lock their subject's row FOR SHARE and the
-- eraser FOR UPDATE: after an erasure nobody writes for the subject again,
-- so "erased" stays decidable.
CREATE TABLE lt.subject_state (
    id              bigint PRIMARY KEY,
    consent         boolean NOT NULL,   -- newsletter consent granted
    restricted      boolean NOT NULL,   -- under restriction of processing
    held            boolean NOT NULL,   -- under legal hold
    erase_candidate boolean NOT NULL,
    erase_order     double precision,
    erase_result    text,               -- erased | held | error
    erased_at       timestamptz,
    report          jsonb
);
CREATE INDEX ON lt.subject_state (erase_order) WHERE erase_candidate AND erase_result IS NULL;

-- One row per harness transaction: what it tried and how it ended.
--   ok | gone (its row was purged or erased first) | skipped_erased |
--   refused (an expected refusal; reason says which) |
--   error (anything else) | accepted_unexpectedly (a refusal was due)
CREATE TABLE lt.events (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    op       text NOT NULL,
    subject  bigint,
    outcome  text NOT NULL,
    reason   text,
    sqlstate text,
    message  text,
    context  text,                  -- where an error was raised
    other    text                   -- a deadlock: what the other backends were running
);

-- Every change made by the extension itself (privacy_tags.purging is on
-- in purge, run_purge and erase), written by a trigger on the three tables.
CREATE TABLE lt.removals (
    id          bigserial PRIMARY KEY,
    txid        bigint NOT NULL,
    tx_now      timestamptz NOT NULL,
    actor       text NOT NULL,      -- purge | run_purge | final | erase:<id>
    tbl         text NOT NULL,
    op          text NOT NULL,
    row_id      bigint NOT NULL,
    customer_id bigint,
    old         jsonb NOT NULL,
    new         jsonb
);
CREATE INDEX ON lt.removals (tbl, row_id);

CREATE TABLE lt.purge_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    dry_run    boolean NOT NULL,
    deleted    bigint,
    nulled     bigint,
    held       bigint,
    referenced bigint
);

CREATE TABLE lt.access_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    subject  bigint NOT NULL,
    erased   boolean NOT NULL,      -- erased before the export started
    records  integer,
    problem  text                   -- NULL: the export was right
);

CREATE TABLE lt.erase_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    subject  bigint NOT NULL,
    dry_run  boolean NOT NULL,
    problem  text
);

CREATE FUNCTION lt.log_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO lt.removals (txid, tx_now, actor, tbl, op, row_id, customer_id, old, new)
    VALUES (txid_current(), now(), coalesce(nullif(current_setting('lt.actor', true), ''), 'run_purge'),
            TG_TABLE_NAME, TG_OP, (to_jsonb(OLD) ->> 'id')::bigint,
            coalesce(to_jsonb(OLD) ->> 'customer_id', to_jsonb(OLD) ->> 'id')::bigint,
            to_jsonb(OLD), CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(NEW) END);
    RETURN NULL;
END
$$;
CREATE TRIGGER log_change AFTER UPDATE OR DELETE ON lt.customers FOR EACH ROW
    WHEN (current_setting('privacy_tags.purging', true) = 'on') EXECUTE FUNCTION lt.log_change();
CREATE TRIGGER log_change AFTER UPDATE OR DELETE ON lt.orders FOR EACH ROW
    WHEN (current_setting('privacy_tags.purging', true) = 'on') EXECUTE FUNCTION lt.log_change();
CREATE TRIGGER log_change AFTER UPDATE OR DELETE ON lt.invoices FOR EACH ROW
    WHEN (current_setting('privacy_tags.purging', true) = 'on') EXECUTE FUNCTION lt.log_change();

-- Seed data ----------------------------------------------------------------------

-- Anchors spread over the last few minutes: some values are expired before
-- the load starts, more expire while it runs.  Loaded before enforce(), as
-- old data is.  1 in 3 customers has no newsletter consent (and no email),
-- 1 in 50 is restricted, 1 in 50 is under legal hold.
SELECT setseed(0.42);
INSERT INTO lt.subject_state (id, consent, restricted, held, erase_candidate, erase_order)
SELECT i, i % 3 <> 0, i % 50 = 7, i % 50 = 11, random() < :candidates / 100.0, random()
  FROM generate_series(1, :customers) i;
SELECT setval('lt.customer_ids', :customers);

INSERT INTO lt.customers (id, name, phone, email, last_active_at, created_at)
SELECT s.id, 'Customer ' || s.id,
       CASE WHEN random() < 0.8 THEN '+46 70 ' || lpad((random() * 1e7)::int::text, 7, '0') END,
       CASE WHEN s.consent THEN format('c%s@example.com', s.id) END,
       a, a - interval '1 day'
  FROM lt.subject_state s
 CROSS JOIN LATERAL (SELECT now() - random() * interval '240 seconds' AS a) x;

INSERT INTO lt.orders (customer_id, item, shipping_address, ordered_at)
SELECT c.id, 'item ' || (random() * 1000)::int,
       CASE WHEN random() < 0.8 THEN format('Storgatan %s, Stockholm', (random() * 100)::int) END,
       now() - random() * interval '180 seconds'
  FROM lt.customers c, generate_series(1, 3);

INSERT INTO lt.invoices (customer_id, amount, billing_name, issued_at)
SELECT c.id, round((random() * 1000)::numeric, 2),
       CASE WHEN random() < 0.8 THEN c.name END, now() - random() * interval '200 seconds'
  FROM lt.customers c WHERE random() < 0.4;

-- consents, restrictions and holds through the extension
SELECT count(privacy_tags.grant_consent('customer', id::text, 'newsletter')) FROM lt.subject_state WHERE consent;
SELECT count(privacy_tags.restrict('customer', id::text, 'load test: contested')) FROM lt.subject_state WHERE restricted;
SELECT count(privacy_tags.hold('customer', id::text, 'load test: litigation')) FROM lt.subject_state WHERE held;

SELECT privacy_tags.enforce('lt.customers'), privacy_tags.enforce('lt.orders'), privacy_tags.enforce('lt.invoices');

-- The ledger: what the writers committed, written in the same transaction
-- as the write.  Purge and erasure never touch it.
CREATE TABLE lt.s_customers (LIKE lt.customers INCLUDING ALL);
CREATE TABLE lt.s_orders (LIKE lt.orders INCLUDING ALL);
CREATE TABLE lt.s_invoices (LIKE lt.invoices INCLUDING ALL);
INSERT INTO lt.s_customers SELECT * FROM lt.customers;
INSERT INTO lt.s_orders SELECT * FROM lt.orders;
INSERT INTO lt.s_invoices SELECT * FROM lt.invoices;

VACUUM ANALYZE;

\ir harness.sql
