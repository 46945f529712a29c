"""Deterministic sample data shaped like the UCI Online Retail file, dirt included.

    python -m rfm_segments.sample_data --rows 500000 --seed 42 --out data/sample.csv

Everything is set-based DuckDB SQL streamed by COPY ... TO, so 100M rows never pass through
Python. Every pseudo-random choice is a hash of (seed, id, salt), never random(): random() is
not reproducible across threads, a hash is, so the same seed gives a byte-identical file.

The model, in the order the SQL builds it:
- days: a weight per calendar day (seasonality) and its cumulative share, for sampling dates;
- products: a catalogue of a few hundred stock codes, upper-case descriptions and prices;
- customers: ~1 per 100 lines, each with a persona (whale, loyal, regular, new, dormant,
  one-off) that sets how often, when and how much they buy, and a country;
- units: one invoice each (customer, guest, stock adjustment, fee, bad-debt adjustment), a
  customer invoice optionally followed by its cancellation ('C' invoice mirroring its lines);
- invoices: units in a seeded shuffle, kept until exactly --rows lines (the last one
  truncated), then numbered by time so invoice numbers increase with the date;
- lines: each invoice expanded to its lines, with the non-product codes and the dirt applied.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
           "CustomerID", "Country")
N_PRODUCTS = 401  # prime, so an invoice's stride through the catalogue never repeats a product
FIRST_INVOICE_NO = 536365  # the real file's first invoice
LINES_PER_CUSTOMER = 100
GUEST_SHARE = 0.25  # of lines: whole invoices without CustomerID, as in the real file

# Persona shares are of customers. Windows are fractions of the period: a customer's first
# possible purchase is drawn in [first_from, first_to], the last in [last_from, last_to].
PERSONAS_SQL = """
SELECT *, sum(share) OVER (ORDER BY persona_no) - share AS share_from,
          sum(share) OVER (ORDER BY persona_no) AS share_to
FROM (VALUES
    -- no, persona,   share, invoices, lines/inv, qty x, first_from..to, last_from..to, cancel
    (1, 'whale',     0.005, 30, 70, 10, 60, 6, 0.00, 0.05, 1.00, 1.00, 0.25),
    (2, 'loyal',     0.095, 10, 30,  5, 40, 2, 0.00, 0.30, 0.97, 1.00, 0.22),
    (3, 'regular',   0.330,  3, 10,  3, 35, 1, 0.00, 0.50, 0.80, 1.00, 0.18),
    (4, 'new',       0.090,  1,  4,  2, 30, 1, 0.84, 0.95, 1.00, 1.00, 0.10),
    (5, 'dormant',   0.150,  2,  6,  2, 30, 1, 0.00, 0.15, 0.30, 0.55, 0.15),
    (6, 'one_off',   0.330,  1,  1,  1, 30, 1, 0.00, 0.00, 1.00, 1.00, 0.08)
) p(persona_no, persona, share, inv_min, inv_max, lines_min, lines_max, qty_mult,
    first_from, first_to, last_from, last_to, cancel_rate)
"""

# Codes that are not products, with the real file's descriptions and price ranges.
SPECIALS_SQL = """
SELECT * FROM (VALUES
    ('POST',         'POSTAGE',                    18.0,    40.0, 0, 3),
    ('C2',           'CARRIAGE',                   50.0,    50.0, 0, 1),
    ('DOT',          'DOTCOM POSTAGE',             10.0,  1500.0, 2, 1),
    ('M',            'Manual',                      0.19,  300.0, 2, 6),
    ('BANK CHARGES', 'Bank Charges',               15.0,    15.0, 0, 1),
    ('PADS',         'PADS TO MATCH ALL CUSHIONS',  0.001,   0.001, 3, 1),
    ('D',            'Discount',                    5.0,   150.0, 2, 1),
    ('AMAZONFEE',    'AMAZON FEE',                  5.0,  6000.0, 2, 1),
    ('S',            'SAMPLES',                     1.0,   600.0, 2, 1),
    ('CRUK',         'CRUK Commission',             1.0,  1200.0, 2, 1),
    ('B',            'Adjust bad debt',          1000.0, 20000.0, 2, 1)
) s(code, description, min_price, max_price, decimals, max_qty)
"""

SETUP_SQL = """
-- A uniform in [0, 1) from (seed, a, b, salt): reproducible whatever the thread count.
CREATE TEMP MACRO unif(a, b, salt) AS (hash({seed}, a, b, salt) % 1000000007) / 1000000007.0;
-- Weighted choice: a value listed twice is twice as likely.
CREATE TEMP MACRO pick(xs, x) AS xs[1 + floor(x * len(xs))::BIGINT];

