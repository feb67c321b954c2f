-- tag(), untag(), SECURITY LABEL, set_subject() and the inventory views.
SET search_path = public, privacy_tags;

CREATE TABLE customers (
    id int PRIMARY KEY,
    name text,
    email text NOT NULL,
    phone text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_contact_at date,
    note int
);

SELECT tag('customers', 'email', 'contact.email; basis=contract; purpose=account; retain=3 years after last_contact_at');
SELECT tag('customers', 'phone', 'contact.phone; basis=consent; purpose=support; retain=3 years after last_contact_at; on_expiry=nullify');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.name IS 'identifiers.name; basis=contract';
SELECT set_subject('customers', 'id', 'customer', collected_at => 'created_at');
SELECT tag('customers', 'id', 'identifiers.customer_id; basis=contract');
SELECT relation, column_name, category, legal_basis, special, purposes, retention, anchor,
       on_expiry, ccpa, is_special, is_subject_key
  FROM columns ORDER BY relation::text, column_name;
SELECT * FROM subjects ORDER BY relation::text, column_name;
-- labels are stored canonically
SELECT objsubid, provider, label FROM pg_seclabel
 WHERE objoid = 'customers'::regclass ORDER BY objsubid, provider;

-- retagging replaces the tag; untag removes it and says whether there was one
SELECT tag('customers', 'name', 'identifiers.name; basis=contract; purpose=account');
SELECT tag FROM columns WHERE relation = 'customers'::regclass AND column_name = 'name';
SELECT untag('customers', 'name');
SELECT untag('customers', 'name');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.phone IS NULL;
SELECT column_name FROM columns WHERE relation = 'customers'::regclass ORDER BY 1;

-- tagging-time checks: each error with its hint, through tag() and SECURITY LABEL
\set VERBOSITY default
SELECT tag('customers', 'email', 'contact.e_mail');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.email IS 'contact.e_mail';
SELECT tag('customers', 'note', 'health.condition; basis=consent');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.note IS 'health.condition; basis=consent';
SELECT tag('customers', 'note', 'contact.phone; special=explicit_consent');
SELECT tag('customers', 'phone', 'contact.phone; retain=3 years');
SELECT tag('customers', 'phone', 'contact.phone; retain=3 years after last_seen');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.phone IS 'contact.phone; retain=3 years after last_seen';
SELECT tag('customers', 'phone', 'contact.phone; retain=3 years after note');
SELECT tag('customers', 'phone', 'contact.phone; retain=3 years after ctid');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.phone IS 'contact.phone; retain=3 years after name';
SELECT tag('customers', 'email', 'contact.email; retain=3 years after last_contact_at; on_expiry=nullify');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.email IS 'contact.email; retain=3 years after created_at; on_expiry=nullify';
SELECT tag('customers', 'mail', 'contact.email');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.mail IS 'contact.email';
SELECT tag('customers', 'ctid', 'contact.email');
SELECT tag('no_such_table', 'email', 'contact.email');
SELECT tag('customers', 'email', 'contact.email; bassis=x');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.email IS 'not a tag';
SECURITY LABEL FOR privacy_tags ON TABLE customers IS 'contact.email';
SELECT tag(NULL, 'email', 'contact.email');
SELECT tag('customers', NULL, 'contact.email');
SELECT tag('customers', 'email', NULL);
SELECT set_subject('customers', 'id', 'Customer Type');
SELECT set_subject('customers', 'id', 'customer', 'email');
SELECT set_subject('customers', 'id', NULL);
SECURITY LABEL FOR privacy_tags_subject ON COLUMN customers.id IS 'customer; collected_at=nope';
CREATE VIEW customer_emails AS SELECT id, email FROM customers;
SELECT tag('customer_emails', 'email', 'contact.email');
SECURITY LABEL FOR privacy_tags ON COLUMN customer_emails.email IS 'contact.email';
-- a failed check leaves the previous tag in place
SELECT column_name, tag FROM columns WHERE relation = 'customers'::regclass ORDER BY 1;

