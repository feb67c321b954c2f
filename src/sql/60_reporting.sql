-- Reporting: discovery of untagged personal data, record of processing ---------

CREATE FUNCTION privacy_tags.value_kind(text) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tags_value_kind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.value_kind(text) IS
    'What a value looks like: email, ipv4, ipv6, personnummer (check digit valid), card (Luhn valid), phone, iban (mod-97 valid), orgnr (check digit valid), imei (Luhn valid), mac, geo, ssn, password_hash, jwt, api_key, person_name, street_address, postal_code; NULL otherwise.';

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
