"""Acceptance of the local Athena against the deployed CdcWorkbench stack after a run: awswrangler
and boto3 as a user calls them, answers checked against the Parquet files read independently
(pyarrow over boto3), data scanned against the objects' sizes, partitions as the catalog has them.
"""
from __future__ import annotations

import io
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import awswrangler as wr
import boto3
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline_lib import flow

pytestmark = pytest.mark.integration

SCALAR = ["entity_type", "customer_id", "order_id", "name", "email", "tier", "is_active", "loyalty_points", "phone",
          "status", "total", "currency", "gift_wrap", "coupon_code", "created_at", "updated_at", "cdc_operation",
          "cdc_event_time", "cdc_event_id"]
PARTITIONS = ["year", "month", "day"]


class Stack:
    def __init__(self, outputs: dict[str, str], session: boto3.Session):
        self.outputs = outputs
        self.session = session
        self.database = outputs["GlueDatabaseName"]
        self.table = outputs["GlueTableName"]
        self.workgroup = outputs["AthenaWorkGroupName"]
        self.bucket = outputs["LakeBucketName"]

    def partitions(self) -> list[dict[str, Any]]:
        pages = self.session.client("glue").get_paginator("get_partitions").paginate(
            DatabaseName=self.database, TableName=self.table)
        return [p for page in pages for p in page["Partitions"]]

    def objects(self, location: str) -> dict[str, int]:
        bucket, prefix = location[5:].split("/", 1)
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        pages = self.session.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {f"s3://{bucket}/{o['Key']}": o["Size"] for page in pages for o in page.get("Contents", [])}

    def truth(self) -> pd.DataFrame:
        """Every row of the table's registered partitions, read with pyarrow from the objects."""
        frames = []
        s3 = self.session.client("s3")
        for partition in self.partitions():
            for uri in self.objects(partition["StorageDescriptor"]["Location"]):
                bucket, key = uri[5:].split("/", 1)
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                frame = pq.read_table(io.BytesIO(body), columns=SCALAR).to_pandas()
                for name, value in zip(PARTITIONS, partition["Values"]):
                    frame[name] = value
                frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def athena_run(self, sql: str) -> dict[str, Any]:
        athena = self.session.client("athena")
        execution_id = athena.start_query_execution(QueryString=sql, WorkGroup=self.workgroup,
                                                    QueryExecutionContext={"Database": self.database})["QueryExecutionId"]
        return wr.athena.wait_query(execution_id, boto3_session=self.session, athena_query_wait_polling_delay=0.05)


@pytest.fixture(scope="module")
def stack(deployed_stack, local_cloud, boto_session) -> Stack:
    """The deployed stack after one run of its flow (seed, deliver, crawl)."""
    flow.run(deployed_stack, poll_seconds=1, progress=False, say=lambda _message: None, boto3_session=boto_session)
    return Stack(deployed_stack, boto_session)


def _value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, (pd.Timestamp, datetime)):
        stamp = pd.Timestamp(value)
        return (stamp.tz_convert(timezone.utc) if stamp.tzinfo else stamp).tz_localize(None)
    return value


def rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """The frame's rows as normalized Python values, in a canonical order (dtypes aside)."""
    out = [tuple(_value(v) for v in row) for row in frame[columns].itertuples(index=False, name=None)]
    return sorted(out, key=lambda row: tuple("" if v is None else str(v) for v in row))


def test_read_sql_query_gives_the_parquet_rows_by_every_approach(stack):
    columns = SCALAR + PARTITIONS
    sql = f'SELECT {", ".join(columns)} FROM "{stack.database}"."{stack.table}"'
    truth = rows(stack.truth(), columns)
    assert truth, "the run wrote no rows"
    common = dict(database=stack.database, workgroup=stack.workgroup, boto3_session=stack.session,
                  athena_query_wait_polling_delay=0.05)
    by_ctas = wr.athena.read_sql_query(sql, ctas_approach=True, **common)
    by_csv = wr.athena.read_sql_query(sql, ctas_approach=False, **common)
    by_unload = wr.athena.read_sql_query(sql, ctas_approach=False, unload_approach=True,
                                         s3_output=f"s3://{stack.bucket}/unload-test/{uuid.uuid4().hex}/", **common)
    for frame in (by_ctas, by_csv, by_unload):
        assert list(frame.columns) == columns
        assert rows(frame, columns) == truth
    # The CTAS approach dropped its temporary table again.
    tables = wr.catalog.get_tables(database=stack.database, boto3_session=stack.session)
    assert not [t["Name"] for t in tables if t["Name"].startswith("temp_table_")]


