"""The deterministic data set / change set generator and the `generate` sub-command."""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline_lib import cli, data
from pipeline_lib.cli import generate as cli_generate
from pipeline_lib.schema import ArrayType, DecimalType, PrimitiveType, StructType, load_schema, parse_type

REPO = Path(__file__).resolve().parents[2]
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
MONEY = re.compile(r"^\d+\.\d{2}$")
INTEGER = re.compile(r"^\d+$")
N_ITEMS = 3000


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def ms(text: str) -> int:
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return round(dt.timestamp() * 1000)


def key_of(item: dict) -> tuple[str, str]:
    return item["PK"]["S"], item["SK"]["S"]


@pytest.fixture(scope="module")
def requests() -> list[dict]:
    return list(data.generate_items(N_ITEMS, 11, bad=6))


@pytest.fixture(scope="module")
def items(requests) -> list[dict]:
    return [r["PutRequest"]["Item"] for r in requests]


@pytest.fixture(scope="module")
def good(items) -> list[dict]:
    return [i for i in items if not i.get("orderId", {}).get("S", "").startswith(data.BAD_ORDER_PREFIX)]


# ---------------------------------------------------------------------------- determinism


def test_same_arguments_give_identical_bytes(tmp_path):
    for run in ("a", "b"):
        data.generate_files(
            500, 3, tmp_path / run / "items.jsonl", changes_out=tmp_path / run / "changes.jsonl",
            updates=20, deletes=10, bad=4, progress=False,
        )
    for name in ("items.jsonl", "changes.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).stat().st_size > 0


def test_different_seed_gives_different_data():
    assert list(data.generate_items(50, 1)) != list(data.generate_items(50, 2))
    assert data.generate_changes(300, 1, updates=5) != data.generate_changes(300, 2, updates=5)


def test_global_random_state_is_neither_used_nor_changed():
    import random

    random.seed(123)
    before = random.getstate()
    first = list(data.generate_items(100, 5))
    assert random.getstate() == before
    random.seed(999)
    assert list(data.generate_items(100, 5)) == first


def test_file_lines_are_the_generated_requests(tmp_path):
    path = tmp_path / "sub" / "items.jsonl"
    written = data.write_jsonl(data.generate_items(200, 9), path, progress=False)
    assert written == 200
    assert list(data.read_jsonl(path)) == list(data.generate_items(200, 9))
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.count("\n") == 200
    assert "\\u" not in text  # UTF-8 as is, not escaped


def test_interrupted_write_leaves_nothing(tmp_path):
    def broken():
        yield from data.generate_items(10, 1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        data.write_jsonl(broken(), tmp_path / "x.jsonl", progress=False)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- shape and types


def test_requests_are_put_requests_with_unique_keys(requests, items):
    assert len(requests) == N_ITEMS
    assert all(set(r) == {"PutRequest"} and set(r["PutRequest"]) == {"Item"} for r in requests)
    keys = [key_of(i) for i in items]
    assert len(set(keys)) == len(keys)


def test_single_table_keys(good):
    for item in good:
        pk, sk = key_of(item)
        assert pk == f"CUSTOMER#{item['customerId']['S']}"
        if item["entityType"]["S"] == "customer":
            assert sk == "PROFILE"
        else:
            assert item["entityType"]["S"] == "order"
            assert sk == f"ORDER#{item['orderId']['S']}"


def test_customers_to_orders_ratio(good):
    kinds = Counter(i["entityType"]["S"] for i in good)
    assert 3.5 < kinds["order"] / kinds["customer"] < 5.5
    plan = data.plan_dataset(N_ITEMS, 11, bad=6)
    assert (plan.customers, plan.orders, plan.other) == (kinds["customer"], kinds["order"], 6)


def test_orders_follow_their_customer(items):
    current = None
    for item in items:
        if item["entityType"]["S"] == "customer":
            current = item
        elif current is not None:
            assert item["customerId"] == current["customerId"]
            if "orderId" in item and not item["orderId"]["S"].startswith(data.BAD_ORDER_PREFIX):
                assert ms(item["createdAt"]["S"]) >= ms(current["createdAt"]["S"])
                assert item["currency"] == {"S": {"GB": "GBP", "US": "USD"}.get(
                    current["address"]["M"]["country"]["S"], "EUR")}


def _walk(value: dict, seen: Counter) -> None:
    (tag, inner), = value.items()
    seen[tag] += 1
    if tag == "M":
        for v in inner.values():
            _walk(v, seen)
    elif tag == "L":
        for v in inner:
            _walk(v, seen)


def test_every_dynamodb_type_is_present_and_well_formed(good):
    seen: Counter = Counter()
    for item in good:
        for value in item.values():
            _walk(value, seen)
    assert {"S", "N", "BOOL", "NULL", "M", "L", "SS"} <= set(seen)
    assert set(seen) <= {"S", "N", "BOOL", "NULL", "M", "L", "SS"}
    for item in good:
        for value in item.values():
            (tag, inner), = value.items()
            if tag == "S":
                assert isinstance(inner, str) and inner
            elif tag == "BOOL":
                assert isinstance(inner, bool)
            elif tag == "NULL":
                assert inner is True
            elif tag == "SS":
                assert inner and len(set(inner)) == len(inner) and all(isinstance(s, str) and s for s in inner)


def test_money_is_exact_with_two_decimals(good):
    orders = [i for i in good if i["entityType"]["S"] == "order"]
    assert orders
    whole = 0
    for order in orders:
        total = order["total"]["N"]
        assert MONEY.match(total), total
        assert Decimal(total).as_tuple().exponent == -2
        lines = order["items"]["L"]
        assert 1 <= len(lines) <= 4
        expected = Decimal(0)
        for line in lines:
            m = line["M"]
            assert set(m) == {"sku", "quantity", "unitPrice"}
            assert INTEGER.match(m["quantity"]["N"]) and int(m["quantity"]["N"]) >= 1
            assert MONEY.match(m["unitPrice"]["N"]) and Decimal(m["unitPrice"]["N"]) > 0
            whole += m["unitPrice"]["N"].endswith(".00")
            expected += int(m["quantity"]["N"]) * Decimal(m["unitPrice"]["N"])
        assert Decimal(total) == expected
    assert whole  # some '20.00' prices: DynamoDB trims them to '20', the pipeline must cope


def test_nulls_and_booleans_vary(good):
    customers = [i for i in good if i["entityType"]["S"] == "customer"]
    orders = [i for i in good if i["entityType"]["S"] == "order"]
    assert {"S", "NULL"} == {next(iter(c["phone"])) for c in customers}
    assert {"S", "NULL"} == {next(iter(o["couponCode"])) for o in orders}
    assert {True, False} == {c["isActive"]["BOOL"] for c in customers}
    assert {True, False} == {o["giftWrap"]["BOOL"] for o in orders}
    assert all(INTEGER.match(c["loyaltyPoints"]["N"]) for c in customers)
    assert set(data.STATUSES) == {o["status"]["S"] for o in orders}


def test_created_at_is_iso_utc_inside_the_default_window(good):
    window = data.make_window()
    assert (window.start, window.last_day, window.days) == (date(2026, 8, 3), date(2026, 10, 31), 90)
    days = set()
    for item in good:
        created = item["createdAt"]["S"]
        assert ISO_Z.match(created), created
        assert window.start_ms <= ms(created) < window.end_ms
        assert item["updatedAt"] == item["createdAt"]
        days.add(created[:10])
    assert len(days) > 80  # spread over the window, one partition per day


def test_custom_window():
    window = data.make_window("2025-12-30", 3)
    assert str(window) == "2025-12-30..2026-01-01 (3 days)"
    created = {i["PutRequest"]["Item"]["createdAt"]["S"][:10] for i in data.generate_items(400, 1, start="2025-12-30", days=3)}
    assert created == {"2025-12-30", "2025-12-31", "2026-01-01"}
    assert data.make_window(days=10).last_day == data.DEFAULT_LAST_DAY


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1, "seed": 1}, "n \\(items\\) must be a whole number >= 0"),
        ({"n": 10, "seed": "x"}, "seed must be an integer"),
        ({"n": 10, "seed": 1, "bad": 11}, "cannot exceed the number of items"),
        ({"n": 10, "seed": 1, "days": 0}, "days must be a whole number >= 1"),
        ({"n": 10, "seed": 1, "start": "31/10/2026"}, "YYYY-MM-DD"),
        ({"n": 10, "seed": 1, "start": "1960-01-01"}, "1970-01-01 or later"),
        ({"n": 10, "seed": 1, "start": "9999-12-01"}, "past the year 9999"),
    ],
)
def test_bad_arguments_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        list(data.generate_items(**kwargs))


