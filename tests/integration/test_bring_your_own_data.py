"""Issue 10 end to end, as a user runs it: `run --data` on a CSV made here (the stack deployed
with the inferred schema), its bad inputs, the redrive of failed records after a fix, and
`demo`'s summary and report.

These tests deploy other schemas than the session's stack, so they get a local cloud of their
own (`own_cloud`), started for this module and stopped after it. Expected values come from the
CSV text itself (parsed here with pandas / the csv module), never from pipeline_lib.
"""
from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from pipeline_lib import backend, flow, lake, query
from pipeline_lib.localcloud import lifecycle

pytestmark = pytest.mark.integration

CSV_TEXT = (
    "State,County,Population,Area km²,Founded,Motto,Median Age\n"
    "Baden-Württemberg,Zoë Kreis,12034,1.5,2020-01-02,Grüß Gott,41.25\n"
    "Île-de-France,Paris,2148000,105.4,2021-03-04,,38.5\n"
    "東京都,千代田区,,11.66,2021-03-04,日本,\n"
    "Texas,Travis,1290188,1022.1,2022-07-15,\"Keep \"\"it\"\", weird\",34\n"
    "Texas,Bexar,2009324,1256.6,2022-07-16,Remember,33.9\n"
)


def _cli(endpoint: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, **lifecycle.client_env(endpoint), "PIPELINE_BACKEND": "local"}
    return subprocess.run([sys.executable, "-m", "pipeline_lib", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture(scope="module")
def own_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[lifecycle.Running, boto3.Session]]:
    """A local cloud for this module, and a session that reaches it whatever the environment says."""
    state_dir = str(tmp_path_factory.mktemp("byod-cloud"))
    running = lifecycle.up(port=0, state_dir=state_dir)
    saved = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = running.endpoint
    try:
        session = backend.connect("local")  # carries the endpoint in its own config from now on
    finally:
        if saved is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = saved
    try:
        yield running, session
    finally:
        lifecycle.down(state_dir)


@pytest.fixture(scope="module")
def byod_run(own_cloud, tmp_path_factory: pytest.TempPathFactory):
    running, session = own_cloud
    path = tmp_path_factory.mktemp("byod") / "Counties 2024.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    result = _cli(running.endpoint, "run", "--data", str(path), "--pk", "STATE#{State}", "--sk", "COUNTY#{County}",
                  "--created-at", "Founded", "--poll-seconds", "1")
    return result, path


def test_run_data_lands_every_row_typed_and_queryable(byod_run, own_cloud) -> None:
    result, _path = byod_run
    _running, session = own_cloud
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK    reconciled: every change is a row or an error record and Athena counts every row" in result.stdout
    rows_in = len(list(csv.DictReader(io.StringIO(CSV_TEXT))))
    assert re.search(rf"^in\s+{rows_in}\s+changes written", result.stdout, re.M)
    assert re.search(rf"^out\s+{rows_in}\s+rows added to the lake, in 4 day partitions", result.stdout, re.M)
    assert re.search(rf"^Athena\s+{rows_in}\s+rows", result.stdout, re.M)

    from pipeline_lib.stack import outputs

    out = outputs(boto3_session=session)
    assert out["GlueTableName"] == "counties_2024"
    glue_types = {c["Name"]: c["Type"] for c in session.client("glue").get_table(
        DatabaseName=out["GlueDatabaseName"], Name="counties_2024")["Table"]["StorageDescriptor"]["Columns"]}
    assert glue_types["population"] == "bigint"
    assert glue_types["area_km2"] == "decimal(6,2)"  # 1256.6 and 11.66: 4 digits before, 2 after
    assert glue_types["median_age"] == "decimal(4,2)"
    assert glue_types["founded"] == "date"

    got = query.run_query(
        "SELECT state, county, population, area_km2, founded, motto, median_age, year, month, day "
        "FROM counties_2024 ORDER BY population NULLS FIRST",
        database=out["GlueDatabaseName"], workgroup=out["AthenaWorkGroupName"], boto3_session=session)
    frame = got.frame
    expected = sorted(csv.DictReader(io.StringIO(CSV_TEXT)),
                      key=lambda r: (r["Population"] != "", int(r["Population"] or 0)))
    assert len(frame) == len(expected)
    for row, want in zip(frame.itertuples(index=False), expected):
        assert row.state == want["State"] and row.county == want["County"]  # UTF-8 kept
        assert (None if row.population is None or str(row.population) == "<NA>" else int(row.population)) == (
            int(want["Population"]) if want["Population"] else None)
        assert Decimal(str(row.area_km2)) == Decimal(want["Area km²"])
        assert str(row.founded) == want["Founded"]
        assert (row.motto if isinstance(row.motto, str) else None) == (want["Motto"] or None)  # empty = NULL
        assert (None if row.median_age is None or str(row.median_age) in ("<NA>", "None", "nan")
                else Decimal(str(row.median_age))) == (Decimal(want["Median Age"]) if want["Median Age"] else None)
        assert f"{row.year}-{row.month}-{row.day}" == want["Founded"]
    # Numbers are numbers to Athena: arithmetic works and sums as the CSV does.
    total = query.run_query("SELECT sum(population) AS p, sum(area_km2) AS a FROM counties_2024",
                            database=out["GlueDatabaseName"], workgroup=out["AthenaWorkGroupName"],
                            boto3_session=session).frame
    assert int(total["p"][0]) == sum(int(r["Population"]) for r in expected if r["Population"])
    assert Decimal(str(total["a"][0])) == sum(Decimal(r["Area km²"]) for r in expected)


