-- Declarations (controller, recipients, security measures, sources,
-- automated decisions, processing roles), processing_record() complete for
-- Art. 30(1)(a)-(g) and 30(2), its text form, and the Art. 15 facts of an
-- access document.  The schema is modelled on the seed policies: a
-- Swedish integration platform (customers, support tickets, website
-- visits; HubSpot, Freshdesk, LinkedIn, Google Analytics as recipients,
-- some outside the EEA) that also processes its customers' end users as
-- their processor (Art. 30(2)).
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';
\pset format unaligned

CREATE SCHEMA decl;
CREATE TABLE decl.customers (
    id int PRIMARY KEY,
    name text NOT NULL,
    email text,
    company text,
    ip inet,
    created_at timestamptz NOT NULL,
    last_contact_at timestamptz
);
CREATE TABLE decl.tickets (
    id int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES decl.customers,
    body text,
    opened_at timestamptz NOT NULL
);
CREATE TABLE decl.leads (         -- bought from a lead list, no foreign key
    id int PRIMARY KEY,
    customer_ref int,
    linkedin_url text,
    score int
);
CREATE TABLE decl.end_users (     -- our customers' users: we are their processor
    id int PRIMARY KEY,
    customer_id int NOT NULL REFERENCES decl.customers,
    email text,
    health_note text
);
SELECT privacy_tags.set_subject('decl.customers', 'id', 'customer', 'created_at');
SELECT privacy_tags.link('decl.leads', '{customer_ref}', 'decl.customers', '{id}');
SELECT privacy_tags.tag('decl.customers', 'name', 'identifiers.name; basis=contract; purpose=account');
SELECT privacy_tags.tag('decl.customers', 'email', 'contact.email; basis=consent; purpose=newsletter,marketing; retain=3 years after last_contact_at');
SELECT privacy_tags.tag('decl.customers', 'company', 'professional.employer; basis=contract; purpose=account');
SELECT privacy_tags.tag('decl.customers', 'ip', 'network.ip_address; basis=legitimate_interests; purpose=analytics; retain=30 days after created_at; on_expiry=nullify');
SELECT privacy_tags.tag('decl.tickets', 'body', 'communications.support_ticket; basis=contract; purpose=support; retain=2 years after opened_at');
SELECT privacy_tags.tag('decl.leads', 'linkedin_url', 'contact.social_media; basis=legitimate_interests; purpose=marketing');
SELECT privacy_tags.tag('decl.leads', 'score', 'inferences.score; basis=legitimate_interests; purpose=marketing');
SELECT privacy_tags.tag('decl.end_users', 'email', 'contact.email; basis=contract; purpose=integration');
SELECT privacy_tags.tag('decl.end_users', 'health_note', 'health.condition; basis=contract; special=health_care; purpose=integration');
INSERT INTO decl.customers VALUES
  (1, 'Ada Lind', 'ada@example.com', 'Lind AB', '192.0.2.10', '2025-01-10', '2025-06-01'),
  (2, 'Bo Ek', NULL, 'Ek HB', NULL, '2025-02-01', NULL);
INSERT INTO decl.tickets VALUES (10, 1, 'The connector fails', '2025-03-01');
INSERT INTO decl.leads VALUES (100, 1, 'https://linkedin.example/ada', 87);

-- an empty record says what it lacks
SELECT jsonb_pretty(processing_record() -> 'incomplete');
SELECT processing_record() -> 'controller' AS controller, processing_record() -> 'as_processor' AS as_processor;

-- the declarations
SELECT set_controller('Alumio Integrations AB', 'privacy@alumio.example, Storgatan 1, 111 22 Stockholm',
                      representative => 'Alumio UK Ltd', representative_contact => 'uk@alumio.example',
                      dpo => 'Dana Berg', dpo_contact => 'dpo@alumio.example',
                      supervisory_authority => 'Integritetsskyddsmyndigheten (IMY), imy.se');
SELECT set_controller('Alumio Integrations AB', 'privacy@alumio.example',
                      dpo => 'Dana Berg', dpo_contact => 'dpo@alumio.example',
                      supervisory_authority => 'Integritetsskyddsmyndigheten (IMY), imy.se');  -- replaces
SELECT * FROM privacy_tags.controller;
SELECT add_recipient('HubSpot', 'processor', 'US', '{marketing,newsletter}', safeguard => 'scc',
                     description => 'CRM and email marketing');
SELECT add_recipient('Freshdesk', 'processor', 'DE', '{support}', description => 'Customer support platform');
SELECT add_recipient('LinkedIn', 'controller', 'IE', '{marketing}');
SELECT add_recipient('Google Analytics', 'processor', 'US', '{analytics}', safeguard => 'adequacy_decision',
                     description => 'EU-US Data Privacy Framework');
SELECT add_recipient('Skatteverket', 'public_authority', 'SE', '{billing}');  -- no tagged column says billing
SELECT add_security_measure('Encryption at rest and in transit (TLS 1.2+)');
SELECT add_security_measure('Role-based access on a need-to-know basis');
SELECT add_security_measure('Pseudonymised exports to the analytics platform', 'analytics');
SELECT add_source('decl.leads', 'LinkedIn Sales Navigator', description => 'lead lists bought from LinkedIn');
SELECT add_source('decl.customers', 'subject');
SELECT add_source('decl.customers', 'the customer''s employer', 'company');
SELECT add_automated_decision('marketing', 'Lead scoring decides who is contacted by sales',
                              'A score from company size, visits and LinkedIn profile; above 80 a salesperson calls',
                              'Decides whether you are contacted; no legal effect');
