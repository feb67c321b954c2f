-- fideslang interoperability: every built-in category's fideslang
-- equivalent, a new top level with an unknown CCPA letter, a dataset
-- imported into tags, subject keys and links (with a report of what could
-- not be mapped and why), exported and imported again; and data_map().
SET search_path = public, privacy_tags;
\pset format unaligned

-- most built-in categories have an equivalent; those without are listed
SELECT count(*) AS builtin, count(fideslang) AS with_fideslang FROM categories WHERE builtin;
SELECT string_agg(name, ', ' ORDER BY name) AS without FROM categories WHERE builtin AND fideslang IS NULL;
SELECT name, fideslang FROM categories
 WHERE name IN ('contact.email', 'contact.postal_address.street', 'network.ip_address', 'health.condition',
                'identifiers.national_id', 'financial.payment_card') ORDER BY name;
-- every import target is a built-in category, every fideslang name exported is known to the import
SELECT count(*) FROM fideslang_categories f WHERE f.category IS NOT NULL
   AND NOT EXISTS (SELECT FROM categories c WHERE c.name = f.category AND c.builtin);
SELECT count(*) FROM categories c WHERE c.fideslang IS NOT NULL
   AND NOT EXISTS (SELECT FROM fideslang_categories f WHERE f.fides_key = c.fideslang);

SELECT add_category('loyalty_tier', 'Tier in the loyalty programme.', ccpa => 'D', fideslang => 'user.loyalty.tier');
SELECT * FROM fides_category('user.contact.email');
SELECT * FROM fides_category('user.loyalty.tier.gold');
SELECT * FROM fides_category('user.government_id.birth_certificate');
SELECT * FROM fides_category('system.operations');
SELECT * FROM try($$SELECT privacy_tags.add_category('badfides', 'x', fideslang => 'User Data')$$);

-- a shop whose data map comes from a fideslang dataset
-- the importer owns the shop's tables, but not partner_leads
CREATE ROLE fides_owner;
CREATE ROLE fides_other;
CREATE SCHEMA fshop AUTHORIZATION fides_owner;
CREATE SCHEMA fshop2 AUTHORIZATION fides_owner;
SET ROLE fides_owner;
CREATE TABLE fshop.customers (id bigint PRIMARY KEY, email text, first_name text, street text,
                              loyalty text, birth date, profile jsonb, notes text);
CREATE TABLE fshop.orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES fshop.customers,
                           shipped_to text, card text);
CREATE TABLE fshop.visits (id bigint PRIMARY KEY, customer bigint, ip inet, health text);  -- no foreign key
RESET ROLE;
CREATE TABLE fshop.partner_leads (id bigint PRIMARY KEY, customer_id bigint, email text);
ALTER TABLE fshop.partner_leads OWNER TO fides_other;
SET ROLE fides_owner;
CREATE TEMP TABLE ds AS SELECT $${"dataset": [{
  "fides_key": "shop_db", "name": "Shop database",
  "collections": [
    {"name": "customers", "fields": [
      {"name": "id", "data_categories": ["user.unique_id"], "fides_meta": {"identity": "customer", "primary_key": true}},
      {"name": "email", "data_categories": ["user.contact.email"]},
      {"name": "first_name", "data_categories": ["user.name.first"]},
      {"name": "street", "data_categories": ["user.contact.address.street.apartment"]},
      {"name": "loyalty", "data_categories": ["user.loyalty.tier"]},
      {"name": "birth", "data_categories": ["user.demographic.date_of_birth", "user.demographic.age_range"]},
      {"name": "profile", "data_categories": ["user"], "fields": [
          {"name": "nickname", "data_categories": ["user.account.username"]}]},
      {"name": "notes", "data_categories": ["system.operations"]},
      {"name": "fax", "data_categories": ["user.contact.fax_number"]}]},
    {"name": "orders", "fields": [
      {"name": "id"},
      {"name": "customer_id", "fides_meta": {"references": [{"dataset": "shop_db", "field": "customers.id", "direction": "from"}]}},
      {"name": "shipped_to", "data_categories": ["user.contact.address.mailing_address"]},
      {"name": "card", "data_categories": ["user.financial.credit_card"]}]},
    {"name": "visits", "fields": [
      {"name": "customer", "data_categories": ["user.unique_id"],
       "fides_meta": {"references": [{"dataset": "shop_db", "field": "customers.id", "direction": "from"},
                                     {"dataset": "crm_db", "field": "contacts.id", "direction": "from"}]}},
      {"name": "ip", "data_categories": ["user.device.ip_address"]},
      {"name": "health", "data_categories": ["user.health.condition"]}]},
    {"name": "partner_leads", "fields": [
      {"name": "email", "data_categories": ["user.contact.email"]},
      {"name": "customer_id", "fides_meta": {"references": [{"field": "customers.id"}]}}]},
    {"name": "returns", "fields": [{"name": "reason", "data_categories": ["user.content.private"]}]}
  ]}]}$$::jsonb AS d;

-- a dry run reports and changes nothing
SELECT jsonb_array_length(r -> 'tagged') AS tagged, r -> 'dry_run' AS dry_run
  FROM (SELECT import_fides_dataset((SELECT d FROM ds), 'contract', 'fshop', dry_run => true) r) x;
