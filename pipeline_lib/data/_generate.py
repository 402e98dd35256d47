"""Deterministic e-commerce data set and change set, as DynamoDB BatchWriteItem WriteRequests.

Single-table design: a customer is `PK=CUSTOMER#<customerId>, SK=PROFILE`, each of its orders
`PK=CUSTOMER#<customerId>, SK=ORDER#<orderId>`. Attribute names are camelCase and map 1:1 onto
the lake schema (pipeline_lib/data/schema.json) after camelCase -> snake_case. Every value is DynamoDB JSON; money is built
from integer cents, never floats, so `N` strings are exact with two decimals.

Everything derives from the seed through private `random.Random` instances (never the global
RNG), so the same arguments give byte-identical files:

- `layout` RNG: which positions are customers, how many orders each has, each order's status;
- `bad` RNG: positions of the deliberately bad items;
- attribute RNG (`Random(seed)`): every other value;
- `changes` RNG: which items change and how.

The layout is computed first and cheaply (`plan_dataset`), so the change set can be chosen
before the items are generated and picked up in the same single pass that writes them.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "BAD_CREATED_AT_KINDS",
    "BAD_ORDER_PREFIX",
    "DAY_MS",
    "DEFAULT_DAYS",
    "DEFAULT_LAST_DAY",
    "FIREHOSE_ACTIVE_PARTITION_LIMIT",
    "KIND_CUSTOMER",
    "KIND_ORDER",
    "KIND_OTHER",
    "OPEN_STATUSES",
    "STATUSES",
    "ChangeSelector",
    "DataSetPlan",
    "GenerateSummary",
    "N",
    "S",
    "Window",
    "dumps_line",
    "generate_changes",
    "generate_files",
    "generate_items",
    "is_bad_item",
    "make_window",
    "money",
    "parse_iso_ms",
    "plan_dataset",
    "plan_from_items",
    "read_jsonl",
    "write_jsonl",
]

# Default window: 90 days ending 2026-10-31 (one Firehose partition per day, well under 500).
DEFAULT_LAST_DAY = date(2026, 10, 31)
DEFAULT_DAYS = 90
# Firehose's default limit of active partitions per delivery stream; one partition per day here.
FIREHOSE_ACTIVE_PARTITION_LIMIT = 500

STATUSES = ("PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED")
OPEN_STATUSES = frozenset({"PENDING", "PAID", "SHIPPED"})  # those an update can still advance
# Bad items: marked by this orderId prefix; entityType stays "order" so only createdAt is wrong.
BAD_ORDER_PREFIX = "o-bad-"
BAD_CREATED_AT_KINDS = ("missing", "not-a-date", "impossible-date")

DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

# Plan kinds (one byte per position): customer, unusable (bad), order + status index.
KIND_CUSTOMER = 0
KIND_OTHER = 1
KIND_ORDER = 2  # + index into STATUSES

# ------------------------------------------------------------------------------------------
# Pools: fixed, so the data set depends on the seed only. A few names carry non-ASCII letters
# and an apostrophe on purpose: they exercise UTF-8 and SQL quoting downstream.

_FIRST = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "Lucas",
    "Isla", "Mateo", "Mia", "Leo", "Freya", "Hugo", "Chloé", "Finn", "Zoë", "Jonas",
    "Aisha", "Omar", "Priya", "Arjun", "Mei", "Hiro", "Sofía", "José", "Ingrid", "Lars",
    "Niamh", "Cian", "Léa", "Théo", "Anna", "Max", "Grace", "Jack", "Ella", "Ruby",
)
_LAST = (
    "Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson", "Murphy", "Kelly",
    "O'Brien", "Walsh", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Martin", "Bernard", "Dubois",
    "Moreau", "Laurent", "García", "Fernández", "López", "Martínez", "de Vries", "Jansen", "Bakker", "Visser",
    "Johnson", "Miller", "Davis", "Rodriguez", "Nguyen", "Patel", "Khan", "Kim", "Tanaka", "Rossi",
)
_ASCII_FOLD = str.maketrans({"é": "e", "ë": "e", "í": "i", "ü": "u", "á": "a", "ñ": "n", "'": "", " ": ""})


def _email_part(name: str) -> str:
    return name.lower().translate(_ASCII_FOLD)


_FIRST_EMAIL = tuple(_email_part(n) for n in _FIRST)
_LAST_EMAIL = tuple(_email_part(n) for n in _LAST)
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# (city, country, currency, postcode maker, phone maker, streets)
_STREETS_GB = ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane")
_STREETS_DE = ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schulstraße", "Lindenallee")
_STREETS_FR = ("Rue de la Paix", "Avenue Victor Hugo", "Rue du Moulin", "Boulevard Voltaire", "Rue de l'Église")
_STREETS_NL = ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Schoolstraat")
_STREETS_IE = ("Main Street", "Church Road", "Bridge Street", "Green Lane", "Castle Street")
_STREETS_US = ("Main St", "Oak Ave", "Maple Dr", "Park Ave", "Washington Blvd")
_STREETS_ES = ("Calle Mayor", "Avenida de la Constitución", "Calle Real", "Plaza de España", "Calle del Sol")

_CITIES: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    # city, country, currency, postcode template, phone template; '#' = digit, '@' = letter
    ("London", "GB", "GBP", "SW@ #@@", "+44 7700 900###", _STREETS_GB),
    ("Manchester", "GB", "GBP", "M# #@@", "+44 7700 900###", _STREETS_GB),
    ("Edinburgh", "GB", "GBP", "EH# #@@", "+44 7700 900###", _STREETS_GB),
    ("Bristol", "GB", "GBP", "BS# #@@", "+44 7700 900###", _STREETS_GB),
    ("Berlin", "DE", "EUR", "10###", "+49 30 #######", _STREETS_DE),
    ("München", "DE", "EUR", "80###", "+49 89 #######", _STREETS_DE),
    ("Hamburg", "DE", "EUR", "20###", "+49 40 #######", _STREETS_DE),
    ("Paris", "FR", "EUR", "750##", "+33 1 ## ## ## ##", _STREETS_FR),
    ("Lyon", "FR", "EUR", "6900#", "+33 4 ## ## ## ##", _STREETS_FR),
    ("Amsterdam", "NL", "EUR", "10## @@", "+31 20 ### ####", _STREETS_NL),
    ("Utrecht", "NL", "EUR", "35## @@", "+31 30 ### ####", _STREETS_NL),
    ("Dublin", "IE", "EUR", "D0# @###", "+353 1 ### ####", _STREETS_IE),
    ("Cork", "IE", "EUR", "T12 @###", "+353 21 ### ####", _STREETS_IE),
    ("New York", "US", "USD", "100##", "+1 212-555-01##", _STREETS_US),
    ("Seattle", "US", "USD", "981##", "+1 206-555-01##", _STREETS_US),
    ("Austin", "US", "USD", "787##", "+1 512-555-01##", _STREETS_US),
    ("Madrid", "ES", "EUR", "280##", "+34 91 ### ## ##", _STREETS_ES),
    ("Barcelona", "ES", "EUR", "080##", "+34 93 ### ## ##", _STREETS_ES),
)
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters valid in the inward part of a UK postcode

_TIERS = ("bronze", "silver", "gold", "platinum")
_TIER_CUMULATIVE = (0.55, 0.85, 0.97, 1.0)
_CUSTOMER_TAGS = ("newsletter", "vip", "b2b", "early-adopter", "mobile-app", "referral", "student", "wholesale")
_ORDER_TAGS = ("web", "mobile", "marketplace", "express", "first-order", "bulk", "promo", "gift")
_COUPONS = ("WELCOME10", "SPRING15", "FREESHIP", "VIP20", "BLACKFRIDAY", "LOYAL5")
# Initial order statuses (cumulative) and the lines per order / quantity per line (cumulative).
_STATUS_CUMULATIVE = (0.15, 0.35, 0.55, 0.95, 1.0)
_LINES_CUMULATIVE = (0.45, 0.75, 0.92, 1.0)
_QUANTITY_CUMULATIVE = (0.7, 0.9, 0.97, 1.0)


def _subsets(pool: tuple[str, ...], size: int) -> tuple[list[str], ...]:
    from itertools import combinations

    return tuple(sorted(c) for c in combinations(pool, size))


# Tag sets precomputed by size (sorted: an SS has no order, so pick one canonical order).
_CUSTOMER_TAG_SETS = tuple(_subsets(_CUSTOMER_TAGS, k) for k in (1, 2, 3))
_ORDER_TAG_SETS = tuple(_subsets(_ORDER_TAGS, k) for k in (1, 2, 3))
_TAG_SIZE_CUMULATIVE = (0.5, 0.85, 1.0)


def money(cents: int) -> str:
    """Cents as a DynamoDB N string with exactly two decimals (exact: integer arithmetic)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _make_products() -> tuple[tuple[str, int, str], ...]:
    """500 SKUs with fixed prices in cents (some whole: N '20.00' is trimmed to '20' by DynamoDB)."""
    r = random.Random("products")
    skus = r.sample(range(100000, 999999), 500)
    endings = (99, 99, 49, 95, 0)
    products = []
    for sku in skus:
        euros = int(r.paretovariate(1.3) * 4)  # many cheap things, a few expensive ones
        euros = min(euros, 2499)
        cents = euros * 100 + endings[int(r.random() * len(endings))]
        products.append((f"SKU-{sku}", cents, money(cents)))
    return tuple(products)