# ---------------------------------------------------------------------------- schema mapping


def _check_value(value: dict, hive, where: str) -> None:
    """A DynamoDB JSON value fits the Glue type the enricher will turn it into."""
    (tag, inner), = value.items()
    if tag == "NULL":
        return
    if isinstance(hive, PrimitiveType):
        if hive.name == "string":
            assert tag == "S", where
        elif hive.name == "boolean":
            assert tag == "BOOL", where
        elif hive.name in ("int", "bigint"):
            assert tag == "N" and INTEGER.match(inner), where
            assert int(inner) < 2**31 or hive.name == "bigint", where
        elif hive.name == "timestamp":
            assert tag == "S" and ISO_Z.match(inner), where
        else:  # pragma: no cover - not in schema.json
            raise AssertionError(f"unexpected type {hive} at {where}")
    elif isinstance(hive, DecimalType):
        assert tag == "N", where
        digits = Decimal(inner).as_tuple()
        assert -digits.exponent <= hive.scale and len(digits.digits) <= hive.precision, where
    elif isinstance(hive, StructType):
        assert tag == "M", where
        assert [snake(k) for k in inner] == [f.name for f in hive.fields], where
        for k, v in inner.items():
            _check_value(v, hive.field(snake(k)).type, f"{where}.{k}")
    elif isinstance(hive, ArrayType):
        assert tag in ("L", "SS"), where
        if tag == "SS":
            assert hive.element == PrimitiveType("string"), where
        else:
            for n, v in enumerate(inner):
                _check_value(v, hive.element, f"{where}[{n}]")
    else:  # pragma: no cover
        raise AssertionError(f"unexpected type {hive} at {where}")