SELECT count(*) FROM columns WHERE relation::text LIKE 'fshop.%';
-- the import
SELECT jsonb_pretty(import_fides_dataset((SELECT d FROM ds), 'contract', 'fshop'));
SELECT relation, column_name, tag FROM columns WHERE relation::text LIKE 'fshop.%' ORDER BY 1::text, 2;
SELECT relation, column_name, subject_type FROM subjects WHERE relation::text LIKE 'fshop.%' ORDER BY 1::text, 2;
SELECT child, child_columns, parent, parent_columns FROM links WHERE child::text LIKE 'fshop.%' ORDER BY 1::text;
-- fideslang's generic top level "user" has no equivalent (profile above):
-- added as a category of its own, with no CCPA letter, it maps
RESET ROLE;
SELECT add_category('user', 'Data about a user, no more specific (fideslang "user").', fideslang => 'user');
SELECT name, parent, special, ccpa, builtin, fideslang FROM categories WHERE name = 'user';
SET ROLE fides_owner;
SELECT r -> 'tagged' AS tagged, r -> 'not_mapped' AS not_mapped FROM (SELECT import_fides_dataset(
    '{"fides_key": "shop_db", "collections": [{"name": "customers", "fields": [{"name": "profile", "data_categories": ["user"]}]}]}',
    'contract', 'fshop') r) x;
SELECT c -> 'ccpa_unknown' FROM jsonb_array_elements(processing_record() -> 'purposes') c;
-- a special category is tagged when a condition is given
SELECT r -> 'tagged' FROM (SELECT import_fides_dataset(
    '{"fides_key": "shop_db", "collections": [{"name": "visits", "fields": [{"name": "health", "data_categories": ["user.health.condition"]}]}]}',
    'consent', 'fshop', default_special => 'explicit_consent') r) x;

-- export, then import into a copy of the schema: the same tags, keys and links
SELECT jsonb_pretty(export_fides_dataset('fshop', 'shop_db'));
CREATE TABLE fshop2.customers (LIKE fshop.customers INCLUDING ALL);
CREATE TABLE fshop2.orders (LIKE fshop.orders INCLUDING ALL);
ALTER TABLE fshop2.orders ADD FOREIGN KEY (customer_id) REFERENCES fshop2.customers;
CREATE TABLE fshop2.visits (LIKE fshop.visits INCLUDING ALL);
SELECT r -> 'not_mapped' AS not_mapped, jsonb_array_length(r -> 'tagged') AS tagged
  FROM (SELECT import_fides_dataset(export_fides_dataset('fshop', 'shop_db'), schema_name => 'fshop2') r) x;
SELECT a.column_name, a.tag = b.tag AS same_tag, a.relation::text AS rel
  FROM columns a FULL JOIN columns b
    ON b.relation::text = replace(a.relation::text, 'fshop.', 'fshop2.') AND b.column_name = a.column_name
 WHERE a.relation::text LIKE 'fshop.%' OR b.relation::text LIKE 'fshop2.%'
 ORDER BY 3, 1;
SELECT (SELECT array_agg(relation::text || '.' || column_name || ':' || subject_type ORDER BY 1) FROM subjects WHERE relation::text LIKE 'fshop2.%') AS keys2,
       (SELECT array_agg(child::text || '->' || parent::text ORDER BY 1) FROM links WHERE child::text LIKE 'fshop2.%') AS links2;
SELECT (SELECT jsonb_agg(c) FROM jsonb_array_elements(export_fides_dataset('fshop', 'shop_db') #> '{dataset,0,collections}') c
         WHERE c ->> 'name' <> 'partner_leads')
       = export_fides_dataset('fshop2', 'shop_db') #> '{dataset,0,collections}' AS same_export;

-- bad input
SELECT * FROM try($$SELECT privacy_tags.import_fides_dataset('{"collections": 1}')$$);
SELECT * FROM try($$SELECT privacy_tags.import_fides_dataset('[1]')$$);
SELECT * FROM try($$SELECT privacy_tags.import_fides_dataset('{"fides_key": "x", "collections": []}', 'maybe')$$);
SELECT * FROM try($$SELECT privacy_tags.import_fides_dataset('{"fides_key": "x", "collections": []}', default_special => 'because')$$);
SELECT * FROM try($$SELECT privacy_tags.import_fides_dataset('{"fides_key": "x", "collections": []}', schema_name => 'no_such_schema')$$);
SELECT * FROM try($$SELECT privacy_tags.export_fides_dataset('no_such_schema')$$);
SELECT * FROM try($$SELECT privacy_tags.export_fides_dataset('fshop', 'bad key!')$$);

RESET ROLE;
-- the data map of the shop, with a recipient
SELECT add_recipient('Stripe', 'processor', 'US', '{payments}', safeguard => 'scc');
SELECT tag('fshop.orders', 'card', 'financial.payment_card; basis=contract; purpose=payments');
SELECT data_map();
SELECT * FROM try($$SELECT privacy_tags.data_map('png')$$);

SELECT remove_recipient('Stripe');
DROP SCHEMA fshop, fshop2 CASCADE;
DROP TABLE ds;
DELETE FROM links WHERE child::text ~ '^[0-9]+$';
DELETE FROM categories WHERE name IN ('user', 'loyalty_tier');
DROP ROLE fides_other, fides_owner;
