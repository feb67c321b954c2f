-- The mask clause of privacy_tag: accessor, comparison, binary I/O and the
-- on-disk format version (1 without a mask, as 1.x wrote it; 2 with one).
SET search_path = public, privacy_tags;

CREATE TABLE masks (id int, t privacy_tag);
INSERT INTO masks VALUES
  (1, 'contact.email'),
  (2, 'contact.email; mask=null'),
  (3, 'contact.email; mask=redact'),
  (4, 'contact.email; mask=hash'),
  (5, $$contact.email; mask='n/a'$$),
  (6, $$contact.email; mask='it''s'$$),
  (7, $$contact.email; mask=''$$),
  (8, $$contact.email; mask='N/A'$$),
  (9, 'contact.email; basis=consent; mask=redact'),
  (10, 'contact.email; retain=1 year after seen; on_expiry=nullify; mask=hash'),
  (11, 'contact.email; retain=1 year after seen; on_expiry=nullify'),
  (12, ($$contact.email; mask='$$ || repeat('x', 255) || $$'$$)::privacy_tag),
  (13, 'contact.email; MASK=REDACT'),
  (14, $$contact.email; mask='n/a'$$);

-- the accessor: the clause's value as the canonical text writes it
SELECT id, left(mask(t), 12) AS mask, left(t::text, 75) AS t FROM masks ORDER BY id;
SELECT mask($$a; mask='say "cheese"; ok'$$), mask('a; retain=2 days after b');

-- equality: the mask is part of the value; mask=null is the tag without one
SELECT a.id, b.id FROM masks a JOIN masks b ON a.t = b.t AND a.id < b.id ORDER BY 1, 2;
-- ordering: after every other field, by kind (null, redact, hash, literal),
-- then by the literal's bytes
SELECT id, mask(t) FROM masks WHERE id <> 12 ORDER BY t, id;
SELECT 'a'::privacy_tag < 'a; mask=redact' AS null_first,
       'a; mask=redact'::privacy_tag < 'a; mask=hash' AS redact_before_hash,
       'a; mask=hash'::privacy_tag < $$a; mask=''$$ AS hash_before_literal,
       $$a; mask='a'$$::privacy_tag < $$a; mask='b'$$ AS by_literal,
       $$a; mask='a'$$::privacy_tag < $$a; mask='ab'$$ AS prefix_first,
       'a; mask=hash'::privacy_tag < 'a; basis=consent' AS basis_before_mask,
       'a; retain=1 day after x; on_expiry=delete; mask=hash'::privacy_tag
         < 'a; retain=1 day after x; on_expiry=nullify' AS action_before_mask;

-- hash and btree indexes and a hash join agree with equality
CREATE INDEX masks_btree ON masks USING btree (t);
CREATE INDEX masks_hash ON masks USING hash (t);
SET enable_seqscan = off;
SELECT id FROM masks WHERE t = $$contact.email; mask='n/a'$$ ORDER BY id;
SELECT id FROM masks WHERE t = 'contact.email' ORDER BY id;
RESET enable_seqscan;
SET enable_mergejoin = off;
SET enable_nestloop = off;
SELECT count(*) FROM masks a JOIN masks b ON a.t = b.t;
RESET enable_mergejoin;
RESET enable_nestloop;
SELECT min(id), count(*), mask(t) FROM masks GROUP BY t HAVING count(*) > 1 ORDER BY 1;
SELECT privacy_tag_hash('a; mask=redact') = privacy_tag_hash('a; MASK = Redact') AS same_hash,
       privacy_tag_hash('a; mask=redact') <> privacy_tag_hash('a') AS differs_from_unmasked;

-- binary send: version byte 1 without a mask (as 1.x sent), 2 with one,
-- then the canonical text
SELECT id, get_byte(privacy_tag_send(t), 0) AS send_version FROM masks ORDER BY id;
SELECT encode(privacy_tag_send($$a; mask='x'$$), 'escape');

-- binary COPY round trip
\copy masks TO 'results/masks.bin' WITH (FORMAT binary)
CREATE TABLE masks2 (LIKE masks);
\copy masks2 FROM 'results/masks.bin' WITH (FORMAT binary)
SELECT count(*) AS copied,
       count(*) FILTER (WHERE a.t IS NOT DISTINCT FROM b.t AND a.t::text = b.t::text) AS identical
  FROM masks a JOIN masks2 b USING (id);

-- recv takes versions 1 and 2 (the text says whether there is a mask) and
-- no other: a binary COPY of one row, made by printf
CREATE TABLE recv_in (t privacy_tag);
CREATE FUNCTION octal(n int) RETURNS text LANGUAGE sql
    AS $$SELECT (n / 64 % 8)::text || (n / 8 % 8)::text || (n % 8)::text$$;
CREATE FUNCTION copy_version(version int, tag text) RETURNS TABLE (state text, message text, hint text)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT r.state, r.message, r.hint INTO state, message, hint
      FROM try(format($c$COPY recv_in FROM PROGRAM %L WITH (FORMAT binary)$c$,
                      format($p$printf 'PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0\0\1\0\0\0\%s\%s%s\377\377'$p$,
                             octal(octet_length(tag) + 1), octal(version), tag))) r;
    RETURN NEXT;
END
$$;
SELECT * FROM copy_version(1, 'a');
SELECT * FROM copy_version(2, 'b; mask=hash');
SELECT * FROM copy_version(1, 'c; mask=redact');
SELECT * FROM copy_version(3, 'd');
SELECT * FROM copy_version(0, 'e');
SELECT t, mask(t), get_byte(privacy_tag_send(t), 0) AS sends FROM recv_in ORDER BY t;

-- on disk: version byte 1 without a mask, 2 with one, read off the page
CREATE EXTENSION pageinspect;
SELECT get_byte(a[1], 0) AS id,
       CASE WHEN get_byte(a[2], 0) & 1 = 1 THEN get_byte(a[2], 1)	-- 1-byte varlena header
            ELSE get_byte(a[2], 4) END AS disk_version
  FROM heap_page_items(get_raw_page('masks', 0)) h,
       LATERAL tuple_data_split('masks'::regclass, h.t_data, h.t_infomask, h.t_infomask2, h.t_bits) a
 ORDER BY 1;
DROP EXTENSION pageinspect;