def test_attributes_map_onto_schema_columns(good):
    schema = load_schema()
    types = {c.name: parse_type(c.type) for c in schema.columns}
    produced = set()
    for item in good:
        for name, value in item.items():
            if name in ("PK", "SK"):
                continue
            column = snake(name)
            assert column in types, f"attribute {name} has no column {column} in schema.json"
            _check_value(value, types[column], name)
            produced.add(column)
    enricher_columns = {c for c in types if c.startswith("cdc_")}
    assert enricher_columns == {"cdc_operation", "cdc_event_time", "cdc_event_id"}
    assert produced == set(types) - enricher_columns, "schema.json has columns the generator never fills"


# ---------------------------------------------------------------------------- bad items


def test_bad_items_are_really_bad(items):
    bad = [i for i in items if i.get("orderId", {}).get("S", "").startswith(data.BAD_ORDER_PREFIX)]
    assert len(bad) == 6
    kinds = Counter()
    for item in bad:
        assert item["entityType"] == {"S": "order"}  # everything else is a valid order
        assert data.is_bad_item(item)
        created = item.get("createdAt", {}).get("S")
        if created is None:
            kinds["missing"] += 1
        else:
            with pytest.raises(ValueError):  # no ISO parser accepts it
                datetime.fromisoformat(created.replace("Z", "+00:00"))
            kinds["not-a-date" if created == "not-a-date" else "impossible"] += 1
        assert ISO_Z.match(item["updatedAt"]["S"])
    assert kinds == {"missing": 2, "not-a-date": 2, "impossible": 2}
    assert not any(data.is_bad_item(i) for i in items if i not in bad)


def test_no_bad_items_by_default():
    assert not any(data.is_bad_item(r["PutRequest"]["Item"]) for r in data.generate_items(500, 11))


# ---------------------------------------------------------------------------- changes


@pytest.fixture(scope="module")
def changes() -> list[dict]:
    return data.generate_changes(N_ITEMS, 11, updates=40, deletes=25, bad=6)


