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
    'The privacy policy of one column: category, legal basis, special-category condition, purposes, retention window, expiry action and mask.';

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
CREATE FUNCTION privacy_tags.mask(privacy_tags.privacy_tag) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tag_mask' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags.mask(privacy_tags.privacy_tag) IS
    'What a kept row gets instead of the value when it is erased or expires with nullify: null, redact, hash, or the literal in single quotes.';

-- internal: the value a kept row gets, for the engine that erases and purges
CREATE FUNCTION privacy_tags._mask_value(tag privacy_tags.privacy_tag, col_type pg_catalog.regtype) RETURNS text
    AS 'MODULE_PATHNAME', 'privacy_tag_mask_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION privacy_tags._mask_value(privacy_tags.privacy_tag, pg_catalog.regtype) IS
    'Internal: the text of the value a kept row of a column of the given type gets for the tag''s mask (the literal, or the type''s redact value); NULL for mask=null and mask=hash.';
