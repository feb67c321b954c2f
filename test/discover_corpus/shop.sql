-- Labelled corpus: a web shop (customers, addresses, orders, order lines,
-- payments partitioned by year, sessions linked without a foreign key).
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id serial PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL,
  email text, phone text, personnummer text, birth_date date, password_hash text,
  created_at timestamptz, last_update timestamptz DEFAULT now());
INSERT INTO shop.customers (first_name, last_name, email, phone, personnummer, birth_date, password_hash, created_at)
SELECT corpus_util.given(i), corpus_util.surname(i), corpus_util.email(i), corpus_util.phone(i), corpus_util.personnummer(i),
       corpus_util.birth_date(i), corpus_util.bcrypt(i), timestamptz '2020-01-01' + i * interval '7 hours'
  FROM generate_series(1, 400) i;
CREATE TABLE shop.addresses (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES shop.customers,
  street text, postal_code text, city text, country text);
INSERT INTO shop.addresses (customer_id, street, postal_code, city, country)
SELECT 1 + i % 400, corpus_util.street(i), corpus_util.postal_code(i), corpus_util.pick('{Stockholm,Göteborg,Malmö,Uppsala}', i), 'SE'
  FROM generate_series(1, 500) i;
CREATE TABLE shop.categories (id serial PRIMARY KEY, name text NOT NULL, parent_id int REFERENCES shop.categories);
INSERT INTO shop.categories (name) SELECT unnest('{Books,Garden,Kitchen,Toys,Sports,Music,Tools,Travel,Office,Games,Beauty,Pets}'::text[]);
CREATE TABLE shop.products (id serial PRIMARY KEY, name text NOT NULL, title text, description text, sku text,
  price numeric(10,2), category_id int REFERENCES shop.categories);
INSERT INTO shop.products (name, title, description, sku, price, category_id)
SELECT corpus_util.pick('{Lamp,Chair,Kettle,Hammer,Ball,Novel,Atlas,Guitar,Desk,Puzzle}', i) || ' ' || i,
       'Model ' || i, 'A fine product number ' || i, 'SKU-' || lpad(i::text, 6, '0'), 10 + i % 90, 1 + i % 12
  FROM generate_series(1, 200) i;
CREATE TABLE shop.warehouses (id serial PRIMARY KEY, name text, city text, country text, location text);
INSERT INTO shop.warehouses (name, city, country, location)
SELECT 'Warehouse ' || i, corpus_util.pick('{Borås,Jönköping,Örebro}', i), 'SE', corpus_util.geo(i) FROM generate_series(1, 12) i;
CREATE TABLE shop.orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES shop.customers,
  ordered_at timestamptz NOT NULL, status text, total numeric(10,2),
  shipping_address_id int REFERENCES shop.addresses, last_update timestamptz DEFAULT now());
INSERT INTO shop.orders (customer_id, ordered_at, status, total, shipping_address_id)
SELECT 1 + i % 400, timestamptz '2023-01-01' + i * interval '3 hours', corpus_util.pick('{new,paid,shipped,returned}', i), 20 + i % 500, 1 + i % 500
  FROM generate_series(1, 1500) i;
CREATE TABLE shop.order_lines (order_id int REFERENCES shop.orders, line_no int, product_id int REFERENCES shop.products,
  quantity int, unit_price numeric(10,2), PRIMARY KEY (order_id, line_no));
INSERT INTO shop.order_lines SELECT 1 + i % 1500, i / 1500, 1 + i % 200, 1 + i % 3, 10 + i % 90 FROM generate_series(1, 3000) i;
CREATE TABLE shop.payments (id bigint, order_id int NOT NULL, amount numeric(10,2), paid_at timestamptz NOT NULL,
  card_number text, PRIMARY KEY (id, paid_at)) PARTITION BY RANGE (paid_at);
CREATE TABLE shop.payments_2023 PARTITION OF shop.payments FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE shop.payments_2024 PARTITION OF shop.payments FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- the foreign key is declared on one partition only
ALTER TABLE shop.payments_2024 ADD FOREIGN KEY (order_id) REFERENCES shop.orders;
INSERT INTO shop.payments SELECT i, 1 + i % 1500, 20 + i % 500, timestamptz '2023-06-01' + i * interval '5 hours', corpus_util.card(i)
  FROM generate_series(1, 1200) i;
CREATE TABLE shop.sessions (id bigserial PRIMARY KEY, customer_ref int, ip text, user_agent text, token text, started_at timestamptz);
INSERT INTO shop.sessions (customer_ref, ip, user_agent, token, started_at)
SELECT 1 + i % 400, corpus_util.ipv4(i), 'Mozilla/5.0 (X11; Linux x86_64) Firefox/' || (100 + i % 20), corpus_util.jwt(i),
       timestamptz '2024-01-01' + i * interval '1 hour'
  FROM generate_series(1, 600) i;
