-- The subject graph on schemas like real ones (issue 11): partitions with
-- foreign keys on some partitions only, rows that mention two subjects,
-- paths of different lengths, references both ways, schemas without foreign
-- keys (link()), composite keys, cascades, holds.
SET search_path = public, privacy_tags;
CREATE SCHEMA rent;

-- staff and customers, both data subjects; rentals and payments mention both
CREATE TABLE rent.address (address_id int PRIMARY KEY, street text NOT NULL, postal_code text, phone text);
CREATE TABLE rent.staff (staff_id int PRIMARY KEY, name text NOT NULL, email text, address_id int REFERENCES rent.address);
CREATE TABLE rent.customer (customer_id int PRIMARY KEY, name text, email text,
                            address_id int REFERENCES rent.address);
CREATE TABLE rent.rental (rental_id int PRIMARY KEY, rented_at timestamptz NOT NULL,
                          customer_id int NOT NULL REFERENCES rent.customer,
                          staff_id int REFERENCES rent.staff, note text);
-- payments: partitioned by month; the foreign key to customers exists on
-- one partition only (as in a well-known sample database)
CREATE TABLE rent.payment (payment_id int, paid_at date NOT NULL, customer_id int NOT NULL,
                           staff_id int, rental_id int, amount numeric NOT NULL,
                           PRIMARY KEY (payment_id, paid_at)) PARTITION BY RANGE (paid_at);
CREATE TABLE rent.payment_2026_10 PARTITION OF rent.payment FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
CREATE TABLE rent.payment_2026_11 PARTITION OF rent.payment FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
ALTER TABLE rent.payment_2026_10 ADD FOREIGN KEY (customer_id) REFERENCES rent.customer;
ALTER TABLE rent.payment_2026_10 ADD FOREIGN KEY (staff_id) REFERENCES rent.staff;

SELECT set_subject('rent.customer', 'customer_id', 'rent_customer');
SELECT set_subject('rent.staff', 'staff_id', 'rent_employee');
SELECT tag('rent.customer', 'name', 'identifiers.name; basis=contract');
SELECT tag('rent.customer', 'email', 'contact.email; basis=consent; purpose=news');
SELECT tag('rent.staff', 'name', 'identifiers.name; basis=contract');
SELECT tag('rent.staff', 'email', 'contact.email; basis=contract');
-- (a NOT NULL column that erasure may have to empty: its mask says how)
SELECT tag('rent.address', 'street', 'contact.postal_address; basis=contract; mask=redact');
SELECT tag('rent.address', 'postal_code', 'contact.postal_address; basis=contract');
SELECT tag('rent.address', 'phone', 'contact.phone; basis=contract');
SELECT tag('rent.rental', 'note', 'commercial.order; basis=contract');
-- the policy keeps payments 7 years (Bokföringslagen): on the partitioned table
SELECT tag('rent.payment', 'amount', 'financial.invoice; basis=legal_obligation; retain=7 years after paid_at');

INSERT INTO rent.address VALUES (1, 'Storgatan 1', '111 22', '+46 8 123'), (2, 'Lillgatan 2', '333 44', '+46 8 456'),
                                (3, 'Kontorsvägen 3', '555 66', NULL);
INSERT INTO rent.staff VALUES (1, 'Stina Staff', 'stina@example.com', 3);
INSERT INTO rent.customer VALUES (10, 'Ada', 'ada@example.com', 1), (11, 'Bo', 'bo@example.com', 2),
                                 (12, 'Cai', 'cai@example.com', 2);
INSERT INTO rent.rental VALUES (100, '2026-10-05', 10, 1, 'a van'), (101, '2026-11-05', 10, NULL, 'a bike'),
                               (102, '2026-11-06', 11, 1, 'a car');
INSERT INTO rent.payment VALUES (1000, '2026-10-05', 10, 1, 100, 50), (1001, '2026-11-05', 10, NULL, 101, 10),
                                (1002, '2026-11-06', 11, 1, 102, 70);

