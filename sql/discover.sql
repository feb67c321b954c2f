-- discover(): the new value recognisers (valid values and look-alikes), the
-- structural rule, confidence ordering, min_confidence, tagged columns.
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';

SELECT v, value_kind(v) FROM (VALUES
  ('DE89 3704 0044 0532 0130 00'), ('GB82WEST12345698765432'), ('GB82WEST12345698765433'), ('DE89 3704 0044 0532 0130'),
  ('556036-0793'), ('5560360793'), ('556036-0794'), ('16556036-0793'),
  ('35-209900-176148-1'), ('352099001761481'), ('352099001761482'),
  ('00:1A:2B:3C:4D:5E'), ('00-1a-2b-3c-4d-5e'), ('001a.2b3c.4d5e'), ('00:1A-2B:3C:4D:5E'), ('00:1A:2B:3C:4D'),
  ('59.3293, 18.0686'), ('(40.7128,-74.0060)'), ('95.1234, 18.0686'), ('59.3, 18.0'), ('0.000, 0.000'),
  ('123-45-6789'), ('666-45-6789'), ('000-45-6789'), ('123-00-6789'), ('078-05-1120'), ('123456789'),
  ('$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW'), ('$2b$12$short'),
  ('$6$rounds=5000$saltsalt$' || repeat('a', 86)), ('$6$salt$' || repeat('a', 85)), ('$1$abcdefgh$' || repeat('b', 22)),
  ('$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG'),
  ('md5' || md5('x')), ('md5' || left(md5('x'), 31)),
  ('SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0$' || repeat('A', 43) || '=:' || repeat('B', 43) || '='),
  ('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc_DEF-123'), ('eyJhbGciOiJIUzI1NiJ9.abc.def'),
  ('sk_live_4eC39HqLyjWDarjtT1zdp7dc'), ('AKIAIOSFODNN7EXAMPLE'), ('aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF'),
  ('d41d8cd98f00b204e9800998ecf8427e'), ('123e4567-e89b-12d3-a456-426614174000'),
  ('Anna Svensson'), ('MARY SMITH'), ('Lindström, Åsa'), ('ÅSA'), ('anna svensson'), ('Action'), ('English'), ('Anna 2'),
  ('47 MySakila Drive'), ('Storgatan 12'), ('Drottninggatan 5B, Stockholm'), ('12 High St.'), ('Main Street'), ('12 Apples'),
  ('111 51'), ('SE-111 51'), ('011 51'), ('SW1A 1AA'), ('EC1A 1BB'), ('12345-6789'), ('1012 AB'), ('K1A 0B1'), ('12345')
) t(v);

CREATE SCHEMA disc;
-- a person table found by its values alone (no name says it)
CREATE TABLE disc.people (id int PRIMARY KEY, n text, e text, joined date);
INSERT INTO disc.people SELECT g, (ARRAY['Anna Svensson', 'Erik Larsson', 'Mary Smith', 'John Brown'])[1 + g % 4] || ' ' || g % 3,
  'p' || g || '@example.com', date '2020-01-01' + g FROM generate_series(1, 40) g;
UPDATE disc.people SET n = split_part(n, ' ', 1) || ' ' || split_part(n, ' ', 2);
-- two levels of references, one a declared link, one partitioned table with the key on a partition only
CREATE TABLE disc.bookings (id int PRIMARY KEY, person int NOT NULL, booked_at timestamptz, price numeric(8,2), last_update timestamptz);
SELECT link('disc.bookings', '{person}', 'disc.people', '{id}');
CREATE TABLE disc.booking_items (booking_id int REFERENCES disc.bookings, item text, qty int);
CREATE TABLE disc.visits (person_id int NOT NULL, seen date NOT NULL) PARTITION BY RANGE (seen);
CREATE TABLE disc.visits_1 PARTITION OF disc.visits FOR VALUES FROM ('2020-01-01') TO ('2030-01-01');
ALTER TABLE disc.visits_1 ADD FOREIGN KEY (person_id) REFERENCES disc.people;
-- nothing links these to a person: generic names are not suggested, addresses and coordinates weakly
CREATE TABLE disc.genres (id int PRIMARY KEY, name text, title text);
INSERT INTO disc.genres SELECT g, (ARRAY['Action', 'Comedy', 'Drama', 'Horror'])[1 + g % 4], 'Genre ' || g FROM generate_series(1, 20) g;
CREATE TABLE disc.depots (id int PRIMARY KEY, street text, location text);
INSERT INTO disc.depots SELECT g, g || ' Mill Road', '59.' || (1000 + g) || ', 18.' || (2000 + g) FROM generate_series(1, 20) g;
-- every new recogniser in a table of its own kind
CREATE TABLE disc.secrets (id int PRIMARY KEY, person_id int REFERENCES disc.people, h text, tok text, k text, acct text, dev text, hw text);
INSERT INTO disc.secrets SELECT g, g,
  '$2b$12$' || left(translate(encode(sha512(g::text::bytea), 'base64'), '+=', '.A'), 53),
  'eyJhbGciOiJIUzI1NiJ9.' || rtrim(encode(convert_to('{"sub":"' || g || '"}', 'UTF8'), 'base64'), '=') || '.sig' || g,
  'sk_live_' || left(md5(g::text), 20),
  'DE89 3704 0044 0532 0130 00', '352099001761481', '00:1a:2b:3c:4d:' || lpad(to_hex(g), 2, '0')
  FROM generate_series(1, 20) g;
-- a tagged column is never suggested
CREATE TABLE disc.tagged (id int, email text);
INSERT INTO disc.tagged SELECT g, 't' || g || '@example.com' FROM generate_series(1, 10) g;
SELECT tag('disc.tagged', 'email', 'contact.email; basis=contract');

SELECT relation, column_name, suggested_tag, rule, confidence, subject_table, sampled, matched
  FROM discover('disc');
SELECT relation, column_name, rule, evidence FROM discover('disc') ORDER BY relation::text, column_name;
-- sorted by confidence, surest first
SELECT bool_and(c >= lead_c) AS sorted FROM (SELECT confidence AS c, lead(confidence, 1, 0::real) OVER () AS lead_c FROM discover('disc')) s;
-- min_confidence: the weak ones, with why they are weak
SELECT relation, column_name, suggested_tag, rule, confidence, evidence
  FROM discover('disc', min_confidence => 0) WHERE confidence < 0.5;
SELECT count(*) FROM discover('disc', 200, 0.9);
SELECT state, message FROM try($$SELECT * FROM privacy_tags.discover('disc', 200, 1.5)$$);
SELECT state, message FROM try($$SELECT * FROM privacy_tags.discover('disc', 200, NULL)$$);
-- links outlive their tables: remove them first
SELECT unlink('disc.bookings', '{person}', 'disc.people', '{id}');
DROP SCHEMA disc CASCADE;
