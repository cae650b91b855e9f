-- A small shop: enough shape and rows (56,500) to make a backup worth looking at. Foreign keys
-- are added after the rows, checked in one pass each rather than row by row.
SELECT setseed(0.42);

CREATE SEQUENCE invoice_number_seq START 100001;

CREATE TABLE customers (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email       text NOT NULL UNIQUE,
  name        text NOT NULL,
  country     char(2) NOT NULL,
  created_at  timestamptz NOT NULL
);

CREATE TABLE products (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku          text NOT NULL UNIQUE,
  title        text NOT NULL,
  price_cents  integer NOT NULL CHECK (price_cents > 0),
  stock        integer NOT NULL CHECK (stock >= 0),
  tags         text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE orders (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id  bigint NOT NULL,
  invoice_no   bigint NOT NULL DEFAULT nextval('invoice_number_seq') UNIQUE,
  status       text NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'refunded')),
  placed_at    timestamptz NOT NULL
);

CREATE TABLE order_items (
  order_id     bigint NOT NULL,
  line         smallint NOT NULL,
  product_id   bigint NOT NULL,
  quantity     integer NOT NULL CHECK (quantity > 0),
  price_cents  integer NOT NULL,
  PRIMARY KEY (order_id, line)
);

CREATE TABLE events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id  bigint,
  type         text NOT NULL,
  payload      jsonb NOT NULL,
  at           timestamptz NOT NULL
);

INSERT INTO customers (email, name, country, created_at)
SELECT 'customer' || g || '@example.com',
       (ARRAY['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances'])[1 + g % 8]
         || ' ' || (ARRAY['Lovelace', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton'])[1 + g % 6],
       (ARRAY['DE', 'FR', 'US', 'GB', 'NL', 'SE', 'JP', 'BR'])[1 + (random() * 7)::int],
       now() - (random() * interval '730 days')
  FROM generate_series(1, 5000) AS g;

INSERT INTO products (sku, title, price_cents, stock, tags)
SELECT 'SKU-' || lpad(g::text, 5, '0'),
       (ARRAY['Lifejacket', 'Paddle', 'Flare', 'Rope', 'Compass', 'Lantern'])[1 + g % 6] || ' model ' || g,
       100 + (random() * 20000)::int,
       (random() * 500)::int,
       ARRAY[(ARRAY['marine', 'safety', 'outdoor', 'sale'])[1 + g % 4]]
  FROM generate_series(1, 500) AS g;

INSERT INTO orders (customer_id, status, placed_at)
SELECT 1 + (random() * 4999)::int,
       (ARRAY['pending', 'paid', 'shipped', 'refunded'])[1 + (random() * 3)::int],
       now() - (random() * interval '365 days')
  FROM generate_series(1, 15000);

INSERT INTO order_items (order_id, line, product_id, quantity, price_cents)
SELECT o.id, l.line, p.id, 1 + (random() * 4)::int, p.price_cents
  FROM orders o
 CROSS JOIN generate_series(1, 2) AS l(line)
  JOIN products p ON p.id = 1 + ((o.id * 7 + l.line * 13) % 500);

INSERT INTO events (customer_id, type, payload, at)
SELECT 1 + (random() * 4999)::int,
       (ARRAY['login', 'view', 'cart.add', 'checkout'])[1 + g % 4],
       jsonb_build_object('session', md5(g::text), 'path', '/products/' || (1 + g % 500),
                          'ua', (ARRAY['firefox', 'chrome', 'safari'])[1 + g % 3]),
       now() - (random() * interval '30 days')
  FROM generate_series(1, 5000) AS g;

ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE;
ALTER TABLE order_items ADD FOREIGN KEY (product_id) REFERENCES products (id);
ALTER TABLE events ADD FOREIGN KEY (customer_id) REFERENCES customers (id);

CREATE INDEX orders_customer_idx ON orders (customer_id, placed_at DESC);
CREATE INDEX order_items_product_idx ON order_items (product_id);
CREATE INDEX events_customer_at_idx ON events (customer_id, at DESC);
CREATE INDEX events_payload_idx ON events USING gin (payload);

CREATE VIEW order_totals AS
SELECT o.id AS order_id, o.customer_id, o.status, o.placed_at,
       sum(i.quantity * i.price_cents) AS total_cents
  FROM orders o
  JOIN order_items i ON i.order_id = o.id
 GROUP BY o.id;

CREATE SCHEMA audit;

CREATE TABLE audit.changes (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  table_name  text NOT NULL,
  row_id      bigint NOT NULL,
  action      text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
  changed_by  text NOT NULL,
  changed_at  timestamptz NOT NULL
);

INSERT INTO audit.changes (table_name, row_id, action, changed_by, changed_at)
SELECT (ARRAY['orders', 'products', 'customers'])[1 + g % 3], 1 + g % 500,
       (ARRAY['insert', 'update', 'delete'])[1 + g % 3], 'console:alice',
       now() - (random() * interval '90 days')
  FROM generate_series(1, 1000) AS g;
