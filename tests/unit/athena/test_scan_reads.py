"""How a scan finds and opens a table's objects: one listing per bucket for all partitions (the
same objects as listing each partition's folder), and Parquet schemas remembered by footer, so a
rewritten object is read with its new schema."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline_lib.localcloud.athena.engine import AthenaQueryError
from pipeline_lib.localcloud.athena.engine.memory import MemoryStorage
from pipeline_lib.localcloud.athena.engine.scan import list_data_objects, list_data_objects_under, parquet_schema

from .lake import Lake, parquet_bytes


def test_one_listing_per_bucket_finds_what_each_folder_listing_finds() -> None:
    storage = MemoryStorage()
    keys = ["t/a=1/x.parquet", "t/a=1/b=2/y.parquet", "t/a=10/z.parquet", "t/a=1/_SUCCESS", "t/a=1/.hidden",
            "t/a=1/sub/", "t/a=2/w.parquet", "u/a=1/v.parquet", "t/a=1"]
    for key in keys:
        storage.put_object("lake", key, b"x" * (len(key) + 1))
    storage.put_object("other", "t/a=3/q.parquet", b"qq")
    locations = ["s3://lake/t/a=1/", "s3://lake/t/a=1/b=2", "s3://lake/t/a=10/", "s3://other/t/a=3/",
                 "s3://lake/t/a=9/", "s3://lake/u/a=1"]
    calls = []
    listing = storage.list_objects
    storage.list_objects = lambda bucket, prefix: calls.append(bucket) or listing(bucket, prefix)
    together = list_data_objects_under(storage, locations)
    assert sorted(calls) == ["lake", "other"]
    assert together == [list_data_objects(storage, location) for location in locations]
    # Written out, as Hive lists a partition folder: nested objects count, '_' and '.' names and
    # folder markers do not, and a/=1 is not a/=10.
    assert together[0] == [("s3://lake/t/a=1/b=2/y.parquet", 20), ("s3://lake/t/a=1/x.parquet", 16)]
    assert together[2] == [("s3://lake/t/a=10/z.parquet", 17)]
    assert together[3] == [("s3://other/t/a=3/q.parquet", 2)]
    assert together[4] == []


def test_a_rewritten_object_is_read_with_its_new_schema() -> None:
    lake = Lake()
    lake.table("t", [("id", "bigint"), ("v", "string")], "s3://lake/t/")
    lake.put("s3://lake/t/part-0.parquet", parquet_bytes(pa.table({"id": pa.array([1, 2], pa.int64())})))
    assert lake.rows("SELECT id, v FROM t ORDER BY id") == [["1", None], ["2", None]]
    lake.put("s3://lake/t/part-0.parquet", parquet_bytes(pa.table({"id": pa.array([3], pa.int64()), "v": ["c"]})))
    assert lake.rows("SELECT id, v FROM t ORDER BY id") == [["3", "c"]]
    lake.put("s3://lake/t/part-0.parquet", parquet_bytes(pa.table({"id": ["not a number"]})))
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT id FROM t")
    assert err.value.error_name == "HIVE_BAD_DATA"


def test_parquet_schema_is_the_footers() -> None:
    first = parquet_bytes(pa.table({"a": pa.array([1], pa.int32())}))
    second = parquet_bytes(pa.table({"a": pa.array([1.5], pa.float64())}))
    assert parquet_schema(first).field("a").type == pa.int32()
    assert parquet_schema(second).field("a").type == pa.float64()
    assert parquet_schema(first).field("a").type == pa.int32()
    with pytest.raises(pa.ArrowInvalid):
        parquet_schema(b"not parquet at all")
