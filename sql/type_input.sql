-- privacy_tag text input: canonical forms and malformed input.
SET search_path = public, privacy_tags;

-- canonical output: lower case, fixed key order, single spaces
SELECT t::privacy_tag AS canonical FROM (VALUES
  ('contact.email'),
  ('contact.email; basis=consent; purpose=newsletter; retain=3 years after last_contact_at'),
  ('network.ip_address; basis=legitimate_interests; retain=30 days after created_at; on_expiry=nullify'),
  ('health.condition; basis=consent; special=explicit_consent'),
  ('financial.invoice; basis=legal_obligation; retain=7 years after issued_on'),
  ('  CONTACT.Email ;  On_Expiry = NULLIFY;RETAIN=2 Weeks after Last_Contact ; Basis=Contract  '),
  ('contact.email; purpose=support, billing ,newsletter'),
  ('contact.email; retain=18 months after "Last Contact"'),
  ('contact.email; retain=1 y 13 mons 1 w 2 d 3 h 4 min 5 s after x'),
  ('contact.email; retain=36 hours after "a""b"'),
  ('contact.email; retain=90 minutes after ålder'),
  ('contact.email; retain=1 year after "Ålder"'),
  ('contact.email; retain=3 years after "9lives"'),
  ('contact.email; retain=1 day after "with space"'),
  ('contact.email; retain=2147483647 hours 59 minutes 59 seconds after t'),
  ('a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p'),
  ('x1_.y_2; special=archiving_research; basis=public_task'),
  ('contact.email; retain=3 years'),
  (E'contact.email;\tbasis=vital_interests\n')
) v(t);

