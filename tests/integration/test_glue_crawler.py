"""The local Glue crawler through the AWS API (boto3, awswrangler) against the local cloud.

Also the seam checks: each moto internal the crawler patches or reads exists with the signature
it was written against, and installing twice is installing once.
"""
from __future__ import annotations

import io
import json
import uuid
from decimal import Decimal
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib.localcloud.glue import seams
from pipeline_lib.localcloud.seam import SeamError, is_patched, original
from polling import wait_for  # tests/polling.py

COLUMNS = {"order_id": pa.string(), "total": pa.decimal128(12, 2), "qty": pa.int64(), "paid": pa.bool_()}
POLL_SECONDS = 0.05
CRAWL_DEADLINE_SECONDS = 60


# -- helpers -------------------------------------------------------------------------------------
def parquet(rows: int, extra: dict[str, pa.Array] | None = None) -> bytes:
    data = {
        "order_id": pa.array([f"o-{i}" for i in range(rows)], COLUMNS["order_id"]),
        "total": pa.array([Decimal(i) / 4 for i in range(rows)], COLUMNS["total"]),
        "qty": pa.array(range(rows), COLUMNS["qty"]),
        "paid": pa.array([i % 2 == 0 for i in range(rows)], COLUMNS["paid"]),
        **(extra or {}),
    }
    sink = io.BytesIO()
    pq.write_table(pa.table(data), sink)
    return sink.getvalue()


def write_days(s3, bucket: str, prefix: str, days: list[str], rows: int = 5) -> None:
    for day in days:
        s3.put_object(Bucket=bucket, Key=f"{prefix}year=2026/month=10/day={day}/part-0.parquet", Body=parquet(rows))


def crawl(glue, name: str) -> tuple[list[str], dict]:
    """Start the crawler and poll GetCrawler until READY; the distinct states seen, in order."""
    glue.start_crawler(Name=name)
    return wait_ready(glue, name)


def wait_ready(glue, name: str) -> tuple[list[str], dict]:
    states: list[str] = []

    def read() -> dict:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if not states or states[-1] != crawler["State"]:
            states.append(crawler["State"])
        return crawler

    # StartCrawler made it RUNNING before returning
    crawler = wait_for(read, lambda c: c["State"] == "READY", timeout=CRAWL_DEADLINE_SECONDS,
                       what=f"crawler {name} READY", interval=POLL_SECONDS)
    return states, crawler


def partitions(glue, database: str, table: str) -> list[dict]:
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
    return [p for page in pages for p in page["Partitions"]]


def crawl_log(logs, crawler: dict) -> list[str]:
    """The log lines of the crawler's last crawl (LastCrawl's stream and message prefix)."""
    last = crawler["LastCrawl"]
    events = logs.get_log_events(logGroupName=last["LogGroup"], logStreamName=last["LogStream"], startFromHead=True)["events"]
    return [e["message"] for e in events if e["message"].startswith(f"[{last['MessagePrefix']}]")]


@pytest.fixture
def lake(boto_session) -> Iterator[dict]:
    """A fresh bucket and Glue database for one test."""
    suffix = uuid.uuid4().hex[:10]
    s3, glue = boto_session.client("s3"), boto_session.client("glue")
    bucket, database = f"lake-{suffix}", f"db_{suffix}"
    s3.create_bucket(Bucket=bucket)
    glue.create_database(DatabaseInput={"Name": database})
    yield {"s3": s3, "glue": glue, "logs": boto_session.client("logs"), "bucket": bucket, "db": database, "suffix": suffix}