SELECT set_processing_role('integration', 'processor', 'Our customer (the integration''s owner)', 'per customer contract');
SELECT * FROM privacy_tags.recipients ORDER BY name;
SELECT * FROM privacy_tags.security_measures ORDER BY purpose, measure;
SELECT * FROM privacy_tags.sources ORDER BY relation::text, column_name;
SELECT * FROM privacy_tags.automated_decisions;
SELECT * FROM privacy_tags.processing_roles;

-- the complete record
SELECT jsonb_pretty(processing_record() - 'database');
SELECT purpose, role, controller, recipients, transfers, security_measures, automated_decision, sources
  FROM record_of_processing ORDER BY purpose;
SELECT processing_record_text();

-- the Art. 15 part of an access document: customer 1's purposes are
-- account, analytics, marketing, newsletter, support (rolled back: the
-- audit log of later tests stays as they expect)
BEGIN;
SET LOCAL ROLE privacy_admin;
SELECT jsonb_pretty(jsonb_build_object(
           'controller', d -> 'controller', 'recipients', d -> 'recipients', 'transfers', d -> 'transfers',
           'sources', d -> 'sources', 'automated_decisions', d -> 'automated_decisions', 'rights', d -> 'rights',
           'purposes', d #> '{summary,purposes}'))
  FROM (SELECT subject_access('customer', '1') AS d) x;
-- customer 2 has no tickets and no leads: no Freshdesk, no lead-list source
SELECT d -> 'recipients' AS recipients, d -> 'transfers' AS transfers, d -> 'automated_decisions' AS decisions,
       d -> 'sources' AS sources
  FROM (SELECT subject_access('customer', '2') AS d) x;
ROLLBACK;

-- bad input: each a clear error, nothing changed
SELECT * FROM try($$SELECT privacy_tags.add_recipient('Acme', 'processor', 'US', '{support}')$$);
SELECT * FROM try($$SELECT privacy_tags.add_recipient('Acme', 'vendor', 'SE', '{support}')$$);
SELECT * FROM try($$SELECT privacy_tags.add_recipient('Acme', 'processor', 'usa', '{support}')$$);
SELECT * FROM try($$SELECT privacy_tags.add_recipient('Acme', 'processor', 'SE', '{}')$$);
SELECT * FROM try($$SELECT privacy_tags.add_recipient('Acme', 'processor', 'SE', '{Support}')$$);
SELECT * FROM try($$SELECT privacy_tags.add_recipient('Acme', 'processor', 'US', '{support}', safeguard => 'contract')$$);
SELECT * FROM try($$SELECT privacy_tags.add_recipient('', 'processor', 'SE', '{support}')$$);
SELECT * FROM try($$SELECT privacy_tags.set_controller('X', NULL)$$);
SELECT * FROM try($$SELECT privacy_tags.set_processing_role('integration', 'processor')$$);
SELECT * FROM try($$SELECT privacy_tags.set_processing_role('account', 'controller', 'Someone')$$);
SELECT * FROM try($$SELECT privacy_tags.set_processing_role('account', 'owner')$$);
SELECT * FROM try($$SELECT privacy_tags.add_source('decl.leads', 'LinkedIn', 'no_such_column')$$);
SELECT * FROM try($$SELECT privacy_tags.add_automated_decision('marketing', 'x', 'y', NULL)$$);
SELECT * FROM try($$SELECT privacy_tags.add_security_measure('  ')$$);
SELECT count(*) FROM privacy_tags.recipients;

-- only privacy_admin declares; everyone reads
CREATE ROLE decl_user;
SET ROLE decl_user;
SELECT * FROM try($$SELECT privacy_tags.add_security_measure('Backups')$$);
SELECT * FROM try($$SELECT privacy_tags.remove_controller()$$);
SELECT count(*) FROM privacy_tags.recipients;
SELECT jsonb_array_length(privacy_tags.processing_record() -> 'purposes');
RESET ROLE;

-- removing
SELECT remove_recipient('Skatteverket'), remove_recipient('Skatteverket');
SELECT remove_security_measure('Pseudonymised exports to the analytics platform', 'analytics'),
       remove_security_measure('Pseudonymised exports to the analytics platform');
SELECT remove_source('decl.customers', 'company'), remove_source('decl.customers', 'company');
SELECT remove_automated_decision('marketing'), remove_automated_decision('marketing');
SELECT remove_processing_role('integration'), remove_processing_role('integration');
SELECT processing_record() -> 'as_processor' AS as_processor;
SELECT remove_controller(), remove_controller();
SELECT jsonb_pretty(processing_record() -> 'incomplete');

DROP SCHEMA decl CASCADE;
DELETE FROM privacy_tags.recipients; DELETE FROM privacy_tags.security_measures; DELETE FROM privacy_tags.sources;
DROP ROLE decl_user;