def test_changes_refer_to_existing_valid_keys_once(items, changes):
    by_key = {key_of(i): i for i in items}
    keys = []
    for change in changes:
        if "PutRequest" in change:
            key = key_of(change["PutRequest"]["Item"])
        else:
            assert set(change) == {"DeleteRequest"} and set(change["DeleteRequest"]) == {"Key"}
            key = key_of(change["DeleteRequest"]["Key"])
            assert set(change["DeleteRequest"]["Key"]) == {"PK", "SK"}
        assert key in by_key
        assert not data.is_bad_item(by_key[key])
        keys.append(key)
    assert len(keys) == len(set(keys)) == 65  # no key twice: safe in one BatchWriteItem call


def test_updates_advance_status_and_updated_at_only(items, changes):
    by_key = {key_of(i): i for i in items}
    updates = [c["PutRequest"]["Item"] for c in changes if "PutRequest" in c]
    assert len(updates) == 40
    allowed = {"PENDING": {"PAID", "CANCELLED"}, "PAID": {"SHIPPED", "CANCELLED"}, "SHIPPED": {"DELIVERED"}}
    for new in updates:
        old = by_key[key_of(new)]
        assert new["entityType"] == {"S": "order"}
        assert new["status"]["S"] in allowed[old["status"]["S"]]
        assert new["createdAt"] == old["createdAt"]  # same partition
        assert ms(new["updatedAt"]["S"]) > ms(old["updatedAt"]["S"]) >= ms(new["createdAt"]["S"])
        assert ISO_Z.match(new["updatedAt"]["S"])
        assert {k: v for k, v in new.items() if k not in ("status", "updatedAt")} == {
            k: v for k, v in old.items() if k not in ("status", "updatedAt")
        }


def test_deletes_cover_both_entities_and_are_interleaved(changes):
    many = data.generate_changes(N_ITEMS, 11, updates=100, deletes=300, bad=6)
    deleted = [c["DeleteRequest"]["Key"]["SK"]["S"] for c in many if "DeleteRequest" in c]
    assert len(deleted) == 300
    assert "PROFILE" in deleted and any(sk.startswith("ORDER#") for sk in deleted)
    kinds = ["put" if "PutRequest" in c else "del" for c in changes]
    assert kinds != sorted(kinds)


def test_changes_from_the_items_themselves_match_changes_from_n(requests, changes):
    assert data.generate_changes(requests, 11, updates=40, deletes=25) == changes
    assert data.generate_changes(iter(requests), 11, updates=40, deletes=25) == changes


def test_changes_from_a_list_skip_duplicates_and_deletes():
    base = list(data.generate_items(30, 2))
    doubled = base + base + [{"DeleteRequest": {"Key": {"PK": {"S": "x"}, "SK": {"S": "y"}}}}]
    plan = data.plan_from_items(doubled)
    assert plan.n == 61 and plan.other == 31
    changes = data.generate_changes(doubled, 2, deletes=plan.n - plan.other)
    assert len({key_of(c["DeleteRequest"]["Key"]) for c in changes}) == 30


def test_too_many_changes_are_explained():
    plan = data.plan_dataset(50, 1)
    open_orders = len(plan.open_order_positions())
    with pytest.raises(ValueError, match=f"only {open_orders} orders that can still change status"):
        data.generate_changes(50, 1, updates=open_orders + 1)
    left = 50 - open_orders
    with pytest.raises(ValueError, match=f"asked for {left + 1} deletes but only {left} valid items are left"):
        data.generate_changes(50, 1, updates=open_orders, deletes=left + 1)
    with pytest.raises(ValueError, match="updates must be a whole number >= 0"):
        data.generate_changes(50, 1, updates=-1)


def test_selector_needs_the_whole_data_set():
    selector = data.ChangeSelector(data.plan_dataset(20, 1), 1, deletes=2)
    for request in list(data.generate_items(20, 1))[:10]:
        selector.observe(request)
    with pytest.raises(RuntimeError, match="observed 10 of the data set's 20 lines"):
        list(selector.iter_changes())


# ---------------------------------------------------------------------------- CLI