-- the graph, as the DBA sees it: the partitioned table once, its partition's
-- foreign keys counted for it; the address a parent; rentals and payments
-- may be shared (they mention the employee too)
SELECT relation, kind, via, depth, erase_order, classification FROM subject_graph('rent_customer');
SELECT relation, kind, via, depth, erase_order, classification FROM subject_graph('rent_employee');

-- Ada's export: her rentals and payments (the partition without a foreign
-- key included, the partitioned table named once, with its fields), her
-- address; without the employee's key in the rows that mention the employee
SELECT jsonb_pretty(subject_access('rent_customer', '10') -> 'data') AS ada;
-- and where each table's rows come from, whose they are (format 2)
SELECT subject_access('rent_customer', '10') ->> 'format' AS format,
       subject_access('rent_customer', '10') -> 'summary' -> 'shared_records' AS shared_records;
SELECT key AS relation, value ->> 'kind' AS kind, value ->> 'records' AS records, value ->> 'shared' AS shared,
       value ->> 'classification' AS classification
  FROM jsonb_each(subject_access('rent_customer', '10') -> 'tables') ORDER BY key;
SELECT jsonb_pretty(subject_access('rent_customer', '10') -> 'fields' -> 'rent.payment') AS payment_fields;
-- the employee's export: the employee's own row and address; the rentals and
-- payments they handled, without the customers' keys
SELECT jsonb_pretty(subject_access('rent_employee', '1') -> 'data') AS stina;

-- erasing the employee deletes no customer's rentals or payments: their
-- reference to the employee goes (masked) where the column allows
SELECT jsonb_pretty(erase('rent_employee', '1', dry_run => true) -> 'tables') AS erase_employee;
-- erasing Ada keeps her payments (legal obligation), her shared address is
-- hers alone here, rentals that mention the employee are shared
SELECT jsonb_pretty(erase('rent_customer', '10') -> 'tables') AS erase_ada;
SELECT * FROM rent.customer ORDER BY customer_id;
SELECT * FROM rent.address ORDER BY address_id;
SELECT rental_id, customer_id, staff_id, note FROM rent.rental ORDER BY rental_id;
SELECT payment_id, customer_id, staff_id, amount, tableoid::regclass FROM rent.payment ORDER BY payment_id;
-- the shared address (Bo and Cai) stays as it is when Bo is erased
SELECT erase('rent_customer', '11') -> 'tables' -> 'rent.address' AS bo_address;
SELECT * FROM rent.address WHERE address_id = 2;

-- two paths of different length: c <- o <- i and c <- i; a row reached by
-- the longer path only is in
CREATE TABLE rent.c (id int PRIMARY KEY, name text);
CREATE TABLE rent.o (id int PRIMARY KEY, c_id int REFERENCES rent.c, what text);
CREATE TABLE rent.i (id int PRIMARY KEY, o_id int REFERENCES rent.o, c_id int REFERENCES rent.c, what text);
SELECT set_subject('rent.c', 'id', 'rent_c');
SELECT tag('rent.c', 'name', 'identifiers.name; basis=contract');
SELECT tag('rent.o', 'what', 'commercial.order; basis=contract');
SELECT tag('rent.i', 'what', 'commercial.order; basis=contract');
INSERT INTO rent.c VALUES (1, 'one'), (2, 'two');
INSERT INTO rent.o VALUES (10, 1, 'order of one'), (20, 2, 'order of two');
INSERT INTO rent.i VALUES (100, 10, 1, 'both paths'), (101, 10, NULL, 'only through the order'),
                          (102, NULL, 1, 'only directly'), (200, 20, 2, 'of two');
SELECT relation, kind, via FROM subject_graph('rent_c');
SELECT subject_access('rent_c', '1') -> 'data' -> 'rent.i' AS items_of_one;
SELECT erase('rent_c', '1') -> 'tables' AS erased_one;
SELECT id, what FROM rent.i ORDER BY id;

