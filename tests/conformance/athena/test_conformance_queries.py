"""Conformance: aggregates, joins, CTEs, windows over the conformance lake. Expected answers are
computed independently with pandas over the same rows (conftest.ORDERS/CUSTOMERS), formatted as
Athena renders them (decimals with their scale, integers plainly)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from athena_conformance_data import CUSTOMERS, ORDERS, orders_frame


def _dec(x: Decimal) -> str:
    return f"{Decimal(x):.2f}"


def test_q01_group_by_sum_count_decimal(lake) -> None:
    # sum(decimal(10,2)) is decimal(38,2) in Trino (aggregate.html: sum "Returns the sum of all input values").
    df = orders_frame()
    want = [[c, str(len(g)), _dec(sum(g.amount))] for c, g in sorted(df.groupby("customer"), key=lambda kv: kv[0])]
    out = lake.query("SELECT customer, count(*), sum(amount) FROM orders GROUP BY customer ORDER BY customer")
    assert list(out.render_rows()) == want
    assert [(c.type, c.precision, c.scale) for c in out.columns][1:] == [("bigint", 19, 0), ("decimal", 38, 2)]


def test_q02_avg_of_integer_is_double(lake) -> None:
    # avg(integer) returns double (aggregate.html: "avg(x) -> double").
    qty = [r[3] for r in ORDERS if r[3] is not None]
    (row,) = lake.rows("SELECT avg(qty), sum(qty), count(qty), count(*) FROM orders")
    assert float(row[0]) == sum(qty) / len(qty)
    assert row[1:] == [str(sum(qty)), str(len(qty)), str(len(ORDERS))]


def test_q03_min_max_count_distinct_having(lake) -> None:
    df = orders_frame()
    groups = df.groupby("customer").order_id.count()
    want = sorted([c] for c, n in groups.items() if n > 1)
    assert lake.rows("SELECT customer FROM orders GROUP BY customer HAVING count(*) > 1 ORDER BY 1") == want
    assert lake.rows("SELECT min(ts), max(price), count(DISTINCT customer) FROM orders") == [[
        df.ts.min().strftime("%Y-%m-%d %H:%M:%S.000"), "20.0", str(df.customer.nunique())]]


def test_q04_count_if_bool_or_array_agg(lake) -> None:
    df = orders_frame()
    n_big = int((df.amount > Decimal("10")).sum())
    got = lake.rows("SELECT count_if(amount > 10), bool_or(price > 15), array_agg(order_id ORDER BY order_id DESC) "
                    "FROM orders")
    ids = sorted(df.order_id, reverse=True)
    assert got == [[str(n_big), "true", "[" + ", ".join(map(str, ids)) + "]"]]


def test_q05_stddev_variance_match_pandas(lake) -> None:
    prices = pd.Series([r[4] for r in ORDERS if r[4] is not None])
    (row,) = lake.rows("SELECT stddev(price), variance(price), stddev_pop(price) FROM orders")
    assert abs(float(row[0]) - prices.std(ddof=1)) < 1e-12
    assert abs(float(row[1]) - prices.var(ddof=1)) < 1e-12
    assert abs(float(row[2]) - prices.std(ddof=0)) < 1e-12


def test_q06_partition_column_filter_and_group(lake) -> None:
    df = orders_frame()
    want = [[d, str(len(g))] for d, g in sorted(df.groupby("dt"), key=lambda kv: kv[0]) if d >= "2024-01-02"]
    assert lake.rows("SELECT dt, count(*) FROM orders WHERE dt >= '2024-01-02' GROUP BY dt ORDER BY dt") == want


def test_q07_inner_join_json_table(lake) -> None:
    df = orders_frame().merge(pd.DataFrame(CUSTOMERS), on="customer")
    want = [[c, str(len(g))] for c, g in sorted(df.groupby("country"), key=lambda kv: kv[0])]
    assert lake.rows("SELECT c.country, count(*) FROM orders o JOIN customers c ON o.customer = c.customer "
                     "GROUP BY c.country ORDER BY c.country") == want


def test_q08_left_join_keeps_unmatched(lake) -> None:
    df = orders_frame().merge(pd.DataFrame(CUSTOMERS), on="customer", how="left")
    want = [[str(r.order_id), None if pd.isna(r.country) else r.country] for r in df.sort_values("order_id").itertuples()]
    assert lake.rows("SELECT o.order_id, c.country FROM orders o LEFT JOIN customers c "
                     "ON o.customer = c.customer ORDER BY 1") == want


def test_q09_full_outer_join(lake) -> None:
    orders = {r[1] for r in ORDERS}
    customers = {c["customer"] for c in CUSTOMERS}
    got = lake.rows("SELECT coalesce(o.customer, c.customer) AS who, o.customer IS NULL, c.customer IS NULL "
                    "FROM (SELECT DISTINCT customer FROM orders) o FULL OUTER JOIN customers c "
                    "ON o.customer = c.customer ORDER BY who")
    assert got == [[w, str(w not in orders).lower(), str(w not in customers).lower()] for w in sorted(orders | customers)]


def test_q10_cte_chain(lake) -> None:
    df = orders_frame()
    totals = df.groupby("customer").amount.sum()
    best = totals.max()
    want = [[c, _dec(t)] for c, t in totals.items() if t == best]
    assert lake.rows("WITH t AS (SELECT customer, sum(amount) AS total FROM orders GROUP BY customer), "
                     "m AS (SELECT max(total) AS best FROM t) "
                     "SELECT t.customer, t.total FROM t, m WHERE t.total = m.best") == want


def test_q11_window_row_number_and_running_sum(lake) -> None:
    df = orders_frame().sort_values("order_id")
    df["rn"] = df.sort_values("ts").groupby("customer").cumcount() + 1
    df["running"] = df.amount.cumsum()
    want = [[str(r.order_id), str(r.rn), _dec(r.running)] for r in df.itertuples()]
    assert lake.rows("SELECT order_id, row_number() OVER (PARTITION BY customer ORDER BY ts), "
                     "sum(amount) OVER (ORDER BY order_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
                     "FROM orders ORDER BY order_id") == want


def test_q12_window_lag_lead_rank(lake) -> None:
    df = orders_frame().sort_values("order_id")
    lag = [None] + [str(x) for x in df.order_id[:-1]]
    lead = [str(x) for x in df.order_id[1:]] + [None]
    rank = df.amount.rank(ascending=False, method="min").astype(int)
    want = [[str(o), a, b, str(r)] for o, a, b, r in zip(df.order_id, lag, lead, rank)]
    assert lake.rows("SELECT order_id, lag(order_id) OVER (ORDER BY order_id), lead(order_id) OVER (ORDER BY order_id), "
                     "rank() OVER (ORDER BY amount DESC) FROM orders ORDER BY order_id") == want


def test_q13_subquery_in_and_exists(lake) -> None:
    vip = {c["customer"] for c in CUSTOMERS if c["vip"]}
    want = sorted([str(r[0])] for r in ORDERS if r[1] in vip)
    assert lake.rows("SELECT order_id FROM orders WHERE customer IN (SELECT customer FROM customers WHERE vip) "
                     "ORDER BY order_id") == want
    assert lake.rows("SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM orders o "
                     "WHERE o.customer = c.customer)") == [[str(len({r[1] for r in ORDERS} & {c['customer'] for c in CUSTOMERS}))]]


def test_q14_union_all_and_distinct(lake) -> None:
    names = sorted({r[1] for r in ORDERS} | {c["customer"] for c in CUSTOMERS})
    assert lake.rows("SELECT customer FROM orders UNION SELECT customer FROM customers ORDER BY 1") == [[n] for n in names]
    assert lake.rows("SELECT count(*) FROM (SELECT customer FROM orders UNION ALL SELECT customer FROM customers)") == [
        [str(len(ORDERS) + len(CUSTOMERS))]]


def test_q15_struct_field_and_map_subscript(lake) -> None:
    want = [[str(r[0]), None if r[8] is None else r[8]["sku"],
             None if not r[7] or "channel" not in r[7] else r[7]["channel"]] for r in ORDERS]
    assert lake.rows("SELECT order_id, item.sku, element_at(attrs, 'channel') FROM orders ORDER BY order_id") == want


def test_q16_order_by_limit_offset(lake) -> None:
    ids = sorted((r[2], r[0]) for r in ORDERS)
    assert lake.rows("SELECT order_id FROM orders ORDER BY amount OFFSET 1 LIMIT 2") == [[str(i)] for _, i in ids[1:3]]


def test_q17_data_scanned_counts_only_read_partitions(lake) -> None:
    size = {k: len(v) for (b, k), v in lake.storage.objects.items() if k.startswith("orders/")}
    one = lake.query("SELECT count(*) FROM orders WHERE dt = '2024-01-03'")
    assert one.data_scanned_bytes == size["orders/dt=2024-01-03/part-00000.parquet"]
    assert lake.query("SELECT count(*) FROM orders").data_scanned_bytes == sum(size.values())


def test_q18_csv_table_with_pipe_delimiter(lake) -> None:
    assert lake.rows("SELECT id, url FROM events WHERE id = 2") == [["2", "http://example.org/"]]


def test_q19_avg_and_ratio_of_decimals_round_half_up(lake) -> None:
    # avg(decimal(10,2)) is decimal(10,2) (aggregate.html), the exact mean rounded half up.
    from decimal import ROUND_HALF_UP

    df = orders_frame()
    want = [[c, str((sum(g.amount) / len(g)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))]
            for c, g in sorted(df.groupby("customer"), key=lambda kv: kv[0])]
    out = lake.query("SELECT customer, avg(amount) FROM orders GROUP BY customer ORDER BY customer")
    assert list(out.render_rows()) == want
    assert (out.columns[1].type, out.columns[1].precision, out.columns[1].scale) == ("decimal", 10, 2)
    total = sum(df.amount)
    (row,) = lake.rows("SELECT sum(amount) / count(*) FROM orders")
    assert row == [str((total / len(df)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))]
