-- pgTAP: data-subject rights over a foreign-key graph with neighbours.
BEGIN;
SELECT plan(26);
SET search_path = public, privacy_tags;
SET TimeZone = 'UTC';

CREATE TABLE tap_members (org text, no int, name text, email text, joined timestamptz NOT NULL,
                          PRIMARY KEY (org, no));
CREATE TABLE tap_accounts (id int PRIMARY KEY, member_org text, member_no int, handle text,
                           FOREIGN KEY (member_org, member_no) REFERENCES tap_members);
CREATE TABLE tap_posts (id int PRIMARY KEY, account_id int NOT NULL REFERENCES tap_accounts, body text);
CREATE TABLE tap_likes (post_id int REFERENCES tap_posts, liker text);
CREATE TABLE tap_member_ids (member_id text PRIMARY KEY, org text, no int,
                             FOREIGN KEY (org, no) REFERENCES tap_members);
SELECT set_subject('tap_member_ids', 'member_id', 'member');
SELECT tag('tap_members', 'name', 'identifiers.name; basis=contract');
SELECT tag('tap_members', 'email', 'contact.email; basis=consent; purpose=digest');
SELECT tag('tap_accounts', 'handle', 'network.online_identifier; basis=contract');
SELECT tag('tap_posts', 'body', 'communications.content; basis=consent; purpose=forum');
SELECT tag('tap_likes', 'liker', 'inferences.preferences; basis=legitimate_interests');
-- two members with the same number in different organisations: a composite key
INSERT INTO tap_members VALUES ('acme', 1, 'Ann', 'ann@x', '2024-01-01'), ('beta', 1, 'Ann', 'ann@x', '2024-01-01'),
                               ('acme', 2, 'Cid', 'cid@x', '2024-01-01');
INSERT INTO tap_member_ids VALUES ('M-1', 'acme', 1), ('M-2', 'beta', 1), ('M-3', 'acme', 2);
INSERT INTO tap_accounts VALUES (1, 'acme', 1, 'ann_a'), (2, 'beta', 1, 'ann_b'), (3, 'acme', 2, 'cid');
INSERT INTO tap_posts VALUES (10, 1, 'hello'), (11, 2, 'hello'), (12, 3, 'hi');
INSERT INTO tap_likes VALUES (10, 'x'), (11, 'x'), (12, 'y'), (10, 'z');

-- the root here is tap_member_ids; members, accounts, posts and likes hang below
-- it only through tap_members, which member_ids points at (not the other way):
-- so make members the root instead, with a text key
SELECT set_subject('tap_members', 'org', 'org');   -- another subject type on the same table
SELECT is(subject_access('member', 'M-1') -> 'data' -> 'public.tap_member_ids' -> 0 ->> 'member_id', 'M-1',
          'the root row is found by its subject column');
-- (its reference to the organisation, another subject type's root, makes it
-- shared: the export leaves the organisation's key out)
SELECT is(jsonb_array_length(subject_access('org', 'acme') -> 'data' -> 'public.tap_members'), 2,
          'a subject type names one table''s rows by its column');
SELECT is(jsonb_array_length(subject_access('org', 'acme') -> 'data' -> 'public.tap_accounts'), 2,
          'composite foreign key: both acme members'' accounts, not beta''s');
SELECT is(jsonb_array_length(subject_access('org', 'acme') -> 'data' -> 'public.tap_posts'), 2,
          'second level: posts of those accounts');
SELECT is(jsonb_array_length(subject_access('org', 'acme') -> 'data' -> 'public.tap_likes'), 3,
          'third level: likes of those posts');
SELECT ok(NOT (subject_access('org', 'acme')::text LIKE '%ann_b%'), 'the beta neighbour with equal values never appears');
SELECT is((subject_access('org', 'beta') -> 'summary' ->> 'records')::int, 5, 'beta: member, id row, account, post, like');
SELECT is(subject_access('org', 'gamma') -> 'data', '{}'::jsonb, 'unknown subject: empty data');
SELECT is(subject_access('org', 'gamma') -> 'summary' -> 'records', '0'::jsonb, 'unknown subject: zero records');
SELECT is(subject_access('member', 'M-9') -> 'fields', '{}'::jsonb, 'unknown subject: no fields');
SELECT ok(subject_access('org', 'acme', portable_only => true) -> 'data' ? 'public.tap_posts',
          'portable: consent-based posts are in');
SELECT ok(NOT (subject_access('org', 'acme', portable_only => true) -> 'data' ? 'public.tap_likes'),
          'portable: legitimate-interest likes are out');
SELECT is(subject_access('org', 'acme', portable_only => true) -> 'data' -> 'public.tap_accounts' -> 0,
          '{"handle": "ann_a"}'::jsonb, 'portable: only the provided columns of a row');
SELECT set_subject('tap_members', 'org', 'org', 'joined');
SELECT is(subject_access('org', 'acme', since => '2025-01-01') -> 'data' -> 'public.tap_members', NULL,
          'since: rows collected before are left out');
SELECT ok(subject_access('org', 'acme', since => '2025-01-01') -> 'summary' -> 'not_limited_by_since' ? 'public.tap_posts',
          'since: tables without a collected_at column are named');

-- erasure of one organisation leaves the other alone
SELECT is(erase('org', 'beta', dry_run => true) -> 'tables', erase('org', 'beta', dry_run => true) -> 'tables',
          'a dry run is repeatable');
SELECT is((SELECT count(*)::int FROM tap_likes), 4, 'a dry run changes nothing');
SELECT lives_ok($$SELECT privacy_tags.erase('org', 'beta')$$, 'erase beta');
SELECT is((SELECT count(*)::int FROM tap_likes WHERE post_id = 11), 0, 'beta''s likes are gone');
SELECT is((SELECT count(*)::int FROM tap_likes), 3, 'acme''s likes are all there');
SELECT is((SELECT count(*)::int FROM tap_posts), 2, 'acme''s posts are all there');
SELECT is((SELECT name FROM tap_members WHERE org = 'beta'), NULL,
          'beta''s member row stays (its id row points at it) with its name erased');
SELECT is((SELECT name FROM tap_members WHERE org = 'acme' AND no = 1), 'Ann', 'acme''s Ann keeps her name');

-- consent per purpose
SELECT lives_ok($$SELECT privacy_tags.grant_consent('org', 'acme', 'digest')$$, 'grant digest');
SELECT is((withdraw_consent('org', 'acme', 'forum') -> 'tables' -> 'public.tap_posts' ->> 'nulled')::int, 2,
          'withdrawing forum erases the forum posts');
SELECT is((SELECT count(*)::int FROM tap_members WHERE org = 'acme' AND email IS NOT NULL), 2,
          'the digest emails (another purpose, still consented) stay');

SELECT * FROM finish();
ROLLBACK;