-- no foreign keys at all: declared links, one across types (a varchar id
-- pointing at an integer key), one with a composite key
CREATE TABLE rent.members (member_no int PRIMARY KEY, email text);
CREATE TABLE rent.visits (visit_id int PRIMARY KEY, member_ref varchar(20), page text);
CREATE TABLE rent.cards (region text, card_no int, member_no int, PRIMARY KEY (region, card_no));
CREATE TABLE rent.card_uses (use_id int PRIMARY KEY, region text, card_no int, place text);
SELECT set_subject('rent.members', 'member_no', 'rent_member');
SELECT tag('rent.members', 'email', 'contact.email; basis=contract');
SELECT tag('rent.visits', 'page', 'network.browsing_history; basis=legitimate_interests');
SELECT tag('rent.card_uses', 'place', 'location.precise; basis=contract');
SELECT link('rent.visits', '{member_ref}', 'rent.members', '{member_no}');
SELECT link('rent.cards', '{member_no}', 'rent.members', '{member_no}');
SELECT link('rent.card_uses', '{region,card_no}', 'rent.cards', '{region,card_no}');
SELECT child, child_columns, parent, parent_columns FROM links ORDER BY 1::text, 3::text;
INSERT INTO rent.members VALUES (7, 'm7@example.com'), (8, 'm8@example.com');
INSERT INTO rent.visits VALUES (1, '7', '/home'), (2, '8', '/away'), (3, 'seven', '/junk');
INSERT INTO rent.cards VALUES ('se', 1, 7), ('no', 1, 8);
INSERT INTO rent.card_uses VALUES (1, 'se', 1, 'Stockholm'), (2, 'no', 1, 'Oslo');
SELECT relation, kind, via, classification FROM subject_graph('rent_member');
-- links follow column renames
ALTER TABLE rent.visits RENAME COLUMN member_ref TO member_reference;
SELECT child, child_columns FROM links WHERE child = 'rent.visits'::regclass;
ALTER TABLE rent.visits RENAME COLUMN member_reference TO member_ref;
SELECT jsonb_pretty(subject_access('rent_member', '7') -> 'data') AS member_7;
SELECT erase('rent_member', '7') -> 'tables' AS erased_7;
SELECT count(*) AS visits_left, count(*) FILTER (WHERE member_ref = '7') AS of_7 FROM rent.visits;
-- rows reached only through a link are not locked by the erasure: they are
-- read again at the end, and a row written meanwhile is erased too (late).
-- Here the member's table gets a visit written by a trigger of the
-- erasure's own delete, after visits was done
CREATE FUNCTION rent.visit_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rent.visits VALUES (100 + OLD.member_no, OLD.member_no::text, '/late');
    RETURN OLD;
END $$;
CREATE TRIGGER visit_on_delete AFTER DELETE ON rent.members FOR EACH ROW EXECUTE FUNCTION rent.visit_on_delete();
INSERT INTO rent.visits VALUES (4, '8', '/second');
SELECT jsonb_pretty(erase('rent_member', '8') -> 'tables') AS erased_8;
SELECT visit_id, member_ref, page FROM rent.visits ORDER BY visit_id;
DROP TRIGGER visit_on_delete ON rent.members;
SELECT unlink('rent.visits', '{member_ref}', 'rent.members', '{member_no}') AS unlinked,
       unlink('rent.visits', '{member_ref}', 'rent.members', '{member_no}') AS again;
-- who may link: the child's owner, with REFERENCES on the parent
CREATE ROLE rent_other;
GRANT USAGE ON SCHEMA rent TO rent_other;
SET ROLE rent_other;
SELECT state, message FROM try($$SELECT privacy_tags.link('rent.visits', '{member_ref}', 'rent.members', '{member_no}')$$);
RESET ROLE;
REVOKE USAGE ON SCHEMA rent FROM rent_other;
DROP ROLE rent_other;

-- a purge never cascades into rows their own tags keep: an expired account
-- whose invoices (ON DELETE CASCADE, kept 7 years) are not expired stays
CREATE TABLE rent.accounts (id int PRIMARY KEY, holder text, closed_on date);
CREATE TABLE rent.invoices (id int PRIMARY KEY, account_id int REFERENCES rent.accounts ON DELETE CASCADE,
                            amount numeric, issued_on date);
