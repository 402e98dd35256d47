"""Values as Athena renders them in GetQueryResults and the result CSV (Trino's client rendering:
Java's Double.toString / Float.toString, decimals with their scale, timestamps to the millisecond,
[a, b], {k=v}, {x=1, y=2})."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from pipeline_lib.localcloud.athena.engine.outcome import QueryOutcome
from pipeline_lib.localcloud.athena.engine.render import java_double, java_float


@pytest.mark.parametrize(("value", "text"), [
    # java.lang.Double.toString: plain notation for 1e-3 <= |x| < 1e7, else computerized scientific.
    (1e20, "1.0E20"), (1e7, "1.0E7"), (9999999.0, "9999999.0"), (0.001, "0.001"), (1e-4, "1.0E-4"),
    (100.0, "100.0"), (-2.5, "-2.5"), (0.0, "0.0"), (-0.0, "-0.0"), (0.1, "0.1"), (123456789.123, "1.23456789123E8"),
    (math.inf, "Infinity"), (-math.inf, "-Infinity"), (math.nan, "NaN"),
])
def test_java_double(value: float, text: str) -> None:
    assert java_double(value) == text


def test_java_float() -> None:
    assert [java_float(x) for x in (0.1, 1e20, 3.5, 1e-5)] == ["0.1", "1.0E20", "3.5", "1.0E-5"]


def test_rows_render_every_type() -> None:
    table = pa.table({
        "i": pa.array([1, None], pa.int32()), "b": [True, False], "s": ["x", None],
        "dec": pa.array([Decimal("1.50"), Decimal("-0.05")], pa.decimal128(10, 2)),
        "d": pa.array([dt.date(2024, 1, 5), None], pa.date32()),
        "ts": pa.array([dt.datetime(2024, 1, 5, 6, 7, 8, 9000), dt.datetime(1969, 12, 31, 23, 59, 59, 500000)],
                       pa.timestamp("us")),
        "tz": pa.array([dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)] * 2, pa.timestamp("us", tz="Asia/Tokyo")),
        "utc": pa.array([dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)] * 2, pa.timestamp("us", tz="UTC")),
        "f": pa.array([1e20, None]), "bin": pa.array([b"hi", None], pa.binary()),
        "arr": pa.array([[1, None], []], pa.list_(pa.int64())),
        "m": pa.array([[("a", 1)], None], pa.map_(pa.string(), pa.int64())),
        "row": pa.array([{"x": 1, "y": "q"}, None], pa.struct([("x", pa.int64()), ("y", pa.string())])),
    })
    rows = list(QueryOutcome("DML", "csv", table=table).render_rows())
    assert rows == [
        ["1", "true", "x", "1.50", "2024-01-05", "2024-01-05 06:07:08.009", "2024-01-01 21:00:00.000 Asia/Tokyo",
         "2024-01-01 12:00:00.000 UTC", "1.0E20", "68 69", "[1, null]", "{a=1}", "{x=1, y=q}"],
        [None, "false", None, "-0.05", None, "1969-12-31 23:59:59.500", "2024-01-01 21:00:00.000 Asia/Tokyo",
         "2024-01-01 12:00:00.000 UTC", None, None, "[]", None, None],
    ]
    assert ZoneInfo("Asia/Tokyo")  # the zone database is there (rendering zones needs it)
