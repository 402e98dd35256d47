"""pipeline_lib.query.run_query against the local cloud's Athena: the frame and its statistics.

The lake here is two daily Parquet partitions written by pyarrow in the test; the expected rows and
byte counts come from pyarrow and S3, never from the engine under test.
"""
from __future__ import annotations

import io
import uuid

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib import query

pytestmark = pytest.mark.integration

DAYS = {"01": [("a", 1, 2.5), ("b", 2, 3.0)], "02": [("c", 3, 4.25), ("d", 4, 1.0), ("e", 5, 0.5)]}


@pytest.fixture(scope="module")
def lake(local_cloud, boto_session: boto3.Session) -> dict[str, object]:
    """A bucket with one Parquet object per day, a Glue table partitioned by day (both partitions
    registered), and a work group whose results go to the same bucket."""
    suffix = uuid.uuid4().hex[:8]
    bucket, database, workgroup = f"query-helper-{suffix}", f"qh_{suffix}", f"qh-{suffix}"
    s3, glue, athena = (boto_session.client(name) for name in ("s3", "glue", "athena"))
    s3.create_bucket(Bucket=bucket)
    sizes: dict[str, int] = {}
    for day, rows in DAYS.items():
        table = pa.table({"id": [r[0] for r in rows], "qty": pa.array([r[1] for r in rows], pa.int64()),
                          "price": [r[2] for r in rows]})
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        body = buffer.getvalue()
        s3.put_object(Bucket=bucket, Key=f"lake/day={day}/part-0.parquet", Body=body)
        sizes[day] = len(body)
    glue.create_database(DatabaseInput={"Name": database})
    parquet = {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    }
    columns = [{"Name": "id", "Type": "string"}, {"Name": "qty", "Type": "bigint"}, {"Name": "price", "Type": "double"}]
    glue.create_table(DatabaseName=database, TableInput={
        "Name": "sales", "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": "day", "Type": "string"}],
        "StorageDescriptor": {"Columns": columns, "Location": f"s3://{bucket}/lake/", **parquet},
    })
    glue.batch_create_partition(DatabaseName=database, TableName="sales", PartitionInputList=[
        {"Values": [day], "StorageDescriptor": {"Columns": columns, "Location": f"s3://{bucket}/lake/day={day}/", **parquet}}
        for day in DAYS
    ])
    athena.create_work_group(Name=workgroup, Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{bucket}/results/"},
        "EnforceWorkGroupConfiguration": True,
    })
    return {"database": database, "workgroup": workgroup, "sizes": sizes}


@pytest.mark.parametrize("ctas_approach", [False, True])
def test_run_query_returns_the_rows_and_what_the_query_scanned(lake, boto_session, ctas_approach):
    result = query.run_query(
        "SELECT id, qty, price, day FROM sales WHERE day = '02' ORDER BY id",
        database=lake["database"], workgroup=lake["workgroup"], ctas_approach=ctas_approach,
        boto3_session=boto_session,
    )
    assert result.frame["id"].tolist() == ["c", "d", "e"]
    assert result.frame["qty"].tolist() == [3, 4, 5]
    assert result.frame["price"].tolist() == [4.25, 1.0, 0.5]
    assert result.frame["day"].tolist() == ["02", "02", "02"]
    stats = result.statistics
    assert stats.state == "SUCCEEDED"
    # A filter on the partition column reads only that partition's object.
    if not ctas_approach:
        assert stats.data_scanned_bytes == lake["sizes"]["02"]
        assert stats.statement_type == "DML"
        assert stats.output_location.endswith(f"{stats.query_execution_id}.csv")
    else:
        # The CTAS wrapper reports its manifest, which lists the Parquet files it wrote.
        assert stats.data_manifest_location.endswith(f"{stats.query_execution_id}-manifest.csv")


def test_run_query_scans_every_partition_without_a_filter(lake, boto_session):
    result = query.run_query("SELECT count(*) AS n, sum(qty) AS total FROM sales",
                             database=lake["database"], workgroup=lake["workgroup"], boto3_session=boto_session)
    assert result.frame.to_dict("records") == [{"n": 5, "total": 15}]
    assert result.statistics.data_scanned_bytes == sum(lake["sizes"].values())


def test_run_query_reports_athenas_error(lake, boto_session):
    import awswrangler as wr

    with pytest.raises(wr.exceptions.QueryFailed, match="TABLE_NOT_FOUND"):
        query.run_query("SELECT * FROM no_such_table", database=lake["database"], workgroup=lake["workgroup"],
                        boto3_session=boto_session)
