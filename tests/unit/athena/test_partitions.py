"""Partitions come from the catalog (or projection), filters on them prune the objects read, and
data scanned counts only those objects (Athena: partitions and partition projection)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline_lib.localcloud.athena.engine import AthenaQueryError

from .lake import Lake, parquet_bytes


def _day(lake: Lake, day: str, ids: list[int], base: str = "s3://lake/ev") -> int:
    body = parquet_bytes(pa.table({"id": pa.array(ids, pa.int64()), "v": [float(i) for i in ids]}))
    lake.put(f"{base}/dt={day}/part-0.parquet", body)
    return len(body)


@pytest.fixture()
def lake() -> Lake:
    lake = Lake()
    lake.table("ev", [("id", "bigint"), ("v", "double")], "s3://lake/ev/", partition_keys=[("dt", "string")])
    return lake


def test_partition_filter_reads_only_matching_objects(lake: Lake) -> None:
    sizes = {d: _day(lake, d, ids) for d, ids in [("2024-01-01", [1, 2]), ("2024-01-02", [3]), ("2024-01-03", [4, 5, 6])]}
    for d in sizes:
        lake.partition("ev", [d], f"s3://lake/ev/dt={d}/")
    full = lake.query("SELECT count(*) FROM ev")
    assert list(full.render_rows()) == [["6"]]
    assert full.data_scanned_bytes == sum(sizes.values())
    lake.storage.reads.clear()
    one = lake.query("SELECT count(*), sum(id) FROM ev WHERE dt = '2024-01-02'")
    assert list(one.render_rows()) == [["1", "3"]]
    assert one.data_scanned_bytes == sizes["2024-01-02"]
    assert lake.storage.reads == ["s3://lake/ev/dt=2024-01-02/part-0.parquet"]
    two = lake.query("SELECT id FROM ev WHERE dt >= '2024-01-02' AND id > 3 ORDER BY id")
    assert list(two.render_rows()) == [["4"], ["5"], ["6"]]
    assert two.data_scanned_bytes == sizes["2024-01-02"] + sizes["2024-01-03"]
    aliased = lake.query("SELECT count(*) FROM ev e WHERE e.dt IN ('2024-01-01', '2024-01-03')")
    assert aliased.data_scanned_bytes == sizes["2024-01-01"] + sizes["2024-01-03"]


def test_new_folder_is_invisible_until_repaired_or_added(lake: Lake) -> None:
    _day(lake, "2024-01-01", [1])
    lake.partition("ev", ["2024-01-01"], "s3://lake/ev/dt=2024-01-01/")
    _day(lake, "2024-01-02", [2, 3])  # written, not catalogued
    assert lake.rows("SELECT count(*) FROM ev") == [["1"]]
    out = lake.query("MSCK REPAIR TABLE ev")
    assert out.render_text() == ("Partitions not in metastore:\tev:dt=2024-01-02\n"
                                 "Repair: Added partition to metastore ev:dt=2024-01-02\n")
    assert lake.rows("SELECT count(*) FROM ev") == [["3"]]
    _day(lake, "2024-01-03", [4])
    assert lake.rows("SELECT count(*) FROM ev") == [["3"]]
    lake.query("ALTER TABLE ev ADD PARTITION (dt = '2024-01-03') LOCATION 's3://lake/ev/dt=2024-01-03/'")
    assert lake.rows("SELECT count(*) FROM ev") == [["4"]]
    assert lake.rows("SHOW PARTITIONS ev") == [["dt=2024-01-01"], ["dt=2024-01-02"], ["dt=2024-01-03"]]
    lake.query("ALTER TABLE ev DROP PARTITION (dt = '2024-01-01')")
    assert lake.rows("SELECT min(id) FROM ev") == [["2"]]


def test_partition_columns_keep_glue_types() -> None:
    lake = Lake()
    lake.table("p", [("id", "bigint")], "s3://lake/p/", partition_keys=[("year", "int"), ("day", "date")])
    lake.put("s3://lake/p/year=2024/day=2024-02-01/a.parquet", parquet_bytes(pa.table({"id": [1]})))
    lake.partition("p", ["2024", "2024-02-01"], "s3://lake/p/year=2024/day=2024-02-01/")
    out = lake.query("SELECT year + 1, day + INTERVAL '1' DAY, year, day FROM p")
    assert [c.type for c in out.columns] == ["integer", "date", "integer", "date"]
    assert list(out.render_rows()) == [["2025", "2024-02-02", "2024", "2024-02-01"]]
    # integer comparison, not string: 10 > 9
    assert lake.query("SELECT count(*) FROM p WHERE year > 999").data_scanned_bytes > 0


def test_projection_integer_date_enum_injected_without_catalogued_partitions() -> None:
    lake = Lake()
    params = {
        "projection.enabled": "true",
        "projection.dt.type": "date", "projection.dt.range": "2024-01-01,2024-01-03",
        "projection.dt.format": "yyyy-MM-dd",
        "projection.shard.type": "integer", "projection.shard.range": "1,2",
        "projection.kind.type": "enum", "projection.kind.values": "a,b",
    }
    lake.table("pr", [("id", "bigint")], "s3://lake/pr/", partition_keys=[("dt", "string"), ("shard", "int"), ("kind", "string")],
               parameters=params)
    sizes = {}
    for dt, shard, kind, i in [("2024-01-01", 1, "a", 1), ("2024-01-02", 2, "b", 2), ("2024-01-03", 1, "b", 3),
                               ("2024-01-09", 1, "a", 9)]:  # outside the projected range: never read
        body = parquet_bytes(pa.table({"id": [i]}))
        lake.put(f"s3://lake/pr/dt={dt}/shard={shard}/kind={kind}/x.parquet", body)
        sizes[i] = len(body)
    assert lake.rows("SELECT sum(id) FROM pr") == [["6"]]
    out = lake.query("SELECT id FROM pr WHERE kind = 'b' AND shard = 2")
    assert list(out.render_rows()) == [["2"]]
    assert out.data_scanned_bytes == sizes[2]

    lake.table("inj", [("id", "bigint")], "s3://lake/inj/", partition_keys=[("tenant", "string")],
               parameters={"projection.enabled": "true", "projection.tenant.type": "injected",
                           "storage.location.template": "s3://lake/inj/t-${tenant}/"})
    lake.put("s3://lake/inj/t-acme/x.parquet", parquet_bytes(pa.table({"id": [7]})))
    assert lake.rows("SELECT id, tenant FROM inj WHERE tenant = 'acme'") == [["7", "acme"]]
    with pytest.raises(AthenaQueryError) as e:
        lake.query("SELECT id FROM inj")
    assert e.value.error_name == "CONSTRAINT_VIOLATION"


def test_outer_joined_side_is_not_pruned_by_where(lake: Lake) -> None:
    for d, ids in [("a", [1, 2]), ("b", [3])]:
        _day(lake, d, ids)
        lake.partition("ev", [d], f"s3://lake/ev/dt={d}/")
    # Every row of l matches itself in r; only r.dt = 'b' passes. Pruning r to 'b' first would turn
    # the other rows into NULL-extended ones that pass `r.dt IS NULL`.
    assert lake.rows("SELECT count(*) FROM ev l LEFT JOIN ev r ON l.id = r.id WHERE r.dt IS NULL OR r.dt = 'b'") == [["1"]]
    assert lake.rows("SELECT count(*) FROM ev l JOIN ev r ON l.id = r.id WHERE r.dt = 'b'") == [["1"]]


def test_date_projection_relative_to_now_with_hourly_template() -> None:
    import datetime as dt

    now = dt.datetime.utcnow().replace(minute=0, second=0, microsecond=0)
    hours = [now - dt.timedelta(hours=h) for h in (0, 1, 30)]  # the last is outside NOW-1DAYS
    lake = Lake()
    lake.table("hourly", [("id", "bigint")], "s3://lake/h/", partition_keys=[("dh", "string")], parameters={
        "projection.enabled": "true", "projection.dh.type": "date", "projection.dh.format": "yyyy/MM/dd/HH",
        "projection.dh.range": "NOW-1DAYS,NOW", "projection.dh.interval": "1", "projection.dh.interval.unit": "HOURS",
        "storage.location.template": "s3://lake/h/${dh}/"})
    for i, h in enumerate(hours):
        lake.put(f"s3://lake/h/{h:%Y/%m/%d/%H}/x.parquet", parquet_bytes(pa.table({"id": [i]})))
    assert lake.rows("SELECT id, dh FROM hourly ORDER BY id") == [["0", f"{hours[0]:%Y/%m/%d/%H}"],
                                                                 ["1", f"{hours[1]:%Y/%m/%d/%H}"]]


def test_one_partition_read_gives_the_values_the_partition_join_gives() -> None:
    """A scan of one partition puts its values in as constants; of several, joins them by the
    object's partition: a row has the same partition values (types, NULL where the value does not
    convert, quotes) either way."""
    lake = Lake()
    lake.table("q", [("id", "bigint")], "s3://lake/q/",
               partition_keys=[("n", "int"), ("s", "string"), ("d", "date")])
    parts = [["7", "it's", "2024-02-01"], ["x", "plain", "2024-02-02"], ["9", "b", "not a date"]]
    for i, (n, s, d) in enumerate(parts):
        location = f"s3://lake/q/part{i}/"
        lake.put(f"{location}a.parquet", parquet_bytes(pa.table({"id": pa.array([i, i + 10], pa.int64())})))
        lake.partition("q", [n, s, d], location)
    select = "SELECT id, n, s, d, n + 1 FROM q"
    joined = lake.query(f"{select} ORDER BY id")  # all three partitions: the join
    expected = [["0", "7", "it's", "2024-02-01", "8"], ["1", None, "plain", "2024-02-02", None],
                ["2", "9", "b", None, "10"], ["10", "7", "it's", "2024-02-01", "8"],
                ["11", None, "plain", "2024-02-02", None], ["12", "9", "b", None, "10"]]
    assert list(joined.render_rows()) == expected
    for i, (_, s, _) in enumerate(parts):
        one = lake.query(f"{select} WHERE s = '{s.replace(chr(39), chr(39) * 2)}' ORDER BY id")
        assert one.data_scanned_bytes < joined.data_scanned_bytes  # one partition's object only
        assert [c.type for c in one.columns] == [c.type for c in joined.columns]
        assert list(one.render_rows()) == [row for row in expected if row[0] in (str(i), str(i + 10))]
