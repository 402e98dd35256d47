"""Execution parameters, cancellation, concurrent queries, and failures that are not the user's."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pytest

from pipeline_lib.localcloud.athena.engine import AthenaQueryError, MalformedQuery, Query

from .lake import Lake, parquet_bytes


@pytest.fixture()
def lake() -> Lake:
    lake = Lake()
    lake.put("s3://lake/t/a.parquet", parquet_bytes(pa.table({"id": pa.array(range(100), pa.int64()),
                                                             "name": [f"n{i}" for i in range(100)]})))
    lake.table("t", [("id", "bigint"), ("name", "string")], "s3://lake/t/")
    return lake


def test_execution_parameters_are_sql_literals(lake: Lake) -> None:
    assert lake.rows("SELECT count(*) FROM t WHERE id < ? AND name <> ?", params=["10", "'n3'"]) == [["9"]]
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT * FROM t WHERE id = ?", params=[])
    assert err.value.error_name == "INVALID_PARAMETER_USAGE"


def test_cancel_before_and_during_run(lake: Lake) -> None:
    q = Query("SELECT count(*) FROM t", catalog=lake.catalog, storage=lake.storage, database="db",
              query_id="c1", output_location=None)
    q.cancel()
    with pytest.raises(AthenaQueryError) as err:
        q.run()
    assert err.value.error_name == "USER_CANCELLED"

    reading, release = threading.Event(), threading.Event()
    storage = lake.storage

    class BlockingStorage:
        def __getattr__(self, name):
            return getattr(storage, name)

        def get_object(self, bucket, key):
            reading.set()
            release.wait(5)
            return storage.get_object(bucket, key)

        def get_object_version(self, bucket, key):  # how Parquet scans read
            reading.set()
            release.wait(5)
            return storage.get_object_version(bucket, key)

    q = Query("SELECT count(*) FROM t", catalog=lake.catalog, storage=BlockingStorage(), database="db",
              query_id="c2", output_location=None)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(q.run)
        assert reading.wait(5)
        q.cancel()
        release.set()
        with pytest.raises(AthenaQueryError) as err:
            future.result(5)
    assert err.value.error_name == "USER_CANCELLED"


def test_concurrent_queries_get_their_own_answers(lake: Lake) -> None:
    def run(i: int) -> list:
        return lake.rows(f"SELECT count(*), sum(id) FROM t WHERE id < {i}")
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(run, range(1, 31)))
    assert results == [[[str(i), str(sum(range(i)))]] for i in range(1, 31)]


def test_malformed_query_raises_before_running(lake: Lake) -> None:
    with pytest.raises(MalformedQuery) as err:
        lake.query("SELECT * FROM t WHERE")
    assert err.value.message == "line 1:22: mismatched input '<EOF>'"


def test_bad_parquet_object_is_hive_bad_data(lake: Lake) -> None:
    lake.put("s3://lake/t/broken.parquet", b"not parquet")
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT count(*) FROM t")
    assert err.value.error_name == "HIVE_BAD_DATA" and err.value.error_category == 2


def test_prepare_execute_deallocate(lake: Lake) -> None:
    class Store(dict):
        def get_prepared_statement(self, name):
            return self.get(name)

        def put_prepared_statement(self, name, text):
            self[name] = text

        def delete_prepared_statement(self, name):
            del self[name]

    store = Store()

    def run(sql: str, params=None):
        return Query(sql, catalog=lake.catalog, storage=lake.storage, database="db", params=params, query_id="p",
                     output_location=None, prepared_statements=store).run()

    run("PREPARE few FROM SELECT count(*) FROM t WHERE id < ? AND name <> ?")
    assert store == {"few": "SELECT count(*) FROM t WHERE id < ? AND name <> ?"}
    assert list(run("EXECUTE few USING 10, 'n3'").render_rows()) == [["9"]]
    assert list(run("EXECUTE few", params=["5", "'x'"]).render_rows()) == [["5"]]
    run("DEALLOCATE PREPARE few")
    with pytest.raises(AthenaQueryError) as err:
        run("EXECUTE few USING 1, 'a'")
    assert err.value.message == "Prepared statement not found: few"