_PRODUCTS = _make_products()


def _pick(cumulative: tuple[float, ...], u: float) -> int:
    for i, edge in enumerate(cumulative):
        if u < edge:
            return i
    return len(cumulative) - 1


def _fill(template: str, rnd: Any) -> str:
    out = []
    for ch in template:
        if ch == "#":
            out.append("0123456789"[int(rnd() * 10)])
        elif ch == "@":
            out.append(_LETTERS[int(rnd() * len(_LETTERS))])
        else:
            out.append(ch)
    return "".join(out)


# ------------------------------------------------------------------------------------------
# Time window and timestamps


@dataclass(frozen=True)
class Window:
    """The createdAt window: `days` whole UTC days from `start` (inclusive)."""

    start: date
    days: int

    @property
    def last_day(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    @property
    def start_ms(self) -> int:
        return (self.start - date(1970, 1, 1)).days * DAY_MS

    @property
    def end_ms(self) -> int:
        """Exclusive end."""
        return self.start_ms + self.days * DAY_MS

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.last_day.isoformat()} ({self.days} days)"


def make_window(start: date | str | None = None, days: int = DEFAULT_DAYS) -> Window:
    """Validate a window. Without `start`, the window ends on DEFAULT_LAST_DAY."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number >= 1, got {days!r}")
    if start is None:
        start_date = DEFAULT_LAST_DAY - timedelta(days=days - 1)
    elif isinstance(start, datetime):
        raise ValueError(f"start must be a date (YYYY-MM-DD), not a datetime: {start!r}")
    elif isinstance(start, date):
        start_date = start
    elif isinstance(start, str):
        try:
            start_date = date.fromisoformat(start)
        except ValueError:
            raise ValueError(f"start must be a date like 2026-08-03 (YYYY-MM-DD), got {start!r}") from None
    else:
        raise ValueError(f"start must be a date or 'YYYY-MM-DD', got {start!r}")
    try:  # room for updates after the window; ISO years stop at 9999
        (start_date + timedelta(days=days + 30)).isoformat()
    except OverflowError:
        raise ValueError(f"the window from {start_date} over {days} days runs past the year 9999") from None
    if start_date.year < 1970:
        raise ValueError(f"start must be 1970-01-01 or later (epoch milliseconds), got {start_date}")
    return Window(start_date, days)


class _Clock:
    """Formats epoch milliseconds as ISO-8601 UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`, caching day prefixes."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def iso(self, ms: int) -> str:
        day, rem = divmod(ms, DAY_MS)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat() + "T"
        hours, rem = divmod(rem, 3_600_000)
        minutes, rem = divmod(rem, 60_000)
        seconds, millis = divmod(rem, 1000)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def parse_iso_ms(text: str) -> int:
    """Epoch milliseconds of a `YYYY-MM-DDTHH:MM:SS.mmmZ` string; ValueError if it is not one."""
    if not isinstance(text, str) or not _ISO_MS_Z.match(text):
        raise ValueError(f"not an ISO-8601 UTC timestamp with milliseconds and Z: {text!r}")
    dt = datetime.fromisoformat(text[:-1] + "+00:00")  # raises on impossible dates (Feb 30)
    return (dt - _EPOCH) // timedelta(milliseconds=1)


# ------------------------------------------------------------------------------------------
# Layout plan


@dataclass(frozen=True)
class DataSetPlan:
    """What each line of the data set is, before any attribute is generated.

    `kinds[i]` is KIND_CUSTOMER, KIND_OTHER (bad or unusable) or KIND_ORDER + status index.
    """

    kinds: bytes

    @property
    def n(self) -> int:
        return len(self.kinds)

    @property
    def customers(self) -> int:
        return self.kinds.count(KIND_CUSTOMER)

    @property
    def other(self) -> int:
        return self.kinds.count(KIND_OTHER)

    @property
    def orders(self) -> int:
        return self.n - self.customers - self.other

    def open_order_positions(self) -> list[int]:
        open_kinds = {KIND_ORDER + STATUSES.index(s) for s in OPEN_STATUSES}
        return [i for i, k in enumerate(self.kinds) if k in open_kinds]

    def good_positions(self) -> list[int]:
        return [i for i, k in enumerate(self.kinds) if k != KIND_OTHER]


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return value


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return seed


def plan_dataset(n: int, seed: int, bad: int = 0) -> DataSetPlan:
    """The layout of `generate_items(n, seed, bad=bad)`: cheap (no attributes are generated)."""
    _check_count("n (items)", n)
    _check_seed(seed)
    _check_count("bad", bad)
    if bad > n:
        raise ValueError(f"bad ({bad}) cannot exceed the number of items ({n}); bad items are part of the count")
    layout = random.Random(f"{seed}/layout")
    bad_positions = set(random.Random(f"{seed}/bad").sample(range(n), bad)) if bad else set()
    kinds = bytearray(n)
    rnd = layout.random
    remaining = 0
    status_edges = _STATUS_CUMULATIVE
    for i in range(n):
        if i in bad_positions:
            kinds[i] = KIND_OTHER
        elif remaining == 0:
            kinds[i] = KIND_CUSTOMER
            remaining = 1 + int(rnd() * 8)  # 1..8 orders, 4.5 on average
        else:
            u = rnd()
            s = 0
            while u >= status_edges[s]:
                s += 1
            kinds[i] = KIND_ORDER + s
            remaining -= 1
    return DataSetPlan(bytes(kinds))


# ------------------------------------------------------------------------------------------
# Items


def S(value: str) -> dict[str, str]:
    return {"S": value}


def N(value: str | int) -> dict[str, str]:
    return {"N": str(value)}


_NULL = {"NULL": True}


def generate_items(
    n: int,
    seed: int,
    *,
    start: date | str | None = None,
    days: int = DEFAULT_DAYS,
    bad: int = 0,
) -> Iterator[dict[str, Any]]:
    """Yield `n` PutRequests (customers, each followed by its orders), `bad` of them with a
    missing or unparsable `createdAt` (orders whose orderId starts with BAD_ORDER_PREFIX)."""
    window = make_window(start, days)
    plan = plan_dataset(n, seed, bad)
    return _items(plan, seed, window)


def _items(plan: DataSetPlan, seed: int, window: Window) -> Iterator[dict[str, Any]]:
    # One random stream for the whole data set: the helpers below draw from it in a fixed order,
    # which is what keeps a data set byte-identical for the same arguments.
    rnd = random.Random(seed).random
    iso = _Clock().iso
    start_ms, span_ms = window.start_ms, window.days * DAY_MS
    end_ms = start_ms + span_ms

    customer_no = 0
    order_no = 0
    bad_no = 0
    cust_pk = f"CUSTOMER#c-{1:06d}"
    cust_id = f"c-{1:06d}"
    cust_created = start_ms
    currency = "EUR"

    for kind in plan.kinds:
        if kind == KIND_CUSTOMER:
            customer_no += 1
            cust_id = f"c-{customer_no:06d}"
            cust_pk = "CUSTOMER#" + cust_id
            cust_created = start_ms + int(rnd() * span_ms)
            item, currency = _customer_item(customer_no, cust_id, iso(cust_created), rnd)
            yield {"PutRequest": {"Item": item}}
            continue

        # An order (or a bad order) of the current customer, placed after the customer joined.
        created_ms = cust_created + int(rnd() * (end_ms - cust_created))
        lines, total = _order_lines(rnd)
        if kind == KIND_OTHER:
            bad_no += 1
            order_id = f"{BAD_ORDER_PREFIX}{bad_no:06d}"
            status = "PENDING"
        else:
            order_no += 1
            order_id = f"o-{order_no:07d}"
            status = STATUSES[kind - KIND_ORDER]
        created = iso(created_ms)
        item = {
            "PK": S(cust_pk),
            "SK": S("ORDER#" + order_id),
            "entityType": S("order"),
            "customerId": S(cust_id),
            "orderId": S(order_id),
            "status": S(status),
            "total": N(money(total)),
            "currency": S(currency),
            "items": {"L": lines},
            "giftWrap": {"BOOL": rnd() < 0.1},
            "couponCode": _NULL if rnd() < 0.7 else S(_COUPONS[int(rnd() * len(_COUPONS))]),
            "tags": {"SS": _pick_tags(_ORDER_TAG_SETS, rnd)},
            "createdAt": S(created),
            "updatedAt": S(created),
        }
        if kind == KIND_OTHER:
            _spoil_created_at(item, bad_no - 1, created[:4])
        yield {"PutRequest": {"Item": item}}


def _customer_item(customer_no: int, cust_id: str, created: str, rnd: Any) -> tuple[dict[str, Any], str]:
    """A customer's PROFILE item, and the currency of the city drawn for it (its orders use it)."""
    fi, li = int(rnd() * len(_FIRST)), int(rnd() * len(_LAST))
    city, country, currency, postcode_t, phone_t, streets = _CITIES[int(rnd() * len(_CITIES))]
    item = {
        "PK": S("CUSTOMER#" + cust_id),
        "SK": S("PROFILE"),
        "entityType": S("customer"),
        "customerId": S(cust_id),
        "name": S(f"{_FIRST[fi]} {_LAST[li]}"),
        "email": S(f"{_FIRST_EMAIL[fi]}.{_LAST_EMAIL[li]}.{customer_no}@{_EMAIL_DOMAINS[customer_no % 3]}"),
        "tier": S(_TIERS[_pick(_TIER_CUMULATIVE, rnd())]),
        "isActive": {"BOOL": rnd() < 0.9},
        "loyaltyPoints": N(int(rnd() * rnd() * 50_000)),  # skewed towards few points
        "phone": _NULL if rnd() < 0.25 else S(_fill(phone_t, rnd)),
        "address": {
            "M": {
                "street": S(f"{1 + int(rnd() * 250)} {streets[int(rnd() * len(streets))]}"),
                "city": S(city),
                "postcode": S(_fill(postcode_t, rnd)),
                "country": S(country),
            }
        },
        "tags": {"SS": _pick_tags(_CUSTOMER_TAG_SETS, rnd)},
        "createdAt": S(created),
        "updatedAt": S(created),
    }
    return item, currency


def _order_lines(rnd: Any) -> tuple[list[dict[str, Any]], int]:
    """An order's lines (distinct products) and its total in cents."""
    lines = []
    total = 0
    picked: set[int] = set()
    for _ in range(1 + _pick(_LINES_CUMULATIVE, rnd())):
        p = int(rnd() * len(_PRODUCTS))
        while p in picked:  # distinct products per order
            p = int(rnd() * len(_PRODUCTS))
        picked.add(p)
        sku, cents, price = _PRODUCTS[p]
        qty = 1 + _pick(_QUANTITY_CUMULATIVE, rnd())
        total += qty * cents
        lines.append({"M": {"sku": {"S": sku}, "quantity": {"N": str(qty)}, "unitPrice": {"N": price}}})
    return lines, total


def _pick_tags(sets_by_size: tuple[tuple[list[str], ...], ...], rnd: Any) -> list[str]:
    sets = sets_by_size[_pick(_TAG_SIZE_CUMULATIVE, rnd())]
    return list(sets[int(rnd() * len(sets))])


def _spoil_created_at(item: dict[str, Any], bad_index: int, year: str) -> None:
    """Make createdAt missing or unparsable (kinds cycle, so a few bad items cover them all)."""
    kind = BAD_CREATED_AT_KINDS[bad_index % len(BAD_CREATED_AT_KINDS)]
    if kind == "missing":
        del item["createdAt"]
    elif kind == "not-a-date":
        item["createdAt"] = S("not-a-date")
    else:  # well-formed but impossible: catches parsers that only slice the string
        item["createdAt"] = S(f"{year}-02-30T12:00:00.000Z")


def is_bad_item(item: dict[str, Any]) -> bool:
    """True if the item has no valid `createdAt` (the generator's bad items, or any other)."""
    created = item.get("createdAt", {}).get("S")
    try:
        parse_iso_ms(created)
    except ValueError:
        return True
    return False


# ------------------------------------------------------------------------------------------
# Changes


def plan_from_items(requests: Iterable[dict[str, Any]]) -> DataSetPlan:
    """The plan of an existing list of WriteRequests: which lines can be changed, and how.

    Only the first put of each key is eligible, so a change set never holds a key twice
    (BatchWriteItem rejects duplicate keys in one call).
    """
    kinds = bytearray()
    seen: set[tuple[str, str]] = set()
    for req in requests:
        item = req.get("PutRequest", {}).get("Item") if isinstance(req, dict) else None
        kind = KIND_OTHER
        if item is not None:
            key = (item.get("PK", {}).get("S"), item.get("SK", {}).get("S"))
            if key not in seen and not is_bad_item(item):
                seen.add(key)
                sk = key[1] or ""
                status = item.get("status", {}).get("S")
                if sk == "PROFILE":
                    kind = KIND_CUSTOMER
                elif sk.startswith("ORDER#") and status in STATUSES:
                    kind = KIND_ORDER + STATUSES.index(status)
        kinds.append(kind)
    return DataSetPlan(bytes(kinds))


_NEXT_STATUS = {
    "PENDING": (("PAID", 0.85), ("CANCELLED", 1.0)),
    "PAID": (("SHIPPED", 0.9), ("CANCELLED", 1.0)),
    "SHIPPED": (("DELIVERED", 1.0),),
}
_UPDATE_DELAY_MS = (60_000, 3 * DAY_MS)  # an update lands 1 minute .. 3 days after the last one


class ChangeSelector:
    """Chooses the change set from a plan, then collects the chosen items during one pass.

    Updates go to distinct open orders (PENDING/PAID/SHIPPED) and advance their status;
    deletes go to other valid items (customers or orders). Every key appears at most once.
    """

    def __init__(self, plan: DataSetPlan, seed: int, *, updates: int = 0, deletes: int = 0) -> None:
        _check_seed(seed)
        _check_count("updates", updates)
        _check_count("deletes", deletes)
        self.plan = plan
        self._rng = random.Random(f"{seed}/changes")
        open_positions = plan.open_order_positions() if updates else []
        if updates > len(open_positions):
            raise ValueError(
                f"asked for {updates} updates but the data set has only {len(open_positions)} orders "
                f"that can still change status ({'/'.join(sorted(OPEN_STATUSES))}); ask for fewer "
                "updates or generate more items"
            )
        update_positions = self._rng.sample(open_positions, updates)
        chosen = set(update_positions)
        delete_positions: list[int] = []
        if deletes:
            pool = [p for p in plan.good_positions() if p not in chosen]
            if deletes > len(pool):
                raise ValueError(
                    f"asked for {deletes} deletes but only {len(pool)} valid items are left after "
                    f"{updates} updates; ask for fewer or generate more items"
                )
            delete_positions = self._rng.sample(pool, deletes)
        self.updates, self.deletes = updates, deletes
        # Interleave updates and deletes in a seeded order.
        self._order = [(p, True) for p in update_positions] + [(p, False) for p in delete_positions]
        self._rng.shuffle(self._order)
        self._wanted = {p: is_update for p, is_update in self._order}
        self._found: dict[int, str | dict[str, Any]] = {}
        self._seen = 0

    def observe(self, request: dict[str, Any]) -> None:
        """Look at the next WriteRequest of the data set (in order)."""
        pos = self._seen
        self._seen += 1
        is_update = self._wanted.get(pos)
        if is_update is None:
            return
        item = request["PutRequest"]["Item"]
        if is_update:
            # Kept serialized: a fraction of a big data set, but as dicts it would be heavy.
            self._found[pos] = json.dumps(item, ensure_ascii=False)
        else:
            self._found[pos] = {"PK": item["PK"], "SK": item["SK"]}

    def tap(self, requests: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Pass requests through unchanged, observing each (to write items and pick changes in one pass)."""
        for request in requests:
            self.observe(request)
            yield request

    def iter_changes(self) -> Iterator[dict[str, Any]]:
        """The change set, after every line of the data set was observed."""
        if self._seen != self.plan.n:
            raise RuntimeError(
                f"observed {self._seen} of the data set's {self.plan.n} lines; pass every line through "
                "observe() or tap() before asking for the changes"
            )
        clock = _Clock()
        rnd = self._rng.random
        low, high = _UPDATE_DELAY_MS
        for pos, is_update in self._order:
            found = self._found[pos]
            if not is_update:
                yield {"DeleteRequest": {"Key": found}}
                continue
            item = json.loads(found)
            u = rnd()
            new_status = next(s for s, edge in _NEXT_STATUS[item["status"]["S"]] if u < edge)
            last_ms = max(parse_iso_ms(item["createdAt"]["S"]), parse_iso_ms(item["updatedAt"]["S"]))
            item["status"] = S(new_status)
            item["updatedAt"] = S(clock.iso(last_ms + low + int(rnd() * (high - low))))
            yield {"PutRequest": {"Item": item}}


def generate_changes(
    items: int | Iterable[dict[str, Any]],
    seed: int,
    *,
    updates: int = 0,
    deletes: int = 0,
    start: date | str | None = None,
    days: int = DEFAULT_DAYS,
    bad: int = 0,
) -> list[dict[str, Any]]:
    """The change set for a data set: `updates` PutRequests of orders with an advanced status
    and a later updatedAt (createdAt unchanged, so the partition stays), and `deletes`
    DeleteRequests, in a seeded order.

    `items` is either the data set's size `n` (it is regenerated from `seed`, `start`, `days`,
    `bad`, which must match the call that made it) or the WriteRequests themselves.
    """
    if isinstance(items, int) and not isinstance(items, bool):
        window = make_window(start, days)
        plan = plan_dataset(items, seed, bad)
        requests: Iterable[dict[str, Any]] = _items(plan, seed, window)
    else:
        requests = items if isinstance(items, Sequence) else list(items)
        plan = plan_from_items(requests)
    selector = ChangeSelector(plan, seed, updates=updates, deletes=deletes)
    for request in requests:
        selector.observe(request)
    return list(selector.iter_changes())


# ------------------------------------------------------------------------------------------
# Output

# No circular check: generated requests are trees, and skipping it saves ~15% of the encoding.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


def dumps_line(request: dict[str, Any]) -> str:
    """One JSON line (compact, key order as built, UTF-8 text)."""
    return _encode(request) + "\n"


def write_jsonl(
    requests: Iterable[dict[str, Any]],
    path: str | Path,
    *,
    progress: bool = True,
    total: int | None = None,
    desc: str | None = None,
) -> int:
    """Write requests as JSON lines; return the number written.

    Written to a temporary file beside `path` and renamed at the end, so an interrupted run never
    leaves a half file. The progress bar shows only when asked for and stderr is a terminal.
    """
    from tqdm import tqdm

    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{target} is a directory; give a file path such as {target / 'items.jsonl'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    show = progress and sys.stderr.isatty()
    count = 0
    # Not mkstemp: its 0600 mode would survive the rename; "x" gives the usual umask mode.
    tmp_name = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp_name, "x", encoding="utf-8", newline="\n") as f, tqdm(
            total=total, desc=desc or target.name, unit=" lines", unit_scale=True, disable=not show
        ) as bar:
            chunk: list[str] = []
            for request in requests:
                chunk.append(_encode(request))
                if len(chunk) == 8192:
                    f.write("\n".join(chunk) + "\n")
                    count += len(chunk)
                    bar.update(len(chunk))
                    chunk = []
            if chunk:
                f.write("\n".join(chunk) + "\n")
                count += len(chunk)
                bar.update(len(chunk))
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return count


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Read a data set file back (one WriteRequest per line)."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{number}: not a JSON line ({e})") from None


@dataclass(frozen=True)
class GenerateSummary:
    items: int
    customers: int
    orders: int
    bad: int
    updates: int
    deletes: int
    window: Window
    seconds: float


def generate_files(
    n: int,
    seed: int,
    out: str | Path,
    *,
    changes_out: str | Path | None = None,
    updates: int = 0,
    deletes: int = 0,
    start: date | str | None = None,
    days: int = DEFAULT_DAYS,
    bad: int = 0,
    progress: bool = True,
) -> GenerateSummary:
    """Write the data set (and optionally the change set) in one pass over the items."""
    if (updates or deletes) and changes_out is None:
        raise ValueError("updates/deletes need a file for the change set (changes_out)")
    began = time.perf_counter()
    window = make_window(start, days)
    plan = plan_dataset(n, seed, bad)
    selector = ChangeSelector(plan, seed, updates=updates, deletes=deletes) if changes_out is not None else None
    requests = _items(plan, seed, window)
    if selector is not None:
        requests = selector.tap(requests)
    write_jsonl(requests, out, progress=progress, total=n)
    if selector is not None:
        write_jsonl(selector.iter_changes(), changes_out, progress=progress, total=updates + deletes)
    return GenerateSummary(
        items=n, customers=plan.customers, orders=plan.orders, bad=bad, updates=updates,
        deletes=deletes, window=window, seconds=time.perf_counter() - began,
    )