SELECT tag('rent.accounts', 'holder', 'identifiers.name; basis=contract; retain=1 year after closed_on');
SELECT tag('rent.invoices', 'amount', 'financial.invoice; basis=legal_obligation; retain=7 years after issued_on');
INSERT INTO rent.accounts VALUES (1, 'closed long ago', '2020-01-01'), (2, 'closed, no invoices', '2020-01-01');
INSERT INTO rent.invoices VALUES (1, 1, 100, current_date - 30);
SELECT relation, column_name, action, rows FROM purge('rent.accounts');
SELECT id FROM rent.accounts ORDER BY id;
SELECT count(*) AS invoices_kept FROM rent.invoices;
-- what a purge cascades into is counted, in the report and the audit log:
-- notes (untagged, ON DELETE CASCADE, two levels deep) and tickets (tagged,
-- ON DELETE SET NULL)
CREATE TABLE rent.account_notes (id int PRIMARY KEY, account_id int REFERENCES rent.accounts ON DELETE CASCADE, note text);
CREATE TABLE rent.note_replies (id int PRIMARY KEY, note_id int REFERENCES rent.account_notes ON DELETE CASCADE);
CREATE TABLE rent.tickets (id int PRIMARY KEY, account_id int REFERENCES rent.accounts ON DELETE SET NULL,
                           subject text, opened_on date);
SELECT tag('rent.tickets', 'subject', 'communications.support_ticket; basis=contract; retain=10 years after opened_on');
INSERT INTO rent.accounts VALUES (3, 'closed, notes and tickets', '2020-01-01');
INSERT INTO rent.account_notes VALUES (1, 3, 'a'), (2, 3, 'b'), (3, 1, 'of the kept account');
INSERT INTO rent.note_replies VALUES (1, 1), (2, 1), (3, 3);
INSERT INTO rent.tickets VALUES (1, 3, 'help', current_date);
SELECT relation, column_name, action, rows FROM purge('rent.accounts', dry_run => true);
SELECT relation, column_name, action, rows FROM purge('rent.accounts');
SELECT (SELECT count(*) FROM rent.account_notes) AS notes_left, (SELECT count(*) FROM rent.note_replies) AS replies_left,
       (SELECT account_id FROM rent.tickets) AS ticket_account;
SELECT relation, rows, details ->> 'on_expiry' AS what, details ->> 'cascaded_from' AS from_table,
       details ->> 'dry_run' AS dry_run
  FROM privacy_tags.audit_log WHERE details ? 'cascaded_from' AND relation LIKE 'rent.%' ORDER BY id;
-- a batch reports its cascades after its own row
INSERT INTO rent.accounts VALUES (4, 'closed, one note', '2020-01-01');
INSERT INTO rent.account_notes VALUES (4, 4, 'c');
SELECT relation, column_name, action, rows FROM purge_batch('rent.accounts');

-- holds follow the graph: a held customer's rentals, which have no subject
-- column of their own, are not purged
CREATE TABLE rent.loans (id int PRIMARY KEY, customer_id int REFERENCES rent.customer, item text, returned_on date);
SELECT tag('rent.loans', 'item', 'commercial.order; basis=contract; retain=1 year after returned_on');
INSERT INTO rent.loans VALUES (1, 12, 'held', '2020-01-01'), (2, 11, 'not held', '2020-01-01'),
                              (3, NULL, 'nobody''s', '2020-01-01');
SELECT hold('rent_customer', '12', 'dispute') > 0 AS held;
SELECT relation, column_name, action, rows FROM purge('rent.loans') ORDER BY action;
SELECT id, item FROM rent.loans ORDER BY id;
SELECT release('rent_customer', '12');