def test_start_query_execution_with_params_wait_and_results(stack):
    truth = stack.truth()
    expected = int((truth["cdc_operation"] == "INSERT").sum())
    execution_id = wr.athena.start_query_execution(
        f'SELECT count(*) AS n FROM "{stack.table}" WHERE cdc_operation = ?', database=stack.database,
        workgroup=stack.workgroup, params=["'INSERT'"], paramstyle="qmark", boto3_session=stack.session)
    execution = wr.athena.wait_query(execution_id, boto3_session=stack.session, athena_query_wait_polling_delay=0.05)
    assert execution["Status"]["State"] == "SUCCEEDED"
    frame = wr.athena.get_query_results(execution_id, boto3_session=stack.session)
    assert frame["n"].tolist() == [expected]


def test_boto3_paginators(stack):
    athena = stack.session.client("athena")
    execution = stack.athena_run(f'SELECT cdc_event_id FROM "{stack.table}"')
    pages = athena.get_paginator("get_query_results").paginate(
        QueryExecutionId=execution["QueryExecutionId"], PaginationConfig={"PageSize": 50})
    values = [r["Data"][0].get("VarCharValue") for page in pages for r in page["ResultSet"]["Rows"]]
    assert values[0] == "cdc_event_id"
    assert sorted(values[1:]) == sorted(stack.truth()["cdc_event_id"].tolist())
    listed = [i for page in athena.get_paginator("list_query_executions").paginate(
        WorkGroup=stack.workgroup, PaginationConfig={"PageSize": 5}) for i in page["QueryExecutionIds"]]
    assert execution["QueryExecutionId"] in listed and len(listed) == len(set(listed))


def test_a_partition_filter_scans_only_that_days_objects(stack):
    partitions = stack.partitions()
    assert len(partitions) >= 2, "the run should span several days"
    day = partitions[0]
    year, month, dd = day["Values"]
    one_day = stack.athena_run(f"SELECT sum(loyalty_points), count(cdc_event_id) FROM \"{stack.table}\" "
                               f"WHERE year = '{year}' AND month = '{month}' AND day = '{dd}'")
    full = stack.athena_run(f'SELECT sum(loyalty_points), count(cdc_event_id) FROM "{stack.table}"')
    day_bytes = sum(stack.objects(day["StorageDescriptor"]["Location"]).values())
    all_bytes = sum(sum(stack.objects(p["StorageDescriptor"]["Location"]).values()) for p in partitions)
    assert one_day["Statistics"]["DataScannedInBytes"] == day_bytes
    assert full["Statistics"]["DataScannedInBytes"] == all_bytes
    assert day_bytes < all_bytes


def _count(stack: Stack, where: str) -> int:
    execution = stack.athena_run(f'SELECT count(*) AS n FROM "{stack.table}" WHERE {where}')
    frame = wr.athena.get_query_results(execution["QueryExecutionId"], boto3_session=stack.session)
    return int(frame["n"].iloc[0])


def test_a_new_partition_folder_is_invisible_until_repaired_or_crawled(stack):
    s3 = stack.session.client("s3")
    source = stack.partitions()[0]
    source_uri = next(iter(stack.objects(source["StorageDescriptor"]["Location"])))
    source_bucket, source_key = source_uri[5:].split("/", 1)
    rows_in_file = pq.read_metadata(io.BytesIO(s3.get_object(Bucket=source_bucket, Key=source_key)["Body"].read())).num_rows
    table_location = stack.session.client("glue").get_table(
        DatabaseName=stack.database, Name=stack.table)["Table"]["StorageDescriptor"]["Location"].rstrip("/")
    bucket, prefix = table_location[5:].split("/", 1)
    added = []
    try:
        for year in ("2098", "2099"):
            key = f"{prefix}/year={year}/month=01/day=01/copied.parquet"
            s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key})
            added.append(key)
        assert _count(stack, "year IN ('2098', '2099')") == 0  # folders alone are not partitions

        stack.athena_run(f'MSCK REPAIR TABLE "{stack.table}"')
        assert _count(stack, "year = '2098'") == rows_in_file

        glue = stack.session.client("glue")
        glue.batch_delete_partition(DatabaseName=stack.database, TableName=stack.table, PartitionsToDelete=[
            {"Values": ["2098", "01", "01"]}, {"Values": ["2099", "01", "01"]}])
        assert _count(stack, "year IN ('2098', '2099')") == 0
        crawler = stack.outputs["CrawlerName"]
        glue.start_crawler(Name=crawler)
        deadline = time.monotonic() + 120
        while glue.get_crawler(Name=crawler)["Crawler"]["State"] != "READY":
            assert time.monotonic() < deadline, "the crawler did not finish"
            time.sleep(0.05)
        assert _count(stack, "year = '2099'") == rows_in_file
    finally:
        for key in added:
            s3.delete_object(Bucket=bucket, Key=key)
        glue = stack.session.client("glue")
        for year in ("2098", "2099"):
            try:
                glue.delete_partition(DatabaseName=stack.database, TableName=stack.table,
                                      PartitionValues=[year, "01", "01"])
            except glue.exceptions.EntityNotFoundException:
                pass


