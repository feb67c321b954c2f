-- privacy_tags 1.0: the install script is built from src/sql/*.sql in order.
\echo Use "CREATE EXTENSION privacy_tags" to load this file. \quit

-- Load the library now, so that its security label providers exist for the
-- rest of this session (pg_restore relabels columns right after this).
CREATE FUNCTION privacy_tags._load() RETURNS void
    AS 'MODULE_PATHNAME', 'privacy_tags_load' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags._load() IS
    'Loads the privacy_tags library (and its security label providers) into the session.';
SELECT privacy_tags._load();
-- The privacy_tag type -------------------------------------------------------

-- Everyone may use the type, its operators and the inventory views; the
-- functions that change data check their callers themselves.
GRANT USAGE ON SCHEMA privacy_tags TO PUBLIC;

CREATE TYPE privacy_tags.privacy_tag;

CREATE FUNCTION privacy_tags.privacy_tag_in(cstring) RETURNS privacy_tags.privacy_tag
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_out(privacy_tags.privacy_tag) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_recv(internal) RETURNS privacy_tags.privacy_tag
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_send(privacy_tags.privacy_tag) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE privacy_tags.privacy_tag (
    INPUT = privacy_tags.privacy_tag_in,
    OUTPUT = privacy_tags.privacy_tag_out,
    RECEIVE = privacy_tags.privacy_tag_recv,
    SEND = privacy_tags.privacy_tag_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE privacy_tags.privacy_tag IS
    'The privacy policy of one column: category, legal basis, special-category condition, purposes, retention window and expiry action.';

-- comparison
CREATE FUNCTION privacy_tags.privacy_tag_eq(privacy_tags.privacy_tag, privacy_tags.privacy_tag) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_ne(privacy_tags.privacy_tag, privacy_tags.privacy_tag) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_lt(privacy_tags.privacy_tag, privacy_tags.privacy_tag) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_le(privacy_tags.privacy_tag, privacy_tags.privacy_tag) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_gt(privacy_tags.privacy_tag, privacy_tags.privacy_tag) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_ge(privacy_tags.privacy_tag, privacy_tags.privacy_tag) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_cmp(privacy_tags.privacy_tag, privacy_tags.privacy_tag) RETURNS int4
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_hash(privacy_tags.privacy_tag) RETURNS int4
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_hash_extended(privacy_tags.privacy_tag, int8) RETURNS int8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.privacy_tag_cmp(privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS
    'btree support: orders tags by category path, then by the other fields.';
COMMENT ON FUNCTION privacy_tags.privacy_tag_hash(privacy_tags.privacy_tag) IS 'hash support for privacy_tag.';
COMMENT ON FUNCTION privacy_tags.privacy_tag_hash_extended(privacy_tags.privacy_tag, int8) IS 'hash support (64-bit, seeded) for privacy_tag.';

CREATE OPERATOR privacy_tags.= (
    LEFTARG = privacy_tags.privacy_tag, RIGHTARG = privacy_tags.privacy_tag,
    FUNCTION = privacy_tags.privacy_tag_eq,
    COMMUTATOR = OPERATOR(privacy_tags.=), NEGATOR = OPERATOR(privacy_tags.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR privacy_tags.<> (
    LEFTARG = privacy_tags.privacy_tag, RIGHTARG = privacy_tags.privacy_tag,
    FUNCTION = privacy_tags.privacy_tag_ne,
    COMMUTATOR = OPERATOR(privacy_tags.<>), NEGATOR = OPERATOR(privacy_tags.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR privacy_tags.< (
    LEFTARG = privacy_tags.privacy_tag, RIGHTARG = privacy_tags.privacy_tag,
    FUNCTION = privacy_tags.privacy_tag_lt,
    COMMUTATOR = OPERATOR(privacy_tags.>), NEGATOR = OPERATOR(privacy_tags.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR privacy_tags.<= (
    LEFTARG = privacy_tags.privacy_tag, RIGHTARG = privacy_tags.privacy_tag,
    FUNCTION = privacy_tags.privacy_tag_le,
    COMMUTATOR = OPERATOR(privacy_tags.>=), NEGATOR = OPERATOR(privacy_tags.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR privacy_tags.> (
    LEFTARG = privacy_tags.privacy_tag, RIGHTARG = privacy_tags.privacy_tag,
    FUNCTION = privacy_tags.privacy_tag_gt,
    COMMUTATOR = OPERATOR(privacy_tags.<), NEGATOR = OPERATOR(privacy_tags.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR privacy_tags.>= (
    LEFTARG = privacy_tags.privacy_tag, RIGHTARG = privacy_tags.privacy_tag,
    FUNCTION = privacy_tags.privacy_tag_ge,
    COMMUTATOR = OPERATOR(privacy_tags.<=), NEGATOR = OPERATOR(privacy_tags.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS privacy_tags.privacy_tag_ops
    DEFAULT FOR TYPE privacy_tags.privacy_tag USING btree AS
        OPERATOR 1 privacy_tags.<,
        OPERATOR 2 privacy_tags.<=,
        OPERATOR 3 privacy_tags.=,
        OPERATOR 4 privacy_tags.>=,
        OPERATOR 5 privacy_tags.>,
        FUNCTION 1 privacy_tags.privacy_tag_cmp(privacy_tags.privacy_tag, privacy_tags.privacy_tag);
COMMENT ON OPERATOR CLASS privacy_tags.privacy_tag_ops USING btree IS
    'Default btree operator class of privacy_tag.';

CREATE OPERATOR CLASS privacy_tags.privacy_tag_hash_ops
    DEFAULT FOR TYPE privacy_tags.privacy_tag USING hash AS
        OPERATOR 1 privacy_tags.=,
        FUNCTION 1 privacy_tags.privacy_tag_hash(privacy_tags.privacy_tag),
        FUNCTION 2 privacy_tags.privacy_tag_hash_extended(privacy_tags.privacy_tag, int8);
COMMENT ON OPERATOR CLASS privacy_tags.privacy_tag_hash_ops USING hash IS
    'Default hash operator class of privacy_tag.';

-- category matching on dot boundaries
CREATE FUNCTION privacy_tags.privacy_tag_within(privacy_tags.privacy_tag, privacy_tags.privacy_tag) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_contains(privacy_tags.privacy_tag, privacy_tags.privacy_tag) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_within_text(privacy_tags.privacy_tag, text) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.privacy_tag_text_contains(text, privacy_tags.privacy_tag) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.privacy_tag_within(privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS
    'True when the first tag''s category is the second''s or below it (whole levels only).';
COMMENT ON FUNCTION privacy_tags.privacy_tag_contains(privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS
    'True when the second tag''s category is the first''s or below it (whole levels only).';
COMMENT ON FUNCTION privacy_tags.privacy_tag_within_text(privacy_tags.privacy_tag, text) IS
    'True when the tag''s category is the given path or below it (whole levels only).';
COMMENT ON FUNCTION privacy_tags.privacy_tag_text_contains(text, privacy_tags.privacy_tag) IS
    'True when the tag''s category is the given path or below it (whole levels only).';

CREATE OPERATOR privacy_tags.<@ (
    LEFTARG = privacy_tags.privacy_tag, RIGHTARG = privacy_tags.privacy_tag,
    FUNCTION = privacy_tags.privacy_tag_within,
    COMMUTATOR = OPERATOR(privacy_tags.@>),
    RESTRICT = contsel, JOIN = contjoinsel
);
CREATE OPERATOR privacy_tags.@> (
    LEFTARG = privacy_tags.privacy_tag, RIGHTARG = privacy_tags.privacy_tag,
    FUNCTION = privacy_tags.privacy_tag_contains,
    COMMUTATOR = OPERATOR(privacy_tags.<@),
    RESTRICT = contsel, JOIN = contjoinsel
);
CREATE OPERATOR privacy_tags.<@ (
    LEFTARG = privacy_tags.privacy_tag, RIGHTARG = text,
    FUNCTION = privacy_tags.privacy_tag_within_text,
    COMMUTATOR = OPERATOR(privacy_tags.@>),
    RESTRICT = contsel, JOIN = contjoinsel
);
CREATE OPERATOR privacy_tags.@> (
    LEFTARG = text, RIGHTARG = privacy_tags.privacy_tag,
    FUNCTION = privacy_tags.privacy_tag_text_contains,
    COMMUTATOR = OPERATOR(privacy_tags.<@),
    RESTRICT = contsel, JOIN = contjoinsel
);
COMMENT ON OPERATOR privacy_tags.<@ (privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS 'category is at or below';
COMMENT ON OPERATOR privacy_tags.@> (privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS 'category is at or above';
COMMENT ON OPERATOR privacy_tags.<@ (privacy_tags.privacy_tag, text) IS 'category is at or below';
COMMENT ON OPERATOR privacy_tags.@> (text, privacy_tags.privacy_tag) IS 'category is at or above';
COMMENT ON OPERATOR privacy_tags.= (privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS 'equal';
COMMENT ON OPERATOR privacy_tags.<> (privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS 'not equal';
COMMENT ON OPERATOR privacy_tags.< (privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS 'less than';
COMMENT ON OPERATOR privacy_tags.<= (privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS 'less than or equal';
COMMENT ON OPERATOR privacy_tags.> (privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS 'greater than';
COMMENT ON OPERATOR privacy_tags.>= (privacy_tags.privacy_tag, privacy_tags.privacy_tag) IS 'greater than or equal';

-- accessors
CREATE FUNCTION privacy_tags.category(privacy_tags.privacy_tag) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tag_category' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.legal_basis(privacy_tags.privacy_tag) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tag_legal_basis' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.special_condition(privacy_tags.privacy_tag) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tag_special_condition' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.purposes(privacy_tags.privacy_tag) RETURNS text[]
    AS 'MODULE_PATHNAME', 'privacy_tag_purposes' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.retention(privacy_tags.privacy_tag) RETURNS interval
    AS 'MODULE_PATHNAME', 'privacy_tag_retention' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.retention_anchor(privacy_tags.privacy_tag) RETURNS name
    AS 'MODULE_PATHNAME', 'privacy_tag_retention_anchor' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.expiry_action(privacy_tags.privacy_tag) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tag_expiry_action' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.category(privacy_tags.privacy_tag) IS 'The tag''s category path.';
COMMENT ON FUNCTION privacy_tags.legal_basis(privacy_tags.privacy_tag) IS 'The tag''s GDPR Art. 6 legal basis, or NULL.';
COMMENT ON FUNCTION privacy_tags.special_condition(privacy_tags.privacy_tag) IS 'The tag''s GDPR Art. 9(2) condition, or NULL.';
COMMENT ON FUNCTION privacy_tags.purposes(privacy_tags.privacy_tag) IS 'The tag''s purposes, sorted; empty when none.';
COMMENT ON FUNCTION privacy_tags.retention(privacy_tags.privacy_tag) IS 'The tag''s retention window, or NULL.';
COMMENT ON FUNCTION privacy_tags.retention_anchor(privacy_tags.privacy_tag) IS 'The column the retention window counts from, or NULL.';
COMMENT ON FUNCTION privacy_tags.expiry_action(privacy_tags.privacy_tag) IS 'delete or nullify; NULL without a retention window.';
-- The taxonomy -----------------------------------------------------------------

CREATE TABLE privacy_tags.categories (
    name        text PRIMARY KEY
                CHECK (name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,15}$'
                       AND octet_length(name) <= 255),
    parent      text,  -- checked by add_category(); no self-reference, which pg_dump warns about
    description text NOT NULL,
    special     boolean NOT NULL DEFAULT false,
    ccpa        char(1) NOT NULL CHECK (ccpa BETWEEN 'A' AND 'K'),
    builtin     boolean NOT NULL DEFAULT false,
    CHECK (parent IS NOT DISTINCT FROM
           NULLIF(pg_catalog.regexp_replace(name, '\.?[a-z0-9_]+$', ''), ''))
);
COMMENT ON TABLE privacy_tags.categories IS
    'Categories of personal data: a dot-separated hierarchy, each with its CCPA letter (A-K) and GDPR Art. 9 special-category flag.';
COMMENT ON COLUMN privacy_tags.categories.name IS 'Dot-separated path, e.g. contact.email.';
COMMENT ON COLUMN privacy_tags.categories.parent IS 'The path one level up; NULL at the top.';
COMMENT ON COLUMN privacy_tags.categories.special IS 'True for GDPR Art. 9(1) special categories: tags need a special= condition.';
COMMENT ON COLUMN privacy_tags.categories.ccpa IS 'CCPA category letter, Cal. Civ. Code 1798.140(v)(1)(A)-(K).';
COMMENT ON COLUMN privacy_tags.categories.builtin IS 'True for the categories shipped with the extension.';
GRANT SELECT ON privacy_tags.categories TO PUBLIC;
-- Built-in category taxonomy for privacy_tags.categories.
--
-- Each row is one kind of personal data, named by a dot path whose parent is
-- the path minus its last level (listed before its children). Columns:
--   special  true exactly for the GDPR Art. 9(1) special categories (racial or
--            ethnic origin, political opinions, religious or philosophical
--            beliefs, trade union membership, genetic data, biometric data,
--            health, sex life or sexual orientation) and all their children;
--            criminal data (Art. 10) is not special but has its own rules.
--   ccpa     the CCPA category letter, Cal. Civ. Code 1798.140(v)(1)(A)-(K):
--            A identifiers, B customer records (1798.80(e)), C protected
--            classifications, D commercial information, E biometric
--            information, F internet or network activity, G geolocation,
--            H sensory data, I professional or employment-related, J non-public
--            education information, K inferences and profiles.
--   builtin  true for every row in this file (the shipped taxonomy).
--
-- The set is meant to cover the open fideslang user data categories and every
-- kind of personal data named in the seed privacy policies.
INSERT INTO privacy_tags.categories (name, parent, description, special, ccpa, builtin) VALUES
  ('contact', NULL, 'Details by which a person can be reached, such as email, telephone and postal address.', false, 'B', true),
  ('contact.email', 'contact', 'Email address of a person.', false, 'A', true),
  ('contact.phone', 'contact', 'Telephone or mobile phone number of a person.', false, 'B', true),
  ('contact.fax', 'contact', 'Fax number of a person.', false, 'B', true),
  ('contact.postal_address', 'contact', 'Postal or home address of a person.', false, 'B', true),
  ('contact.postal_address.street', 'contact.postal_address', 'Street name, house number and apartment of a postal address.', false, 'B', true),
  ('contact.postal_address.city', 'contact.postal_address', 'City or town of a postal address.', false, 'B', true),
  ('contact.postal_address.postal_code', 'contact.postal_address', 'Postal or ZIP code of a postal address.', false, 'B', true),
  ('contact.postal_address.region', 'contact.postal_address', 'State, province or region of a postal address.', false, 'B', true),
  ('contact.postal_address.country', 'contact.postal_address', 'Country of a postal address.', false, 'B', true),
  ('contact.shipping_address', 'contact', 'Address to which ordered goods are delivered.', false, 'B', true),
  ('contact.billing_address', 'contact', 'Address to which invoices are sent or to which a payment card is registered.', false, 'B', true),
  ('contact.work_email', 'contact', 'Business email address a person uses at their workplace.', false, 'A', true),
  ('contact.work_phone', 'contact', 'Business telephone number a person uses at their workplace.', false, 'B', true),
  ('contact.social_media', 'contact', 'Social media handle or profile link, such as a LinkedIn or Facebook profile.', false, 'A', true),
  ('contact.website', 'contact', 'Personal website or other URL that identifies a person.', false, 'A', true),
  ('contact.messaging_handle', 'contact', 'Instant messaging or chat handle of a person.', false, 'A', true),
  ('contact.emergency_contact', 'contact', 'Name and contact details of someone to notify in an emergency.', false, 'B', true),

  ('identifiers', NULL, 'Data that directly identifies a person or a record about them.', false, 'A', true),
  ('identifiers.name', 'identifiers', 'Full real name of a person.', false, 'A', true),
  ('identifiers.name.first', 'identifiers.name', 'Given or first name of a person.', false, 'A', true),
  ('identifiers.name.last', 'identifiers.name', 'Family or last name of a person.', false, 'A', true),
  ('identifiers.alias', 'identifiers', 'Alias, nickname or display name a person is known by.', false, 'A', true),
  ('identifiers.username', 'identifiers', 'Account name, login name or user handle.', false, 'A', true),
  ('identifiers.customer_id', 'identifiers', 'Customer, account or member number assigned by the business.', false, 'A', true),
  ('identifiers.pseudonymous_id', 'identifiers', 'Persistent pseudonymous identifier, such as a hashed email address or a random user key.', false, 'A', true),
  ('identifiers.national_id', 'identifiers', 'National identification number, such as a social security number or a Swedish personnummer.', false, 'A', true),
  ('identifiers.passport', 'identifiers', 'Passport number and passport details.', false, 'A', true),
  ('identifiers.drivers_license', 'identifiers', 'Driver license number and details.', false, 'A', true),
  ('identifiers.tax_id', 'identifiers', 'Tax identification number of an individual.', false, 'A', true),
  ('identifiers.vehicle_registration', 'identifiers', 'Vehicle registration or licence plate number.', false, 'A', true),
  ('identifiers.date_of_birth', 'identifiers', 'Date of birth, which also reveals age, a protected classification.', false, 'C', true),
  ('identifiers.signature', 'identifiers', 'Handwritten or electronic signature of a person.', false, 'B', true),

  ('credentials', NULL, 'Secrets a person uses to authenticate to a system.', false, 'A', true),
  ('credentials.password', 'credentials', 'Password or password hash used to log in.', false, 'A', true),
  ('credentials.security_question', 'credentials', 'Security questions and answers used to recover an account.', false, 'A', true),
  ('credentials.token', 'credentials', 'Session, access or API token or key that authenticates a person.', false, 'A', true),
  ('credentials.mfa_secret', 'credentials', 'Second-factor secrets and recovery codes for multi-factor authentication.', false, 'A', true),

  ('account', NULL, 'Data about a person''s user account with a service.', false, 'A', true),
  ('account.profile', 'account', 'Profile information shown to other users, such as colleagues or the employer.', false, 'A', true),
  ('account.status', 'account', 'Account state and lifecycle, such as creation, activation and closure dates.', false, 'D', true),
  ('account.role', 'account', 'Roles, group memberships and permissions an account holds in a system.', false, 'A', true),

  ('device', NULL, 'Information about a device used to access a service.', false, 'F', true),
  ('device.device_id', 'device', 'Persistent unique identifier of a device.', false, 'A', true),
  ('device.mac_address', 'device', 'MAC address of a network interface of a device.', false, 'A', true),
  ('device.imei', 'device', 'IMEI or other hardware identifier of a mobile device.', false, 'A', true),
  ('device.serial_number', 'device', 'Manufacturer serial number of a device.', false, 'A', true),
  ('device.advertising_id', 'device', 'Mobile advertising identifier, such as IDFA or the Android advertising ID.', false, 'A', true),
  ('device.sim', 'device', 'SIM card identifiers and status, such as ICCID and IMSI.', false, 'A', true),
  ('device.browser_fingerprint', 'device', 'Identifier derived from browser and device properties to recognise a device.', false, 'A', true),
  ('device.model', 'device', 'Device type, manufacturer and model.', false, 'F', true),
  ('device.operating_system', 'device', 'Operating system of a device and its version.', false, 'F', true),
  ('device.browser', 'device', 'Browser type, version, language and user agent string.', false, 'F', true),
  ('device.installed_apps', 'device', 'Applications installed or loaded on a device.', false, 'F', true),
  ('device.carrier', 'device', 'Mobile carrier, signal strength and other wireless network attributes of a device.', false, 'F', true),
  ('device.status', 'device', 'Physical state of a device, its check-out and check-in records and who uses it.', false, 'F', true),
  ('device.sensor', 'device', 'Readings from device sensors and telemetry, such as accelerometer or battery data.', false, 'F', true),
  ('device.screen_capture', 'device', 'Screenshots or screen recordings captured from a device.', false, 'H', true),

  ('network', NULL, 'Internet or other electronic network activity of a person.', false, 'F', true),
  ('network.ip_address', 'network', 'Internet Protocol address of a device, including partly masked addresses.', false, 'A', true),
  ('network.cookie', 'network', 'Cookie identifiers and values stored in a browser.', false, 'F', true),
  ('network.online_identifier', 'network', 'Other online identifier that recognises a person across visits or services.', false, 'A', true),
  ('network.browsing_history', 'network', 'Pages visited on a website or across websites, with the times of the visits.', false, 'F', true),
  ('network.clickstream', 'network', 'Sequence of requests and clicks, such as page served, time spent and preceding page.', false, 'F', true),
  ('network.search_history', 'network', 'Search queries entered on a website or in an application.', false, 'F', true),
  ('network.referrer', 'network', 'Referring URL and the landing and exit pages of a visit.', false, 'F', true),
  ('network.isp', 'network', 'Internet service provider and connection type.', false, 'F', true),
  ('network.access_log', 'network', 'Server and application log entries recording requests, times and user agents.', false, 'F', true),
  ('network.login', 'network', 'History of log-ins and log-outs of an account, with time, method and outcome.', false, 'F', true),
  ('network.app_usage', 'network', 'Interaction with an application or service, such as features used and usage patterns.', false, 'F', true),
  ('network.analytics', 'network', 'Web analytics measurements of a visitor, such as visits, session duration, scroll depth and heatmaps.', false, 'F', true),
  ('network.email_engagement', 'network', 'Whether emails and newsletters were opened and their links clicked, as recorded by tracking pixels.', false, 'F', true),
  ('network.ad_interaction', 'network', 'Views of and clicks on advertisements, including retargeting and conversion pixels.', false, 'F', true),
  ('network.social_interaction', 'network', 'Interaction with social media features on a website, such as like and share buttons.', false, 'F', true),

  ('location', NULL, 'Physical location or movements of a person or their device.', false, 'G', true),
  ('location.precise', 'location', 'Precise geolocation, such as GPS coordinates, that locates a person within a small area.', false, 'G', true),
  ('location.approximate', 'location', 'Approximate location, such as the city, region or country derived from an IP address.', false, 'G', true),
  ('location.history', 'location', 'Location history, travel patterns and movements over time.', false, 'G', true),
  ('location.network_signals', 'location', 'Nearby Wi-Fi access points and cell towers used to locate a device.', false, 'G', true),

  ('commercial', NULL, 'Records of products or services purchased, obtained or considered.', false, 'D', true),
  ('commercial.purchase_history', 'commercial', 'History of purchases and the consuming trends of a person.', false, 'D', true),
  ('commercial.order', 'commercial', 'Details of an order, such as items, quantities, prices and delivery.', false, 'D', true),
  ('commercial.cart', 'commercial', 'Contents of a shopping cart or wish list.', false, 'D', true),
  ('commercial.subscription', 'commercial', 'Subscriptions, licences and service plans a person holds.', false, 'D', true),
  ('commercial.product_interest', 'commercial', 'Products or services a person has asked about or considered, such as quotes and sales leads.', false, 'D', true),
  ('commercial.contract', 'commercial', 'Agreements and statements of work concluded with a person.', false, 'D', true),
  ('commercial.reference', 'commercial', 'Use of a customer as a referee or case study in tenders and proposals.', false, 'D', true),
  ('commercial.promotion', 'commercial', 'Participation in promotions, contests, sweepstakes and loyalty programs.', false, 'D', true),
  ('commercial.event_registration', 'commercial', 'Registration for and attendance at events, seminars and webinars.', false, 'D', true),

  ('financial', NULL, 'Financial information about a person, such as payment and account data.', false, 'B', true),
  ('financial.invoice', 'financial', 'Invoices and credit notes issued to or by a person.', false, 'B', true),
  ('financial.payment_card', 'financial', 'Credit or debit card number, expiry date and card holder.', false, 'B', true),
  ('financial.bank_account', 'financial', 'Bank account number, IBAN or routing details.', false, 'B', true),
  ('financial.transaction', 'financial', 'Payment transactions, with amount, date, method and status.', false, 'B', true),
  ('financial.billing', 'financial', 'Billing account details, such as billing contact, payment terms and balance.', false, 'B', true),
  ('financial.digital_wallet', 'financial', 'Digital wallet or payment service account, such as PayPal or Swish.', false, 'B', true),
  ('financial.credit', 'financial', 'Credit history, credit score and creditworthiness.', false, 'B', true),
  ('financial.income', 'financial', 'Income, assets and other information about personal finances.', false, 'B', true),
  ('financial.insurance', 'financial', 'Insurance policy numbers and coverage details, other than health insurance.', false, 'B', true),
  ('financial.tax', 'financial', 'Tax records and tax residence of a person.', false, 'B', true),

  ('professional', NULL, 'Professional or employment-related information about a person.', false, 'I', true),
  ('professional.employer', 'professional', 'Employer or organisation a person works for or represents.', false, 'I', true),
  ('professional.job_title', 'professional', 'Job title, role or position of a person.', false, 'I', true),
  ('professional.employment_history', 'professional', 'Current and past employment, employers and positions held.', false, 'I', true),
  ('professional.employee_id', 'professional', 'Identifier assigned to a person as an employee or contractor.', false, 'I', true),
  ('professional.job_application', 'professional', 'Data submitted or gathered when a person applies for a job.', false, 'I', true),
  ('professional.job_application.assessment', 'professional.job_application', 'Interview notes, test results and hiring decisions about a job applicant.', false, 'I', true),
  ('professional.cv', 'professional', 'Curriculum vitae or resume and cover letter.', false, 'I', true),
  ('professional.reference', 'professional', 'Employment references and reference checks, including referees named by a person.', false, 'I', true),
  ('professional.qualification', 'professional', 'Skills, certifications, licences and completed training courses.', false, 'I', true),
  ('professional.membership', 'professional', 'Memberships of professional bodies and associations.', false, 'I', true),
  ('professional.performance', 'professional', 'Performance reviews, goals and evaluations at work.', false, 'I', true),
  ('professional.compensation', 'professional', 'Salary, bonuses, benefits and other compensation.', false, 'I', true),
  ('professional.background_check', 'professional', 'Pre-employment screening results other than criminal records.', false, 'I', true),

  ('education', NULL, 'Non-public education information about a student.', false, 'J', true),
  ('education.record', 'education', 'Education records kept by an educational institution, including disciplinary records.', false, 'J', true),
  ('education.grades', 'education', 'Grades, test scores and transcripts.', false, 'J', true),
  ('education.degree', 'education', 'Degrees and diplomas earned and schools attended.', false, 'J', true),
  ('education.student_id', 'education', 'Student identification number or code.', false, 'J', true),
  ('education.enrollment', 'education', 'Enrollment, class lists and student schedules.', false, 'J', true),
  ('education.financial_aid', 'education', 'Student financial information, such as grants, loans and tuition payments.', false, 'J', true),

  ('media', NULL, 'Audio, visual or other sensory data about a person.', false, 'H', true),
  ('media.image', 'media', 'Photographs or other still images of a person.', false, 'H', true),
  ('media.image.profile_photo', 'media.image', 'Profile picture or avatar showing a person.', false, 'H', true),
  ('media.video', 'media', 'Video footage of a person, including live broadcasts.', false, 'H', true),
  ('media.recording', 'media', 'Audio or audiovisual recording of a person, such as a meeting recording.', false, 'H', true),
  ('media.recording.call', 'media.recording', 'Recording of a telephone or video call.', false, 'H', true),
  ('media.surveillance', 'media', 'Camera surveillance footage of premises.', false, 'H', true),

  ('communications', NULL, 'Electronic communications with or between persons.', false, 'H', true),
  ('communications.content', 'communications', 'Content of emails, chat messages, web form submissions and other messages.', false, 'H', true),
  ('communications.metadata', 'communications', 'Sender, recipients, time and channel of messages, without their content.', false, 'F', true),
  ('communications.support_ticket', 'communications', 'Customer support requests, inquiries and complaints and their handling.', false, 'D', true),
  ('communications.feedback', 'communications', 'Feedback, comments and questions about products or services.', false, 'D', true),
  ('communications.survey_response', 'communications', 'Answers given in surveys, questionnaires and polls.', false, 'K', true),
  ('communications.forum_post', 'communications', 'Posts and comments published in forums, blogs or community features.', false, 'H', true),
  ('communications.testimonial', 'communications', 'Testimonial or review a person has given for publication.', false, 'H', true),
  ('communications.archive', 'communications', 'Archived copies of emails and other communications kept on behalf of a customer.', false, 'H', true),

  ('inferences', NULL, 'Inferences drawn from personal information to create a profile of a person.', false, 'K', true),
  ('inferences.profile', 'inferences', 'Profile reflecting a person''s characteristics, behavior and attitudes.', false, 'K', true),
  ('inferences.preferences', 'inferences', 'Inferred interests and preferences, such as product affinities.', false, 'K', true),
  ('inferences.segment', 'inferences', 'Marketing segments and custom audiences a person is assigned to.', false, 'K', true),
  ('inferences.score', 'inferences', 'Scores computed about a person, such as lead, churn or propensity scores.', false, 'K', true),
  ('inferences.behavior', 'inferences', 'Predicted behavior and behavior patterns derived from activity.', false, 'K', true),
  ('inferences.automated_decision', 'inferences', 'Outcome and logic of an automated decision made about a person.', false, 'K', true),

  ('children', NULL, 'Data about a child below the age of digital consent, such as a user under 16.', false, 'C', true),
  ('children.age', 'children', 'Age or age verification result of a child.', false, 'C', true),
  ('children.parental_consent', 'children', 'Consent given by a parent or guardian on behalf of a child.', false, 'C', true),
  ('children.guardian', 'children', 'Name and contact details of a child''s parent or guardian.', false, 'B', true),

  ('demographic', NULL, 'Demographic characteristics, including protected classifications under California or federal law.', false, 'C', true),
  ('demographic.age', 'demographic', 'Age or age range of a person.', false, 'C', true),
  ('demographic.gender', 'demographic', 'Sex, gender, gender identity or gender expression.', false, 'C', true),
  ('demographic.marital_status', 'demographic', 'Marital or civil partnership status.', false, 'C', true),
  ('demographic.nationality', 'demographic', 'Nationality, citizenship, national origin or immigration status.', false, 'C', true),
  ('demographic.language', 'demographic', 'Languages a person speaks or reads.', false, 'C', true),
  ('demographic.family', 'demographic', 'Family status, dependents and household composition.', false, 'C', true),
  ('demographic.veteran_status', 'demographic', 'Military or veteran status.', false, 'C', true),
  ('demographic.physical_characteristics', 'demographic', 'Physical characteristics or description, such as height, weight or eye colour.', false, 'B', true),

  ('preferences', NULL, 'Preferences and settings a person has chosen for a service.', false, 'D', true),
  ('preferences.marketing', 'preferences', 'Marketing preferences, such as opted-in channels and topics of interest.', false, 'D', true),
  ('preferences.newsletter', 'preferences', 'Newsletter subscriptions and their status.', false, 'D', true),
  ('preferences.communication', 'preferences', 'Preferred contact channel, time and frequency for communications.', false, 'D', true),
  ('preferences.language', 'preferences', 'Preferred language or region for content and communications.', false, 'D', true),
  ('preferences.settings', 'preferences', 'User interface and account settings remembered for a person.', false, 'D', true),

  ('consent', NULL, 'Records of consents and privacy choices a person has made.', false, 'D', true),
  ('consent.record', 'consent', 'Proof that consent was given, with purpose, time, wording shown and method.', false, 'D', true),
  ('consent.withdrawal', 'consent', 'Record that consent was withdrawn or that processing was objected to.', false, 'D', true),
  ('consent.cookie', 'consent', 'Cookie consent choices per cookie category.', false, 'F', true),
  ('consent.suppression', 'consent', 'Do-not-contact entry that keeps a person off future mailings and calls.', false, 'D', true),
  ('consent.opt_out_signal', 'consent', 'Browser privacy signals, such as Do Not Track or Global Privacy Control.', false, 'F', true),

  ('security', NULL, 'Data processed to protect systems, premises and users from misuse.', false, 'F', true),
  ('security.audit_trail', 'security', 'Audit records of actions a person performed in a system.', false, 'F', true),
  ('security.fraud_signal', 'security', 'Fraud and abuse risk indicators and investigation records.', false, 'K', true),
  ('security.bot_check', 'security', 'Signals used to tell humans from bots, such as CAPTCHA results.', false, 'F', true),
  ('security.physical_access', 'security', 'Entry and exit records from physical access control at premises.', false, 'G', true),

  ('health', NULL, 'Data concerning physical or mental health, a GDPR Art. 9(1) special category.', true, 'C', true),
  ('health.condition', 'health', 'Diagnoses, symptoms, treatment, medication and fitness data about physical or mental health.', true, 'C', true),
  ('health.disability', 'health', 'Physical or mental disability or accommodation needs.', true, 'C', true),
  ('health.insurance', 'health', 'Health or medical insurance data, such as policy and beneficiary numbers.', true, 'B', true),

  ('genetic', NULL, 'Genetic data, a GDPR Art. 9(1) special category.', true, 'E', true),
  ('genetic.dna', 'genetic', 'DNA sequence, genotype or results of genetic tests.', true, 'E', true),
  ('genetic.familial', 'genetic', 'Familial genetic information, such as hereditary conditions of relatives.', true, 'C', true),

  ('biometric', NULL, 'Biometric data processed to uniquely identify a person, a GDPR Art. 9(1) special category.', true, 'E', true),
  ('biometric.fingerprint', 'biometric', 'Fingerprint images or templates.', true, 'E', true),
  ('biometric.face', 'biometric', 'Facial geometry or face recognition templates.', true, 'E', true),
  ('biometric.voice', 'biometric', 'Voiceprints used for speaker recognition.', true, 'E', true),

  ('racial_ethnic_origin', NULL, 'Racial or ethnic origin, a GDPR Art. 9(1) special category.', true, 'C', true),
  ('racial_ethnic_origin.race', 'racial_ethnic_origin', 'Race, color or ancestry of a person.', true, 'C', true),
  ('racial_ethnic_origin.ethnicity', 'racial_ethnic_origin', 'Ethnic origin or ethnic group of a person.', true, 'C', true),

  ('political_opinions', NULL, 'Political opinions, a GDPR Art. 9(1) special category.', true, 'C', true),
  ('political_opinions.party_membership', 'political_opinions', 'Membership of or affiliation with a political party.', true, 'C', true),
  ('political_opinions.donation', 'political_opinions', 'Political donations and campaign contributions.', true, 'C', true),

  ('religious_beliefs', NULL, 'Religious or philosophical beliefs, a GDPR Art. 9(1) special category.', true, 'C', true),
  ('religious_beliefs.religion', 'religious_beliefs', 'Religion, creed or religious affiliation.', true, 'C', true),
  ('religious_beliefs.philosophical', 'religious_beliefs', 'Philosophical beliefs or world view.', true, 'C', true),

  ('trade_union', NULL, 'Trade union membership, a GDPR Art. 9(1) special category.', true, 'I', true),
  ('trade_union.membership', 'trade_union', 'Membership of a trade union.', true, 'I', true),
  ('trade_union.role', 'trade_union', 'Offices held and activities in a trade union.', true, 'I', true),

  ('sex_life', NULL, 'Sex life or sexual orientation, a GDPR Art. 9(1) special category.', true, 'C', true),
  ('sex_life.sexual_orientation', 'sex_life', 'Sexual orientation of a person.', true, 'C', true),

  ('criminal', NULL, 'Criminal convictions and offences, processed only under GDPR Art. 10 and not an Art. 9 special category.', false, 'I', true),
  ('criminal.conviction', 'criminal', 'Criminal convictions and sentences.', false, 'I', true),
  ('criminal.offence', 'criminal', 'Alleged offences, investigations and criminal proceedings.', false, 'I', true),
  ('criminal.record_check', 'criminal', 'Results of criminal record checks, such as police clearance certificates.', false, 'I', true);
-- Categories added by users are dumped with the database.
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.categories', 'WHERE NOT builtin');

-- Tagging ----------------------------------------------------------------------

CREATE FUNCTION privacy_tags.add_category(
    name text,
    description text,
    special boolean DEFAULT NULL,
    ccpa text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parent text := nullif(regexp_replace(add_category.name, '\.?[a-z0-9_]+$', ''), '');
    v_parent_row privacy_tags.categories;
BEGIN
    IF add_category.name IS NULL OR add_category.description IS NULL THEN
        RAISE EXCEPTION 'add_category: name and description must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF add_category.name !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,15}$'
       OR octet_length(add_category.name) > 255 THEN
        RAISE EXCEPTION 'invalid category name "%"', add_category.name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A category is a dot-separated path of at most 16 names of lower-case letters, digits and "_", each starting with a letter, 255 bytes in all.';
    END IF;
    IF EXISTS (SELECT FROM privacy_tags.categories c WHERE c.name = add_category.name) THEN
        RAISE EXCEPTION 'category "%" already exists', add_category.name
            USING ERRCODE = 'unique_violation';
    END IF;
    IF v_parent IS NOT NULL THEN
        SELECT * INTO v_parent_row FROM privacy_tags.categories c WHERE c.name = v_parent;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'parent category "%" does not exist', v_parent
                USING ERRCODE = 'foreign_key_violation',
                      HINT = 'Add the parent category first.';
        END IF;
        IF v_parent_row.special AND add_category.special IS FALSE THEN
            RAISE EXCEPTION 'category "%" is below the special category "%" and must be special too',
                add_category.name, v_parent
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Leave special out; it is inherited from the parent.';
        END IF;
    END IF;
    IF add_category.ccpa IS NULL AND v_parent IS NULL THEN
        RAISE EXCEPTION 'top-level category "%" needs a CCPA letter', add_category.name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give ccpa => ''A'' .. ''K''; categories below a parent inherit its letter.';
    END IF;
    IF add_category.ccpa IS NOT NULL AND add_category.ccpa !~ '^[A-K]$' THEN
        RAISE EXCEPTION 'invalid CCPA letter "%"', add_category.ccpa
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'CCPA categories are the letters A to K.';
    END IF;
    INSERT INTO privacy_tags.categories (name, parent, description, special, ccpa, builtin)
    VALUES (add_category.name, v_parent, add_category.description,
            coalesce(add_category.special, v_parent_row.special, false),
            coalesce(add_category.ccpa, v_parent_row.ccpa), false);
END
$$;
COMMENT ON FUNCTION privacy_tags.add_category(text, text, boolean, text) IS
    'Adds a custom category; special and ccpa default to the parent''s.';

CREATE FUNCTION privacy_tags.tag(rel regclass, col name, tag privacy_tags.privacy_tag)
RETURNS void
AS 'MODULE_PATHNAME', 'privacy_tags_tag' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags.tag(regclass, name, privacy_tags.privacy_tag) IS
    'Tags a column (same as SECURITY LABEL FOR privacy_tags ON COLUMN ..., with the same checks).';

CREATE FUNCTION privacy_tags.untag(rel regclass, col name)
RETURNS boolean
AS 'MODULE_PATHNAME', 'privacy_tags_untag' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags.untag(regclass, name) IS
    'Removes a column''s tag; returns whether it had one.';

CREATE FUNCTION privacy_tags.set_subject(rel regclass, col name, subject_type text, collected_at name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'privacy_tags_set_subject' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags.set_subject(regclass, name, text, name) IS
    'Marks a column as identifying the data subject of its rows; collected_at names the column that says when a row was collected.';

CREATE FUNCTION privacy_tags.unset_subject(rel regclass, col name)
RETURNS boolean
AS 'MODULE_PATHNAME', 'privacy_tags_unset_subject' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION privacy_tags.unset_subject(regclass, name) IS
    'Removes a column''s subject-key mark; returns whether it had one.';

CREATE FUNCTION privacy_tags.subject_label_type(text) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tags_subject_label_type' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION privacy_tags.subject_label_collected_at(text) RETURNS name
    AS 'MODULE_PATHNAME', 'privacy_tags_subject_label_collected_at' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.subject_label_type(text) IS 'The subject type of a privacy_tags_subject label.';
COMMENT ON FUNCTION privacy_tags.subject_label_collected_at(text) IS 'The collected_at column of a privacy_tags_subject label, or NULL.';

CREATE VIEW privacy_tags.subjects AS
SELECT c.oid::pg_catalog.regclass AS relation,
       a.attname AS column_name,
       privacy_tags.subject_label_type(s.label) AS subject_type,
       privacy_tags.subject_label_collected_at(s.label) AS collected_at
  FROM pg_catalog.pg_seclabel s
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.objoid
  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) s.objoid
                                 AND a.attnum OPERATOR(pg_catalog.=) s.objsubid
 WHERE s.provider OPERATOR(pg_catalog.=) 'privacy_tags_subject'
   AND s.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
   AND s.objsubid OPERATOR(pg_catalog.>) 0
   AND NOT a.attisdropped;
COMMENT ON VIEW privacy_tags.subjects IS
    'One row per column that identifies a data subject (set with set_subject()).';

CREATE VIEW privacy_tags.columns AS
SELECT c.oid::pg_catalog.regclass AS relation,
       a.attname AS column_name,
       t.tag,
       privacy_tags.category(t.tag) AS category,
       privacy_tags.legal_basis(t.tag) AS legal_basis,
       privacy_tags.special_condition(t.tag) AS special,
       privacy_tags.purposes(t.tag) AS purposes,
       privacy_tags.retention(t.tag) AS retention,
       privacy_tags.retention_anchor(t.tag) AS anchor,
       privacy_tags.expiry_action(t.tag) AS on_expiry,
       cat.ccpa,
       coalesce(cat.special, false) AS is_special,
       EXISTS (SELECT FROM pg_catalog.pg_seclabel k
                WHERE k.provider OPERATOR(pg_catalog.=) 'privacy_tags_subject'
                  AND k.classoid OPERATOR(pg_catalog.=) s.classoid
                  AND k.objoid OPERATOR(pg_catalog.=) s.objoid
                  AND k.objsubid OPERATOR(pg_catalog.=) s.objsubid) AS is_subject_key
  FROM pg_catalog.pg_seclabel s
  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.objoid
  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) s.objoid
                                 AND a.attnum OPERATOR(pg_catalog.=) s.objsubid
  CROSS JOIN LATERAL (SELECT s.label::privacy_tags.privacy_tag AS tag) t
  LEFT JOIN privacy_tags.categories cat
         ON cat.name OPERATOR(pg_catalog.=) privacy_tags.category(t.tag)
 WHERE s.provider OPERATOR(pg_catalog.=) 'privacy_tags'
   AND s.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
   AND s.objsubid OPERATOR(pg_catalog.>) 0
   AND NOT a.attisdropped;
COMMENT ON VIEW privacy_tags.columns IS
    'The inventory: one row per tagged column, every field of its tag decoded.';
GRANT SELECT ON privacy_tags.columns, privacy_tags.subjects TO PUBLIC;

-- The checks every function that acts for one data subject shares: the type
-- names subject-key columns (set_subject()), so that a typo never gives an
-- empty export or an erasure that erased nothing, and the id fits the
-- indexed tables that record consents, holds, restrictions and suppressions.
CREATE FUNCTION privacy_tags._check_subject(fn text, p_type text, p_id text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_known text;
BEGIN
    IF octet_length(p_id) > 1000 THEN
        RAISE EXCEPTION '%: subject_id is longer than 1000 bytes', fn
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_seclabel s
                    WHERE s.provider = 'privacy_tags_subject'
                      AND privacy_tags.subject_label_type(s.label) = p_type) THEN
        SELECT string_agg(DISTINCT privacy_tags.subject_label_type(s.label), ', ')
          INTO v_known
          FROM pg_seclabel s WHERE s.provider = 'privacy_tags_subject';
        RAISE EXCEPTION '%: unknown subject type "%"', fn, left(p_type, 63)
            USING ERRCODE = 'undefined_object',
                  HINT = coalesce('Known subject types: ' || v_known || '.',
                                  'No column identifies a data subject yet: mark one with set_subject().');
    END IF;
END
$$;
-- Roles ------------------------------------------------------------------------

-- Members of privacy_admin may purge, hold, release (and, later, export and
-- erase).  Roles are cluster-wide: the role outlives DROP EXTENSION.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'privacy_admin') THEN
        CREATE ROLE privacy_admin NOLOGIN;
    END IF;
END
$$;

-- Audit log --------------------------------------------------------------------

-- The key of the subject-id hashes in the audit log.  Generated once per
-- database from pg_strong_random (via gen_random_uuid), dumped with the
-- database so hashes stay comparable after a restore, readable by nobody
-- but its owner.  Stored as the two padded HMAC keys.
CREATE TABLE privacy_tags.audit_key (
    ipad bytea NOT NULL,
    opad bytea NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE privacy_tags.audit_key IS
    'The key of subject_hash(). The oldest row is used, so a key restored from a dump wins over the one CREATE EXTENSION made.';
REVOKE ALL ON privacy_tags.audit_key FROM PUBLIC;
DO $$
DECLARE
    k bytea := pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', '') ||
                                 pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 'hex')
               OPERATOR(pg_catalog.||) pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
    i bytea := k;
    o bytea := k;
BEGIN
    FOR n IN 0..63 LOOP
        i := pg_catalog.set_byte(i, n, pg_catalog.get_byte(k, n) # 54);   -- 0x36
        o := pg_catalog.set_byte(o, n, pg_catalog.get_byte(k, n) # 92);   -- 0x5c
    END LOOP;
    INSERT INTO privacy_tags.audit_key (ipad, opad) VALUES (i, o);
END
$$;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.audit_key', '');

CREATE FUNCTION privacy_tags.subject_hash(subject_type text, subject_id text)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT encode(sha256(k.opad || sha256(k.ipad || convert_to(subject_type || ':' || subject_id, 'UTF8'))), 'hex')
      FROM privacy_tags.audit_key k
     ORDER BY k.generated_at
     LIMIT 1
$$;
COMMENT ON FUNCTION privacy_tags.subject_hash(text, text) IS
    'The keyed hash (HMAC-SHA-256, per-database key) under which the audit log records a subject.';
REVOKE ALL ON FUNCTION privacy_tags.subject_hash(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.subject_hash(text, text) TO privacy_admin;

CREATE TABLE privacy_tags.audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    actor        name NOT NULL DEFAULT SESSION_USER,
    action       text NOT NULL,
    relation     text,
    column_name  name,
    subject_type text,
    subject_hash text,
    rows         bigint,
    details      jsonb
);
COMMENT ON TABLE privacy_tags.audit_log IS
    'Append-only record of purges, holds and data-subject requests; subjects appear only as keyed hashes.';
REVOKE ALL ON privacy_tags.audit_log FROM PUBLIC;
GRANT SELECT ON privacy_tags.audit_log TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.audit_log_id_seq', '');

-- Append-only: even roles with the privilege (or superusers other than the
-- owner) cannot change or remove entries; only the table's owner can.
CREATE FUNCTION privacy_tags._audit_log_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_user OPERATOR(pg_catalog.<>) (SELECT r.rolname FROM pg_catalog.pg_class c
                          JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) c.relowner
                         WHERE c.oid OPERATOR(pg_catalog.=) TG_RELID) THEN
        RAISE EXCEPTION 'privacy_tags.audit_log is append-only'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only the owner of the audit log may change or remove entries.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON privacy_tags.audit_log
    FOR EACH ROW EXECUTE FUNCTION privacy_tags._audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON privacy_tags.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION privacy_tags._audit_log_guard();

-- Legal holds ------------------------------------------------------------------

CREATE TABLE privacy_tags.legal_holds (
    id           bigserial PRIMARY KEY,
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    reason       text NOT NULL,
    held_until   timestamptz,
    created_by   name NOT NULL DEFAULT SESSION_USER,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    released_by  name,
    released_at  timestamptz
);
CREATE INDEX ON privacy_tags.legal_holds (subject_type, subject_id) WHERE released_at IS NULL;
COMMENT ON TABLE privacy_tags.legal_holds IS
    'Subjects whose data must not be purged or erased (litigation, investigations), until released or until held_until.';
REVOKE ALL ON privacy_tags.legal_holds FROM PUBLIC;
GRANT SELECT ON privacy_tags.legal_holds TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.legal_holds', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.legal_holds_id_seq', '');

CREATE FUNCTION privacy_tags.hold(subject_type text, subject_id text, reason text, until timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF hold.subject_type IS NULL OR hold.subject_id IS NULL OR hold.reason IS NULL THEN
        RAISE EXCEPTION 'hold: subject_type, subject_id and reason must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF btrim(hold.reason) = '' THEN
        RAISE EXCEPTION 'hold: reason must not be empty' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Name the claim or obligation the data is held for: it goes into the record.';
    END IF;
    PERFORM privacy_tags._check_subject('hold', hold.subject_type, hold.subject_id);
    IF hold.until IS NOT NULL AND hold.until <= now() THEN
        RAISE EXCEPTION 'hold: until must be in the future'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave until out for a hold that lasts until release().';
    END IF;
    INSERT INTO privacy_tags.legal_holds (subject_type, subject_id, reason, held_until)
    VALUES (hold.subject_type, hold.subject_id, hold.reason, hold.until)
    RETURNING id INTO v_id;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('hold', hold.subject_type, privacy_tags.subject_hash(hold.subject_type, hold.subject_id),
            jsonb_build_object('hold_id', v_id, 'until', hold.until));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION privacy_tags.hold(text, text, text, timestamptz) IS
    'Puts a subject under legal hold: purge and erasure skip their rows until release() or until.';

CREATE FUNCTION privacy_tags.release(subject_type text, subject_id text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    IF release.subject_type IS NULL OR release.subject_id IS NULL THEN
        RAISE EXCEPTION 'release: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE privacy_tags.legal_holds h
       SET released_at = now(), released_by = session_user
     WHERE h.subject_type = release.subject_type AND h.subject_id = release.subject_id
       AND h.released_at IS NULL;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows)
    VALUES ('release', release.subject_type,
            privacy_tags.subject_hash(release.subject_type, release.subject_id), v_n);
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION privacy_tags.release(text, text) IS
    'Releases every active legal hold of a subject; returns how many.';

REVOKE ALL ON FUNCTION privacy_tags.hold(text, text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags.release(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.hold(text, text, text, timestamptz) TO privacy_admin;
GRANT EXECUTE ON FUNCTION privacy_tags.release(text, text) TO privacy_admin;

-- Enforcement ------------------------------------------------------------------

CREATE FUNCTION privacy_tags.retention_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME' LANGUAGE C;
COMMENT ON FUNCTION privacy_tags.retention_trigger() IS
    'Row trigger installed by enforce(): refuses (or expires) values past their retention window.';

-- (Re)create the retention trigger of rel from its tags; changed_attnum and
-- changed_label give a tag that is about to be stored (NULL: removed).
CREATE FUNCTION privacy_tags._install_trigger(rel regclass, changed_attnum int2, changed_label text,
                                              changed_subject boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_args text;
    v_n integer;
    v_part regclass;
BEGIN
    -- windowed and consent-based columns: ('column', 'tag'); subject keys:
    -- ('column', '@subject <type>')
    SELECT string_agg(x.arg, ', ' ORDER BY x.attnum, x.kind),
           count(*) FILTER (WHERE x.kind = 0 AND x.windowed)
      INTO v_args, v_n
      FROM (SELECT a.attnum, 0 AS kind, format('%L, %L', a.attname, t.tag::text) AS arg,
                   privacy_tags.retention(t.tag) IS NOT NULL AS windowed
              FROM pg_attribute a
              LEFT JOIN pg_seclabel s
                     ON s.objoid = a.attrelid AND s.objsubid = a.attnum
                    AND s.classoid = 'pg_class'::regclass AND s.provider = 'privacy_tags'
              CROSS JOIN LATERAL (
                    SELECT (CASE WHEN a.attnum = changed_attnum AND NOT changed_subject THEN changed_label
                                 ELSE s.label END)::privacy_tags.privacy_tag AS tag) t
             WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
               AND t.tag IS NOT NULL
               AND (privacy_tags.retention(t.tag) IS NOT NULL OR privacy_tags.legal_basis(t.tag) = 'consent')
            UNION ALL
            SELECT a.attnum, 1, format('%L, %L', a.attname, '@subject ' || privacy_tags.subject_label_type(l.label)), false
              FROM pg_attribute a
              LEFT JOIN pg_seclabel s
                     ON s.objoid = a.attrelid AND s.objsubid = a.attnum
                    AND s.classoid = 'pg_class'::regclass AND s.provider = 'privacy_tags_subject'
              CROSS JOIN LATERAL (
                    SELECT CASE WHEN a.attnum = changed_attnum AND changed_subject THEN changed_label
                                ELSE s.label END AS label) l
             WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND l.label IS NOT NULL) x;
    IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = rel AND tgname = 'privacy_tags_retention') THEN
        EXECUTE format('DROP TRIGGER privacy_tags_retention ON %s', rel);
    END IF;
    -- a partition enforced on its own before its parent gives way: the
    -- parent's trigger is cloned onto every partition
    FOR v_part IN
        SELECT t.tgrelid::regclass
          FROM pg_partition_tree(rel) p
          JOIN pg_trigger t ON t.tgrelid = p.relid
         WHERE p.level > 0 AND t.tgname = 'privacy_tags_retention' AND t.tgparentid = 0
    LOOP
        EXECUTE format('DROP TRIGGER privacy_tags_retention ON %s', v_part);
    END LOOP;
    EXECUTE format('CREATE TRIGGER privacy_tags_retention BEFORE INSERT OR UPDATE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION privacy_tags.retention_trigger(%s)',
                   rel, coalesce(v_args, ''));
    RETURN v_n;
END
$$;

-- Called by the label hook when a tag changes.
CREATE FUNCTION privacy_tags._refresh_enforcement(rel regclass, changed_attnum int2, changed_label text,
                                                  changed_subject boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_trigger
                WHERE tgrelid = rel AND tgname = 'privacy_tags_retention' AND tgparentid = 0) THEN
        PERFORM privacy_tags._install_trigger(rel, changed_attnum, changed_label, changed_subject);
    END IF;
END
$$;

-- The checks of every function that takes a table: not NULL, exists, and an
-- ordinary, partitioned or foreign table.  Returns the relkind.
CREATE FUNCTION privacy_tags._check_table(fn text, rel regclass)
RETURNS "char"
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_kind "char";
BEGIN
    IF rel IS NULL THEN
        RAISE EXCEPTION '%: relation must not be NULL', fn USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT relkind INTO v_kind FROM pg_class WHERE oid = rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', rel::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF v_kind NOT IN ('r', 'p', 'f') THEN
        RAISE EXCEPTION '"%" is not a table', rel
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Retention is enforced on tables, partitioned tables and foreign tables.';
    END IF;
    RETURN v_kind;
END
$$;

CREATE FUNCTION privacy_tags.enforce(rel regclass)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_parent regclass;
    v_n integer;
BEGIN
    PERFORM privacy_tags._check_table('enforce', rel);
    SELECT c.oid::regclass INTO v_parent
      FROM pg_trigger t
      JOIN pg_trigger pt ON pt.oid = t.tgparentid
      JOIN pg_class c ON c.oid = pt.tgrelid
     WHERE t.tgrelid = rel AND t.tgname = 'privacy_tags_retention';
    IF FOUND THEN
        RAISE EXCEPTION '"%" is a partition of "%", whose retention trigger it inherits', rel, v_parent
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Tag and enforce the partitioned table: its trigger checks every partition.';
    END IF;
    v_n := privacy_tags._install_trigger(rel, 0::int2, NULL);
    IF v_n = 0 THEN
        RAISE NOTICE 'no column of "%" has a retention window yet', rel
            USING HINT = 'The trigger picks up windows as soon as columns are tagged with retain=.';
    END IF;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION privacy_tags.enforce(regclass) IS
    'Installs the retention trigger on a table (and its partitions); returns the number of windowed columns.';

CREATE FUNCTION privacy_tags.unenforce(rel regclass)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_had boolean;
BEGIN
    PERFORM privacy_tags._check_table('unenforce', rel);
    v_had := EXISTS (SELECT FROM pg_trigger
                      WHERE tgrelid = rel AND tgname = 'privacy_tags_retention' AND tgparentid = 0);
    IF v_had THEN
        EXECUTE format('DROP TRIGGER privacy_tags_retention ON %s', rel);
    END IF;
    RETURN v_had;
END
$$;
COMMENT ON FUNCTION privacy_tags.unenforce(regclass) IS
    'Removes the retention trigger from a table; returns whether it was there.';

-- Purge ------------------------------------------------------------------------

-- A predicate on alias t: some row of another table points at this row of
-- rel through a foreign key (only keys that block a delete, ON DELETE NO
-- ACTION or RESTRICT, when blocking_only).  NULL when no key points at rel.
CREATE FUNCTION privacy_tags._referenced_by(rel regclass, blocking_only boolean)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(format('EXISTS (SELECT FROM %s x WHERE (%s) = (%s))', f.conrelid::regclass,
                             (SELECT string_agg(format('x.%I', a.attname), ', ' ORDER BY k.n)
                                FROM unnest(f.conkey) WITH ORDINALITY k(attnum, n)
                                JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum),
                             (SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.n)
                                FROM unnest(f.confkey) WITH ORDINALITY k(attnum, n)
                                JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.attnum)),
                      ' OR ' ORDER BY f.conname)
      FROM pg_constraint f
     WHERE f.contype = 'f' AND f.confrelid = rel AND f.conparentid = 0
       AND (NOT blocking_only OR f.confdeltype IN ('a', 'r'))
$$;
REVOKE ALL ON FUNCTION privacy_tags._referenced_by(regclass, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags._referenced_by(regclass, boolean) TO privacy_admin;

-- The windowed columns of the relations to purge, with everything needed to
-- build the statements.  One row per column.
CREATE FUNCTION privacy_tags._purge_plan(rel regclass, as_of timestamptz)
RETURNS TABLE (relation regclass, column_name name, action text, expired text, bound text, held text, blocked text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    v_anchor_type regtype;
    v_lo text;
    v_hi text;
BEGIN
    FOR r IN
        SELECT c.relation AS rel, c.column_name AS col, c.retention AS w, c.anchor AS anc, c.on_expiry AS act
          FROM privacy_tags.columns c
          JOIN pg_class k ON k.oid = c.relation
          LEFT JOIN LATERAL (
                -- how many levels of tables point at this one through foreign
                -- keys: those are purged first, so that rows they stop
                -- pointing at can go in the same run
                WITH RECURSIVE up(relid, depth) AS (
                    SELECT c.relation::oid, 0
                    UNION
                    SELECT f.conrelid, up.depth + 1
                      FROM up JOIN pg_constraint f ON f.confrelid = up.relid AND f.contype = 'f'
                     WHERE up.depth < 16 AND f.conrelid <> up.relid)
                SELECT max(depth) AS height FROM up) h ON true
         WHERE c.retention IS NOT NULL AND c.anchor IS NOT NULL
           AND (_purge_plan.rel IS NULL OR c.relation = _purge_plan.rel)
           AND k.relkind IN ('r', 'p', 'f') AND NOT k.relispartition
         ORDER BY h.height, c.relation::text, c.on_expiry, c.column_name
    LOOP
        SELECT a.atttypid::regtype INTO v_anchor_type
          FROM pg_attribute a WHERE a.attrelid = r.rel AND a.attname = r.anc AND NOT a.attisdropped;
        IF v_anchor_type IS NULL THEN
            RAISE EXCEPTION 'anchor column "%" of relation "%" does not exist', r.anc, r.rel
                USING ERRCODE = 'undefined_column',
                      HINT = 'The anchor was renamed or dropped; retag column "' || r.col || '".';
        END IF;
        relation := r.rel;
        column_name := r.col;
        action := r.act;
        -- exact test, evaluated on the row as it is when deleted/updated;
        -- anchors more than 4 days before the cut-off are expired whatever
        -- month ends and time zones do, and take one comparison with a
        -- constant (nearly all rows of a purge)
        -- (both cut-offs are computed here and written as constants of the
        -- anchor's type, so the statement compares with literals)
        EXECUTE format('SELECT ((%1$L::timestamptz - interval ''4 days'') - %2$L::interval)::%3$s::text, '
                       '(%1$L::timestamptz - %2$L::interval + interval ''3 days'')::%3$s::text',
                       as_of, r.w, v_anchor_type)
           INTO v_lo, v_hi;
        expired := format('(t.%1$I <= %4$L::%5$s'
                          ' OR t.%1$I::timestamptz + %2$L::interval <= %3$L::timestamptz)',
                          r.anc, r.w, as_of, v_lo, v_anchor_type)
                   || CASE WHEN r.act = 'nullify' THEN format(' AND t.%I IS NOT NULL', r.col) ELSE '' END;
        -- an index-friendly bound that every expired anchor satisfies (month
        -- arithmetic moves a date by at most 3 days at the end of a month)
        bound := format('t.%1$I <= %2$L::%3$s', r.anc, v_hi, v_anchor_type);
        SELECT string_agg(format('EXISTS (SELECT FROM privacy_tags.legal_holds h '
                                 'WHERE h.subject_type = %L AND h.subject_id = (t.%I)::text '
                                 'AND h.released_at IS NULL AND (h.held_until IS NULL OR h.held_until > %L::timestamptz))',
                                 s.subject_type, s.column_name, as_of), ' OR ')
          INTO held
          FROM privacy_tags.subjects s
         WHERE s.relation = r.rel
           AND EXISTS (SELECT FROM privacy_tags.legal_holds h
                        WHERE h.subject_type = s.subject_type AND h.released_at IS NULL
                          AND (h.held_until IS NULL OR h.held_until > as_of));
        -- rows that other rows point at with ON DELETE NO ACTION/RESTRICT
        blocked := NULL;
        IF r.act = 'delete' THEN
            blocked := privacy_tags._referenced_by(r.rel, true);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- purge(), each batch of run_purge() and every erasure take this lock for
-- the rest of their transaction.  They change the same rows in different
-- orders (purge children first across all tables, erasure one subject's
-- tables), so two of them running at once could deadlock; one at a time,
-- they never do.  Ordinary writers are not affected.
CREATE FUNCTION privacy_tags._serialize_changes()
RETURNS void
LANGUAGE sql
AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(1886680947, 1);	-- 'ptag', 1
$$;
REVOKE ALL ON FUNCTION privacy_tags._serialize_changes() FROM PUBLIC;

-- Runs a purge's DELETE and returns its row count.  A row that another
-- session made a referrer of after the statement's snapshot fails the
-- foreign-key check: the statement is run again, and its new snapshot sees
-- the referrer and keeps the row.
CREATE FUNCTION privacy_tags._delete_retrying(stmt text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n bigint;
BEGIN
    FOR v_try IN 1..5 LOOP
        BEGIN
            EXECUTE stmt;
            GET DIAGNOSTICS v_n = ROW_COUNT;
            RETURN v_n;
        EXCEPTION WHEN foreign_key_violation THEN
            IF v_try = 5 THEN
                RAISE;
            END IF;
        END;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION privacy_tags._delete_retrying(text) FROM PUBLIC;

-- purge(rel) and run_purge(rel): rel is a table with a retention window.
CREATE FUNCTION privacy_tags._check_purge_target(fn text, rel regclass)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM privacy_tags._check_table(fn, rel);
    IF NOT EXISTS (SELECT FROM privacy_tags.columns c
                    WHERE c.relation = rel AND c.retention IS NOT NULL) THEN
        RAISE EXCEPTION 'relation "%" has no column with a retention window', rel
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Tag a column with retain=<interval> after <column> first.';
    END IF;
END
$$;

CREATE FUNCTION privacy_tags.purge(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT now(), dry_run boolean DEFAULT false)
RETURNS TABLE (relation regclass, column_name name, action text, rows bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    p record;
    v_n bigint;
    v_keep text;
    v_logged boolean := false;
    v_results jsonb := '[]';
BEGIN
    IF as_of IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'purge: as_of and dry_run must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF purge.rel IS NOT NULL THEN
        PERFORM privacy_tags._check_purge_target('purge', purge.rel);
    END IF;

    IF dry_run THEN
        -- The real run, in a subtransaction that is then rolled back: what it
        -- reports is exactly what the real run would do, foreign keys,
        -- cascades and user triggers included.
        BEGIN
            SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') INTO v_results
              FROM privacy_tags.purge(purge.rel, purge.as_of, false) x;
            RAISE EXCEPTION USING ERRCODE = 'PTDRY';
        EXCEPTION WHEN SQLSTATE 'PTDRY' THEN
            NULL;
        END;
        FOR p IN SELECT * FROM jsonb_to_recordset(v_results)
                   AS x(relation regclass, column_name name, action text, rows bigint) LOOP
            relation := p.relation;
            column_name := p.column_name;
            action := p.action;
            rows := p.rows;
            RETURN NEXT;
            IF p.action IN ('delete', 'nullify') AND p.rows > 0 THEN
                INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                VALUES ('purge', p.relation::text, p.column_name, p.rows,
                        jsonb_build_object('on_expiry', p.action, 'as_of', as_of, 'dry_run', true));
                v_logged := true;
            END IF;
        END LOOP;
    ELSE
        PERFORM privacy_tags._serialize_changes();
        FOR p IN SELECT * FROM privacy_tags._purge_plan(purge.rel, purge.as_of) LOOP
            v_keep := coalesce(p.held, 'false') || CASE WHEN p.blocked IS NULL THEN '' ELSE ' OR ' || p.blocked END;
            relation := p.relation;
            column_name := p.column_name;
            IF p.action = 'delete' THEN
                v_n := privacy_tags._delete_retrying(format('DELETE FROM %s t WHERE %s AND %s AND NOT (%s)',
                                                            p.relation, p.bound, p.expired, v_keep));
            ELSE
                EXECUTE format('UPDATE %s t SET %I = NULL WHERE %s AND %s AND NOT (%s)',
                               p.relation, p.column_name, p.bound, p.expired, v_keep);
                GET DIAGNOSTICS v_n = ROW_COUNT;
            END IF;
            action := p.action;
            rows := v_n;
            RETURN NEXT;
            IF v_n > 0 THEN
                INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
                VALUES ('purge', p.relation::text, p.column_name, v_n,
                        jsonb_build_object('on_expiry', p.action, 'as_of', as_of, 'dry_run', false));
                v_logged := true;
            END IF;

            -- expired rows left alone: held subjects, rows other rows point at
            IF p.held IS NOT NULL THEN
                EXECUTE format('SELECT count(*) FROM %s t WHERE %s AND %s AND (%s)',
                               p.relation, p.bound, p.expired, p.held) INTO v_n;
                IF v_n > 0 THEN
                    action := 'held';
                    rows := v_n;
                    RETURN NEXT;
                END IF;
            END IF;
            IF p.blocked IS NOT NULL THEN
                EXECUTE format('SELECT count(*) FROM %s t WHERE %s AND %s AND NOT (%s) AND (%s)',
                               p.relation, p.bound, p.expired, coalesce(p.held, 'false'), p.blocked) INTO v_n;
                IF v_n > 0 THEN
                    action := 'referenced';
                    rows := v_n;
                    RETURN NEXT;
                END IF;
            END IF;
        END LOOP;
    END IF;
    IF NOT v_logged THEN
        -- nothing was due: the run is on record all the same
        INSERT INTO privacy_tags.audit_log (action, relation, rows, details)
        VALUES ('purge', purge.rel::text, 0, jsonb_build_object('as_of', as_of, 'dry_run', dry_run));
    END IF;
END
$$;
COMMENT ON FUNCTION privacy_tags.purge(regclass, timestamptz, boolean) IS
    'Deletes or nulls every value past its retention window as of as_of (dry_run: does it in a subtransaction it rolls back, and reports); skips held subjects and rows other rows point at.';
REVOKE ALL ON FUNCTION privacy_tags.purge(regclass, timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.purge(regclass, timestamptz, boolean) TO privacy_admin;

-- One batch of a purge: at most batch_size rows of one (leaf) relation for
-- one column, in the transaction of the caller.  Returns the rows changed.
CREATE FUNCTION privacy_tags._purge_batch(target regclass, parent regclass, col name,
                                          as_of timestamptz, batch_size integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
DECLARE
    p record;
    v_keep text;
    v_n bigint;
BEGIN
    PERFORM privacy_tags._serialize_changes();
    SELECT * INTO p FROM privacy_tags._purge_plan(parent, as_of) x WHERE x.column_name = col;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    v_keep := coalesce(p.held, 'false') || CASE WHEN p.blocked IS NULL THEN '' ELSE ' OR ' || p.blocked END;
    IF p.action = 'delete' THEN
        v_n := privacy_tags._delete_retrying(
                   format('DELETE FROM %1$s t WHERE t.ctid = ANY (ARRAY(SELECT t.ctid FROM %1$s t '
                          'WHERE %2$s AND %3$s AND NOT (%4$s) LIMIT %5$s)) AND %3$s AND NOT (%4$s)',
                          target, p.bound, p.expired, v_keep, batch_size));
    ELSE
        EXECUTE format('UPDATE %1$s t SET %6$I = NULL WHERE t.ctid = ANY (ARRAY(SELECT t.ctid FROM %1$s t '
                       'WHERE %2$s AND %3$s AND NOT (%4$s) LIMIT %5$s)) AND %3$s AND NOT (%4$s)',
                       target, p.bound, p.expired, v_keep, batch_size, col);
        GET DIAGNOSTICS v_n = ROW_COUNT;
    END IF;
    IF v_n > 0 THEN
        INSERT INTO privacy_tags.audit_log (action, relation, column_name, rows, details)
        VALUES ('purge', target::text, col, v_n,
                jsonb_build_object('on_expiry', p.action, 'as_of', as_of, 'batch', true));
    END IF;
    RETURN v_n;
END
$$;
REVOKE ALL ON FUNCTION privacy_tags._purge_batch(regclass, regclass, name, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags._purge_batch(regclass, regclass, name, timestamptz, integer) TO privacy_admin;

CREATE PROCEDURE privacy_tags.run_purge(rel regclass DEFAULT NULL, as_of timestamptz DEFAULT NULL,
                                        batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
AS $$
DECLARE
    v_as_of timestamptz := coalesce(as_of, now());
    c record;
    v_n bigint;
    v_total bigint := 0;
BEGIN
    IF batch_size IS NULL THEN
        RAISE EXCEPTION 'run_purge: batch_size must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF batch_size < 1 THEN
        RAISE EXCEPTION 'run_purge: batch_size must be at least 1'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF rel IS NOT NULL THEN
        PERFORM privacy_tags._check_purge_target('run_purge', rel);
    END IF;
    FOR c IN
        -- in the plan's order, as purge(): tables that point at others first
        SELECT x.relation AS parent, x.column_name, x.action,
               coalesce(leaf.relid, x.relation) AS target, k.relkind, pg_catalog.min(x.ord) AS ord
          FROM privacy_tags._purge_plan(rel, v_as_of)
               WITH ORDINALITY x(relation, column_name, action, expired, bound, held, blocked, ord)
          JOIN pg_catalog.pg_class k ON k.oid OPERATOR(pg_catalog.=) x.relation
          LEFT JOIN LATERAL pg_catalog.pg_partition_tree(x.relation) leaf
                 ON k.relkind OPERATOR(pg_catalog.=) 'p' AND leaf.isleaf
         GROUP BY 1, 2, 3, 4, 5
         ORDER BY 6, 4
    LOOP
        IF c.relkind OPERATOR(pg_catalog.=) 'f' THEN
            -- no ctid to batch by on a foreign table: one statement
            SELECT coalesce(pg_catalog.sum(p.rows), 0) INTO v_n
              FROM privacy_tags.purge(c.parent, v_as_of) p
             WHERE p.column_name OPERATOR(pg_catalog.=) c.column_name
               AND p.action OPERATOR(pg_catalog.=) c.action;
            COMMIT;
            CONTINUE;
        END IF;
        LOOP
            v_n := privacy_tags._purge_batch(c.target, c.parent, c.column_name, v_as_of, batch_size);
            COMMIT;
            v_total := v_total OPERATOR(pg_catalog.+) v_n;
            EXIT WHEN v_n OPERATOR(pg_catalog.<) batch_size;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer) IS
    'Purges like purge(), committing every batch_size rows, so a long purge never holds one huge transaction.';
REVOKE ALL ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE privacy_tags.run_purge(regclass, timestamptz, integer) TO privacy_admin;

-- Scheduling through pg_cron ----------------------------------------------------

CREATE FUNCTION privacy_tags.schedule_purge(schedule text, job_name text DEFAULT 'privacy_tags_purge')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_job bigint;
BEGIN
    IF schedule IS NULL OR job_name IS NULL THEN
        RAISE EXCEPTION 'schedule_purge: schedule and job_name must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'feature_not_supported',
                  HINT = format('Add pg_cron to shared_preload_libraries, restart, and run CREATE EXTENSION pg_cron in the database named by cron.database_name (now %s). '
                                'From there, cron.schedule_in_database(%L, %L, %L, %L) schedules the purge of this database.',
                                coalesce(current_setting('cron.database_name', true), 'postgres'),
                                job_name, schedule, 'CALL privacy_tags.run_purge()', current_database());
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO v_job
        USING job_name, schedule, 'CALL privacy_tags.run_purge()';
    INSERT INTO privacy_tags.audit_log (action, details)
    VALUES ('schedule_purge', jsonb_build_object('job', job_name, 'schedule', schedule, 'jobid', v_job));
    RETURN v_job;
END
$$;
COMMENT ON FUNCTION privacy_tags.schedule_purge(text, text) IS
    'Schedules CALL privacy_tags.run_purge() with pg_cron (e.g. ''0 3 1 */3 *'' for a quarterly purge); returns the job id.';

