-- The built-in taxonomy and add_category().
SET search_path = public, privacy_tags;

SELECT count(*) >= 85 AS at_least_85, count(DISTINCT ccpa) AS ccpa_letters,
       string_agg(DISTINCT ccpa::text, '' ORDER BY ccpa::text) AS letters,
       bool_and(builtin) AS all_builtin
  FROM categories;

-- the examples of the design and every kind of data the seed policies name
SELECT w.name, c.ccpa, c.special
  FROM unnest(ARRAY[
    'contact.email', 'network.ip_address', 'health.condition', 'financial.invoice',
    'identifiers', 'identifiers.name', 'identifiers.national_id', 'contact.phone',
    'contact.postal_address', 'credentials.password', 'device.mac_address', 'device.imei',
    'network.cookie', 'network.online_identifier', 'network.browsing_history',
    'network.clickstream', 'location.precise', 'commercial.purchase_history',
    'financial.payment_card', 'financial.bank_account', 'professional.employment_history',
    'professional.job_application', 'education.record', 'media.image', 'media.recording',
    'communications.content', 'inferences.profile', 'children.age',
    'genetic', 'biometric', 'racial_ethnic_origin', 'political_opinions',
    'religious_beliefs', 'trade_union', 'sex_life', 'criminal']) WITH ORDINALITY w(name, n)
  LEFT JOIN categories c USING (name)
 ORDER BY w.n;

-- special categories are exactly the GDPR Art. 9(1) subtrees
SELECT split_part(name, '.', 1) AS top, bool_and(special) AS all_special, count(*)
  FROM categories WHERE special GROUP BY 1 ORDER BY 1;
SELECT count(*) AS special_children_of_plain_parents
  FROM categories c JOIN categories p ON p.name = c.parent WHERE c.special <> p.special;
SELECT count(*) AS orphans FROM categories c
 WHERE c.parent IS NOT NULL AND NOT EXISTS (SELECT FROM categories p WHERE p.name = c.parent);

-- add_category
SELECT add_category('loyalty', 'Loyalty programme membership.', ccpa => 'D');
SELECT add_category('loyalty.points', 'Points balance in the loyalty programme.');
SELECT add_category('health.fitness', 'Fitness tracker readings.');
SELECT name, parent, special, ccpa, builtin FROM categories
 WHERE name IN ('loyalty', 'loyalty.points', 'health.fitness') ORDER BY name;
SELECT * FROM try($$SELECT privacy_tags.add_category('Loyalty.Tier', 'x')$$);
SELECT * FROM try($$SELECT privacy_tags.add_category('loyalty', 'again')$$);
SELECT * FROM try($$SELECT privacy_tags.add_category('nowhere.thing', 'x')$$);
SELECT * FROM try($$SELECT privacy_tags.add_category('health.steps', 'x', special => false)$$);
-- a new top level may leave its CCPA letter unknown (fideslang's "user")
SELECT * FROM try($$SELECT privacy_tags.add_category('toplevel', 'x')$$);
SELECT name, parent, ccpa, fideslang FROM categories WHERE name = 'toplevel';
SELECT * FROM try($$SELECT privacy_tags.add_category('toplevel2', 'x', ccpa => 'Z')$$);
SELECT * FROM try($$SELECT privacy_tags.add_category(NULL, 'x')$$);
-- categories added by users are dumped with the database; built-in ones are not
SELECT extconfig::regclass[], extcondition FROM pg_extension WHERE extname = 'privacy_tags';