-- masks: the kind case-insensitive, after on_expiry in the output; the
-- default mask=null is not written; a literal is re-quoted ('' for a quote)
SELECT t::privacy_tag AS canonical FROM (VALUES
  ('contact.email; mask=redact'),
  ('contact.email; MASK = Hash'),
  ('contact.email; mask=NULL'),
  ('contact.email; mask=null; basis=consent'),
  ($$contact.email; mask='n/a'$$),
  ($$contact.email; mask =  'it''s'  ; basis=contract$$),
  ($$contact.email; mask=''$$),
  ($$contact.email; mask=''''$$),
  ($$contact.email; mask='a; b=c, "d"'$$),
  ($$contact.email; mask='Ünïcode ✓'$$),
  (E'contact.email; mask=\'tab\there\''),
  ($$network.ip_address; mask=redact; on_expiry=nullify; retain=30 days after created_at; basis=legitimate_interests$$)
) v(t);
-- a literal of 255 bytes is the longest
SELECT octet_length(mask(t)) AS quoted_bytes, t = t::text::privacy_tag AS round_trip
  FROM (SELECT ($$a; mask='$$ || repeat('m', 255) || $$'$$)::privacy_tag AS t) v;
SELECT octet_length(mask(t)) AS quoted_bytes, t = t::text::privacy_tag AS round_trip
  FROM (SELECT ($$a; mask='$$ || repeat($$''$$, 255) || $$'$$)::privacy_tag AS t) v;
-- round trip of masked tags: the canonical text parses to the same value
-- and is a fixed point
SELECT count(*) AS masked,
       count(*) FILTER (WHERE t::text::privacy_tag = t
                          AND t::text = (t::text::privacy_tag)::text) AS round_trips
  FROM (VALUES ('a; mask=redact'::privacy_tag), ('a; mask=hash'), ($$a; mask='x'$$),
               ($$a; mask=''''$$), ($$a; mask=''$$), ($$a; retain=1 day after b; mask='q'$$),
               ($$a; mask='; mask=hash'$$)) v(t);

-- the output does not depend on IntervalStyle or DateStyle
SET IntervalStyle = sql_standard;
SET DateStyle = 'German, DMY';
SELECT 'contact.email; retain=1 year 6 months 3 hours after d'::privacy_tag;
SET IntervalStyle = iso_8601;
SELECT 'contact.email; retain=1 year 6 months 3 hours after d'::privacy_tag;
RESET IntervalStyle;
RESET DateStyle;

-- the full error of one bad input
SELECT 'contact.email; basis=consnt'::privacy_tag;
SELECT 'contact..email'::privacy_tag;

-- malformed input: each with its SQLSTATE, detail (problem and position) and hint
CREATE TEMP TABLE bad(n serial, input text);
INSERT INTO bad(input) VALUES
  (''),
  ('   '),
  ('.contact'),
  ('contact.'),
  ('contact..email'),
  ('1contact'),
  ('_contact'),
  ('contact.2fa'),
  ('contact-email'),
  ('contact email'),
  ('contäct'),
  ('a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q'),
  (repeat('a', 256)),
  (repeat('abcdefg.', 31) || 'abcdefgh'),
  ('contact.email;'),
  ('contact.email;;basis=consent'),
  ('contact.email basis=consent'),
  ('contact.email; basis'),
  ('contact.email; basis consent'),
  ('contact.email; basis='),
  ('contact.email; basis=consnt'),
  ('contact.email; basis=consent; basis=contract'),
  ('contact.email; colour=blue'),
  ('contact.email; =consent'),
  ('contact.email; special=because'),
  ('contact.email; purpose='),
  ('contact.email; purpose=news letter'),
  ('contact.email; purpose=a,,b'),
  ('contact.email; purpose=a,'),
  ('contact.email; purpose=billing,billing'),
  ('contact.email; purpose=9lives'),
  ('contact.email; purpose=' || repeat('p', 64)),
  ('contact.email; retain='),
  ('contact.email; retain=years'),
  ('contact.email; retain=3'),
  ('contact.email; retain=3 fortnights'),
  ('contact.email; retain=0 days'),
  ('contact.email; retain=-3 days'),
  ('contact.email; retain=1.5 years'),
  ('contact.email; retain=3 years 2 year'),
  ('contact.email; retain=99999999999 days'),
  ('contact.email; retain=2000000000 years'),
  ('contact.email; retain=3 years after'),
  ('contact.email; retain=3 years after "unterminated'),
  ('contact.email; retain=3 years after ""'),
  ('contact.email; retain=3 years after ' || repeat('c', 64)),
  ('contact.email; retain=3 years after 1col'),
  ('contact.email; retain=3 years after a b'),
  ('contact.email; retain=3 years before x'),
  ('contact.email; retain=3 years,after x'),
  ('contact.email; on_expiry=delete'),
  ('contact.email; retain=3 years after x; on_expiry=shred'),
  ('contact.email; retain=3 years after x; on_expiry=delete; on_expiry=nullify'),
  (E'contact.email\x01'),
  ('contact.email; basis=consent extra'),
  ('contact.email; mask='),
  ('contact.email; mask=blur'),
  ('contact.email; mask=redacted_by_hr'),
  ('contact.email; mask="n/a"'),
  ($$contact.email; mask='n/a$$),
  ($$contact.email; mask='it''s$$),
  ($$contact.email; mask='$$ || repeat('m', 256) || $$'$$),
  ($$contact.email; mask='$$ || repeat($$''$$, 256) || $$'$$),
  ('contact.email; mask=hash; mask=redact'),
  ('contact.email; mask=null; mask=null'),
  ($$contact.email; mask='a' 'b'$$),
  ($$contact.email; mask='a'b$$),
  ('contact.email; mask=hash extra'),
  ('contact.email; mask=-'),
  -- found by review of a fuzz round trip: the canonical text must parse back
  ('contact.email; retain=2147483647 hours 2147483647 minutes');
SELECT n, left(input, 60) AS input, r.state, r.detail, r.hint
  FROM bad, try(format('SELECT %L::privacy_tags.privacy_tag', input)) r
 ORDER BY n;
SELECT count(*) AS malformed_inputs,
       count(*) FILTER (WHERE (try(format('SELECT %L::privacy_tags.privacy_tag', input))).state = '22P02') AS rejected_with_22p02
  FROM bad;