def test_redriven_records_land_and_the_current_state_has_no_duplicates(byod_run, own_cloud) -> None:
    result, _path = byod_run
    assert result.returncode == 0, result.stdout + result.stderr
    _running, session = own_cloud
    from pipeline_lib.stack import outputs

    out = outputs(boto3_session=session)
    bucket, data_prefix, error_prefix = out["LakeBucketName"], out["LakePrefix"], out["ErrorPrefix"]
    counter = lake.LakeCounter(bucket, data_prefix, error_prefix, boto3_session=session)
    landed_before = counter.landed()
    changes_before = landed_before  # the run balanced: every change it wrote is a row

    ddb = session.client("dynamodb")
    table = out["TableName"]
    # A bad createdAt (not ISO-8601): the enricher fails the record -> processing-failed.
    ddb.put_item(TableName=table, Item={
        "PK": {"S": "STATE#Nowhere"}, "SK": {"S": "COUNTY#Bad"}, "state": {"S": "Nowhere"},
        "county": {"S": "Bad"}, "population": {"N": "7"}, "createdAt": {"S": "16/07/2022"}})
    # An update of an existing item (a second change for its key) and a delete of another.
    ddb.put_item(TableName=table, Item={
        "PK": {"S": "STATE#Texas"}, "SK": {"S": "COUNTY#Travis"}, "state": {"S": "Texas"},
        "county": {"S": "Travis"}, "population": {"N": "1300000"}, "createdAt": {"S": "2022-07-15T00:00:00.000Z"}})
    ddb.delete_item(TableName=table, Key={"PK": {"S": "STATE#Texas"}, "SK": {"S": "COUNTY#Bexar"}})
    changes = changes_before + 3
    lake.wait_for_lake(bucket, changes, data_prefix, error_prefix, timeout=120, poll=0.5, progress=False,
                       boto3_session=session)
    failed = lake.reconcile(changes, bucket, data_prefix, error_prefix, boto3_session=session)
    assert failed.error_records == 1 and dict(failed.errors_by_kind) == {"processing-failed": 1}
    assert failed.balanced

    def fix(change: dict) -> dict:  # the cause: a d/m/y date; the fix: ISO-8601
        image = change["dynamodb"]["NewImage"]
        d, m, y = image["createdAt"]["S"].split("/")
        image["createdAt"] = {"S": f"{y}-{m}-{d}T00:00:00.000Z"}
        return change

    redriven = lake.redrive(bucket, out["StreamName"], error_prefix, fix=fix, boto3_session=session)
    assert (redriven.records, redriven.objects, redriven.kept) == (1, 1, 0)
    assert all(key.startswith("redriven/" + error_prefix) for key in redriven.moved)
    lake.wait_for_lake(bucket, changes, data_prefix, error_prefix, timeout=120, poll=0.5, progress=False,
                       boto3_session=session)
    after = lake.reconcile(changes, bucket, data_prefix, error_prefix, boto3_session=session)
    assert (after.rows_in_lake, after.error_records) == (changes, 0)
    assert after.balanced
    # A second redrive finds nothing: the redriven object moved out of the error prefix.
    assert lake.redrive(bucket, out["StreamName"], error_prefix, boto3_session=session).records == 0

    # What a reader sees after a crawl: Athena counts the same rows.
    flow.crawl(out["CrawlerName"], timeout=120, poll=0.5, boto3_session=session)
    count = flow.athena_count(out["GlueDatabaseName"], out["GlueTableName"], out["AthenaWorkGroupName"],
                              boto3_session=session)
    assert count.rows == after.rows_in_lake

    view = query.create_current_state_view(out["GlueDatabaseName"], out["GlueTableName"], ["state", "county"],
                                           workgroup=out["AthenaWorkGroupName"], boto3_session=session)
    current = query.run_query(f'SELECT state, county, population FROM "{view}"', database=out["GlueDatabaseName"],
                              workgroup=out["AthenaWorkGroupName"], boto3_session=session).frame
    keys = list(zip(current["state"], current["county"]))
    assert len(keys) == len(set(keys))  # one row per key
    items = ddb.scan(TableName=table)["Items"]
    assert sorted(keys) == sorted((i["state"]["S"], i["county"]["S"]) for i in items)  # row for row
    by_key = dict(zip(keys, current["population"]))
    assert int(by_key[("Texas", "Travis")]) == 1300000  # the latest change wins
    assert int(by_key[("Nowhere", "Bad")]) == 7  # the redriven record is a row


