"""Parquet objects kept as memfd files DuckDB reads by path (engine/memfd.py, engine/objectfiles.py):
the file holds exactly the object's bytes and counts in RSS; a query sees an overwritten object's
new bytes and skips a deleted one; answers are the same with the files as through fsspec, with
bounds small enough to evict (and reuse descriptor numbers) between and within queries; moto's
object versions change when the object is replaced. Expected answers come from the Python rows."""
from __future__ import annotations

import os
import uuid

import pyarrow as pa
import pytest

from pipeline_lib.localcloud.athena.engine import query as query_module
from pipeline_lib.localcloud.athena.engine.memfd import MemfdFile, supported
from pipeline_lib.localcloud.athena.engine.memory import MemoryCatalog
from pipeline_lib.localcloud.athena.engine.objectfiles import ObjectFiles, settings
from pipeline_lib.localcloud.athena.engine.query import Query

from .lake import Lake, parquet_bytes

pytestmark = pytest.mark.skipif(not supported(), reason="memfd files need Linux with /proc")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/self/status")


def test_a_memfd_file_holds_the_bytes_readable_by_path_sealed_and_counted_in_rss() -> None:
    body = os.urandom(8 * 1024 * 1024)
    before = _status_kb("RssShmem")
    f = MemfdFile(body)
    try:
        with open(f.path, "rb") as read:
            assert read.read() == body
        with pytest.raises(OSError):  # sealed: nothing changes the bytes while it is open
            with open(f.path, "r+b") as write:
                write.write(b"x")
        assert _status_kb("RssShmem") - before >= 8 * 1024 * 0.95
    finally:
        f.close()
    assert _status_kb("RssShmem") - before < 8 * 1024 * 0.05
    f.close()  # again: a no-op, never a close of a number reused by now


def test_settings() -> None:
    assert settings({})[0] == 64 * 1024 * 1024
    assert settings({"PIPELINE_ATHENA_CACHE_MB": "0"})[0] == 0
    assert settings({"PIPELINE_ATHENA_CACHE_MB": "1.5"})[0] == 1536 * 1024
    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert 0 < settings({})[1] <= min(4096, soft // 4) if soft != resource.RLIM_INFINITY else 4096
    with pytest.raises(ValueError):
        settings({"PIPELINE_ATHENA_CACHE_MB": "lots"})


@pytest.fixture()
def files(monkeypatch):
    """The engine's object files replaced by `make(max_bytes, max_files)`'s (None: off)."""
    made = []

    def make(max_bytes: int | None, max_files: int = 1000) -> ObjectFiles | None:
        held = None if max_bytes is None else ObjectFiles(max_bytes, max_files)
        monkeypatch.setattr(query_module, "object_files", lambda: held)
        if held is not None:
            made.append(held)
        return held

    yield make
    for held in made:
        held.clear()


DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]


def _day_rows(day: str, n: int, scale: int) -> pa.Table:
    return pa.table({"id": pa.array(range(n), pa.int64()), "amount": pa.array([i * scale for i in range(n)], pa.int64())})


def _lake(n: int = 50, scale: int = 1) -> Lake:
    lake = Lake()
    lake.table("t", [("id", "bigint"), ("amount", "bigint")], "s3://lake/t/", partition_keys=[("dt", "string")])
    for i, day in enumerate(DAYS):
        lake.put(f"s3://lake/t/dt={day}/part-0.parquet", parquet_bytes(_day_rows(day, n + i, scale)))
        lake.partition("t", [day], f"s3://lake/t/dt={day}/")
    return lake


SQL = "SELECT dt, count(*), sum(amount) FROM t GROUP BY dt ORDER BY dt"


