-- Helpers for the labelled corpus of discover() (test/discover_corpus/):
-- generated values of every kind, valid where a check exists.  Every column
-- of a corpus schema carries its label as a comment: 'personal' or
-- 'personal: <category>', or 'not personal'.
CREATE SCHEMA IF NOT EXISTS corpus_util;
CREATE OR REPLACE FUNCTION corpus_util.luhn_digit(d text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT ((10 - sum(CASE WHEN (length(d) - i) % 2 = 0
                         THEN (substr(d, i, 1)::int * 2) / 10 + (substr(d, i, 1)::int * 2) % 10
                         ELSE substr(d, i, 1)::int END) % 10) % 10)::text
    FROM generate_series(1, length(d)) i $$;
CREATE OR REPLACE FUNCTION corpus_util.pick(a text[], i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT a[1 + (i % cardinality(a))::int] $$;
CREATE OR REPLACE FUNCTION corpus_util.given(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT corpus_util.pick('{Anna,Erik,Maria,Lars,Karin,Johan,Eva,Anders,Sara,Per,Emma,Nils,Linnéa,Björn,Åsa,James,Mary,John,Patricia,Robert,Jennifer,Michael,Linda,William,Elizabeth,David,Susan,Oliver,Charlotte,Harry}', i) $$;
CREATE OR REPLACE FUNCTION corpus_util.surname(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT corpus_util.pick('{Andersson,Johansson,Karlsson,Nilsson,Eriksson,Larsson,Olsson,Persson,Svensson,Gustafsson,Lindström,Söderberg,Smith,Johnson,Williams,Brown,Jones,Miller,Davis,Wilson,Taylor,Clark,Walker,Wright}', i * 7 + 3) $$;
CREATE OR REPLACE FUNCTION corpus_util.personnummer(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT d || '-' || right(s, 3) || corpus_util.luhn_digit(d || right(s, 3))
    FROM (SELECT to_char(date '1940-01-01' + (i * 7919 % 25000)::int, 'YYMMDD') AS d,
                 lpad((i * 37 % 1000)::text, 3, '0') AS s) x $$;
CREATE OR REPLACE FUNCTION corpus_util.birth_date(i bigint) RETURNS date LANGUAGE sql IMMUTABLE AS
  $$ SELECT date '1940-01-01' + (i * 7919 % 25000)::int $$;
CREATE OR REPLACE FUNCTION corpus_util.card(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_replace(d || corpus_util.luhn_digit(d), '(\d{4})(?=\d)', '\1 ', 'g')
    FROM (SELECT '4' || lpad((i * 982451653 % 100000000000000)::text, 14, '0') AS d) x $$;
CREATE OR REPLACE FUNCTION corpus_util.imei(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT d || corpus_util.luhn_digit(d) FROM (SELECT '35' || lpad((i * 7654321 % 1000000000000)::text, 12, '0') AS d) x $$;
CREATE OR REPLACE FUNCTION corpus_util.iban_se(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 'SE' || lpad((98 - ((bban || '281400')::numeric % 97))::int::text, 2, '0') || bban
    FROM (SELECT '5000' || lpad((i * 104729 % 10000000000000000)::text, 16, '0') AS bban) x $$;
CREATE OR REPLACE FUNCTION corpus_util.phone(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT '+46 70 ' || lpad((i * 7331 % 1000)::text, 3, '0') || ' ' || lpad((i * 113 % 100)::text, 2, '0') || ' ' || lpad((i % 100)::text, 2, '0') $$;
CREATE OR REPLACE FUNCTION corpus_util.email(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT lower(translate(corpus_util.given(i) || '.' || corpus_util.surname(i), 'åäöéÅÄÖ', 'aaoeaao')) || i || '@example.se' $$;
CREATE OR REPLACE FUNCTION corpus_util.street(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN i % 2 = 0 THEN corpus_util.pick('{Storgatan,Kungsgatan,Drottninggatan,Sveavägen,Hornsgatan,Linnégatan}', i) || ' ' || (1 + i % 90)
              ELSE (1 + i % 900) || ' ' || corpus_util.pick('{High Street,Main Street,Church Road,Park Lane,Station Road,Mill Avenue}', i) END $$;
CREATE OR REPLACE FUNCTION corpus_util.postal_code(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT (100 + i * 37 % 880) || ' ' || lpad((i % 100)::text, 2, '0') $$;
CREATE OR REPLACE FUNCTION corpus_util.mac(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT regexp_replace(substr(md5('mac' || i), 1, 12), '(..)(?=.)', '\1:', 'g') $$;
CREATE OR REPLACE FUNCTION corpus_util.ipv4(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT (10 + i % 200) || '.' || (i * 7 % 256) || '.' || (i * 13 % 256) || '.' || (1 + i * 17 % 254) $$;
CREATE OR REPLACE FUNCTION corpus_util.jwt(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.' || rtrim(translate(encode(convert_to('{"sub":"' || i || '","iat":1700000000}', 'UTF8'), 'base64'), '+/', '-_'), '=') || '.' || translate(encode(sha256(('s' || i)::bytea), 'base64'), '+/=', '-_') $$;
CREATE OR REPLACE FUNCTION corpus_util.bcrypt(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT '$2b$12$' || left(translate(encode(sha512(('pw' || i)::bytea), 'base64'), '+=', '.A'), 53) $$;
CREATE OR REPLACE FUNCTION corpus_util.geo(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT to_char(55 + (i % 1000) / 100.0, 'FM90.0000') || ', ' || to_char(12 + (i * 7 % 1000) / 100.0, 'FM90.0000') $$;