def test_cli_writes_files_and_summary(tmp_path, capsys):
    out, changes_out = tmp_path / "items.jsonl", tmp_path / "changes.jsonl"
    code = cli.main([
        "generate", "--items", "120", "--seed", "4", "--out", str(out), "--changes-out", str(changes_out),
        "--updates", "5", "--deletes", "3", "--start", "2026-01-01", "--days", "10", "--bad", "2", "--no-progress",
    ])
    assert code == 0
    summary = capsys.readouterr().out.strip()
    plan = data.plan_dataset(120, 4, 2)
    assert summary.startswith(
        f"wrote 120 items ({plan.customers} customers, {plan.orders} orders, 2 bad) to {out}; "
        f"8 changes (5 updates, 3 deletes) to {changes_out}; createdAt 2026-01-01..2026-01-10 (10 days), seed 4"
    )
    assert list(data.read_jsonl(out)) == list(data.generate_items(120, 4, start="2026-01-01", days=10, bad=2))
    assert list(data.read_jsonl(changes_out)) == data.generate_changes(
        120, 4, updates=5, deletes=3, start="2026-01-01", days=10, bad=2
    )


def test_cli_percentages(tmp_path, capsys):
    plan = data.plan_dataset(400, 8)
    open_orders = len(plan.open_order_positions())
    args = ["generate", "--items", "400", "--seed", "8", "--out", str(tmp_path / "i"),
            "--changes-out", str(tmp_path / "c"), "--updates", "50%", "--deletes", "10%", "--no-progress"]
    assert cli.main(args) == 0
    updates = int(Decimal(open_orders) / 2 + Decimal("0.5"))
    deletes = int(Decimal(400 - updates) / 10 + Decimal("0.5"))
    assert f"({updates} updates, {deletes} deletes)" in capsys.readouterr().out
    assert sum(1 for _ in data.read_jsonl(tmp_path / "c")) == updates + deletes


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--days", "501"], "Use --days 500 or fewer, or add --allow-partition-overflow"),
        (["--updates", "3"], "add --changes-out FILE"),
        (["--bad", "11"], "bad items are counted in --items"),
        (["--changes-out", "SAME", "--deletes", "1"], "--changes-out must differ from --out"),
        (["--changes-out", "C", "--updates", "999"], "ask for fewer updates"),
    ],
)
def test_cli_usage_errors(tmp_path, capsys, extra, message):
    out = tmp_path / "items.jsonl"
    extra = [str(out) if e == "SAME" else str(tmp_path / "c") if e == "C" else e for e in extra]
    assert cli.main(["generate", "--items", "10", "--out", str(out), "--no-progress", *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--items", "-5"], "must be 0 or more"),
        (["--days", "0"], "must be 1 or more"),
        (["--start", "2026-13-01"], "expected a date like 2026-08-03"),
        (["--updates", "150%"], "at most 100%"),
        (["--deletes", "many"], "expected a whole number"),
    ],
)
def test_cli_rejects_bad_values(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["generate", "--out", str(tmp_path / "x"), *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_partition_overflow_on_purpose(tmp_path):
    assert cli.main(["generate", "--items", "50", "--out", str(tmp_path / "x"), "--days", "600",
                     "--allow-partition-overflow", "--no-progress"]) == 0


def test_add_parser_registers_the_handler(tmp_path):
    parser = argparse.ArgumentParser()
    cli_generate.add_parser(parser.add_subparsers())
    args = parser.parse_args(["generate", "--items", "7", "--out", str(tmp_path / "x.jsonl"), "--no-progress"])
    assert args.func is cli_generate.handle
    assert args.func(args) == 0
    assert sum(1 for _ in data.read_jsonl(tmp_path / "x.jsonl")) == 7


# ---------------------------------------------------------------------------- committed samples


def test_committed_samples_are_the_generator_output(tmp_path):
    """data/sample_*.jsonl are what data/README.md's command makes (regenerate them if this fails)."""
    data.generate_files(20, 7, tmp_path / "i", changes_out=tmp_path / "c", updates=5, deletes=3, progress=False)
    assert (REPO / "data" / "sample_items.jsonl").read_bytes() == (tmp_path / "i").read_bytes()
    assert (REPO / "data" / "sample_changes.jsonl").read_bytes() == (tmp_path / "c").read_bytes()
