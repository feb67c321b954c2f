-- pgTAP: the privacy_tag type, its functions and operator classes.
BEGIN;
SELECT plan(49);
SET search_path = privacy_tags, public;

SELECT has_schema('privacy_tags');
SELECT has_type('privacy_tags', 'privacy_tag', 'type privacy_tag exists');
SELECT has_function('privacy_tags', f, f || '() exists')
  FROM unnest(ARRAY['category', 'legal_basis', 'special_condition', 'purposes',
                    'retention', 'retention_anchor', 'expiry_action', 'tag', 'untag',
                    'set_subject', 'unset_subject', 'add_category']) f;
SELECT has_view('privacy_tags', 'columns', 'view columns exists');
SELECT has_view('privacy_tags', 'subjects', 'view subjects exists');
SELECT columns_are('privacy_tags', 'columns',
    ARRAY['relation', 'column_name', 'tag', 'category', 'legal_basis', 'special',
          'purposes', 'retention', 'anchor', 'on_expiry', 'ccpa', 'is_special', 'is_subject_key', 'mask'],
    'columns has the documented fields');
SELECT columns_are('privacy_tags', 'categories',
    ARRAY['name', 'parent', 'description', 'special', 'ccpa', 'builtin', 'fideslang'],
    'categories has the documented fields');

-- volatility tells the truth
SELECT is(provolatile::text, 'i', proname || ' is immutable')
  FROM pg_proc WHERE pronamespace = 'privacy_tags'::regnamespace
   AND proname IN ('privacy_tag_in', 'privacy_tag_out', 'category', 'retention');
SELECT is(provolatile::text, 'v', proname || ' is volatile')
  FROM pg_proc WHERE pronamespace = 'privacy_tags'::regnamespace
   AND proname IN ('tag', 'untag', 'set_subject');

-- the design's examples parse and print as written (plus the default action)
SELECT is('contact.email; basis=consent; purpose=newsletter; retain=3 years after last_contact_at'::privacy_tag::text,
          'contact.email; basis=consent; purpose=newsletter; retain=3 years after last_contact_at; on_expiry=delete');
SELECT is('network.ip_address; basis=legitimate_interests; retain=30 days after created_at; on_expiry=nullify'::privacy_tag::text,
          'network.ip_address; basis=legitimate_interests; retain=30 days after created_at; on_expiry=nullify');
SELECT is('health.condition; basis=consent; special=explicit_consent'::privacy_tag::text,
          'health.condition; basis=consent; special=explicit_consent');
SELECT is('financial.invoice; basis=legal_obligation; retain=7 years after issued_on'::privacy_tag::text,
          'financial.invoice; basis=legal_obligation; retain=7 years after issued_on; on_expiry=delete');

-- every basis and every special condition round trips
SELECT is(legal_basis(('x; basis=' || b)::privacy_tag), b, 'basis ' || b)
  FROM unnest(ARRAY['consent', 'contract', 'legal_obligation', 'vital_interests',
                    'public_task', 'legitimate_interests']) b;
SELECT is(special_condition(('x; special=' || s)::privacy_tag), s, 'special ' || s)
  FROM unnest(ARRAY['explicit_consent', 'employment', 'vital_interests', 'nonprofit',
                    'made_public', 'legal_claims', 'substantial_public_interest',
                    'health_care', 'public_health', 'archiving_research']) s;

-- limits: 16 levels and 255 bytes are accepted, one more is not
SELECT lives_ok($$SELECT 'a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p'::privacy_tags.privacy_tag$$, '16 levels');
SELECT throws_ok($$SELECT 'a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q'::privacy_tags.privacy_tag$$, '22P02', NULL, '17 levels');
SELECT lives_ok(format('SELECT %L::privacy_tags.privacy_tag', repeat('a', 255)), '255 bytes');
SELECT throws_ok(format('SELECT %L::privacy_tags.privacy_tag', repeat('a', 256)), '22P02', NULL, '256 bytes');

SELECT * FROM finish();
ROLLBACK;