CREATE FUNCTION privacy_tags.unschedule_purge(job_name text DEFAULT 'privacy_tags_purge')
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ok boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Nothing can have been scheduled here without pg_cron.';
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1 AND username = current_user)'
        INTO v_ok USING job_name;
    IF NOT v_ok THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' INTO v_ok USING job_name;
    INSERT INTO privacy_tags.audit_log (action, details)
    VALUES ('unschedule_purge', jsonb_build_object('job', job_name));
    RETURN v_ok;
END
$$;
COMMENT ON FUNCTION privacy_tags.unschedule_purge(text) IS 'Removes the pg_cron job of schedule_purge().';
REVOKE ALL ON FUNCTION privacy_tags.schedule_purge(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags.unschedule_purge(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.schedule_purge(text, text) TO privacy_admin;
GRANT EXECUTE ON FUNCTION privacy_tags.unschedule_purge(text) TO privacy_admin;
-- Data-subject rights ----------------------------------------------------------

CREATE TABLE privacy_tags.consents (
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    purpose      text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
    granted_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    withdrawn_at timestamptz,
    PRIMARY KEY (subject_type, subject_id, purpose)
);
COMMENT ON TABLE privacy_tags.consents IS
    'Consent per subject and purpose; a withdrawn consent keeps its row with withdrawn_at set.';
REVOKE ALL ON privacy_tags.consents FROM PUBLIC;
GRANT SELECT ON privacy_tags.consents TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.consents', '');

CREATE TABLE privacy_tags.restrictions (
    id           bigserial PRIMARY KEY,
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    reason       text NOT NULL,
    created_by   name NOT NULL DEFAULT SESSION_USER,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    lifted_by    name,
    lifted_at    timestamptz
);
CREATE INDEX ON privacy_tags.restrictions (subject_type, subject_id) WHERE lifted_at IS NULL;
COMMENT ON TABLE privacy_tags.restrictions IS
    'Restriction of processing (GDPR Art. 18): the retention trigger refuses writes to the rows of a restricted subject.';
REVOKE ALL ON privacy_tags.restrictions FROM PUBLIC;
GRANT SELECT ON privacy_tags.restrictions TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.restrictions', '');
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.restrictions_id_seq', '');

CREATE TABLE privacy_tags.suppressions (
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (subject_type, subject_id)
);
COMMENT ON TABLE privacy_tags.suppressions IS
    '"Do not contact": the minimum kept to honour it, the subject''s type and id.';
REVOKE ALL ON privacy_tags.suppressions FROM PUBLIC;
GRANT SELECT ON privacy_tags.suppressions TO privacy_admin;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.suppressions', '');

-- The tables that hold a subject's rows: the tables with a subject column of
-- the type (roots), and the tables reached from them through foreign keys
-- (children pointing at them, at any depth; cycles and tables that are
-- roots themselves are not entered twice).  pred selects the subject's rows
-- of the table under the alias t; height orders children before parents.
CREATE FUNCTION privacy_tags._subject_tables(p_type text, p_id text)
RETURNS TABLE (relation regclass, pred text, depth integer, height integer,
               collected_at name, is_root boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_nodes jsonb := '{}';      -- relid -> {pred, depth, collected_at, root}
    v_frontier oid[] := '{}';
    v_next oid[];
    r record;
    f record;
    v_pred text;
    v_ok boolean;
    v_level integer := 0;
    v_roots oid[];
BEGIN
    -- roots: one predicate per subject column, ORed per table
    FOR r IN
        SELECT s.relation::oid AS relid, s.column_name, s.collected_at,
               format_type(a.atttypid, a.atttypmod) AS typ
          FROM privacy_tags.subjects s
          JOIN pg_attribute a ON a.attrelid = s.relation AND a.attname = s.column_name
          JOIN pg_class k ON k.oid = s.relation
         WHERE s.subject_type = p_type AND NOT k.relispartition
         ORDER BY s.relation::text, s.column_name
    LOOP
        -- an id that is not a value of the column's type cannot be there
        BEGIN
            EXECUTE format('SELECT %L::%s IS NOT NULL', p_id, r.typ) INTO v_ok;
        EXCEPTION WHEN data_exception THEN
            v_ok := false;
        END;
        v_pred := CASE WHEN v_ok THEN format('t.%I = %L::%s', r.column_name, p_id, r.typ) ELSE 'false' END;
        IF v_nodes ? r.relid::text THEN
            v_nodes := jsonb_set(v_nodes, ARRAY[r.relid::text, 'pred'],
                                 to_jsonb((v_nodes -> r.relid::text ->> 'pred') || ' OR ' || v_pred));
        ELSE
            v_nodes := v_nodes || jsonb_build_object(r.relid::text,
                          jsonb_build_object('pred', v_pred, 'depth', 0, 'collected_at', r.collected_at, 'root', true));
            v_frontier := v_frontier || r.relid;
        END IF;
    END LOOP;
    v_roots := v_frontier;

    -- children, breadth first
    WHILE cardinality(v_frontier) > 0 AND v_level < 16 LOOP
        v_level := v_level + 1;
        v_next := '{}';
        FOR f IN
            SELECT c.conrelid AS child, c.confrelid AS parent,
                   (SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.n)
                      FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS fk_cols,
                   (SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.n)
                      FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS ref_cols
              FROM pg_constraint c
             WHERE c.contype = 'f' AND c.confrelid = ANY (v_frontier) AND c.conparentid = 0
               AND c.conrelid <> c.confrelid
               AND NOT c.conrelid = ANY (v_roots)
             ORDER BY c.conrelid, c.conname
        LOOP
            v_pred := format('(%s) IN (SELECT %s FROM %s t WHERE %s)',
                             f.fk_cols, f.ref_cols, f.parent::regclass, v_nodes -> f.parent::text ->> 'pred');
            IF v_nodes ? f.child::text THEN
                -- a second way in at the same depth widens the set; a deeper one is a cycle
                IF (v_nodes -> f.child::text ->> 'depth')::int = v_level THEN
                    v_nodes := jsonb_set(v_nodes, ARRAY[f.child::text, 'pred'],
                                         to_jsonb((v_nodes -> f.child::text ->> 'pred') || ' OR ' || v_pred));
                END IF;
            ELSE
                v_nodes := v_nodes || jsonb_build_object(f.child::text,
                              jsonb_build_object('pred', v_pred, 'depth', v_level, 'collected_at', NULL, 'root', false));
                v_next := v_next || f.child;
            END IF;
        END LOOP;
        v_frontier := v_next;
    END LOOP;

    FOR r IN SELECT key::oid AS relid, value AS v FROM jsonb_each(v_nodes) LOOP
        relation := r.relid::regclass;
        pred := r.v ->> 'pred';
        depth := (r.v ->> 'depth')::int;
        collected_at := r.v ->> 'collected_at';
        is_root := (r.v ->> 'root')::boolean;
        -- children of a table are purged and erased before it
        WITH RECURSIVE up(relid, h) AS (
            SELECT r.relid, 0
            UNION
            SELECT c.conrelid, up.h + 1 FROM up JOIN pg_constraint c
                ON c.confrelid = up.relid AND c.contype = 'f' AND c.conrelid <> up.relid
             WHERE up.h < 16 AND v_nodes ? c.conrelid::text)
        SELECT max(h) INTO height FROM up;
        RETURN NEXT;
    END LOOP;
END
$$;

-- The tagged columns of a relation, with the facts the export and erasure
-- need.  Reads pg_seclabel through its index on the relation (not the
-- inventory view, which decodes every label of the database).
CREATE FUNCTION privacy_tags._tagged_columns(rel regclass)
RETURNS TABLE (column_name name, tag privacy_tags.privacy_tag, basis text, notnull boolean,
               is_key boolean, anchor name)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- PL/pgSQL keeps this query's plan for the session
    RETURN QUERY
    SELECT a.attname, t.tag, privacy_tags.legal_basis(t.tag), a.attnotnull,
           EXISTS (SELECT FROM pg_constraint k
                    WHERE k.conrelid = rel AND k.contype IN ('p', 'u', 'f') AND a.attnum = ANY (k.conkey))
           OR EXISTS (SELECT FROM pg_seclabel k
                       WHERE k.objoid = rel AND k.classoid = 'pg_class'::regclass
                         AND k.objsubid = a.attnum AND k.provider = 'privacy_tags_subject'),
           privacy_tags.retention_anchor(t.tag)
      FROM pg_seclabel s
      JOIN pg_attribute a ON a.attrelid = s.objoid AND a.attnum = s.objsubid
      CROSS JOIN LATERAL (SELECT s.label::privacy_tags.privacy_tag AS tag) t
     WHERE s.objoid = rel AND s.classoid = 'pg_class'::regclass AND s.provider = 'privacy_tags'
       AND s.objsubid > 0 AND NOT a.attisdropped
     ORDER BY a.attnum;
END
$$;

CREATE FUNCTION privacy_tags.subject_access(subject_type text, subject_id text,
                                            since timestamptz DEFAULT NULL,
                                            portable_only boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    c record;
    v_data jsonb := '{}';
    v_fields jsonb := '{}';
    v_rows jsonb;
    v_tfields jsonb;
    v_drop text[];
    v_where text;
    v_records bigint := 0;
    v_unlimited text[] := '{}';
    v_categories text[] := '{}';
    v_bases jsonb := '{}';
    v_retention jsonb := '[]';
    v_purposes text[] := '{}';
    v_expires timestamptz;
    v_name text;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR portable_only IS NULL THEN
        RAISE EXCEPTION 'subject_access: subject_type, subject_id and portable_only must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('subject_access', subject_access.subject_type, subject_access.subject_id);

    FOR t IN SELECT * FROM privacy_tags._subject_tables(subject_type, subject_id) ORDER BY depth, relation::text LOOP
        v_name := t.relation::text;
        v_where := t.pred;
        IF since IS NOT NULL THEN
            IF t.collected_at IS NOT NULL THEN
                v_where := format('(%s) AND t.%I >= %L::timestamptz', v_where, t.collected_at, since);
            ELSE
                v_unlimited := v_unlimited || v_name;
            END IF;
        END IF;
        -- columns left out of a portable export: everything not provided on
        -- the basis of consent or contract
        v_drop := '{}';
        IF portable_only THEN
            SELECT coalesce(array_agg(a.attname::text), '{}') INTO v_drop
              FROM pg_attribute a
             WHERE a.attrelid = t.relation AND a.attnum > 0 AND NOT a.attisdropped
               AND NOT EXISTS (SELECT FROM privacy_tags._tagged_columns(t.relation) x
                                WHERE x.column_name = a.attname AND x.basis IN ('consent', 'contract'));
            IF NOT EXISTS (SELECT FROM privacy_tags._tagged_columns(t.relation) x
                            WHERE x.basis IN ('consent', 'contract')) THEN
                CONTINUE;
            END IF;
        END IF;
        EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(t) - %L::text[] ORDER BY t.ctid), ''[]'') FROM %s t WHERE %s',
                       v_drop, t.relation, v_where) INTO v_rows;
        IF jsonb_array_length(v_rows) = 0 THEN
            CONTINUE;
        END IF;
        v_records := v_records + jsonb_array_length(v_rows);
        v_data := v_data || jsonb_build_object(v_name, v_rows);

        v_tfields := '{}';
        FOR c IN SELECT * FROM privacy_tags._tagged_columns(t.relation) LOOP
            CONTINUE WHEN c.column_name::text = ANY (v_drop);
            v_expires := NULL;
            IF privacy_tags.retention(c.tag) IS NOT NULL THEN
                EXECUTE format('SELECT max(t.%I::timestamptz + %L::interval) FROM %s t WHERE %s',
                               c.anchor, privacy_tags.retention(c.tag), t.relation, v_where) INTO v_expires;
            END IF;
            v_tfields := v_tfields || jsonb_build_object(c.column_name, jsonb_strip_nulls(jsonb_build_object(
                'category', privacy_tags.category(c.tag),
                'basis', c.basis,
                'special', privacy_tags.special_condition(c.tag),
                'purposes', to_jsonb(privacy_tags.purposes(c.tag)),
                'retain', CASE WHEN privacy_tags.retention(c.tag) IS NOT NULL THEN
                               substring(c.tag::text from 'retain=([^;]*)') END,
                'on_expiry', privacy_tags.expiry_action(c.tag),
                'expires_at', v_expires)));
            v_categories := v_categories || privacy_tags.category(c.tag);
            v_purposes := v_purposes || privacy_tags.purposes(c.tag);
            IF c.basis IS NOT NULL THEN
                v_bases := jsonb_set(v_bases, ARRAY[c.basis],
                                     coalesce(v_bases -> c.basis, '[]') || to_jsonb(privacy_tags.category(c.tag)));
            END IF;
            IF privacy_tags.retention(c.tag) IS NOT NULL THEN
                v_retention := v_retention || jsonb_build_object(
                    'relation', v_name, 'column', c.column_name, 'category', privacy_tags.category(c.tag),
                    'retain', substring(c.tag::text from 'retain=([^;]*)'), 'expires_at', v_expires);
            END IF;
        END LOOP;
        v_fields := v_fields || jsonb_build_object(v_name, v_tfields);
    END LOOP;

    -- de-duplicate and sort the lists of the summary
    SELECT coalesce(jsonb_object_agg(key, (SELECT jsonb_agg(DISTINCT x ORDER BY x) FROM jsonb_array_elements_text(value) x)), '{}')
      INTO v_bases FROM jsonb_each(v_bases);

    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES ('access', subject_type, privacy_tags.subject_hash(subject_type, subject_id), v_records,
            jsonb_build_object('since', since, 'portable_only', portable_only, 'tables', (SELECT count(*) FROM jsonb_object_keys(v_data))));

    RETURN jsonb_build_object(
        'format', 'privacy_tags.subject_access/1',
        'subject', jsonb_build_object('type', subject_type, 'id', subject_id),
        'generated_at', now(),
        'since', since,
        'portable_only', portable_only,
        'restricted', EXISTS (SELECT FROM privacy_tags.restrictions r
                               WHERE r.subject_type = subject_access.subject_type
                                 AND r.subject_id = subject_access.subject_id AND r.lifted_at IS NULL),
        'legal_hold', EXISTS (SELECT FROM privacy_tags.legal_holds h
                               WHERE h.subject_type = subject_access.subject_type
                                 AND h.subject_id = subject_access.subject_id AND h.released_at IS NULL
                                 AND (h.held_until IS NULL OR h.held_until > now())),
        'suppressed', EXISTS (SELECT FROM privacy_tags.suppressions s
                               WHERE s.subject_type = subject_access.subject_type
                                 AND s.subject_id = subject_access.subject_id),
        'consents', coalesce((SELECT jsonb_agg(jsonb_build_object('purpose', k.purpose, 'granted_at', k.granted_at,
                                                                'withdrawn_at', k.withdrawn_at) ORDER BY k.purpose)
                                FROM privacy_tags.consents k
                               WHERE k.subject_type = subject_access.subject_type
                                 AND k.subject_id = subject_access.subject_id), '[]'),
        'summary', jsonb_build_object(
            'categories', coalesce((SELECT jsonb_agg(DISTINCT x ORDER BY x) FROM unnest(v_categories) x), '[]'),
            'purposes', coalesce((SELECT jsonb_agg(DISTINCT x ORDER BY x) FROM unnest(v_purposes) x), '[]'),
            'legal_bases', v_bases,
            'retention', v_retention,
            'records', v_records,
            'not_limited_by_since', to_jsonb(v_unlimited)),
        'fields', v_fields,
        'data', v_data);
END
$$;
COMMENT ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean) IS
    'Right of access and portability: one JSON document with the subject''s rows in every table, found through subject columns and foreign keys, and the Art. 15 facts about them.';