def _expected(n: int, scale: int, days=DAYS) -> list[list[str]]:
    out = []
    for i, day in enumerate(DAYS):
        if day in days:
            rows = n + i
            out.append([day, str(rows), str(scale * rows * (rows - 1) // 2)])
    return out


def test_an_overwritten_object_is_read_anew_and_a_deleted_one_skipped(files) -> None:
    held = files(64 * 1024 * 1024)
    lake = _lake()
    assert lake.rows(SQL) == _expected(50, 1)
    assert held.stats().files == 3 and held.stats().pinned == 0
    lake.put(f"s3://lake/t/dt={DAYS[1]}/part-0.parquet", parquet_bytes(_day_rows(DAYS[1], 51, 7)))
    assert lake.rows(SQL) == [_expected(50, 1)[0], [DAYS[1], "51", str(7 * 51 * 50 // 2)], _expected(50, 1)[2]]
    assert held.stats().files == 3  # the replaced object's file closed
    lake.storage.delete_objects("lake", [f"t/dt={DAYS[2]}/part-0.parquet"])
    assert lake.rows(SQL) == [_expected(50, 1)[0], [DAYS[1], "51", str(7 * 51 * 50 // 2)]]
    scanned = lake.query(SQL).data_scanned_bytes
    assert scanned == sum(len(lake.storage.objects[("lake", f"t/dt={d}/part-0.parquet")]) for d in DAYS[:2])


def test_an_object_assigned_over_directly_is_not_served_stale(files) -> None:
    """MemoryStorage's `objects` may be assigned (no put): the version is the bytes object itself."""
    files(64 * 1024 * 1024)
    lake = _lake()
    assert lake.rows(SQL) == _expected(50, 1)
    for i, day in enumerate(DAYS):
        lake.storage.objects[("lake", f"t/dt={day}/part-0.parquet")] = parquet_bytes(_day_rows(day, 50 + i, 3))
    assert lake.rows(SQL) == _expected(50, 3)


@pytest.mark.parametrize("bound", ["off", "one file", "two files", "bytes for one", "roomy"])
def test_answers_are_the_same_whatever_the_bounds(files, bound: str) -> None:
    lake = _lake(n=2000, scale=3)
    size = max(len(body) for body in lake.storage.objects.values())
    held = {"off": lambda: files(None), "one file": lambda: files(1 << 30, 1),
            "two files": lambda: files(1 << 30, 2), "bytes for one": lambda: files(size + 10),
            "roomy": lambda: files(1 << 30)}[bound]()
    for _ in range(3):  # files evicted and made again between (and within) queries, numbers reused
        assert lake.rows(SQL) == _expected(2000, 3)
        assert lake.rows(f"SELECT count(*), sum(amount) FROM t WHERE dt = '{DAYS[1]}'") == \
            [["2001", str(3 * 2001 * 2000 // 2)]]
        assert lake.rows(f"SELECT count(*) FROM t a JOIN t b ON a.id = b.id AND a.dt = b.dt") == [[str(6003)]]
    if held is not None:
        assert held.stats().pinned == 0
        assert held.stats().files <= held._leases.max_files


def test_files_are_pinned_while_the_query_runs_and_released_after(files, monkeypatch) -> None:
    held = files(1 << 30)
    lake = _lake()
    seen = []
    original = Query._select

    def select(self, con, stype):
        outcome = original(self, con, stype)
        seen.append(held.stats().pinned)
        return outcome

    monkeypatch.setattr(Query, "_select", select)
    assert lake.rows(SQL) == _expected(50, 1)
    assert seen == [3] and held.stats().pinned == 0


# -- moto's objects ------------------------------------------------------------------------------

@pytest.fixture()
def moto_lake():
    from moto.s3.models import S3Backend

    from pipeline_lib.localcloud.athena.storage import MotoS3Storage

    backend = S3Backend("us-east-1", "123456789012")
    bucket = f"native-{uuid.uuid4().hex[:12]}"  # bucket names are global to moto's process
    backend.create_bucket(bucket, "us-east-1")
    catalog = MemoryCatalog()
    catalog.create_database({"Name": "db"})
    catalog.create_table("db", {"Name": "t", "TableType": "EXTERNAL_TABLE", "Parameters": {},
                                "PartitionKeys": [{"Name": "dt", "Type": "string"}],
                                "StorageDescriptor": {
                                    "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "amount", "Type": "bigint"}],
                                    "Location": f"s3://{bucket}/t/",
                                    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                                    "SerdeInfo": {"SerializationLibrary":
                                                  "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}})
    catalog.create_partitions("db", "t", [{"Values": [d], "StorageDescriptor": {"Location": f"s3://{bucket}/t/dt={d}/"}}
                                          for d in DAYS])
    storage = MotoS3Storage(backend)

    def rows(sql: str):
        return list(Query(sql, catalog=catalog, storage=storage, database="db", query_id=uuid.uuid4().hex,
                          output_location=None).run().render_rows())

    yield backend, bucket, storage, rows
    backend.reset()


@pytest.mark.parametrize("size", [3, 20 * 1024 * 1024])  # the last one rolls over to a file
def test_moto_versions_follow_the_object(moto_lake, size: int) -> None:
    backend, bucket, storage, _ = moto_lake
    one = os.urandom(size)
    backend.put_object(bucket, "k", one)
    body, version = storage.get_object_version(bucket, "k")
    assert body == one and storage.get_object_version(bucket, "k")[1] == version
    assert hash(storage.get_object_version(bucket, "k")[1]) == hash(version)
    backend.put_object(bucket, "k", one)  # the same bytes again: a new object all the same
    assert storage.get_object_version(bucket, "k")[1] != version
    version = storage.get_object_version(bucket, "k")[1]
    if size < 1024 * 1024:  # held in memory: an in-place rewrite is a new bytes object
        backend.get_object(bucket, "k").value = bytes(reversed(one))
        assert storage.get_object_version(bucket, "k")[1] != version
    backend.delete_object(bucket, "k")
    with pytest.raises(KeyError):
        storage.get_object_version(bucket, "k")


def test_moto_objects_overwritten_rewritten_in_place_or_deleted_between_queries(files, moto_lake) -> None:
    held = files(1 << 30)
    backend, bucket, _, rows = moto_lake
    for i, day in enumerate(DAYS):
        backend.put_object(bucket, f"t/dt={day}/part-0.parquet", parquet_bytes(_day_rows(day, 50 + i, 1)))
    assert rows(SQL) == _expected(50, 1)
    backend.put_object(bucket, f"t/dt={DAYS[0]}/part-0.parquet", parquet_bytes(_day_rows(DAYS[0], 50, 5)))
    assert rows(SQL) == [_expected(50, 5)[0], *_expected(50, 1)[1:]]
    # moto's in-place rewrite keeps the buffer, size and time (the version): the bytes differ.
    key = backend.get_object(bucket, f"t/dt={DAYS[1]}/part-0.parquet")
    rewritten = parquet_bytes(_day_rows(DAYS[1], 51, 2))
    assert len(rewritten) == key.size
    key.value = rewritten
    assert rows(SQL) == [_expected(50, 5)[0], _expected(50, 2)[1], _expected(50, 1)[2]]
    backend.delete_object(bucket, f"t/dt={DAYS[2]}/part-0.parquet")
    assert rows(SQL) == [_expected(50, 5)[0], _expected(50, 2)[1]]
    assert held.stats().pinned == 0


def test_duckdb_remembers_nothing_by_path_across_statements() -> None:
    """A closed memfd's path names another file once its number is reused: no cache by path."""
    con = query_module._DATABASE.connect()
    try:
        settings_now = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('enable_external_file_cache', 'parquet_metadata_cache', 'enable_http_metadata_cache')").fetchall())
    finally:
        con.close()
    assert settings_now == {"enable_external_file_cache": "false", "parquet_metadata_cache": "false",
                            "enable_http_metadata_cache": "false"}


def test_concurrent_queries_with_files_evicted_under_them_all_answer_right(files) -> None:
    from concurrent.futures import ThreadPoolExecutor

    held = files(1 << 30, 2)  # fewer files than a scan reads: leases refused, files evicted and remade
    lakes = [_lake(n=300 + 10 * i, scale=i + 1) for i in range(4)]

    def run(i: int) -> list:
        return [lakes[i].rows(SQL) for _ in range(5)]

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(run, range(4)))
    for i, rows in enumerate(answers):
        assert rows == [_expected(300 + 10 * i, i + 1)] * 5
    assert held.stats().pinned == 0 and held.stats().files <= 2