-- no foreign key: a declared link
SELECT privacy_tags.link('shop.sessions', '{customer_ref}', 'shop.customers', '{id}');

COMMENT ON COLUMN shop.customers.id IS 'not personal';
COMMENT ON COLUMN shop.customers.first_name IS 'personal: identifiers';
COMMENT ON COLUMN shop.customers.last_name IS 'personal: identifiers';
COMMENT ON COLUMN shop.customers.email IS 'personal: contact';
COMMENT ON COLUMN shop.customers.phone IS 'personal: contact';
COMMENT ON COLUMN shop.customers.personnummer IS 'personal: identifiers';
COMMENT ON COLUMN shop.customers.birth_date IS 'personal: identifiers';
COMMENT ON COLUMN shop.customers.password_hash IS 'personal: credentials';
COMMENT ON COLUMN shop.customers.created_at IS 'personal: account';
COMMENT ON COLUMN shop.customers.last_update IS 'not personal';
COMMENT ON COLUMN shop.addresses.id IS 'not personal';
COMMENT ON COLUMN shop.addresses.customer_id IS 'personal: identifiers';
COMMENT ON COLUMN shop.addresses.street IS 'personal: contact';
COMMENT ON COLUMN shop.addresses.postal_code IS 'personal: contact';
COMMENT ON COLUMN shop.addresses.city IS 'personal: contact';
COMMENT ON COLUMN shop.addresses.country IS 'personal: contact';
COMMENT ON COLUMN shop.categories.id IS 'not personal';
COMMENT ON COLUMN shop.categories.name IS 'not personal';
COMMENT ON COLUMN shop.categories.parent_id IS 'not personal';
COMMENT ON COLUMN shop.products.id IS 'not personal';
COMMENT ON COLUMN shop.products.name IS 'not personal';
COMMENT ON COLUMN shop.products.title IS 'not personal';
COMMENT ON COLUMN shop.products.description IS 'not personal';
COMMENT ON COLUMN shop.products.sku IS 'not personal';
COMMENT ON COLUMN shop.products.price IS 'not personal';
COMMENT ON COLUMN shop.products.category_id IS 'not personal';
COMMENT ON COLUMN shop.warehouses.id IS 'not personal';
COMMENT ON COLUMN shop.warehouses.name IS 'not personal';
COMMENT ON COLUMN shop.warehouses.city IS 'not personal';
COMMENT ON COLUMN shop.warehouses.country IS 'not personal';
COMMENT ON COLUMN shop.warehouses.location IS 'not personal';
COMMENT ON COLUMN shop.orders.id IS 'not personal';
COMMENT ON COLUMN shop.orders.customer_id IS 'personal: identifiers';
COMMENT ON COLUMN shop.orders.ordered_at IS 'personal: commercial';
COMMENT ON COLUMN shop.orders.status IS 'personal: commercial';
COMMENT ON COLUMN shop.orders.total IS 'personal: financial';
COMMENT ON COLUMN shop.orders.shipping_address_id IS 'personal: contact';
COMMENT ON COLUMN shop.orders.last_update IS 'not personal';
COMMENT ON COLUMN shop.order_lines.order_id IS 'personal: identifiers';
COMMENT ON COLUMN shop.order_lines.line_no IS 'not personal';
COMMENT ON COLUMN shop.order_lines.product_id IS 'personal: commercial';
COMMENT ON COLUMN shop.order_lines.quantity IS 'personal: commercial';
COMMENT ON COLUMN shop.order_lines.unit_price IS 'personal: financial';
COMMENT ON COLUMN shop.payments.id IS 'not personal';
COMMENT ON COLUMN shop.payments.order_id IS 'personal: identifiers';
COMMENT ON COLUMN shop.payments.amount IS 'personal: financial';
COMMENT ON COLUMN shop.payments.paid_at IS 'personal: financial';
COMMENT ON COLUMN shop.payments.card_number IS 'personal: financial';
COMMENT ON COLUMN shop.sessions.id IS 'not personal';
COMMENT ON COLUMN shop.sessions.customer_ref IS 'personal: identifiers';
COMMENT ON COLUMN shop.sessions.ip IS 'personal: network';
COMMENT ON COLUMN shop.sessions.user_agent IS 'personal: network';
COMMENT ON COLUMN shop.sessions.token IS 'personal: credentials';
COMMENT ON COLUMN shop.sessions.started_at IS 'personal: network';