-- a partial erasure: only contact data (dot boundaries), in place, no row
-- deleted; legal-obligation data stays
SELECT jsonb_pretty(erase('rent_customer', '12', categories => '{contact}')) AS partial;
SELECT customer_id, name, email FROM rent.customer WHERE customer_id = 12;
SELECT state, message FROM try($$SELECT privacy_tags.erase('rent_customer', '12', categories => '{contactless}')$$);
SELECT state, message FROM try($$SELECT privacy_tags.erase('rent_customer', '12', categories => '{}')$$);

-- an email as the subject key: in a row that must stay it is replaced by a
-- keyed hash (a stable pseudonym), so the person cannot be found by it
CREATE TABLE rent.subscribers (email text PRIMARY KEY, name text NOT NULL, invoiced numeric);
SELECT set_subject('rent.subscribers', 'email', 'rent_subscriber');
SELECT tag('rent.subscribers', 'email', 'contact.email; basis=consent; mask=hash');
SELECT tag('rent.subscribers', 'name', 'identifiers.name; basis=consent; mask=''(erased)''');
SELECT tag('rent.subscribers', 'invoiced', 'financial.invoice; basis=legal_obligation');
INSERT INTO rent.subscribers VALUES ('sub@example.com', 'Sub Scriber', 12), ('other@example.com', 'Other', NULL);
SELECT erase('rent_subscriber', 'sub@example.com') -> 'tables' AS erased_subscriber;
SELECT length(email) AS pseudonym_length, email ~ '^[0-9a-f]{32}$' AS hex, name, invoiced FROM rent.subscribers
 WHERE email <> 'other@example.com';
SELECT count(*) AS still_found FROM rent.subscribers WHERE email = 'sub@example.com';
-- every NOT NULL blocker is named at once, dry run included
CREATE TABLE rent.blocked (id int PRIMARY KEY, a text NOT NULL, b text NOT NULL, kept numeric);
SELECT set_subject('rent.blocked', 'id', 'rent_blocked');
SELECT tag('rent.blocked', 'a', 'identifiers.name; basis=contract');
SELECT tag('rent.blocked', 'b', 'contact.email; basis=contract');
SELECT tag('rent.blocked', 'kept', 'financial.invoice; basis=legal_obligation');
INSERT INTO rent.blocked VALUES (1, 'x', 'y', 5);
SELECT state, message FROM try($$SELECT privacy_tags.erase('rent_blocked', '1', dry_run => true)$$);
-- and so are a CHECK that refuses a mask and a domain's, with the NOT NULL
-- ones, in one error; nothing has changed
CREATE DOMAIN rent.code AS text CHECK (VALUE ~ '^[A-Z]+$');
CREATE TABLE rent.blocked2 (id int PRIMARY KEY, a text NOT NULL, c text CHECK (c <> '(gone)'), d rent.code,
                            kept numeric);
SELECT set_subject('rent.blocked2', 'id', 'rent_blocked');
SELECT tag('rent.blocked2', 'a', 'identifiers.name; basis=contract');
SELECT tag('rent.blocked2', 'c', $$contact.email; basis=contract; mask='(gone)'$$);
SELECT tag('rent.blocked2', 'd', $$identifiers.alias; basis=contract; mask='gone'$$);
SELECT tag('rent.blocked2', 'kept', 'financial.invoice; basis=legal_obligation');
INSERT INTO rent.blocked2 (id, a, c, d, kept) VALUES (1, 'x', 'c@example.com', 'ABC', 5);
SELECT state, message FROM try($$SELECT privacy_tags.erase('rent_blocked', '1', dry_run => true)$$);
SELECT state, message FROM try($$SELECT privacy_tags.erase('rent_blocked', '1')$$);
SELECT id, a, c, d FROM rent.blocked2;
-- without the NOT NULLs, the constraints alone (23514)
ALTER TABLE rent.blocked ALTER a DROP NOT NULL, ALTER b DROP NOT NULL;
ALTER TABLE rent.blocked2 ALTER a DROP NOT NULL;
SELECT state, message FROM try($$SELECT privacy_tags.erase('rent_blocked', '1', dry_run => true)$$);

