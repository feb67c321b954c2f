-- The taxonomy -----------------------------------------------------------------

CREATE TABLE privacy_tags.categories (
    name        text PRIMARY KEY
                CHECK (name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,15}$'
                       AND octet_length(name) <= 255),
    parent      text,  -- checked by add_category(); no self-reference, which pg_dump warns about
    description text NOT NULL,
    special     boolean NOT NULL DEFAULT false,
    ccpa        char(1) CHECK (ccpa BETWEEN 'A' AND 'K'),  -- NULL: not known (a user's top level)
    builtin     boolean NOT NULL DEFAULT false,
    fideslang   text CHECK (fideslang ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
    CHECK (parent IS NOT DISTINCT FROM
           NULLIF(pg_catalog.regexp_replace(name, '\.?[a-z0-9_]+$', ''), ''))
);
COMMENT ON TABLE privacy_tags.categories IS
    'Categories of personal data: a dot-separated hierarchy, each with its CCPA letter (A-K) and GDPR Art. 9 special-category flag.';
COMMENT ON COLUMN privacy_tags.categories.name IS 'Dot-separated path, e.g. contact.email.';
COMMENT ON COLUMN privacy_tags.categories.parent IS 'The path one level up; NULL at the top.';
COMMENT ON COLUMN privacy_tags.categories.special IS 'True for GDPR Art. 9(1) special categories: tags need a special= condition.';
COMMENT ON COLUMN privacy_tags.categories.ccpa IS 'CCPA category letter, Cal. Civ. Code 1798.140(v)(1)(A)-(K); NULL when not known (a top level added without one).';
COMMENT ON COLUMN privacy_tags.categories.builtin IS 'True for the categories shipped with the extension.';
COMMENT ON COLUMN privacy_tags.categories.fideslang IS 'The equivalent fideslang data category (export_fides_dataset()); NULL: none, the nearest ancestor''s is used.';
GRANT SELECT ON privacy_tags.categories TO PUBLIC;