REVOKE ALL ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags.subject_access(text, text, timestamptz, boolean) TO privacy_admin;

-- Erase (or, with p_purpose, withdraw consent): the shared engine.  Works
-- children first; a row goes when nothing in it must be kept and no row
-- points at it, otherwise its erasable values are nulled.  Raises (so that
-- nothing changes) when an erasable value sits in a NOT NULL column of a
-- row that must stay.  p_scope: 'erase' or 'withdraw'.
CREATE FUNCTION privacy_tags._erase(p_type text, p_id text, p_scope text, p_purposes text[],
                                    p_held boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    v_report jsonb := '{}';
    v_erasable text[];          -- columns whose values go
    v_all boolean;              -- every tagged column of the table goes
    v_legal text;
    v_refs text;
    v_keep text;
    v_set text;
    v_any text;
    v_n_deleted bigint;
    v_n_nulled bigint;
    v_n_legal bigint;
    v_n_refs bigint;
    v_bad name;
BEGIN
    -- a withdrawal is recorded even for a held subject, whose data then stays
    IF p_scope = 'withdraw' THEN
        UPDATE privacy_tags.consents k SET withdrawn_at = now()
         WHERE k.subject_type = p_type AND k.subject_id = p_id AND k.withdrawn_at IS NULL
           AND (p_purposes IS NULL OR k.purpose = ANY (p_purposes));
    END IF;
    IF p_held THEN
        RETURN '{}';
    END IF;
    FOR t IN SELECT * FROM privacy_tags._subject_tables(p_type, p_id) ORDER BY height, depth DESC, relation::text LOOP
        IF p_scope = 'erase' THEN
            SELECT coalesce(array_agg(c.column_name::text) FILTER (WHERE c.basis IS DISTINCT FROM 'legal_obligation' AND NOT c.is_key), '{}'),
                   coalesce(string_agg(format('t.%I IS NOT NULL', c.column_name), ' OR ') FILTER (WHERE c.basis = 'legal_obligation'), 'false'),
                   coalesce(bool_and(c.basis IS DISTINCT FROM 'legal_obligation'), true)
              INTO v_erasable, v_legal, v_all
              FROM privacy_tags._tagged_columns(t.relation) c;
        ELSE
            -- consent-based columns whose purposes no remaining consent covers
            SELECT coalesce(array_agg(c.column_name::text) FILTER (WHERE c.erasable AND NOT c.is_key), '{}'),
                   coalesce(string_agg(format('t.%I IS NOT NULL', c.column_name), ' OR ') FILTER (WHERE NOT c.erasable), 'false'),
                   coalesce(bool_and(c.erasable), true)
              INTO v_erasable, v_legal, v_all
              FROM (SELECT x.column_name, x.is_key,
                           x.basis = 'consent'
                           AND (p_purposes IS NULL OR cardinality(privacy_tags.purposes(x.tag)) = 0
                                OR privacy_tags.purposes(x.tag) && p_purposes)
                           AND NOT EXISTS (SELECT FROM privacy_tags.consents k
                                            WHERE k.subject_type = p_type AND k.subject_id = p_id
                                              AND k.withdrawn_at IS NULL
                                              AND (cardinality(privacy_tags.purposes(x.tag)) = 0
                                                   OR k.purpose = ANY (privacy_tags.purposes(x.tag)))) AS erasable
                      FROM privacy_tags._tagged_columns(t.relation) x) c;
            IF cardinality(v_erasable) = 0 AND NOT v_all THEN
                CONTINUE;
            END IF;
        END IF;
        -- rows that other rows point at stay (children were handled first:
        -- what still points at a row is kept data, or another subject's)
        v_refs := privacy_tags._referenced_by(t.relation, false);
        v_refs := coalesce(v_refs, 'false');
        v_keep := format('(%s) OR (%s)', v_legal, v_refs);

        EXECUTE format('SELECT count(*) FILTER (WHERE %s), count(*) FILTER (WHERE NOT (%s) AND (%s)) FROM %s t WHERE %s',
                       v_legal, v_legal, v_refs, t.relation, t.pred)
           INTO v_n_legal, v_n_refs;

        v_n_deleted := 0;
        IF v_all THEN
            EXECUTE format('DELETE FROM %s t WHERE (%s) AND NOT (%s)', t.relation, t.pred, v_keep);
            GET DIAGNOSTICS v_n_deleted = ROW_COUNT;
        END IF;

        v_n_nulled := 0;
        -- (after a DELETE of every row, no row is left to null)
        IF cardinality(v_erasable) > 0 AND NOT (v_all AND v_n_legal + v_n_refs = 0) THEN
            SELECT string_agg(format('%I = NULL', e), ', '), string_agg(format('t.%I IS NOT NULL', e), ' OR ')
              INTO v_set, v_any FROM unnest(v_erasable) e;
            -- a value that must go from a row that must stay, in a NOT NULL column
            SELECT c.column_name INTO v_bad
              FROM privacy_tags._tagged_columns(t.relation) c
             WHERE c.column_name::text = ANY (v_erasable) AND c.notnull
             LIMIT 1;
            IF v_bad IS NOT NULL THEN
                EXECUTE format('SELECT count(*) FROM %s t WHERE (%s) AND (%s)', t.relation, t.pred,
                               CASE WHEN v_all THEN v_keep ELSE 'true' END) INTO v_n_nulled;
                IF v_n_nulled > 0 THEN
                    RAISE EXCEPTION 'cannot erase column "%" of relation "%": it is NOT NULL in rows that must be kept',
                                    v_bad, t.relation
                        USING ERRCODE = 'not_null_violation',
                              DETAIL = format('%s row(s) stay because of legal_obligation data or rows pointing at them.', v_n_nulled),
                              HINT = 'Drop the NOT NULL constraint of the column, or tag it with the basis that keeps it.';
                END IF;
            END IF;
            EXECUTE format('UPDATE %s t SET %s WHERE (%s) AND (%s)', t.relation, v_set, t.pred, v_any);
            GET DIAGNOSTICS v_n_nulled = ROW_COUNT;
        END IF;

        IF v_n_deleted + v_n_nulled + v_n_legal + v_n_refs > 0 THEN
            v_report := v_report || jsonb_build_object(t.relation::text, jsonb_strip_nulls(jsonb_build_object(
                'deleted', v_n_deleted,
                'nulled', v_n_nulled,
                'nulled_columns', CASE WHEN v_n_nulled > 0 THEN to_jsonb(v_erasable) END,
                'kept', v_n_legal + v_n_refs,
                'kept_because', CASE WHEN v_n_legal + v_n_refs > 0 THEN jsonb_strip_nulls(jsonb_build_object(
                    CASE WHEN p_scope = 'erase' THEN 'legal_obligation' ELSE 'other_basis' END,
                    nullif(v_n_legal, 0),
                    'referenced', nullif(v_n_refs, 0))) END)));
        END IF;
    END LOOP;
    RETURN v_report;
END
$$;

-- Run _erase for real, or as a dry run (in a subtransaction rolled back, so
-- the report is exactly what the real run does), and audit it.
CREATE FUNCTION privacy_tags._erase_audited(p_action text, p_type text, p_id text, p_scope text,
                                            p_purposes text[], p_dry_run boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_held boolean;
    v_tables jsonb;
    v_report jsonb;
    v_rows bigint;
    v_try integer;
BEGIN
    PERFORM privacy_tags._serialize_changes();
    v_held := EXISTS (SELECT FROM privacy_tags.legal_holds h
                       WHERE h.subject_type = p_type AND h.subject_id = p_id AND h.released_at IS NULL
                         AND (h.held_until IS NULL OR h.held_until > now()));
    -- A row that another session made a referrer of after a statement's
    -- snapshot fails the foreign key check: the erasure is run again (its
    -- statements' new snapshots see the referrer).  A dry run is always
    -- rolled back.
    FOR v_try IN 1..5 LOOP
        BEGIN
            v_tables := privacy_tags._erase(p_type, p_id, p_scope, p_purposes, v_held);
            IF p_dry_run THEN
                RAISE EXCEPTION USING ERRCODE = 'PTDRY';
            END IF;
            EXIT;
        EXCEPTION
            WHEN SQLSTATE 'PTDRY' THEN
                EXIT;
            WHEN foreign_key_violation THEN
                IF v_try = 5 THEN
                    RAISE;
                END IF;
        END;
    END LOOP;
    v_report := jsonb_build_object('legal_hold', v_held, 'tables', v_tables);
    SELECT coalesce(sum((value->>'deleted')::bigint + (value->>'nulled')::bigint), 0) INTO v_rows
      FROM jsonb_each(v_report->'tables');
    v_report := jsonb_build_object('format', 'privacy_tags.erasure/1',
                                   'subject', jsonb_build_object('type', p_type),
                                   'dry_run', p_dry_run) || v_report;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES (p_action, p_type, privacy_tags.subject_hash(p_type, p_id), v_rows,
            jsonb_build_object('dry_run', p_dry_run, 'purposes', p_purposes, 'tables', v_report->'tables',
                               'legal_hold', v_report->'legal_hold'));
    RETURN v_report;
END
$$;

CREATE FUNCTION privacy_tags.erase(subject_type text, subject_id text, dry_run boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'erase: subject_type, subject_id and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('erase', erase.subject_type, erase.subject_id);
    RETURN privacy_tags._erase_audited('erase', subject_type, subject_id, 'erase', NULL, dry_run);
END
$$;
COMMENT ON FUNCTION privacy_tags.erase(text, text, boolean) IS
    'Right to erasure: deletes or nulls everything of the subject in one transaction, keeping legal_obligation data and held subjects; returns a report per table.';

-- A purpose as tags write it (grant_consent, withdraw_consent).
CREATE FUNCTION privacy_tags._check_purpose(purpose text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF purpose !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid purpose "%"', left(purpose, 63)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Purposes are written like in tags: lower-case letters, digits and "_", starting with a letter, at most 63 bytes.';
    END IF;
END
$$;

CREATE FUNCTION privacy_tags.grant_consent(subject_type text, subject_id text, purpose text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR purpose IS NULL THEN
        RAISE EXCEPTION 'grant_consent: subject_type, subject_id and purpose must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('grant_consent', grant_consent.subject_type, grant_consent.subject_id);
    PERFORM privacy_tags._check_purpose(purpose);
    INSERT INTO privacy_tags.consents AS k (subject_type, subject_id, purpose)
    VALUES (grant_consent.subject_type, grant_consent.subject_id, grant_consent.purpose)
    ON CONFLICT ON CONSTRAINT consents_pkey
    DO UPDATE SET granted_at = now(), withdrawn_at = NULL;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('grant_consent', grant_consent.subject_type,
            privacy_tags.subject_hash(grant_consent.subject_type, grant_consent.subject_id),
            jsonb_build_object('purpose', grant_consent.purpose));
END
$$;
COMMENT ON FUNCTION privacy_tags.grant_consent(text, text, text) IS 'Records the subject''s consent for a purpose.';

CREATE FUNCTION privacy_tags.withdraw_consent(subject_type text, subject_id text, purpose text DEFAULT NULL,
                                              dry_run boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR dry_run IS NULL THEN
        RAISE EXCEPTION 'withdraw_consent: subject_type, subject_id and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('withdraw_consent', withdraw_consent.subject_type, withdraw_consent.subject_id);
    PERFORM privacy_tags._check_purpose(purpose);
    RETURN privacy_tags._erase_audited('withdraw_consent', subject_type, subject_id, 'withdraw',
                                       CASE WHEN purpose IS NULL THEN NULL ELSE ARRAY[purpose] END, dry_run);
END
$$;
COMMENT ON FUNCTION privacy_tags.withdraw_consent(text, text, text, boolean) IS
    'Withdraws consent for a purpose (all purposes when NULL) and erases the subject''s consent-based data no other consent covers; returns a report like erase().';

CREATE FUNCTION privacy_tags.restrict(subject_type text, subject_id text, reason text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL OR reason IS NULL THEN
        RAISE EXCEPTION 'restrict: subject_type, subject_id and reason must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF btrim(reason) = '' THEN
        RAISE EXCEPTION 'restrict: reason must not be empty' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Say why processing is restricted (Art. 18(1)): it goes into the record.';
    END IF;
    PERFORM privacy_tags._check_subject('restrict', restrict.subject_type, restrict.subject_id);
    INSERT INTO privacy_tags.restrictions (subject_type, subject_id, reason)
    VALUES (restrict.subject_type, restrict.subject_id, restrict.reason) RETURNING id INTO v_id;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, details)
    VALUES ('restrict', restrict.subject_type, privacy_tags.subject_hash(restrict.subject_type, restrict.subject_id),
            jsonb_build_object('restriction_id', v_id));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION privacy_tags.restrict(text, text, text) IS
    'Restriction of processing (Art. 18): enforced tables refuse writes to the subject''s rows until lift_restriction().';

CREATE FUNCTION privacy_tags.lift_restriction(subject_type text, subject_id text, reason text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n integer;
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL THEN
        RAISE EXCEPTION 'lift_restriction: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE privacy_tags.restrictions r SET lifted_at = now(), lifted_by = session_user
     WHERE r.subject_type = lift_restriction.subject_type AND r.subject_id = lift_restriction.subject_id
       AND r.lifted_at IS NULL;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)
    VALUES ('lift_restriction', lift_restriction.subject_type,
            privacy_tags.subject_hash(lift_restriction.subject_type, lift_restriction.subject_id), v_n,
            CASE WHEN reason IS NOT NULL THEN jsonb_build_object('reason_given', true) END);
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION privacy_tags.lift_restriction(text, text, text) IS 'Lifts every active restriction of the subject; returns how many.';

CREATE FUNCTION privacy_tags.suppress(subject_type text, subject_id text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET privacy_tags.purging = on
AS $$
BEGIN
    IF subject_type IS NULL OR subject_id IS NULL THEN
        RAISE EXCEPTION 'suppress: subject_type and subject_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM privacy_tags._check_subject('suppress', suppress.subject_type, suppress.subject_id);
    INSERT INTO privacy_tags.suppressions (subject_type, subject_id)
    VALUES (suppress.subject_type, suppress.subject_id) ON CONFLICT DO NOTHING;
    -- keep the minimum: every consent ends, and its data with it
    RETURN privacy_tags._erase_audited('withdraw_consent', subject_type, subject_id, 'withdraw', NULL, false)
           || '{"suppressed": true}';
END
$$;
COMMENT ON FUNCTION privacy_tags.suppress(text, text) IS
    '"Do not contact": records the subject on the suppression list and withdraws every consent (erasing consent-based data).';

CREATE FUNCTION privacy_tags.is_suppressed(subject_type text, subject_id text)
RETURNS boolean
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT FROM privacy_tags.suppressions s
                    WHERE s.subject_type = is_suppressed.subject_type AND s.subject_id = is_suppressed.subject_id)
$$;
COMMENT ON FUNCTION privacy_tags.is_suppressed(text, text) IS 'Whether the subject is on the "Do not contact" list.';

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['privacy_tags.erase(text, text, boolean)',
                             'privacy_tags.grant_consent(text, text, text)',
                             'privacy_tags.withdraw_consent(text, text, text, boolean)',
                             'privacy_tags.restrict(text, text, text)',
                             'privacy_tags.lift_restriction(text, text, text)',
                             'privacy_tags.suppress(text, text)',
                             'privacy_tags.is_suppressed(text, text)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO privacy_admin', f);
    END LOOP;
END
$$;

-- Internal functions: only for the extension's own SECURITY DEFINER code and
-- privacy_admin (run_purge calls _purge_plan as its caller).
REVOKE ALL ON FUNCTION privacy_tags._subject_tables(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags._tagged_columns(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags._erase(text, text, text, text[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags._erase_audited(text, text, text, text, text[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy_tags._purge_plan(regclass, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy_tags._purge_plan(regclass, timestamptz) TO privacy_admin;
-- Reporting: discovery of untagged personal data, record of processing ---------

CREATE FUNCTION privacy_tags.value_kind(text) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tags_value_kind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.value_kind(text) IS
    'What a value looks like: email, ipv4, ipv6, personnummer (check digit valid), card (Luhn valid), phone; NULL otherwise.';

CREATE TABLE privacy_tags.name_hints (
    pattern  text NOT NULL,
    match    text NOT NULL CHECK (match IN ('exact', 'fragment')),
    category text NOT NULL,
    builtin  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (pattern, match)
);
COMMENT ON TABLE privacy_tags.name_hints IS
    'Column names (exact) and parts of names (fragment) that suggest personal data, with the category to suggest; used by discover().';
GRANT SELECT ON privacy_tags.name_hints TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('privacy_tags.name_hints', 'WHERE NOT builtin');
-- Column names (and fragments of names) that suggest personal data, English and
-- Swedish. Used by discover(); users may add their own rows.
INSERT INTO privacy_tags.name_hints (pattern, match, category, builtin) VALUES
  ('email', 'exact', 'contact.email', true),
  ('e_mail', 'exact', 'contact.email', true),
  ('mail', 'exact', 'contact.email', true),
  ('epost', 'exact', 'contact.email', true),
  ('e_post', 'exact', 'contact.email', true),
  ('emailaddress', 'exact', 'contact.email', true),
  ('email_address', 'exact', 'contact.email', true),
  ('mailadress', 'exact', 'contact.email', true),
  ('e_postadress', 'exact', 'contact.email', true),
  ('epostadress', 'exact', 'contact.email', true),
  ('phone', 'exact', 'contact.phone', true),
  ('tel', 'exact', 'contact.phone', true),
  ('telephone', 'exact', 'contact.phone', true),
  ('telefon', 'exact', 'contact.phone', true),
  ('telefonnummer', 'exact', 'contact.phone', true),
  ('mobil', 'exact', 'contact.phone', true),
  ('mobile', 'exact', 'contact.phone', true),
  ('mobilnummer', 'exact', 'contact.phone', true),
  ('cell', 'exact', 'contact.phone', true),
  ('cellphone', 'exact', 'contact.phone', true),
  ('phone_number', 'exact', 'contact.phone', true),
  ('phonenumber', 'exact', 'contact.phone', true),
  ('fax', 'exact', 'contact.phone', true),
  ('mobiltelefon', 'exact', 'contact.phone', true),
  ('address', 'exact', 'contact.postal_address', true),
  ('adress', 'exact', 'contact.postal_address', true),
  ('gatuadress', 'exact', 'contact.postal_address', true),
  ('street', 'exact', 'contact.postal_address', true),
  ('street_address', 'exact', 'contact.postal_address', true),
  ('postal_address', 'exact', 'contact.postal_address', true),
  ('postadress', 'exact', 'contact.postal_address', true),
  ('address_line1', 'exact', 'contact.postal_address', true),
  ('address_line2', 'exact', 'contact.postal_address', true),
  ('utdelningsadress', 'exact', 'contact.postal_address', true),
  ('c_o', 'exact', 'contact.postal_address', true),
  ('zip', 'exact', 'contact.postal_address.postal_code', true),
  ('zipcode', 'exact', 'contact.postal_address.postal_code', true),
  ('zip_code', 'exact', 'contact.postal_address.postal_code', true),
  ('postcode', 'exact', 'contact.postal_address.postal_code', true),
  ('postal_code', 'exact', 'contact.postal_address.postal_code', true),
  ('postnummer', 'exact', 'contact.postal_address.postal_code', true),
  ('postnr', 'exact', 'contact.postal_address.postal_code', true),
  ('city', 'exact', 'contact.postal_address.city', true),
  ('town', 'exact', 'contact.postal_address.city', true),
  ('ort', 'exact', 'contact.postal_address.city', true),
  ('stad', 'exact', 'contact.postal_address.city', true),
  ('postort', 'exact', 'contact.postal_address.city', true),
  ('country', 'exact', 'contact.postal_address.country', true),
  ('land', 'exact', 'contact.postal_address.country', true),
  ('name', 'exact', 'identifiers.name', true),
  ('namn', 'exact', 'identifiers.name', true),
  ('full_name', 'exact', 'identifiers.name', true),
  ('fullname', 'exact', 'identifiers.name', true),
  ('first_name', 'exact', 'identifiers.name', true),
  ('firstname', 'exact', 'identifiers.name', true),
  ('given_name', 'exact', 'identifiers.name', true),
  ('fornamn', 'exact', 'identifiers.name', true),
  ('förnamn', 'exact', 'identifiers.name', true),
  ('last_name', 'exact', 'identifiers.name', true),
  ('lastname', 'exact', 'identifiers.name', true),
  ('surname', 'exact', 'identifiers.name', true),
  ('family_name', 'exact', 'identifiers.name', true),
  ('efternamn', 'exact', 'identifiers.name', true),
  ('middle_name', 'exact', 'identifiers.name', true),
  ('mellannamn', 'exact', 'identifiers.name', true),
  ('display_name', 'exact', 'identifiers.name', true),
  ('contact_name', 'exact', 'identifiers.name', true),
  ('kontaktperson', 'exact', 'identifiers.name', true),
  ('ssn', 'exact', 'identifiers.national_id', true),
  ('personnummer', 'exact', 'identifiers.national_id', true),
  ('pnr', 'exact', 'identifiers.national_id', true),
  ('personal_number', 'exact', 'identifiers.national_id', true),
  ('personal_id', 'exact', 'identifiers.national_id', true),
  ('national_id', 'exact', 'identifiers.national_id', true),
  ('samordningsnummer', 'exact', 'identifiers.national_id', true),
  ('social_security_number', 'exact', 'identifiers.national_id', true),
  ('tax_id', 'exact', 'identifiers.national_id', true),
  ('personnr', 'exact', 'identifiers.national_id', true),
  ('fodelsenummer', 'exact', 'identifiers.national_id', true),
  ('dob', 'exact', 'identifiers.date_of_birth', true),
  ('birthdate', 'exact', 'identifiers.date_of_birth', true),
  ('birth_date', 'exact', 'identifiers.date_of_birth', true),
  ('date_of_birth', 'exact', 'identifiers.date_of_birth', true),
  ('birthday', 'exact', 'identifiers.date_of_birth', true),
  ('fodelsedatum', 'exact', 'identifiers.date_of_birth', true),
  ('födelsedatum', 'exact', 'identifiers.date_of_birth', true),
  ('fodelsedag', 'exact', 'identifiers.date_of_birth', true),
  ('födelsedag', 'exact', 'identifiers.date_of_birth', true),
  ('passport', 'exact', 'identifiers.passport', true),
  ('passport_number', 'exact', 'identifiers.passport', true),
  ('passnummer', 'exact', 'identifiers.passport', true),
  ('password', 'exact', 'credentials.password', true),
  ('passwd', 'exact', 'credentials.password', true),
  ('pwd', 'exact', 'credentials.password', true),
  ('password_hash', 'exact', 'credentials.password', true),
  ('losenord', 'exact', 'credentials.password', true),
  ('lösenord', 'exact', 'credentials.password', true),
  ('username', 'exact', 'credentials', true),
  ('user_name', 'exact', 'credentials', true),
  ('login', 'exact', 'credentials', true),
  ('anvandarnamn', 'exact', 'credentials', true),
  ('användarnamn', 'exact', 'credentials', true),
  ('ip', 'exact', 'network.ip_address', true),
  ('ip_address', 'exact', 'network.ip_address', true),
  ('ipaddress', 'exact', 'network.ip_address', true),
  ('ip_addr', 'exact', 'network.ip_address', true),
  ('ipaddr', 'exact', 'network.ip_address', true),
  ('remote_addr', 'exact', 'network.ip_address', true),
  ('client_ip', 'exact', 'network.ip_address', true),
  ('ip_adress', 'exact', 'network.ip_address', true),
  ('ipadress', 'exact', 'network.ip_address', true),
  ('mac', 'exact', 'device.mac_address', true),
  ('mac_address', 'exact', 'device.mac_address', true),
  ('macaddr', 'exact', 'device.mac_address', true),
  ('mac_adress', 'exact', 'device.mac_address', true),
  ('imei', 'exact', 'device.imei', true),
  ('device_id', 'exact', 'device.device_id', true),
  ('deviceid', 'exact', 'device.device_id', true),
  ('udid', 'exact', 'device.device_id', true),
  ('idfa', 'exact', 'device.device_id', true),
  ('advertising_id', 'exact', 'device.device_id', true),
  ('enhets_id', 'exact', 'device.device_id', true),
  ('cookie', 'exact', 'network.cookie', true),
  ('cookie_id', 'exact', 'network.cookie', true),
  ('session_id', 'exact', 'network.cookie', true),
  ('sessionid', 'exact', 'network.cookie', true),
  ('visitor_id', 'exact', 'network.cookie', true),
  ('tracking_id', 'exact', 'network.cookie', true),
  ('kaka', 'exact', 'network.cookie', true),
  ('user_agent', 'exact', 'network.browsing_history', true),
  ('useragent', 'exact', 'network.browsing_history', true),
  ('referrer', 'exact', 'network.browsing_history', true),
  ('referer', 'exact', 'network.browsing_history', true),
  ('url', 'exact', 'network.browsing_history', true),
  ('page', 'exact', 'network.browsing_history', true),
  ('page_url', 'exact', 'network.browsing_history', true),
  ('landing_page', 'exact', 'network.browsing_history', true),
  ('latitude', 'exact', 'location.precise', true),
  ('longitude', 'exact', 'location.precise', true),
  ('lat', 'exact', 'location.precise', true),
  ('lng', 'exact', 'location.precise', true),
  ('gps', 'exact', 'location.precise', true),
  ('coordinates', 'exact', 'location.precise', true),
  ('koordinater', 'exact', 'location.precise', true),
  ('geo', 'exact', 'location.precise', true),
  ('geolocation', 'exact', 'location.precise', true),
  ('position', 'exact', 'location.precise', true),
  ('gender', 'exact', 'demographic', true),
  ('sex', 'exact', 'demographic', true),
  ('kon', 'exact', 'demographic', true),
  ('kön', 'exact', 'demographic', true),
  ('age', 'exact', 'demographic', true),
  ('alder', 'exact', 'demographic', true),
  ('ålder', 'exact', 'demographic', true),
  ('nationality', 'exact', 'demographic', true),
  ('nationalitet', 'exact', 'demographic', true),
  ('marital_status', 'exact', 'demographic', true),
  ('civilstand', 'exact', 'demographic', true),
  ('civilstånd', 'exact', 'demographic', true),
  ('iban', 'exact', 'financial.bank_account', true),
  ('bic', 'exact', 'financial.bank_account', true),
  ('account_number', 'exact', 'financial.bank_account', true),
  ('kontonummer', 'exact', 'financial.bank_account', true),
  ('bankkonto', 'exact', 'financial.bank_account', true),
  ('clearingnummer', 'exact', 'financial.bank_account', true),
  ('bank_account', 'exact', 'financial.bank_account', true),
  ('card', 'exact', 'financial.payment_card', true),
  ('card_number', 'exact', 'financial.payment_card', true),
  ('cardnumber', 'exact', 'financial.payment_card', true),
  ('credit_card', 'exact', 'financial.payment_card', true),
  ('kortnummer', 'exact', 'financial.payment_card', true),
  ('cc_number', 'exact', 'financial.payment_card', true),
  ('pan', 'exact', 'financial.payment_card', true),
  ('cvv', 'exact', 'financial.payment_card', true),
  ('cvc', 'exact', 'financial.payment_card', true),
  ('salary', 'exact', 'professional.compensation', true),
  ('lön', 'exact', 'professional.compensation', true),
  ('lon', 'exact', 'professional.compensation', true),
  ('wage', 'exact', 'professional.compensation', true),
  ('manadslon', 'exact', 'professional.compensation', true),
  ('månadslön', 'exact', 'professional.compensation', true),
  ('employer', 'exact', 'professional.employer', true),
  ('company', 'exact', 'professional.employer', true),
  ('foretag', 'exact', 'professional.employer', true),
  ('företag', 'exact', 'professional.employer', true),
  ('arbetsgivare', 'exact', 'professional.employer', true),
  ('organisation', 'exact', 'professional.employer', true),
  ('organization', 'exact', 'professional.employer', true),
  ('job_title', 'exact', 'professional.job_title', true),
  ('title', 'exact', 'professional.job_title', true),
  ('titel', 'exact', 'professional.job_title', true),
  ('befattning', 'exact', 'professional.job_title', true),
  ('position_title', 'exact', 'professional.job_title', true),
  ('roll', 'exact', 'professional.job_title', true),
  ('role', 'exact', 'professional.job_title', true),
  ('cv', 'exact', 'professional.cv', true),
  ('resume', 'exact', 'professional.cv', true),
  ('meritforteckning', 'exact', 'professional.cv', true),
  ('meritförteckning', 'exact', 'professional.cv', true),
  ('school', 'exact', 'education', true),
  ('skola', 'exact', 'education', true),
  ('education', 'exact', 'education', true),
  ('utbildning', 'exact', 'education', true),
  ('grade', 'exact', 'education', true),
  ('betyg', 'exact', 'education', true),
  ('degree', 'exact', 'education', true),
  ('examen', 'exact', 'education', true),
  ('health', 'exact', 'health', true),
  ('halsa', 'exact', 'health', true),
  ('hälsa', 'exact', 'health', true),
  ('diagnosis', 'exact', 'health', true),
  ('diagnos', 'exact', 'health', true),
  ('medical', 'exact', 'health', true),
  ('medicin', 'exact', 'health', true),
  ('medication', 'exact', 'health', true),
  ('allergy', 'exact', 'health', true),
  ('allergi', 'exact', 'health', true),
  ('disability', 'exact', 'health', true),
  ('funktionsnedsattning', 'exact', 'health', true),
  ('sjukdom', 'exact', 'health', true),
  ('blood_type', 'exact', 'health', true),
  ('religion', 'exact', 'religious_beliefs', true),
  ('religious', 'exact', 'religious_beliefs', true),
  ('tro', 'exact', 'religious_beliefs', true),
  ('ethnicity', 'exact', 'racial_ethnic_origin', true),
  ('etnicitet', 'exact', 'racial_ethnic_origin', true),
  ('race', 'exact', 'racial_ethnic_origin', true),
  ('union', 'exact', 'trade_union', true),
  ('trade_union', 'exact', 'trade_union', true),
  ('fackforening', 'exact', 'trade_union', true),
  ('fackförening', 'exact', 'trade_union', true),
  ('union_member', 'exact', 'trade_union', true),
  ('sexual_orientation', 'exact', 'sex_life', true),
  ('sexuell_laggning', 'exact', 'sex_life', true),
  ('political', 'exact', 'political_opinions', true),
  ('politics', 'exact', 'political_opinions', true),
  ('party', 'exact', 'political_opinions', true),
  ('politisk', 'exact', 'political_opinions', true),
  ('fingerprint', 'exact', 'biometric', true),
  ('fingeravtryck', 'exact', 'biometric', true),
  ('face', 'exact', 'biometric', true),
  ('ansikte', 'exact', 'biometric', true),
  ('faceprint', 'exact', 'biometric', true),
  ('iris', 'exact', 'biometric', true),
  ('voiceprint', 'exact', 'biometric', true),
  ('biometric', 'exact', 'biometric', true),
  ('photo', 'exact', 'media.image', true),
  ('picture', 'exact', 'media.image', true),
  ('image', 'exact', 'media.image', true),
  ('bild', 'exact', 'media.image', true),
  ('foto', 'exact', 'media.image', true),
  ('avatar', 'exact', 'media.image', true),
  ('profile_picture', 'exact', 'media.image', true),
  ('profilbild', 'exact', 'media.image', true),
  ('voice', 'exact', 'media.recording', true),
  ('video', 'exact', 'media.recording', true),
  ('recording', 'exact', 'media.recording', true),
  ('inspelning', 'exact', 'media.recording', true),
  ('audio', 'exact', 'media.recording', true),
  ('message', 'exact', 'communications.content', true),
  ('meddelande', 'exact', 'communications.content', true),
  ('comment', 'exact', 'communications.content', true),
  ('kommentar', 'exact', 'communications.content', true),
  ('note', 'exact', 'communications.content', true),
  ('notes', 'exact', 'communications.content', true),
  ('anteckning', 'exact', 'communications.content', true),
  ('body', 'exact', 'communications.content', true),
  ('text', 'exact', 'communications.content', true),
  ('chat', 'exact', 'communications.content', true),
  ('feedback', 'exact', 'communications.content', true),
  ('subject_line', 'exact', 'communications.content', true),
  ('purchase', 'exact', 'commercial.purchase_history', true),
  ('kop', 'exact', 'commercial.purchase_history', true),
  ('köp', 'exact', 'commercial.purchase_history', true),
  ('purchases', 'exact', 'commercial.purchase_history', true),
  ('order_history', 'exact', 'commercial.purchase_history', true),
  ('bestallning', 'exact', 'commercial.purchase_history', true),
  ('beställning', 'exact', 'commercial.purchase_history', true),
  ('criminal_record', 'exact', 'criminal', true),
  ('belastningsregister', 'exact', 'criminal', true),
  ('conviction', 'exact', 'criminal', true),
  ('child', 'exact', 'children', true),
  ('children', 'exact', 'children', true),
  ('barn', 'exact', 'children', true),
  ('guardian', 'exact', 'children', true),
  ('vardnadshavare', 'exact', 'children', true),
  ('vårdnadshavare', 'exact', 'children', true),
  ('email', 'fragment', 'contact.email', true),
  ('e_mail', 'fragment', 'contact.email', true),
  ('epost', 'fragment', 'contact.email', true),
  ('e_post', 'fragment', 'contact.email', true),
  ('mailadress', 'fragment', 'contact.email', true),
  ('phone', 'fragment', 'contact.phone', true),
  ('telefon', 'fragment', 'contact.phone', true),
  ('mobil', 'fragment', 'contact.phone', true),
  ('mobile', 'fragment', 'contact.phone', true),
  ('cellphone', 'fragment', 'contact.phone', true),
  ('address', 'fragment', 'contact.postal_address', true),
  ('adress', 'fragment', 'contact.postal_address', true),
  ('street', 'fragment', 'contact.postal_address', true),
  ('gatu', 'fragment', 'contact.postal_address', true),
  ('first_name', 'fragment', 'identifiers.name', true),
  ('last_name', 'fragment', 'identifiers.name', true),
  ('fornamn', 'fragment', 'identifiers.name', true),
  ('förnamn', 'fragment', 'identifiers.name', true),
  ('efternamn', 'fragment', 'identifiers.name', true),
  ('surname', 'fragment', 'identifiers.name', true),
  ('fullname', 'fragment', 'identifiers.name', true),
  ('full_name', 'fragment', 'identifiers.name', true),
  ('personnummer', 'fragment', 'identifiers.national_id', true),
  ('ssn', 'fragment', 'identifiers.national_id', true),
  ('national_id', 'fragment', 'identifiers.national_id', true),
  ('samordningsnummer', 'fragment', 'identifiers.national_id', true),
  ('birth', 'fragment', 'identifiers.date_of_birth', true),
  ('fodelse', 'fragment', 'identifiers.date_of_birth', true),
  ('födelse', 'fragment', 'identifiers.date_of_birth', true),
  ('password', 'fragment', 'credentials.password', true),
  ('losenord', 'fragment', 'credentials.password', true),
  ('lösenord', 'fragment', 'credentials.password', true),
  ('ip_addr', 'fragment', 'network.ip_address', true),
  ('ipaddr', 'fragment', 'network.ip_address', true),
  ('ip_adress', 'fragment', 'network.ip_address', true),
  ('ipadress', 'fragment', 'network.ip_address', true),
  ('cookie', 'fragment', 'network.cookie', true),
  ('session_id', 'fragment', 'network.cookie', true),
  ('latitude', 'fragment', 'location.precise', true),
  ('longitude', 'fragment', 'location.precise', true),
  ('geoloc', 'fragment', 'location.precise', true),
  ('koordinat', 'fragment', 'location.precise', true),
  ('iban', 'fragment', 'financial.bank_account', true),
  ('kontonummer', 'fragment', 'financial.bank_account', true),
  ('bankkonto', 'fragment', 'financial.bank_account', true),
  ('card_number', 'fragment', 'financial.payment_card', true),
  ('kortnummer', 'fragment', 'financial.payment_card', true),
  ('credit_card', 'fragment', 'financial.payment_card', true),
  ('diagnos', 'fragment', 'health', true),
  ('medical', 'fragment', 'health', true),
  ('allerg', 'fragment', 'health', true),
  ('sjuk', 'fragment', 'health', true),
  ('email_address', 'fragment', 'contact.email', true),
  ('emailaddress', 'fragment', 'contact.email', true),
  ('e_mail_address', 'fragment', 'contact.email', true),
  ('epostadress', 'fragment', 'contact.email', true),
  ('ip_address', 'fragment', 'network.ip_address', true),
  ('mac_address', 'fragment', 'device.mac_address', true),
  ('mac_adress', 'fragment', 'device.mac_address', true),
  ('phone_number', 'fragment', 'contact.phone', true),
  ('telefonnummer', 'fragment', 'contact.phone', true),
  ('birth_date', 'fragment', 'identifiers.date_of_birth', true),
  ('date_of_birth', 'fragment', 'identifiers.date_of_birth', true);
CREATE FUNCTION privacy_tags.discover(schema_name name DEFAULT 'public', sample_size integer DEFAULT 200)
RETURNS TABLE (relation regclass, column_name name, suggested_tag privacy_tags.privacy_tag,
               rule text, evidence text, sampled integer, matched integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c record;
    v_norm text;
    v_hint record;
    v_pages float8;
    v_pct float8;
    v_mode text;
    v_sampled integer;
    v_category text;
BEGIN
    IF schema_name IS NULL OR sample_size IS NULL THEN
        RAISE EXCEPTION 'discover: schema_name and sample_size must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF sample_size < 1 OR sample_size > 100000 THEN
        RAISE EXCEPTION 'discover: sample_size must be between 1 and 100000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = schema_name) THEN
        RAISE EXCEPTION 'schema "%" does not exist', schema_name USING ERRCODE = 'invalid_schema_name';
    END IF;

    FOR c IN
        SELECT k.oid::regclass AS rel, k.relkind, k.relpages, k.reltuples, a.attname, a.atttypid,
               format_type(a.atttypid, a.atttypmod) AS typ
          FROM pg_class k
          JOIN pg_namespace n ON n.oid = k.relnamespace
          JOIN pg_attribute a ON a.attrelid = k.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = schema_name AND k.relkind IN ('r', 'p', 'f') AND NOT k.relispartition
           AND has_table_privilege(k.oid, 'SELECT')
           AND NOT EXISTS (SELECT FROM pg_seclabel s
                            WHERE s.objoid = k.oid AND s.objsubid = a.attnum
                              AND s.classoid = 'pg_class'::regclass
                              AND s.provider IN ('privacy_tags', 'privacy_tags_subject'))
         ORDER BY k.oid::regclass::text, a.attnum
    LOOP
        relation := c.rel;
        column_name := c.attname;
        suggested_tag := NULL;
        rule := NULL;
        evidence := NULL;
        sampled := NULL;
        matched := NULL;

        -- by the column's type
        IF c.atttypid IN ('inet'::regtype, 'cidr'::regtype) THEN
            suggested_tag := 'network.ip_address; basis=legitimate_interests';
            rule := 'type';
            evidence := format('column type %s holds IP addresses', c.typ);
        ELSIF c.atttypid IN ('macaddr'::regtype, 'macaddr8'::regtype) THEN
            suggested_tag := 'device.mac_address; basis=legitimate_interests';
            rule := 'type';
            evidence := format('column type %s holds MAC addresses', c.typ);
        END IF;

        -- by sampled values (text-like columns), a bounded block sample; a
        -- foreign table's values are not fetched from its server
        IF suggested_tag IS NULL AND c.relkind <> 'f'
           AND (c.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)
                OR format_type(c.atttypid, NULL) = 'citext') THEN
            -- enough blocks for about 4 x sample_size rows, never the whole of a large table
            v_pct := CASE WHEN c.reltuples <= 0 OR c.reltuples <= 4 * sample_size THEN 100
                          ELSE least(100, greatest(0.01, 400.0 * sample_size / c.reltuples)) END;
            -- one sample, read once: what was sampled and what matched come
            -- from the same rows
            EXECUTE format('WITH s AS MATERIALIZED (SELECT privacy_tags.value_kind(t.%1$I::text) AS k '
                           'FROM %2$s t %3$s WHERE t.%1$I IS NOT NULL LIMIT %4$s), '
                           'm AS (SELECT mode() WITHIN GROUP (ORDER BY k) AS mode FROM s) '
                           'SELECT (SELECT count(*)::int FROM s), m.mode, '
                           '(SELECT count(*)::int FROM s WHERE s.k = m.mode) FROM m',
                           c.attname, c.rel,
                           CASE WHEN v_pct < 100 THEN format('TABLESAMPLE SYSTEM (%s)', v_pct) ELSE '' END,
                           sample_size)
               INTO v_sampled, v_mode, matched;
            -- a majority of the sampled values, and at least 3 of them
            IF v_sampled > 0 AND v_mode IS NOT NULL AND matched >= 3 AND matched * 2 >= v_sampled THEN
                v_category := CASE v_mode
                                  WHEN 'email' THEN 'contact.email'
                                  WHEN 'phone' THEN 'contact.phone'
                                  WHEN 'ipv4' THEN 'network.ip_address'
                                  WHEN 'ipv6' THEN 'network.ip_address'
                                  WHEN 'card' THEN 'financial.payment_card'
                                  WHEN 'personnummer' THEN 'identifiers.national_id' END;
                suggested_tag := v_category::privacy_tags.privacy_tag;
                rule := 'values: ' || v_mode;
                sampled := v_sampled;
                evidence := format('%s of %s sampled values look like %s', matched, v_sampled,
                                   CASE v_mode WHEN 'email' THEN 'email addresses'
                                                     WHEN 'phone' THEN 'phone numbers'
                                                     WHEN 'ipv4' THEN 'IPv4 addresses'
                                                     WHEN 'ipv6' THEN 'IPv6 addresses'
                                                     WHEN 'card' THEN 'payment card numbers (Luhn check passed)'
                                                     WHEN 'personnummer' THEN 'Swedish personal identity numbers (check digit valid)' END);
            ELSE
                sampled := v_sampled;
                matched := coalesce(matched, 0);
            END IF;
        END IF;

        -- by the column's name
        IF suggested_tag IS NULL THEN
            -- lower case, Swedish letters folded (lön, ålder, födelsedatum), separators as "_"
            v_norm := translate(lower(c.attname), 'åäöéüÅÄÖÉÜ', 'aaoeuaaoeu');
            v_norm := regexp_replace(v_norm, '[^a-z0-9]+', '_', 'g');
            SELECT h.* INTO v_hint FROM privacy_tags.name_hints h
             WHERE (h.match = 'exact' AND h.pattern = v_norm)
                OR (h.match = 'fragment' AND strpos(v_norm, h.pattern) > 0)
             ORDER BY h.match = 'exact' DESC, length(h.pattern) DESC, h.pattern
             LIMIT 1;
            IF FOUND THEN
                suggested_tag := v_hint.category::privacy_tags.privacy_tag;
                rule := 'name: ' || v_hint.match;
                evidence := format('column name "%s" %s "%s"', c.attname,
                                   CASE v_hint.match WHEN 'exact' THEN 'is' ELSE 'contains' END, v_hint.pattern);
                sampled := NULL;
                matched := NULL;
            END IF;
        END IF;

        IF suggested_tag IS NOT NULL THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION privacy_tags.discover(name, integer) IS
    'Untagged columns that look like personal data, by type, by a bounded sample of their values, or by name; each with a suggested tag and the evidence.';

CREATE FUNCTION privacy_tags.processing_record()
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_subjects jsonb := '{}';   -- relation -> [subject types]
    r record;
BEGIN
    -- which kinds of data subject each table holds data of
    FOR r IN SELECT DISTINCT s.subject_type FROM privacy_tags.subjects s ORDER BY 1 LOOP
        SELECT v_subjects || coalesce(jsonb_object_agg(t.relation::text,
                   coalesce(v_subjects -> t.relation::text, '[]') || to_jsonb(r.subject_type)), '{}')
          INTO v_subjects
          FROM privacy_tags._subject_tables(r.subject_type, '') t;
    END LOOP;

    RETURN jsonb_build_object(
        'format', 'privacy_tags.processing_record/1',
        'database', current_database(),
        'purposes', coalesce((
            SELECT jsonb_agg(p.doc ORDER BY p.purpose)
              FROM (SELECT x.purpose, jsonb_build_object(
                        'purpose', x.purpose,
                        'legal_bases', jsonb_agg(DISTINCT x.basis ORDER BY x.basis) FILTER (WHERE x.basis IS NOT NULL),
                        'special_conditions', coalesce(jsonb_agg(DISTINCT x.special ORDER BY x.special) FILTER (WHERE x.special IS NOT NULL), '[]'),
                        'data_categories', jsonb_agg(DISTINCT x.category ORDER BY x.category),
                        'special_categories', coalesce(jsonb_agg(DISTINCT x.category ORDER BY x.category) FILTER (WHERE x.is_special), '[]'),
                        'ccpa_categories', jsonb_agg(DISTINCT x.ccpa ORDER BY x.ccpa) FILTER (WHERE x.ccpa IS NOT NULL),
                        'data_subjects', coalesce((SELECT jsonb_agg(DISTINCT st ORDER BY st)
                                                     FROM unnest(array_agg(x.relation)) rel,
                                                          jsonb_array_elements_text(coalesce(v_subjects -> rel, '[]')) st), '[]'),
                        'retention', coalesce(jsonb_agg(DISTINCT jsonb_build_object(
                                         'relation', x.relation, 'column', x.column_name, 'category', x.category,
                                         'retain', x.retain, 'on_expiry', x.on_expiry)) FILTER (WHERE x.retain IS NOT NULL), '[]'),
                        'tables', jsonb_agg(DISTINCT x.relation ORDER BY x.relation)) AS doc
                      FROM (SELECT coalesce(p, 'unspecified') AS purpose, c.legal_basis AS basis, c.special,
                                   c.category, c.is_special, c.ccpa::text AS ccpa, c.relation::text AS relation,
                                   c.column_name, c.on_expiry,
                                   substring(c.tag::text from 'retain=([^;]*)') AS retain
                              FROM privacy_tags.columns c
                              LEFT JOIN LATERAL unnest(nullif(c.purposes, '{}')) p ON true) x
                     GROUP BY x.purpose) p), '[]'),
        'untagged_basis', coalesce((SELECT jsonb_agg(jsonb_build_object('relation', c.relation::text, 'column', c.column_name)
                                                     ORDER BY c.relation::text, c.column_name)
                                      FROM privacy_tags.columns c WHERE c.legal_basis IS NULL), '[]'));
END
$$;
COMMENT ON FUNCTION privacy_tags.processing_record() IS
    'GDPR Art. 30 record of processing built from the tags: per purpose, the categories of data and of data subjects, legal bases, Art. 9 conditions, retention and tables.';

CREATE VIEW privacy_tags.record_of_processing AS
SELECT p ->> 'purpose' AS purpose,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'legal_bases')) AS legal_bases,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'data_subjects')) AS data_subjects,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'data_categories')) AS data_categories,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'special_categories')) AS special_categories,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'special_conditions')) AS special_conditions,
       ARRAY(SELECT DISTINCT (r ->> 'category') || ': ' || (r ->> 'retain')
               FROM jsonb_array_elements(p -> 'retention') r ORDER BY 1) AS retention,
       ARRAY(SELECT jsonb_array_elements_text(p -> 'tables')) AS tables
  FROM jsonb_array_elements(privacy_tags.processing_record() -> 'purposes') p;
COMMENT ON VIEW privacy_tags.record_of_processing IS
    'The record of processing (processing_record()) one row per purpose, for a DPO to read.';
GRANT SELECT ON privacy_tags.record_of_processing TO PUBLIC;