-- after an erasure, the subject's consents are withdrawn (reason erased)
SELECT grant_consent('rent_customer', '12', 'news');
SELECT erase('rent_customer', '12') -> 'tables' ? 'rent.customer' AS erased_cai;
SELECT purpose, withdrawn_at IS NOT NULL AS withdrawn, withdrawn_reason FROM consents
 WHERE subject_type = 'rent_customer' AND subject_id = '12';

-- a key on the partitioned table and its foreign key on a partition: the
-- payments are reached both ways and listed once
SELECT set_subject('rent.payment', 'customer_id', 'rent_customer');
SELECT relation, kind, via FROM subject_graph('rent_customer') WHERE relation = 'rent.payment'::regclass;
SELECT jsonb_array_length(subject_access('rent_customer', '11') -> 'data' -> 'rent.payment') AS bo_payments,
       (SELECT count(*) FROM rent.payment WHERE customer_id = 11) AS in_the_table;
SELECT unset_subject('rent.payment', 'customer_id');

-- the trigger over the graph: an order of a restricted customer cannot be
-- changed, and a consent-based value of an order needs the customer's
-- consent, though orders have no subject column of their own
CREATE TABLE rent.shoppers (id int PRIMARY KEY, name text);
CREATE TABLE rent.orders (id int PRIMARY KEY, shopper_id int REFERENCES rent.shoppers, gift_note text, what text);
SELECT set_subject('rent.shoppers', 'id', 'rent_shopper');
SELECT tag('rent.orders', 'gift_note', 'communications.content; basis=consent; purpose=gifts');
SELECT tag('rent.orders', 'what', 'commercial.order; basis=contract');
INSERT INTO rent.shoppers VALUES (1, 'one'), (2, 'two');
INSERT INTO rent.orders VALUES (10, 1, NULL, 'book'), (20, 2, NULL, 'lamp');
SELECT enforce('rent.orders');
SELECT restrict('rent_shopper', '1', 'contested') > 0 AS restricted;
SELECT state, message FROM try($$UPDATE rent.orders SET what = 'two books' WHERE id = 10$$);
SELECT state FROM try($$UPDATE rent.orders SET what = 'two lamps' WHERE id = 20$$);
SELECT lift_restriction('rent_shopper', '1');
SELECT state, message FROM try($$UPDATE rent.orders SET gift_note = 'for mum' WHERE id = 20$$);
SELECT grant_consent('rent_shopper', '2', 'gifts');
SELECT state FROM try($$UPDATE rent.orders SET gift_note = 'for mum' WHERE id = 20$$);
-- and beyond one hop: an order's line reaches the shopper through the order
CREATE TABLE rent.order_lines (order_id int REFERENCES rent.orders, line int, engraving text,
                               PRIMARY KEY (order_id, line));
SELECT tag('rent.order_lines', 'engraving', 'communications.content; basis=consent; purpose=gifts');
SELECT enforce('rent.order_lines');
SELECT state, message, detail FROM try($$INSERT INTO rent.order_lines VALUES (10, 1, 'to one')$$);
INSERT INTO rent.order_lines VALUES (20, 1, 'to two'), (10, 2, NULL);
SELECT restrict('rent_shopper', '2', 'contested') > 0 AS restricted;
SELECT state, message FROM try($$UPDATE rent.order_lines SET line = 3 WHERE order_id = 20$$);
SELECT lift_restriction('rent_shopper', '2');

-- withdrawal and suppression over the graph: Bo's payments (partitioned,
-- legal obligation) stay whole, and rows of an untagged table pointing at
-- him are never changed (unclassified)
CREATE TABLE rent.contact_log (id int PRIMARY KEY, customer_id int REFERENCES rent.customer, said text);
INSERT INTO rent.contact_log VALUES (1, 11, 'called about the car');
SELECT grant_consent('rent_customer', '11', 'news');
UPDATE rent.customer SET email = 'bo@example.com' WHERE customer_id = 11;
SELECT jsonb_pretty(withdraw_consent('rent_customer', '11', 'news') -> 'tables') AS bo_withdrawn;
SELECT jsonb_pretty(suppress('rent_customer', '11') -> 'tables') AS bo_suppressed;
SELECT (SELECT count(*) FROM rent.payment WHERE customer_id = 11 AND amount IS NOT NULL) AS bo_payments_whole,
       (SELECT said FROM rent.contact_log WHERE id = 1) AS contact_log_as_it_was,
       (SELECT email FROM rent.customer WHERE customer_id = 11) AS bo_email;