# -- S3 targets ----------------------------------------------------------------------------------
@pytest.mark.integration
def test_s3_target_crawl_creates_a_usable_table_with_every_partition(lake, boto_session):
    import awswrangler as wr

    s3, glue, bucket, db = lake["s3"], lake["glue"], lake["bucket"], lake["db"]
    write_days(s3, bucket, "data/", ["01", "02"], rows=5)
    s3.put_object(Bucket=bucket, Key="data/year=2026/month=11/day=03/part-0.parquet", Body=parquet(7))
    s3.put_object(Bucket=bucket, Key="data/_SUCCESS", Body=b"")
    s3.put_object(Bucket=bucket, Key="data/.hidden", Body=b"not data")
    s3.put_object(Bucket=bucket, Key="data/year=2026/_temporary/x.parquet", Body=b"garbage")
    name = f"crawler-{lake['suffix']}"
    glue.create_crawler(Name=name, Role="arn:aws:iam::123456789012:role/c", DatabaseName=db, Targets={"S3Targets": [{"Path": f"s3://{bucket}/data"}]})

    states, crawler = crawl(glue, name)

    assert states[0] == "RUNNING" and states[-1] == "READY"
    assert states in (["RUNNING", "STOPPING", "READY"], ["RUNNING", "READY"])  # STOPPING is brief
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED" and "ErrorMessage" not in crawler["LastCrawl"]
    table = glue.get_table(DatabaseName=db, Name="data")["Table"]
    sd = table["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [("order_id", "string"), ("total", "decimal(12,2)"), ("qty", "bigint"), ("paid", "boolean")]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["year", "month", "day"]
    assert sd["Location"] == f"s3://{bucket}/data/"
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    params = table["Parameters"]
    assert (params["classification"], params["recordCount"], params["objectCount"]) == ("parquet", "17", "3")
    assert params["UPDATED_BY_CRAWLER"] == name and params["typeOfData"] == "file"
    found = {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in partitions(glue, db, "data")}
    assert found == {
        ("2026", "10", "01"): f"s3://{bucket}/data/year=2026/month=10/day=01/",
        ("2026", "10", "02"): f"s3://{bucket}/data/year=2026/month=10/day=02/",
        ("2026", "11", "03"): f"s3://{bucket}/data/year=2026/month=11/day=03/",
    }
    metrics = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"]
    assert [(m["CrawlerName"], m["TablesCreated"], m["TablesUpdated"], m["StillEstimating"]) for m in metrics] == [(name, 1, 0, False)]
    assert metrics[0]["LastRuntimeSeconds"] > 0
    lines = crawl_log(lake["logs"], crawler)
    assert any(f"Created table data in database {db}" in line for line in lines)
    [history] = glue.list_crawls(CrawlerName=name)["Crawls"]
    assert history["State"] == "COMPLETED" and json.loads(history["Summary"])["PARTITION"]["CREATE"]["Count"] == 3

    # The catalog entries are usable: awswrangler lists the partitions' locations and reads them.
    everything = wr.s3.read_parquet_table(database=db, table="data", partition_filter=lambda p: True, boto3_session=boto_session)
    assert len(everything) == 17 and set(everything["day"]) == {"01", "02", "03"}
    one_day = wr.s3.read_parquet_table(database=db, table="data", partition_filter=lambda p: p["day"] == "02", boto3_session=boto_session)
    assert len(one_day) == 5 and set(one_day["month"]) == {"10"}


@pytest.mark.integration
def test_unreadable_parquet_is_logged_and_skipped_and_the_crawl_succeeds(lake):
    # AWS logs objects its classifiers cannot read and catalogues the rest; the crawl succeeds.
    s3, glue, bucket, db = lake["s3"], lake["glue"], lake["bucket"], lake["db"]
    write_days(s3, bucket, "events/", ["01"])
    good = parquet(3)
    s3.put_object(Bucket=bucket, Key="events/year=2026/month=10/day=02/corrupt.parquet", Body=good[:-20])
    s3.put_object(Bucket=bucket, Key="events/year=2026/month=10/day=01/notes.txt", Body=b"just words\n")
    name = f"crawler-{lake['suffix']}"
    glue.create_crawler(Name=name, Role="r", DatabaseName=db, Targets={"S3Targets": [{"Path": f"s3://{bucket}/events/"}]})

    _, crawler = crawl(glue, name)

    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert [p["Values"] for p in partitions(glue, db, "events")] == [["2026", "10", "01"]]
    lines = crawl_log(lake["logs"], crawler)
    assert any("WARN" in line and "corrupt.parquet" in line for line in lines)
    assert any("UNKNOWN" in line and "notes.txt" in line for line in lines)


@pytest.mark.integration
def test_crawl_new_folders_only_reads_only_new_folders(lake):
    s3, glue, bucket, db = lake["s3"], lake["glue"], lake["bucket"], lake["db"]
    write_days(s3, bucket, "inc/", ["01", "02"])
    name = f"crawler-{lake['suffix']}"
    glue.create_crawler(
        Name=name, Role="r", DatabaseName=db,
        Targets={"S3Targets": [{"Path": f"s3://{bucket}/inc/"}]},
        RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
    )
    crawl(glue, name)
    assert len(partitions(glue, db, "inc")) == 2
    # An unreadable object in an old folder would be logged if that folder were read again.
    s3.put_object(Bucket=bucket, Key="inc/year=2026/month=10/day=01/late-corrupt.parquet", Body=b"PAR1 broken")
    write_days(s3, bucket, "inc/", ["03"])

    _, crawler = crawl(glue, name)

    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert sorted(p["Values"][2] for p in partitions(glue, db, "inc")) == ["01", "02", "03"]
    lines = crawl_log(lake["logs"], crawler)
    assert any("1 new folder(s) of 3" in line for line in lines)
    assert not any("late-corrupt" in line for line in lines)


# -- catalog targets -----------------------------------------------------------------------------
@pytest.mark.integration
def test_catalog_target_adds_partitions_and_a_second_crawl_only_the_new_ones(lake):
    s3, glue, bucket, db = lake["s3"], lake["glue"], lake["bucket"], lake["db"]
    table_input = {
        "Name": "orders",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in ("year", "month", "day")],
        "StorageDescriptor": {
            "Columns": [{"Name": "order_id", "Type": "string", "Comment": "from the schema file"}, {"Name": "total", "Type": "decimal(12,2)"}],
            "Location": f"s3://{bucket}/lake/orders/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", "Parameters": {"serialization.format": "1"}},
        },
    }
    glue.create_table(DatabaseName=db, TableInput=table_input)
    write_days(s3, bucket, "lake/orders/", ["01", "02"])
    name = f"crawler-{lake['suffix']}"
    glue.create_crawler(
        Name=name, Role="r", DatabaseName=db,
        Targets={"CatalogTargets": [{"DatabaseName": db, "Tables": ["orders"]}]},
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
        Configuration=json.dumps({"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}}),
    )

    _, crawler = crawl(glue, name)

    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    first = {tuple(p["Values"]): p for p in partitions(glue, db, "orders")}
    assert sorted(first) == [("2026", "10", "01"), ("2026", "10", "02")]
    inherited = first[("2026", "10", "01")]["StorageDescriptor"]
    assert inherited["Columns"] == table_input["StorageDescriptor"]["Columns"]
    assert inherited["Location"] == f"s3://{bucket}/lake/orders/year=2026/month=10/day=01/"
    metrics = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert (metrics["TablesCreated"], metrics["TablesUpdated"]) == (0, 1)

    write_days(s3, bucket, "lake/orders/", ["03", "04"])
    crawl(glue, name)

    second = {tuple(p["Values"]): p for p in partitions(glue, db, "orders")}
    assert sorted(second) == [("2026", "10", d) for d in ("01", "02", "03", "04")]
    for values, partition in first.items():  # untouched: same creation time and descriptor
        assert second[values]["CreationTime"] == partition["CreationTime"]
        assert second[values]["StorageDescriptor"] == partition["StorageDescriptor"]
    table = glue.get_table(DatabaseName=db, Name="orders")["Table"]
    assert table["StorageDescriptor"]["Columns"] == table_input["StorageDescriptor"]["Columns"]  # LOG: never changed
    assert len(glue.get_table_versions(DatabaseName=db, TableName="orders")["TableVersions"]) == 1
    metrics = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert metrics["MedianRuntimeSeconds"] > 0 and metrics["TablesUpdated"] == 1


@pytest.mark.integration
def test_catalog_target_naming_a_missing_table_fails_with_a_message(lake):
    glue, db = lake["glue"], lake["db"]
    name = f"crawler-{lake['suffix']}"
    glue.create_crawler(
        Name=name, Role="r", DatabaseName=db,
        Targets={"CatalogTargets": [{"DatabaseName": db, "Tables": ["missing"]}]},
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
    )
    _, crawler = crawl(glue, name)
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert "missing" in crawler["LastCrawl"]["ErrorMessage"]


# -- state machine and errors --------------------------------------------------------------------
@pytest.mark.integration
def test_start_while_running_stop_cancels_and_delete_waits(lake):
    from botocore.exceptions import ClientError

    s3, glue, bucket, db = lake["s3"], lake["glue"], lake["bucket"], lake["db"]
    write_days(s3, bucket, "data/", ["01"])
    name = f"crawler-{lake['suffix']}"
    glue.create_crawler(Name=name, Role="r", DatabaseName=db, Targets={"S3Targets": [{"Path": f"s3://{bucket}/data/"}]})
    with pytest.raises(ClientError) as not_running:
        glue.stop_crawler(Name=name)
    assert not_running.value.response["Error"]["Code"] == "CrawlerNotRunningException"

    glue.start_crawler(Name=name)  # RUNNING from here until the crawl thread says otherwise
    running_crawler = glue.get_crawler(Name=name)["Crawler"]
    assert running_crawler["State"] == "RUNNING" and "LastCrawl" not in running_crawler  # none finished yet
    assert glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]["StillEstimating"] is True
    with pytest.raises(ClientError) as running:
        glue.start_crawler(Name=name)
    assert running.value.response["Error"]["Code"] == "CrawlerRunningException"
    with pytest.raises(ClientError) as deleting:
        glue.delete_crawler(Name=name)
    assert deleting.value.response["Error"]["Code"] == "CrawlerRunningException"
    glue.stop_crawler(Name=name)

    states, crawler = wait_ready(glue, name)

    assert states[-1] == "READY" and "RUNNING" not in states[1:]
    assert crawler["LastCrawl"]["Status"] == "CANCELLED"
    assert glue.get_tables(DatabaseName=db)["TableList"] == []  # stopped before writing anything
    # READY again: a new crawl runs to the end (LastCrawl shows the cancelled one meanwhile).
    glue.start_crawler(Name=name)
    assert glue.get_crawler(Name=name)["Crawler"]["LastCrawl"]["Status"] == "CANCELLED"
    _, crawler = wait_ready(glue, name)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert [c["State"] for c in glue.list_crawls(CrawlerName=name)["Crawls"]] == ["STOPPED", "COMPLETED"]
    glue.delete_crawler(Name=name)


@pytest.mark.integration
def test_create_crawler_refuses_what_aws_refuses(lake):
    from botocore.exceptions import ClientError

    glue, db, bucket = lake["glue"], lake["db"], lake["bucket"]
    with pytest.raises(ClientError) as incremental:
        glue.create_crawler(
            Name=f"bad-{lake['suffix']}", Role="r", DatabaseName=db,
            Targets={"S3Targets": [{"Path": f"s3://{bucket}/data/"}]},
            RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
        )
    assert incremental.value.response["Error"]["Code"] == "InvalidInputException"
    assert "LOG UpdateBehavior" in incremental.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as configuration:
        glue.create_crawler(
            Name=f"bad2-{lake['suffix']}", Role="r", DatabaseName=db,
            Targets={"S3Targets": [{"Path": f"s3://{bucket}/data/"}]},
            Configuration='{"Version":1.0,"CrawlerOutput":{"Partitions":{"UpdateBehavior":"LOG"}}}',
        )
    assert "unsupported keys: UpdateBehavior" in configuration.value.response["Error"]["Message"]


# -- seams ---------------------------------------------------------------------------------------
def test_moto_has_every_seam_with_the_expected_signature(bare_cloud):
    seams.build_seams(bare_cloud).check()


def test_a_changed_moto_signature_is_refused_naming_the_version(monkeypatch, bare_cloud):
    from moto.glue import models

    def stop_crawler(self, force):  # what a future moto might look like
        raise AssertionError("never called")

    monkeypatch.setattr(models.FakeCrawler, "stop_crawler", stop_crawler)
    with pytest.raises(SeamError, match=r"written for moto 5\.2\.5.*FakeCrawler\.stop_crawler"):
        seams.build_seams(bare_cloud).check()


def test_an_instance_attribute_moto_no_longer_has_is_refused(monkeypatch, bare_cloud):
    """FakeKey's buffer, read by the crawler without any signature to check, is declared too."""
    import inspect

    from moto.s3 import models

    moto_source = inspect.getsource
    source = moto_source(models.FakeKey).replace("self._value_buffer", "self._buffer")
    monkeypatch.setattr(inspect, "getsource", lambda obj: source if obj is models.FakeKey else moto_source(obj))
    with pytest.raises(SeamError, match=r"FakeKey\._value_buffer is no longer an attribute of its instances"):
        seams.build_seams(bare_cloud).check()


def test_installing_twice_patches_once(bare_cloud):
    from moto.glue import models, responses

    patched = [
        (models.FakeCrawler, "start_crawler"), (models.FakeCrawler, "stop_crawler"), (models.FakeCrawler, "as_dict"),
        (models.GlueBackend, "create_crawler"), (models.GlueBackend, "delete_crawler"),
    ]
    moto_own = {attr: original(owner, attr) for owner, attr in patched}
    built = seams.build_seams(bare_cloud)
    try:
        built.apply()
        first = {attr: getattr(owner, attr) for owner, attr in patched}
        built.apply()
        for owner, attr in patched:
            wrapper = getattr(owner, attr)
            assert wrapper is first[attr]
            assert is_patched(owner, attr) and wrapper is not moto_own[attr]
            assert original(owner, attr) is moto_own[attr]  # wraps moto's, not itself
        assert callable(responses.GlueResponse.get_crawler_metrics)
    finally:  # this process's moto stays unpatched
        built.restore()
    assert all(vars(owner)[attr] is moto_own[attr] for owner, attr in patched)
    assert not hasattr(responses.GlueResponse, "get_crawler_metrics")