def test_wranglers_result_cache_finds_the_earlier_execution(stack):
    """wr's cache looks the query up with ListQueryExecutions + BatchGetQueryExecution."""
    sql = f'SELECT count(*) AS n FROM "{stack.table}" WHERE tier IS NOT NULL'
    common = dict(database=stack.database, workgroup=stack.workgroup, boto3_session=stack.session,
                  ctas_approach=False, athena_query_wait_polling_delay=0.05)
    first = wr.athena.read_sql_query(sql, keep_files=True, **common)
    again = wr.athena.read_sql_query(sql, athena_cache_settings={"max_cache_seconds": 900}, **common)
    assert again.query_metadata["QueryExecutionId"] == first.query_metadata["QueryExecutionId"]
    assert again["n"].tolist() == first["n"].tolist() == [int(stack.truth()["tier"].notna().sum())]


def test_an_empty_answer_is_an_empty_frame_with_the_columns(stack):
    sql = f'SELECT customer_id, loyalty_points FROM "{stack.table}" WHERE 1 = 0'
    common = dict(database=stack.database, workgroup=stack.workgroup, boto3_session=stack.session,
                  athena_query_wait_polling_delay=0.05)
    for frame in (wr.athena.read_sql_query(sql, ctas_approach=True, **common),
                  wr.athena.read_sql_query(sql, ctas_approach=False, **common)):
        assert list(frame.columns) == ["customer_id", "loyalty_points"] and len(frame) == 0


def _glue_table(stack: Stack) -> dict[str, Any]:
    return stack.session.client("glue").get_table(DatabaseName=stack.database, Name=stack.table)["Table"]


def test_describe_table_lists_the_catalogs_columns_then_partition_keys(stack):
    # awswrangler sends DESCRIBE `table` with the database quoted in backticks (`db`).
    table = _glue_table(stack)
    expected = [(c["Name"], c["Type"], False) for c in table["StorageDescriptor"]["Columns"]]
    expected += [(k["Name"], k["Type"], True) for k in table["PartitionKeys"]]
    frame = wr.athena.describe_table(table=stack.table, database=stack.database, workgroup=stack.workgroup,
                                     boto3_session=stack.session)
    got = [(row["Column Name"], row["Type"], bool(row["Partition"])) for _, row in frame.iterrows()]
    assert got == expected


def test_show_create_table_gives_the_ddl_of_the_catalog_table(stack):
    table = _glue_table(stack)
    ddl = wr.athena.show_create_table(table=stack.table, database=stack.database, workgroup=stack.workgroup,
                                      boto3_session=stack.session)
    assert ddl.startswith(f"CREATE EXTERNAL TABLE `{stack.database}`.`{stack.table}`(")
    for column in table["StorageDescriptor"]["Columns"]:
        assert f"`{column['Name']}` {column['Type']}" in ddl
    partitioned = ddl[ddl.index("PARTITIONED BY"):ddl.index("ROW FORMAT")]
    assert [k["Name"] for k in table["PartitionKeys"]] == [
        name for name in (part.split("`")[1] for part in partitioned.split(",")) if name]
    assert f"LOCATION '{table['StorageDescriptor']['Location']}'" in ddl
    assert f"'{table['StorageDescriptor']['SerdeInfo']['SerializationLibrary']}'" in ddl


def test_read_sql_table_and_a_chunked_read_give_the_parquet_rows(stack):
    columns = SCALAR + PARTITIONS
    truth = rows(stack.truth(), columns)
    common = dict(database=stack.database, workgroup=stack.workgroup, boto3_session=stack.session)
    table = wr.athena.read_sql_table(stack.table, ctas_approach=False, **common)
    assert rows(table, columns) == truth
    chunks = list(wr.athena.read_sql_query(f'SELECT {", ".join(columns)} FROM "{stack.table}"', ctas_approach=False,
                                           chunksize=7, athena_query_wait_polling_delay=0.05, **common))
    assert len(chunks) == -(-len(truth) // 7)
    assert all(len(chunk) == 7 for chunk in chunks[:-1])
    assert rows(pd.concat(chunks, ignore_index=True), columns) == truth
