-- privacy_tag operators, operator classes, accessors, binary I/O.
SET search_path = public, privacy_tags;

CREATE TABLE tags (id int, t privacy_tag);
INSERT INTO tags VALUES
  (1, 'contact.email; basis=consent; purpose=newsletter; retain=3 years after last_contact_at'),
  (2, 'contact'),
  (3, 'contactless.card'),
  (4, 'contact.phone; basis=contract'),
  (5, 'network.ip_address; basis=legitimate_interests; retain=30 days after created_at; on_expiry=nullify'),
  (6, 'health.condition; basis=consent; special=explicit_consent'),
  (7, 'financial.invoice; basis=legal_obligation; retain=7 years after issued_on'),
  (8, 'contact.email; basis=consent; purpose=newsletter; retain=3 years after last_contact_at; on_expiry=delete'),
  (9, 'contact.email; basis=consent; purpose=newsletter; retain=36 months after last_contact_at'),
  (10, 'contact.email; basis=consent; purpose=newsletter; retain=3 years after "Last Contact"'),
  (11, 'contact.email_verified'),
  (12, NULL);

-- canonical forms round trip: t::text::privacy_tag = t
SELECT count(*) AS rows, count(*) FILTER (WHERE t::text::privacy_tag = t) AS round_trips
  FROM tags WHERE t IS NOT NULL;

-- equality: the default on_expiry and an equal window written otherwise are the same value
SELECT a.id, b.id FROM tags a JOIN tags b ON a.t = b.t AND a.id < b.id ORDER BY 1, 2;
SELECT a.id, b.id FROM tags a JOIN tags b ON a.t <> b.t AND a.id < b.id
 WHERE a.id IN (1, 10) AND b.id IN (8, 9, 10) ORDER BY 1, 2;

-- ordering: by category path (a parent before its children), then the rest
SELECT id, t FROM tags ORDER BY t, id;
SELECT id FROM tags ORDER BY t DESC NULLS LAST, id;
SELECT 'a'::privacy_tag < 'a.b', 'a.b'::privacy_tag < 'a_b', 'a.b'::privacy_tag < 'a0',
       'a; basis=consent'::privacy_tag > 'a', 'a'::privacy_tag <= 'a', 'b'::privacy_tag >= 'a';

-- hash and btree indexes and hash joins agree with equality
CREATE INDEX tags_btree ON tags USING btree (t);
CREATE INDEX tags_hash ON tags USING hash (t);
SET enable_seqscan = off;
SELECT id FROM tags WHERE t = 'contact.email; basis=consent; purpose=newsletter; retain=3 years after last_contact_at' ORDER BY id;
RESET enable_seqscan;
SET enable_mergejoin = off;
SET enable_nestloop = off;
SELECT count(*) FROM tags a JOIN tags b ON a.t = b.t;
RESET enable_mergejoin;
RESET enable_nestloop;
SELECT t, count(*) FROM tags WHERE t IS NOT NULL GROUP BY t HAVING count(*) > 1;
SELECT privacy_tag_hash('contact.email; retain=3 years after x') = privacy_tag_hash('contact.email; retain=36 months after x; on_expiry=delete') AS same_hash,
       privacy_tag_hash_extended('contact', 0) = privacy_tag_hash_extended('contact', 1) AS seed_ignored;

-- the operator classes are valid
SELECT opc.opcname, am.amname, amvalidate(opc.oid)
  FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
 WHERE opc.opcintype = 'privacy_tag'::regtype ORDER BY 1;

-- <@ and @> respect dot boundaries
SELECT id, t <@ 'contact' AS in_contact, t <@ 'contact.email' AS in_email,
       'contact' @> t AS contact_has, t <@ 'contact'::privacy_tag AS in_contact_tag
  FROM tags WHERE t IS NOT NULL ORDER BY id;
SELECT 'contact.email'::privacy_tag @> 'contact.email.work'::privacy_tag AS parent_contains,
       'contact.email.work'::privacy_tag @> 'contact.email'::privacy_tag AS child_contains,
       'contact'::privacy_tag <@ ''::text AS empty_path;

-- accessors
SELECT id, category(t), legal_basis(t), special_condition(t), purposes(t),
       retention(t), retention_anchor(t), expiry_action(t)
  FROM tags ORDER BY id;
SELECT purposes('contact.email; purpose=support,billing,newsletter');
SET IntervalStyle = iso_8601;
SELECT retention('contact.email; retain=1 year 2 months 3 days 4 hours after x');
RESET IntervalStyle;

-- binary send/recv: COPY round trip
\copy tags TO 'results/tags.bin' WITH (FORMAT binary)
CREATE TABLE tags2 (LIKE tags);
\copy tags2 FROM 'results/tags.bin' WITH (FORMAT binary)
SELECT count(*) AS copied,
       count(*) FILTER (WHERE a.t IS NOT DISTINCT FROM b.t) AS identical
  FROM tags a JOIN tags2 b USING (id);
-- the binary form starts with a version byte, then the canonical text
SELECT privacy_tag_send('contact.email; basis=consent');
SELECT encode(privacy_tag_send('contact'), 'hex');

-- text forms of tags survive arrays and records
SELECT ARRAY['contact', 'network.ip_address; retain=30 days after t']::privacy_tag[];