def test_a_glue_type_fixed_then_redriven_lands(byod_run, own_cloud) -> None:
    """format-conversion-failed: a value the Glue column cannot hold; the fix is the table's type
    (Firehose reads VersionId LATEST, so the change is picked up); the redrive lands it."""
    result, _path = byod_run
    assert result.returncode == 0, result.stdout + result.stderr
    _running, session = own_cloud
    from pipeline_lib.stack import outputs

    out = outputs(boto3_session=session)
    bucket, data_prefix, error_prefix = out["LakeBucketName"], out["LakePrefix"], out["ErrorPrefix"]
    before = lake.reconcile(0, bucket, data_prefix, error_prefix, boto3_session=session)
    assert before.error_records == 0
    changes = before.rows_in_lake + 1
    session.client("dynamodb").put_item(TableName=out["TableName"], Item={
        "PK": {"S": "STATE#Texas"}, "SK": {"S": "COUNTY#Old"}, "state": {"S": "Texas"}, "county": {"S": "Old"},
        "median_age": {"N": "123.45"},  # decimal(4,2) holds at most 99.99
        "createdAt": {"S": "2022-07-15T00:00:00.000Z"}})
    lake.wait_for_lake(bucket, changes, data_prefix, error_prefix, timeout=120, poll=0.5, progress=False,
                       boto3_session=session)
    failed = lake.reconcile(changes, bucket, data_prefix, error_prefix, boto3_session=session)
    assert dict(failed.errors_by_kind) == {"format-conversion-failed": 1} and failed.balanced

    glue = session.client("glue")
    table = glue.get_table(DatabaseName=out["GlueDatabaseName"], Name=out["GlueTableName"])["Table"]
    columns = [{**c, "Type": "decimal(5,2)"} if c["Name"] == "median_age" else c
               for c in table["StorageDescriptor"]["Columns"]]
    table_input = {k: table[k] for k in ("Name", "Description", "TableType", "Parameters", "PartitionKeys")
                   if k in table}
    glue.update_table(DatabaseName=out["GlueDatabaseName"], TableInput={
        **table_input, "StorageDescriptor": {**table["StorageDescriptor"], "Columns": columns}})

    # The redriven record waits in the Lambda processor's buffer (60 s, scaled to 3 s locally) before
    # conversion: longer than the engine's 1 s schema refresh, as Firehose picks up LATEST itself.
    redriven = lake.redrive(bucket, out["StreamName"], error_prefix, kinds={"format-conversion-failed"},
                            boto3_session=session)
    assert redriven.records == 1
    lake.wait_for_lake(bucket, changes, data_prefix, error_prefix, timeout=120, poll=0.5, progress=False,
                       boto3_session=session)
    after = lake.reconcile(changes, bucket, data_prefix, error_prefix, boto3_session=session)
    assert (after.rows_in_lake, after.error_records) == (changes, 0)
    rows = [obj.table.to_pylist() for obj in lake.parquet_objects(bucket, data_prefix, ["county", "median_age"],
                                                                   boto3_session=session)]
    assert [r["median_age"] for part in rows for r in part if r["county"] == "Old"] == [Decimal("123.45")]


