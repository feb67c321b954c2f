-- pgTAP: discovery by name (English and Swedish), by value, and the record of processing.
BEGIN;
SELECT plan(27);
SET search_path = public, privacy_tags;

SELECT ok((SELECT count(*) FROM name_hints) >= 150, 'at least 150 names and name fragments');
SELECT ok((SELECT count(DISTINCT category) FROM name_hints) >= 30, 'suggesting at least 30 categories');
SELECT is((SELECT count(*)::int FROM name_hints h WHERE NOT EXISTS (SELECT FROM categories c WHERE c.name = h.category)), 0,
          'every suggested category is in the taxonomy');

CREATE SCHEMA tap_disc;
CREATE TABLE tap_disc.t (
    id int, email text, e_post text, epostadress text, telefon text, mobilnummer text, personnummer text,
    ip text, adress text, postnummer text, fornamn text, efternamn text, "Födelsedatum" date, lon numeric,
    kontonummer text, losenord text, customer_email_address text, iban text, latitude float8, barn int,
    diagnos text, quantity int, sku text);
CREATE TEMP TABLE found AS SELECT column_name::text AS col, category(suggested_tag) AS cat, rule FROM discover('tap_disc');
SELECT is((SELECT cat FROM found WHERE col = 'email'), 'contact.email', 'email');
SELECT is((SELECT cat FROM found WHERE col = 'e_post'), 'contact.email', 'e_post (Swedish)');
SELECT is((SELECT cat FROM found WHERE col = 'epostadress'), 'contact.email', 'epostadress (Swedish)');
SELECT is((SELECT cat FROM found WHERE col = 'telefon'), 'contact.phone', 'telefon (Swedish)');
SELECT is((SELECT cat FROM found WHERE col = 'mobilnummer'), 'contact.phone', 'mobilnummer (Swedish)');
SELECT is((SELECT cat FROM found WHERE col = 'personnummer'), 'identifiers.national_id', 'personnummer');
SELECT is((SELECT cat FROM found WHERE col = 'ip'), 'network.ip_address', 'ip');
SELECT is((SELECT cat FROM found WHERE col = 'adress'), 'contact.postal_address', 'adress (Swedish)');
SELECT is((SELECT cat FROM found WHERE col = 'postnummer'), 'contact.postal_address.postal_code', 'postnummer');
SELECT is((SELECT cat FROM found WHERE col = 'fornamn'), 'identifiers.name', 'fornamn');
SELECT is((SELECT cat FROM found WHERE col = 'efternamn'), 'identifiers.name', 'efternamn');
SELECT is((SELECT cat FROM found WHERE col = 'Födelsedatum'), 'identifiers.date_of_birth', 'Födelsedatum (capital, non-ASCII)');
SELECT is((SELECT cat FROM found WHERE col = 'lon'), 'professional.compensation', 'lon (salary)');
SELECT is((SELECT cat FROM found WHERE col = 'kontonummer'), 'financial.bank_account', 'kontonummer');
SELECT is((SELECT cat FROM found WHERE col = 'losenord'), 'credentials.password', 'losenord');
SELECT is((SELECT cat FROM found WHERE col = 'customer_email_address'), 'contact.email', 'a fragment inside a longer name');
SELECT is((SELECT cat FROM found WHERE col = 'latitude'), 'location.precise', 'latitude');
SELECT is((SELECT cat FROM found WHERE col = 'diagnos'), 'health', 'diagnos: health, a special category');
SELECT is((SELECT count(*)::int FROM found WHERE col IN ('id', 'quantity', 'sku') AND rule NOT LIKE 'structure:%'), 0,
          'id, quantity and sku are suggested only as columns of a table of people, not by name or value');

-- tagging a suggestion removes it from the list
SELECT tag('tap_disc.t', 'email', 'contact.email; basis=contract');
SELECT ok(NOT EXISTS (SELECT FROM discover('tap_disc') WHERE column_name = 'email'), 'a tagged column is never suggested');
SELECT set_subject('tap_disc.t', 'personnummer', 'person');
SELECT ok(NOT EXISTS (SELECT FROM discover('tap_disc') WHERE column_name = 'personnummer'), 'nor is a subject key');

-- the record of processing follows the tags
SELECT tag('tap_disc.t', 'telefon', 'contact.phone; basis=consent; purpose=callbacks');
SELECT ok(EXISTS (SELECT FROM record_of_processing WHERE purpose = 'callbacks' AND legal_bases = '{consent}'
                                                   AND data_categories = '{contact.phone}'),
          'a new purpose appears with its basis and category');
SELECT ok(EXISTS (SELECT FROM record_of_processing WHERE purpose = 'callbacks' AND data_subjects = '{person}'),
          'with the kind of data subject of its table');
SELECT ok(processing_record() -> 'untagged_basis' @> '[]'::jsonb, 'untagged_basis is a list');

SELECT * FROM finish();
ROLLBACK;
