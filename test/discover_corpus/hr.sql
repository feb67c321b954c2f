-- Labelled corpus: an HR system, Swedish names (departments, employees,
-- salaries, absences, devices, user accounts; a manager reference).
CREATE SCHEMA hr;
CREATE TABLE hr.avdelning (id int PRIMARY KEY, namn text NOT NULL, kostnadsstalle text);
INSERT INTO hr.avdelning SELECT i, corpus_util.pick('{Ekonomi,Försäljning,Lager,IT,Kundtjänst,Juridik}', i), 'KS' || (100 + i) FROM generate_series(1, 6) i;
CREATE TABLE hr.anstallda (id int PRIMARY KEY, fornamn text NOT NULL, efternamn text NOT NULL, epost text,
  personnummer text, mobil text, fodelsedatum date, anstallningsdatum date, befattning text,
  avdelning_id int REFERENCES hr.avdelning, chef_id int REFERENCES hr.anstallda, iban text);
INSERT INTO hr.anstallda SELECT i, corpus_util.given(i), corpus_util.surname(i), corpus_util.email(i), corpus_util.personnummer(i),
  corpus_util.phone(i), corpus_util.birth_date(i), date '2005-01-01' + i * 11, corpus_util.pick('{Ekonom,Säljare,Lagerarbetare,Utvecklare,Jurist}', i),
  1 + i % 6, CASE WHEN i > 10 THEN 1 + i % 10 END, corpus_util.iban_se(i)
  FROM generate_series(1, 300) i;
CREATE TABLE hr.loner (id serial PRIMARY KEY, anstalld_id int NOT NULL REFERENCES hr.anstallda, manad date, belopp numeric(10,2), valuta text);
INSERT INTO hr.loner (anstalld_id, manad, belopp, valuta)
SELECT 1 + i % 300, date '2024-01-01' + (i / 300) * 31, 30000 + i % 20000, 'SEK' FROM generate_series(1, 1800) i;
CREATE TABLE hr.franvaro (id serial PRIMARY KEY, anstalld_id int NOT NULL REFERENCES hr.anstallda, fran date, till date, orsak text);
INSERT INTO hr.franvaro (anstalld_id, fran, till, orsak)
SELECT 1 + i * 7 % 300, date '2024-01-01' + i, date '2024-01-01' + i + 1 + i % 5, corpus_util.pick('{sjuk,vab,semester,tjänstledig}', i) FROM generate_series(1, 400) i;
CREATE TABLE hr.enheter (id serial PRIMARY KEY, anstalld_id int REFERENCES hr.anstallda, imei text, mac_address text, modell text, utlamnad date);
INSERT INTO hr.enheter (anstalld_id, imei, mac_address, modell, utlamnad)
SELECT 1 + i % 300, corpus_util.imei(i), corpus_util.mac(i), corpus_util.pick('{Pixel 8,iPhone 15,Galaxy S24}', i), date '2023-01-01' + i FROM generate_series(1, 300) i;
CREATE TABLE hr.konton (id serial PRIMARY KEY, anstalld_id int UNIQUE REFERENCES hr.anstallda, username text, password text, api_token text, last_login timestamptz);
INSERT INTO hr.konton (anstalld_id, username, password, api_token, last_login)
SELECT i, lower(left(translate(corpus_util.given(i), 'åäöéÅÄÖ', 'aaoeaao'), 3) || left(translate(corpus_util.surname(i), 'åäöéÅÄÖ', 'aaoeaao'), 3)) || i,
       corpus_util.bcrypt(i), 'sk_live_' || left(translate(encode(sha256(('k' || i)::bytea), 'base64'), '+/=', 'xyz'), 24),
       timestamptz '2024-05-01' + i * interval '1 hour'
  FROM generate_series(1, 300) i;
CREATE TABLE hr.kurser (id serial PRIMARY KEY, titel text, beskrivning text, langd_timmar int);
INSERT INTO hr.kurser (titel, beskrivning, langd_timmar) SELECT 'Kurs ' || i, 'Grundkurs i ämne ' || i, 8 + i % 16 FROM generate_series(1, 20) i;

COMMENT ON COLUMN hr.avdelning.id IS 'not personal';
COMMENT ON COLUMN hr.avdelning.namn IS 'not personal';
COMMENT ON COLUMN hr.avdelning.kostnadsstalle IS 'not personal';
COMMENT ON COLUMN hr.anstallda.id IS 'not personal';
COMMENT ON COLUMN hr.anstallda.fornamn IS 'personal: identifiers';
COMMENT ON COLUMN hr.anstallda.efternamn IS 'personal: identifiers';
COMMENT ON COLUMN hr.anstallda.epost IS 'personal: contact';
COMMENT ON COLUMN hr.anstallda.personnummer IS 'personal: identifiers';
COMMENT ON COLUMN hr.anstallda.mobil IS 'personal: contact';
COMMENT ON COLUMN hr.anstallda.fodelsedatum IS 'personal: identifiers';
COMMENT ON COLUMN hr.anstallda.anstallningsdatum IS 'personal: professional';
COMMENT ON COLUMN hr.anstallda.befattning IS 'personal: professional';
COMMENT ON COLUMN hr.anstallda.avdelning_id IS 'personal: professional';
COMMENT ON COLUMN hr.anstallda.chef_id IS 'personal: professional';
COMMENT ON COLUMN hr.anstallda.iban IS 'personal: financial';
COMMENT ON COLUMN hr.loner.id IS 'not personal';
COMMENT ON COLUMN hr.loner.anstalld_id IS 'personal: professional';
COMMENT ON COLUMN hr.loner.manad IS 'personal: professional';
COMMENT ON COLUMN hr.loner.belopp IS 'personal: professional';
COMMENT ON COLUMN hr.loner.valuta IS 'personal: professional';
COMMENT ON COLUMN hr.franvaro.id IS 'not personal';
COMMENT ON COLUMN hr.franvaro.anstalld_id IS 'personal: professional';
COMMENT ON COLUMN hr.franvaro.fran IS 'personal: professional';
COMMENT ON COLUMN hr.franvaro.till IS 'personal: professional';
COMMENT ON COLUMN hr.franvaro.orsak IS 'personal: professional';
COMMENT ON COLUMN hr.enheter.id IS 'not personal';
COMMENT ON COLUMN hr.enheter.anstalld_id IS 'personal: professional';
COMMENT ON COLUMN hr.enheter.imei IS 'personal: device';
COMMENT ON COLUMN hr.enheter.mac_address IS 'personal: device';
COMMENT ON COLUMN hr.enheter.modell IS 'personal: device';
COMMENT ON COLUMN hr.enheter.utlamnad IS 'personal: device';
COMMENT ON COLUMN hr.konton.id IS 'not personal';
COMMENT ON COLUMN hr.konton.anstalld_id IS 'personal: professional';
COMMENT ON COLUMN hr.konton.username IS 'personal: identifiers';
COMMENT ON COLUMN hr.konton.password IS 'personal: credentials';
COMMENT ON COLUMN hr.konton.api_token IS 'personal: credentials';
COMMENT ON COLUMN hr.konton.last_login IS 'personal: network';
COMMENT ON COLUMN hr.kurser.id IS 'not personal';
COMMENT ON COLUMN hr.kurser.titel IS 'not personal';
COMMENT ON COLUMN hr.kurser.beskrivning IS 'not personal';
COMMENT ON COLUMN hr.kurser.langd_timmar IS 'not personal';