-- a table tagged before it is attached to an untagged partitioned table is
-- not invisible: its own tags count for its rows (purge, access, erasure)
CREATE TABLE rent.visit_log (id int, customer_id int REFERENCES rent.customer, page text, at date NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE rent.visit_log_2020 (id int, customer_id int REFERENCES rent.customer, page text, at date NOT NULL);
SELECT tag('rent.visit_log_2020', 'page', 'network.browsing_history; basis=legitimate_interests; retain=1 year after at');
INSERT INTO rent.visit_log_2020 VALUES (1, 11, '/old', '2020-03-01'), (2, 11, '/older', '2020-02-01');
ALTER TABLE rent.visit_log ATTACH PARTITION rent.visit_log_2020 FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
SELECT relation, kind, classification FROM subject_graph('rent_customer') WHERE relation::text ~ 'visit_log';
SELECT jsonb_array_length(subject_access('rent_customer', '11') -> 'data' -> 'rent.visit_log') AS bo_visits,
       subject_access('rent_customer', '11') -> 'fields' -> 'rent.visit_log' -> 'page' ->> 'category' AS bo_visit_page;
SELECT relation, column_name, action, rows FROM purge('rent.visit_log_2020', dry_run => true);
SELECT erase('rent_customer', '11', dry_run => true) -> 'tables' -> 'rent.visit_log' AS bo_erase_visits;

-- parents the other way: an order points at the payment card it was paid
-- with; a card only one shopper used is theirs and goes with them, a card
-- two shoppers used is shared and stays as it is (it is the other
-- shopper's too)
CREATE TABLE rent.pay_cards (card_id int PRIMARY KEY, number text NOT NULL, holder text NOT NULL);
SELECT tag('rent.pay_cards', 'number', 'financial.payment_card; basis=contract; mask=redact');
SELECT tag('rent.pay_cards', 'holder', 'identifiers.name; basis=contract; mask=redact');
CREATE TABLE rent.card_orders (id int PRIMARY KEY, shopper_id int REFERENCES rent.shoppers,
                               card_id int REFERENCES rent.pay_cards, total numeric);
SELECT tag('rent.card_orders', 'total', 'commercial.order; basis=contract');
INSERT INTO rent.pay_cards VALUES (1, '4111 0000 0000 0001', 'One'), (2, '4111 0000 0000 0002', 'One and Two');
INSERT INTO rent.card_orders VALUES (1, 1, 1, 10), (2, 1, 2, 20), (3, 2, 2, 30);
SELECT relation, kind, via, classification FROM subject_graph('rent_shopper') WHERE relation::text ~ 'card' ORDER BY 1;
SELECT jsonb_pretty(subject_access('rent_shopper', '1') -> 'data' -> 'rent.pay_cards') AS cards_of_one;
SELECT key AS relation, value ->> 'classification' AS classification FROM jsonb_each(subject_access('rent_shopper', '1') -> 'tables')
 WHERE key ~ 'card' ORDER BY 1;
SELECT jsonb_pretty(erase('rent_shopper', '1', dry_run => true) -> 'tables' -> 'rent.pay_cards') AS dry_cards;
SELECT jsonb_pretty(erase('rent_shopper', '1') -> 'tables' -> 'rent.pay_cards') AS erased_cards;
SELECT card_id, number, holder FROM rent.pay_cards ORDER BY card_id;
SELECT id, shopper_id, card_id FROM rent.card_orders ORDER BY id;

DROP SCHEMA rent CASCADE;
DELETE FROM links;