BAD_CASES = [
    ("missing column", "Name,Age\nA,1\n", ["--pk", "P#{Nope}", "--sk", "S#{Name}"],
     "'Nope' that the file does not have; its columns are: Name, Age"),
    ("created-at column missing", "Name,Age\nA,1\n", ["--pk", "P#{Name}", "--sk", "S#{Age}", "--created-at", "When"],
     "--created-at 'When' is not a column"),
    ("sk naming no column", "Name,Age\nA,1\n", ["--pk", "P#{Name}", "--sk", "S"],
     "names no column"),
    ("duplicate keys", "Name,Age\nA,1\nB,2\nA,3\n", ["--pk", "P#{Name}", "--sk", "S#{Name}"],
     "duplicate key: data rows 1 and 3 both have PK='P#A', SK='S#A'"),
    ("empty file", "", ["--pk", "P#{Name}", "--sk", "S#{Name}"], "is empty"),
    ("header only", "Name,Age\n", ["--pk", "P#{Name}", "--sk", "S#{Name}"], "has a header but no data rows"),
    ("unreadable", b"Name\n\xff\xfe\n", ["--pk", "P#{Name}", "--sk", "S#{Name}"], "is not UTF-8"),
    ("no such file", None, ["--pk", "P#{Name}", "--sk", "S#{Name}"], "no such file"),
    ("template naming no column", "Name,Age\nA,1\n", ["--pk", "PROFILE", "--sk", "S#{Name}"],
     "--pk 'PROFILE' names no column"),
]


@pytest.mark.parametrize("case, body, flags, message", BAD_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CASES)])
def test_bad_input_says_what_to_do_and_exits_non_zero(tmp_path: Path, case: str, body, flags: list[str],
                                                      message: str) -> None:
    path = tmp_path / "data.csv"
    if body is not None:
        path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    # An endpoint nothing answers: the file is refused before any AWS call or deploy is made.
    result = _cli("http://127.0.0.1:9", "run", "--data", str(path), *flags, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "deploying" not in result.stdout


def test_demo_prints_the_summary_and_writes_the_report(own_cloud, tmp_path: Path) -> None:
    running, _session = own_cloud
    result = _cli(running.endpoint, "demo", "--items", "60", "--poll-seconds", "1", "--report-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout[result.stdout.index("=" * 72):]
    written = int(re.search(r"^in\s+([\d,]+)\s+changes written to DynamoDB", summary, re.M)[1].replace(",", ""))
    added = int(re.search(r"^out\s+([\d,]+)\s+rows added to the lake, in (\d+) day partitions", summary, re.M)[1])
    assert written > 60 and added == written  # the change set's updates and deletes are changes too
    assert re.search(r"^Athena\s+[\d,]+\s+rows: SELECT count\(\*\).*\(scanned [\d.,]+ (bytes|KiB|MiB)", summary, re.M)
    assert "OK    reconciled: every change is a row or an error record and Athena counts every row" in summary
    report = Path(re.search(r"^report\s+(\S+)", summary, re.M)[1])
    assert report.parent == tmp_path and report.is_file()
    document = report.read_text(encoding="utf-8")
    assert document.count('src="data:image/png;base64,') == 3  # self-contained: the plots are inside
    assert "Rows per partition" in document and "Write to queryable latency" in document


def test_a_second_data_set_reads_only_its_own_rows(own_cloud, tmp_path: Path) -> None:
    """Last in this module (it redeploys the stack with another schema): on a stack whose lake
    already holds other tables' objects (the counties above, the demo's changes), a new data set's
    table reads only the rows its own delivery wrote: each table has its own lake folder."""
    running, session = own_cloud
    path = tmp_path / "harbours.csv"
    path.write_text("Port,Country,Berths,Opened\nRotterdam,NL,80,2019-05-01\nHamburg,DE,60,2019-05-02\n"
                    "Antwerp,BE,70,2019-05-02\n", encoding="utf-8")
    result = _cli(running.endpoint, "run", "--data", str(path), "--pk", "PORT#{Port}", "--sk", "COUNTRY#{Country}",
                  "--created-at", "Opened", "--poll-seconds", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    from pipeline_lib.stack import outputs

    out = outputs(boto3_session=session)
    assert out["GlueTableName"] == "harbours" and out["LakePrefix"] == "data/harbours/"
    counted = query.run_query("SELECT count(*) AS n, count(port) AS named FROM harbours",
                              database=out["GlueDatabaseName"], workgroup=out["AthenaWorkGroupName"],
                              boto3_session=session).frame
    assert (int(counted["n"][0]), int(counted["named"][0])) == (3, 3)
    # The earlier tables' objects are still in the lake, in their own folders.
    keys = [o["Key"] for page in session.client("s3").get_paginator("list_objects_v2").paginate(
        Bucket=out["LakeBucketName"], Prefix="data/") for o in page.get("Contents", [])]
    assert {k.split("/")[1] for k in keys} >= {"counties_2024", "harbours"}