CREATE TEMP TABLE days AS
WITH calendar AS (
    SELECT row_number() OVER (ORDER BY day) - 1 AS day_no, day,
        -- quiet Jan-Feb, a ramp through the autumn to a November peak
        [1.0, 0.85, 0.8, 0.75, 0.9, 0.85, 0.8, 0.8, 1.1, 1.25, 1.9, 3.2][month(day)]
        -- busiest mid-week; the real shop never invoiced on a Saturday, nor over Christmas
        * CASE dayofweek(day) WHEN 6 THEN 0 WHEN 5 THEN 0.75 WHEN 0 THEN 0.8
                              WHEN 4 THEN 1.2 ELSE 1 END
        * CASE WHEN strftime(day, '%m-%d') NOT BETWEEN '01-04' AND '12-22' THEN 0 ELSE 1 END
        AS weight
    FROM (SELECT g::DATE AS day
          FROM generate_series(DATE '{start}', DATE '{end}', INTERVAL 1 DAY) t(g))
)
SELECT *, (sum(weight) OVER (ORDER BY day_no) - weight) / sum(weight) OVER () AS cdf_from,
          sum(weight) OVER (ORDER BY day_no) / sum(weight) OVER () AS cdf_to
FROM calendar;

CREATE TEMP TABLE products AS
WITH words AS (
    SELECT ['VINTAGE', 'RETRO', 'REGENCY', 'HANGING', 'SET OF 3', 'SET OF 6', 'JUMBO',
            'PACK OF 12', 'SPOTTY', 'PAISLEY', 'FELTCRAFT', 'SWEETHEART'] AS styles,
           ['RED', 'PINK', 'BLUE', 'WHITE', 'IVORY', 'GREEN', 'BLACK', 'CREAM', 'POLKADOT',
            'ROSE'] AS colours,
           ['T-LIGHT HOLDER', 'LUNCH BAG', 'MUG', 'CAKE CASES', 'DOORMAT', 'CANDLE',
            'JAM JAR', 'WALL CLOCK', 'TEACUP AND SAUCER', 'GARDEN MARKER', 'BUNTING',
            'PAPER NAPKINS', 'BAKING SET', 'PICNIC BASKET', 'HOT WATER BOTTLE',
            'PHOTO FRAME', 'KEY RING', 'SHOPPER BAG', 'CUSHION COVER', 'STORAGE TIN',
            'DRAWER KNOB', 'PARTY BUNTING', 'GIFT WRAP', 'NOTEBOOK', 'PURSE', 'DOORSTOP',
            'ALARM CLOCK', 'WATER BOTTLE', 'METAL SIGN', 'SIGN "HOME SWEET HOME"'] AS items,
           -- shop price points; cheap ones dominate, a long tail up to ~40
           [0.19, 0.21, 0.29, 0.39, 0.42, 0.55, 0.65, 0.72, 0.79, 0.83, 0.85, 1.25, 1.45,
            1.65, 1.69, 1.95, 2.08, 2.1, 2.46, 2.55, 2.95, 3.25, 3.75, 4.25, 4.95, 5.95,
            6.75, 7.95, 8.5, 9.95, 12.75, 14.95, 16.95, 24.95, 29.95, 39.95]::DOUBLE[]
           AS prices
), numbered AS (
    -- a stride coprime with the number of combinations gives every product its own words
    SELECT range AS product_no, (range * 7919) % (12 * 10 * 30) AS combo, words.*
    FROM range({n_products}), words
)
SELECT product_no,
    -- 5-digit codes in two families, like 22423 and 85123A; distinct by construction
    CASE WHEN product_no % 10 < 7 THEN 20000 + (product_no * 7919) % 4000
         ELSE 84000 + (product_no * 7919) % 2000 END::VARCHAR
    || CASE WHEN unif(product_no, 0, 1) < 0.12
            THEN pick(['A', 'B', 'C', 'D', 'E', 'F', 'L', 'S'], unif(product_no, 0, 2))
            ELSE '' END AS stock_code,
    CASE WHEN unif(product_no, 0, 3) < 0.04  -- a few carry a comma, as in "KEY FOB , SHED"
         THEN items[1 + combo // 120] || ' , ' || colours[1 + combo // 12 % 10] || ' DESIGN'
         ELSE styles[1 + combo % 12] || ' ' || colours[1 + combo // 12 % 10] || ' '
              || items[1 + combo // 120] END
    -- the real descriptions sometimes end in a stray space
    || CASE WHEN unif(product_no, 0, 4) < 0.05 THEN ' ' ELSE '' END AS description,
    pick(prices, pow(unif(product_no, 0, 5), 1.6)) AS price
FROM numbered;

CREATE TEMP TABLE personas AS {personas};
SET VARIABLE specials = (
    SELECT map_from_entries(list((code, struct_pack(description, min_price := min_price::DOUBLE,
                                 max_price := max_price::DOUBLE, decimals, max_qty))))
    FROM ({specials}));
SET VARIABLE catalogue = (
    SELECT list(struct_pack(stock_code, description, price) ORDER BY product_no) FROM products);

CREATE TEMP TABLE customers AS
WITH drawn AS (
    -- personas from a seeded low-discrepancy (golden ratio) sequence rather than independent
    -- draws: shares come out exact, so even a small file gets its one or two whales
    SELECT range AS cust_no, (range * 0.6180339887498949 + unif(0, 0, 10)) % 1 AS u_persona
    FROM range({n_customers})
)
SELECT d.cust_no, 12346 + d.cust_no + d.cust_no // 3 AS customer_id, p.*,
    p.inv_min + floor(unif(d.cust_no, 0, 11) * (p.inv_max - p.inv_min + 1))::INT AS n_invoices,
    round((p.first_from + unif(d.cust_no, 0, 12) * (p.first_to - p.first_from))
          * {last_day_no})::INT AS first_day,
    round((p.last_from + unif(d.cust_no, 0, 13) * (p.last_to - p.last_from))
          * {last_day_no})::INT AS last_day,
    CASE WHEN unif(d.cust_no, 0, 14) < 0.9 THEN 'United Kingdom'
         ELSE pick({other_countries}, unif(d.cust_no, 0, 15)) END AS country
FROM drawn d JOIN personas p ON d.u_persona >= p.share_from AND d.u_persona < p.share_to;

-- One unit per customer invoice; a unit also holds that invoice's cancellation, if any, so
-- that trimming to --rows can never keep a cancellation without the invoice it mirrors.
CREATE TEMP TABLE customer_units AS
WITH orders AS (
    SELECT c.*, c.cust_no * 256 + i.k AS unit_id  -- n_invoices <= 255
    FROM customers c, range(c.n_invoices) i(k)
), sized AS (
    SELECT *, lines_min + floor(pow(unif(unit_id, 0, 20), 1.3)
                                * (lines_max - lines_min + 1))::INT AS n_lines,
        CASE WHEN unif(unit_id, 0, 21) >= cancel_rate THEN NULL
             WHEN unif(unit_id, 0, 22) < 0.1 THEN 'discount'
             ELSE 'mirror' END AS cancel_kind
    FROM orders
)
SELECT s.unit_id, 'customer' AS kind, 1 AS priority, s.customer_id, s.country, s.qty_mult,
    s.n_lines, s.cancel_kind,
    CASE WHEN s.cancel_kind = 'discount' THEN 1
         WHEN s.cancel_kind = 'mirror' AND unif(s.unit_id, 0, 23) < 0.03 THEN s.n_lines
         WHEN s.cancel_kind = 'mirror'
         THEN least(s.n_lines, 1 + floor(4 * pow(unif(s.unit_id, 0, 24), 2))::INT)
         ELSE 0 END AS n_cancel,
    CASE WHEN s.country = 'EIRE' AND unif(s.unit_id, 0, 25) < 0.3 THEN 'C2'
         WHEN s.country <> 'United Kingdom' AND unif(s.unit_id, 0, 25) < 0.7 THEN 'POST'
         END AS first_line_code,
    -- where in the customer's window of activity this invoice falls
    f.cdf_from + unif(s.unit_id, 0, 26) * (l.cdf_to - f.cdf_from) AS u_date
FROM sized s
JOIN days f ON f.day_no = s.first_day
JOIN days l ON l.day_no = s.last_day;
"""

OTHER_UNITS_SQL = """
CREATE OR REPLACE TEMP TABLE other_units AS
WITH kinds AS (
    SELECT * FROM (VALUES
        -- kind,    id offset,  units,      priority: bad debt always survives the trim
        ('guest',   1e15::BIGINT, {n_guests}, 1),
        ('stock',   2e15::BIGINT, {n_stock},  1),
        ('fee',     3e15::BIGINT, {n_fees},   1),
        ('debt',    4e15::BIGINT, {n_debts},  0)
    ) k(kind, id_offset, n_units, priority)
)
SELECT k.id_offset + i.range AS unit_id, k.kind, k.priority, NULL::BIGINT AS customer_id,
    CASE WHEN k.kind = 'guest' AND unif(k.id_offset + i.range, 0, 30) < 0.03
         THEN pick({other_countries}, unif(k.id_offset + i.range, 0, 31))
         ELSE 'United Kingdom' END AS country,
    1 AS qty_mult,
    -- guest orders run large: 1..60 lines, ~34 on average
    CASE WHEN k.kind = 'guest'
         THEN 1 + floor(60 * pow(unif(k.id_offset + i.range, 0, 32), 0.8))::INT
         ELSE 1 END AS n_lines,
    NULL::VARCHAR AS cancel_kind, 0 AS n_cancel,
    CASE WHEN k.kind = 'guest' AND unif(k.id_offset + i.range, 0, 33) < 0.25 THEN 'DOT'
         WHEN k.kind = 'debt' THEN 'B'
         WHEN k.kind = 'fee' THEN pick(['AMAZONFEE', 'S', 'S', 'CRUK'],
                                       unif(k.id_offset + i.range, 0, 34)) END
         AS first_line_code,
    unif(k.id_offset + i.range, 0, 35) AS u_date
FROM kinds k, range(k.n_units) i
"""

INVOICES_SQL = """
CREATE OR REPLACE TEMP TABLE invoices AS
WITH units AS (
    SELECT * FROM customer_units UNION ALL BY NAME SELECT * FROM other_units
), dated AS (
    SELECT u.*, d.day + to_minutes(
            60 * pick({hours}, unif(u.unit_id, 0, 40))
            + floor(60 * unif(u.unit_id, 0, 41))::INT) AS ts
    FROM units u
    ASOF JOIN (SELECT day, cdf_to FROM days WHERE weight > 0) d ON u.u_date <= d.cdf_to
), shuffled AS (
    -- a seeded shuffle decides which units make the cut, so trimming to exactly --rows lines
    -- thins every persona, kind and month evenly
    SELECT *, sum(n_lines + n_cancel) OVER (
                ORDER BY priority, hash({seed}, unit_id, 42), unit_id ROWS UNBOUNDED PRECEDING)
              - (n_lines + n_cancel) AS lines_before,
        floor(pow(unif(unit_id, 0, 43), 3)
              * least(30, date_diff('day', ts::DATE, DATE '{end}') + 1))::INT AS cancel_days
    FROM dated
), kept AS (
    SELECT *, least(n_lines + n_cancel, {rows} - lines_before)::BIGINT AS n_keep,
        -- cancelled the same day or up to a month later (mostly soon), in the same hours,
        -- skipping Saturdays like every other invoice, and never after the period
        least(ts + to_days(cancel_days + (dayofweek(ts + to_days(cancel_days)) = 6)::INT)
                 + to_minutes(floor(90 * unif(unit_id, 0, 44))::INT),
              TIMESTAMP '{end} 20:00:00') AS cancel_ts,
        -- each invoice walks the catalogue from a (popularity-skewed) start with a fixed stride
        floor({n_products} * pow(unif(unit_id, 0, 46), 2))::INT AS walk_start,
        1 + floor(37 * unif(unit_id, 0, 47))::INT AS walk_stride
    FROM shuffled
    WHERE lines_before < {rows}
), parts AS (  -- a unit is an invoice, then maybe its cancellation
    SELECT *, FALSE AS is_cancel, ts AS invoiced_at, least(n_keep, n_lines) AS n_here
    FROM kept
    UNION ALL
    SELECT *, TRUE, cancel_ts, n_keep - n_lines FROM kept WHERE n_keep > n_lines
)
SELECT *, {first_invoice_no} - 1 + row_number() OVER (ORDER BY invoiced_at, unit_id, is_cancel)
          AS invoice_no
FROM parts
-- stored in file order: the lines below come out in this order without another sort
ORDER BY invoice_no
"""

# Only a single-table SELECT (unnest included) below: DuckDB then keeps the stored order,
# which is what lets 100M lines stream out without a sort. Lookups use variables, not joins.
LINES_SQL = """
WITH lines AS (
    -- line j of an invoice; a cancellation's line j mirrors line j of the cancelled invoice
    SELECT *, unnest(range(n_here)) AS j FROM invoices
), sourced AS (
    -- ~1% of lines repeat the previous line verbatim: both derive from the same source line
    SELECT *, j - (j > 0 AND unif(unit_id, j, 50) < 0.01)::INT AS src FROM lines
), coded AS (
    SELECT *,
        getvariable('catalogue')[1 + (walk_start + src * walk_stride) % {n_products}] AS product,
        unif(unit_id, src, 51) AS u_line,
        CASE WHEN is_cancel AND cancel_kind = 'discount' THEN 'D'
             WHEN src = 0 THEN first_line_code
             WHEN kind <> 'customer' THEN NULL
             WHEN unif(unit_id, src, 52) < 0.0015 THEN 'M'
             WHEN unif(unit_id, src, 52) < 0.0016 THEN 'BANK CHARGES'
             WHEN unif(unit_id, src, 52) < 0.00162 THEN 'PADS' END AS special_code
    FROM sourced
), chosen AS (
    SELECT *, getvariable('specials')[special_code] AS special,
        -- dear items are bought in ones and twos, cheap ones by the dozen
        pick({quantities}, pow(unif(unit_id, src, 53), 1 + product.price / 5)) * qty_mult
            AS bought
    FROM coded
), priced AS (
    SELECT *, coalesce(special_code, product.stock_code) AS stock_code,
        CASE WHEN kind = 'stock'  -- stock-take notes, or nothing at all
             THEN CASE WHEN u_line < 0.5 THEN NULL
                       ELSE pick(['check', 'damaged', 'damages', 'Damaged', 'found', 'FOUND',
                                  '?', 'missing', 'lost', 'wet damaged', 'thrown away',
                                  'sold as set on dotcom', 'mouldy, thrown away.'],
                                 2 * u_line - 1) END
             ELSE coalesce(special.description, product.description) END AS description,
        CASE WHEN special_code IS NOT NULL
             THEN 1 + floor(special.max_qty * unif(unit_id, src, 54))::INT
             WHEN kind = 'stock'  -- damaged/lost stock written off, or found again
             THEN (1 + floor(300 * pow(u_line, 3))::INT) * CASE WHEN u_line < 0.7 THEN -1 ELSE 1 END
             ELSE bought END AS quantity,
        CASE WHEN special_code = 'B'  -- bad debt is mostly written off, once in a while recovered
             THEN round(special.min_price
                        + unif(unit_id, 0, 55) * (special.max_price - special.min_price), 2)
                  * CASE WHEN unif(unit_id, 0, 56) < 0.67 THEN -1 ELSE 1 END
             WHEN special_code IS NOT NULL
             THEN round(special.min_price + pow(unif(unit_id, src, 55), 2)
                        * (special.max_price - special.min_price), special.decimals)
             WHEN kind = 'stock' OR u_line < 0.0008 THEN 0.0  -- write-offs, free gifts
             WHEN bought >= 100 THEN round(product.price * 0.85, 2)  -- bulk price
             ELSE product.price END AS price
    FROM chosen
)
SELECT
    CASE WHEN is_cancel OR kind = 'fee' THEN 'C' WHEN kind = 'debt' THEN 'A' ELSE '' END
        || invoice_no AS InvoiceNo,
    stock_code AS StockCode,
    description AS Description,
    -- a cancellation takes back all of the line, or (sometimes) part of it
    CASE WHEN is_cancel AND stock_code <> 'D' AND unif(unit_id, j, 57) < 0.3
         THEN -(1 + floor(unif(unit_id, j, 58) * quantity)::INT)
         WHEN is_cancel OR kind = 'fee' THEN -quantity
         ELSE quantity END::VARCHAR AS Quantity,
    strftime(invoiced_at, '%Y-%m-%d %H:%M:%S') AS InvoiceDate,
    price::DOUBLE::VARCHAR AS UnitPrice,
    customer_id::DOUBLE::VARCHAR AS CustomerID,
    country AS Country
FROM priced
"""

OTHER_COUNTRIES = (["Germany"] * 6 + ["France"] * 6 + ["EIRE"] * 5 + ["Netherlands"] * 2
                   + ["Spain"] * 2 + ["Switzerland", "Belgium", "Portugal", "Norway",
                                      "Australia", "Italy", "Finland", "Channel Islands",
                                      "Denmark", "Sweden", "Austria", "Japan", "Poland",
                                      "Cyprus", "USA", "Unspecified"])
# Shaped on the real file: 1, 2 and 12 are the usual quantities, then 6, 4, 3, 24, ...
# Ascending, so that skewing the draw towards the start buys dear items in ones and twos.
QUANTITIES = sorted([1] * 7 + [2] * 5 + [12] * 4 + [6] * 3 + [4] * 3 + [3] * 2 + [24] * 2
                    + [10, 10, 8, 5, 48, 25, 72, 144])
# Invoice hours as in the real file: business hours, a peak at noon, a short evening tail.
HOURS = [hour for hour, weight in {8: 2, 9: 6, 10: 9, 11: 12, 12: 17, 13: 15, 14: 13, 15: 12,
                                   16: 7, 17: 4, 18: 1, 19: 1}.items() for _ in range(weight)]


def _sql_list(values: list) -> str:
    return "[" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + "]"


def generate(out_path: str | os.PathLike[str], rows: int = 500_000, seed: int = 42,
             start_date: str = "2010-12-01", end_date: str = "2011-12-09"
             ) -> dict[str, int | float | str]:
    """Write exactly `rows` raw Online Retail lines to out_path (.csv or .parquet).

    Returns counts: rows, invoices, customers, cancellation_invoices, lines_without_customer,
    plus the path written and the seconds it took.
    """
    started = time.perf_counter()
    rows, seed = int(rows), int(seed)
    start, end = date.fromisoformat(start_date), date.fromisoformat(end_date)
    if rows < 1:
        raise ValueError("rows must be at least 1")
    if end <= start:
        raise ValueError("end_date must be after start_date")
    out = Path(out_path)
    fmt = {".csv": "csv", ".parquet": "parquet"}.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"output must end in .csv or .parquet: {out}")
    out.parent.mkdir(parents=True, exist_ok=True)

    params = dict(seed=seed, rows=rows, start=start.isoformat(), end=end.isoformat(),
                  last_day_no=(end - start).days, n_products=N_PRODUCTS,
                  n_customers=max(40, round(rows / LINES_PER_CUSTOMER)),
                  first_invoice_no=FIRST_INVOICE_NO, personas=PERSONAS_SQL,
                  specials=SPECIALS_SQL, other_countries=_sql_list(OTHER_COUNTRIES),
                  quantities=_sql_list(QUANTITIES), hours=_sql_list(HOURS))
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with tempfile.TemporaryDirectory(prefix="rfm_sample_") as spill, duckdb.connect() as con:
        con.execute(f"SET temp_directory = '{_quote(Path(spill))}'")
        con.execute(SETUP_SQL.format(**params))
        customer_lines = con.execute(
            "SELECT sum(n_lines + n_cancel) FROM customer_units").fetchone()[0]
        # Guests get a quarter of all lines; top up with more guests if the customers alone
        # would fall short of --rows, so the shuffle-and-trim always has a surplus to cut.
        guest_lines = max(customer_lines * GUEST_SHARE / (1 - GUEST_SHARE),
                          1.05 * rows - customer_lines)
        n_guests = int(guest_lines / 34) + 1
        while True:
            planned = customer_lines + guest_lines
            con.execute(OTHER_UNITS_SQL.format(
                **params, n_guests=n_guests, n_stock=int(0.0035 * planned) + 1,
                n_fees=int(planned / 5000) + 1, n_debts=max(3, round(rows / 180_000))))
            other_lines = con.execute("SELECT sum(n_lines) FROM other_units").fetchone()[0]
            if customer_lines + other_lines >= rows:
                break
            n_guests = 2 * n_guests + 10  # an unlucky draw of short guest orders: add more
        con.execute(INVOICES_SQL.format(**params))
        try:
            con.execute(f"COPY ({LINES_SQL.format(**params)}) TO '{_quote(tmp)}' "
                        f"(FORMAT {fmt}{', HEADER' if fmt == 'csv' else ''})")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        counts = con.execute("""
            SELECT sum(n_here)::BIGINT, count(*), count(DISTINCT customer_id),
                count(*) FILTER (WHERE is_cancel OR kind = 'fee'),
                coalesce(sum(n_here) FILTER (WHERE customer_id IS NULL), 0)::BIGINT
            FROM invoices""").fetchone()
    stats = dict(zip(("rows", "invoices", "customers", "cancellation_invoices",
                      "lines_without_customer"), counts))
    stats.update(path=str(out), seconds=round(time.perf_counter() - started, 2))
    return stats


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rfm_segments.sample_data",
        description="Write deterministic Online Retail-shaped raw lines (.csv or .parquet).")
    parser.add_argument("--rows", type=int, default=500_000, help="exact number of lines")
    parser.add_argument("--seed", type=int, default=42, help="same seed, same bytes")
    parser.add_argument("--out", required=True, help="output file, .csv or .parquet")
    parser.add_argument("--start", default="2010-12-01", help="first day (YYYY-MM-DD)")
    parser.add_argument("--end", default="2011-12-09", help="last day (YYYY-MM-DD)")
    options = parser.parse_args(argv)
    print(f"generating {options.rows:,} lines (seed {options.seed}) ...", flush=True)
    try:
        stats = generate(options.out, rows=options.rows, seed=options.seed,
                         start_date=options.start, end_date=options.end)
    except ValueError as error:
        parser.error(str(error))
    print(f"wrote {stats['rows']:,} lines, {stats['invoices']:,} invoices, "
          f"{stats['customers']:,} customers to {stats['path']} in {stats['seconds']}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