-- special categories with their condition; domains over dates are dates
CREATE DOMAIN visit_day AS date;
CREATE TABLE patients (id int, diagnosis text, seen visit_day);
SELECT tag('patients', 'diagnosis', 'health.condition; basis=contract; special=health_care; retain=10 years after seen');
SELECT category, special, is_special, ccpa FROM columns WHERE relation = 'patients'::regclass;

-- while a dump is restored (check_function_bodies = off, as pg_dump sets it)
-- the taxonomy is not consulted, so labels may come before user categories
SET check_function_bodies = off;
SECURITY LABEL FOR privacy_tags ON COLUMN patients.id IS 'custom.patient_number';
RESET check_function_bodies;
SELECT column_name, category, ccpa FROM columns WHERE relation = 'patients'::regclass ORDER BY 1;
-- grammar and column checks still apply
SET check_function_bodies = off;
SECURITY LABEL FOR privacy_tags ON COLUMN patients.id IS 'custom.patient_number; retain=1 year after nowhere';
RESET check_function_bodies;

-- only the owner may tag
CREATE ROLE pt_someone;
SET ROLE pt_someone;
SELECT tag('customers', 'name', 'identifiers.name');
SECURITY LABEL FOR privacy_tags ON COLUMN customers.name IS 'identifiers.name';
SELECT untag('customers', 'email');
RESET ROLE;
DROP ROLE pt_someone;

-- names with spaces, double quotes, capitals and non-ASCII letters
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."Web ""Leads""" (
    "Lead ID" int,
    "E-Mail Address" text,
    "Last Contact" timestamptz,
    "Ålder" date,
    "quote""d" date
);
SELECT tag('"Sales Dept"."Web ""Leads"""', 'E-Mail Address', 'contact.email; basis=consent; retain=3 years after "Last Contact"');
SELECT tag('"Sales Dept"."Web ""Leads"""', 'Lead ID', 'identifiers.customer_id; retain=1 year after "Ålder"; on_expiry=nullify');
SELECT tag('"Sales Dept"."Web ""Leads"""', 'Last Contact', 'contact; retain=2 years after "quote""d"; on_expiry=nullify');
SECURITY LABEL FOR privacy_tags ON COLUMN "Sales Dept"."Web ""Leads"""."Ålder" IS 'identifiers.date_of_birth; retain=1 year after ålder';
SECURITY LABEL FOR privacy_tags ON COLUMN "Sales Dept"."Web ""Leads"""."Ålder" IS 'identifiers.date_of_birth; retain=1 year after "Ålder"';
SELECT set_subject('"Sales Dept"."Web ""Leads"""', 'Lead ID', 'lead', 'Last Contact');
SELECT relation, column_name, anchor, tag, is_subject_key FROM columns
 WHERE relation = '"Sales Dept"."Web ""Leads"""'::regclass ORDER BY column_name;
SELECT * FROM subjects WHERE relation = '"Sales Dept"."Web ""Leads"""'::regclass;
SELECT untag('"Sales Dept"."Web ""Leads"""', 'Last Contact');

-- tags follow renames and vanish with the column or the table
ALTER TABLE customers RENAME COLUMN email TO email_address;
ALTER TABLE customers RENAME TO clients;
ALTER TABLE "Sales Dept"."Web ""Leads""" RENAME COLUMN "E-Mail Address" TO "Mail";
SELECT relation, column_name, category FROM columns
 WHERE relation IN ('clients'::regclass, '"Sales Dept"."Web ""Leads"""'::regclass)
 ORDER BY relation::text, column_name;
DROP VIEW customer_emails;
ALTER TABLE clients DROP COLUMN email_address;
SELECT relation, column_name, category FROM columns WHERE relation = 'clients'::regclass ORDER BY 2;
SELECT count(*) FROM pg_seclabel WHERE objoid = 'clients'::regclass AND objsubid = 3;
DROP TABLE "Sales Dept"."Web ""Leads""";
SELECT count(*) AS leftover_labels FROM pg_seclabel l
 WHERE l.provider LIKE 'privacy_tags%' AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = l.objoid);
DROP SCHEMA "Sales Dept";
