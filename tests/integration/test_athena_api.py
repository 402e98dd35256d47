"""The local Athena API against a local cloud: request/response shapes, the state machine, result
files (byte-exact, expected bytes written from Athena's documented format), errors, paging,
StopQueryExecution, work groups, the catalog's views, named queries and prepared statements.

Each test builds its own Glue database and Parquet table (written with pyarrow through boto3), so
expected answers come from the data the test wrote, never from the engine."""
from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
FINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


@dataclass
class Lake:
    session: boto3.Session
    bucket: str
    database: str
    output: str  # s3://bucket/results/

    @property
    def athena(self):
        return self.session.client("athena")

    @property
    def s3(self):
        return self.session.client("s3")

    def put_table(self, name: str, table: pa.Table, partition_keys: list[dict] | None = None,
                  files: dict[str, pa.Table] | None = None) -> dict[str, int]:
        """A Parquet table in Glue; `files`: relative key -> rows (default: one file). Returns key -> size."""
        location = f"s3://{self.bucket}/data/{name}/"
        sizes = {}
        for relative, rows in (files or {"part-0.parquet": table}).items():
            buffer = io.BytesIO()
            pq.write_table(rows, buffer)
            key = f"data/{name}/{relative}"
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=buffer.getvalue())
            sizes[key] = len(buffer.getvalue())
        glue_types = {pa.int64(): "bigint", pa.string(): "string", pa.float64(): "double"}
        self.session.client("glue").create_table(DatabaseName=self.database, TableInput={
            "Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "parquet"},
            "PartitionKeys": partition_keys or [],
            "StorageDescriptor": {
                "Columns": [{"Name": f.name, "Type": glue_types[f.type]} for f in table.schema],
                "Location": location,
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
            },
        })
        return sizes

    def start(self, sql: str, **kwargs) -> str:
        kwargs.setdefault("QueryExecutionContext", {"Database": self.database})
        kwargs.setdefault("ResultConfiguration", {"OutputLocation": self.output})
        return self.athena.start_query_execution(QueryString=sql, **kwargs)["QueryExecutionId"]

    def wait(self, execution_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            execution = self.athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            if execution["Status"]["State"] in FINAL:
                return execution
            time.sleep(0.02)
        raise AssertionError(f"query {execution_id} did not finish in {timeout}s")

    def run(self, sql: str, **kwargs) -> dict:
        execution = self.wait(self.start(sql, **kwargs))
        assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
        return execution

    def object(self, uri: str) -> bytes:
        bucket, key = uri[5:].split("/", 1)
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


@pytest.fixture
def lake(local_cloud, boto_session) -> Iterator[Lake]:
    tag = uuid.uuid4().hex[:10]
    bucket = f"athena-test-{tag}"
    boto_session.client("s3").create_bucket(Bucket=bucket)
    database = f"db_{tag}"
    boto_session.client("glue").create_database(DatabaseInput={"Name": database})
    yield Lake(boto_session, bucket, database, f"s3://{bucket}/results/")


PEOPLE = pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                   "name": pa.array(['a "quoted", name', None, ""], pa.string()),
                   "score": pa.array([1.5, 2.0, None], pa.float64())})


# -- SELECT: shapes, the state machine, the result files ---------------------------------------
def test_select_reports_athenas_shapes_and_writes_the_csv_byte_for_byte(lake):
    sizes = lake.put_table("people", PEOPLE)
    sql = "SELECT id, name FROM people ORDER BY id"
    execution_id = lake.start(sql)
    assert re.fullmatch(UUID, execution_id)
    execution = lake.wait(execution_id)

    assert execution["QueryExecutionId"] == execution_id
    assert execution["Query"] == sql
    assert execution["StatementType"] == "DML"
    assert execution["WorkGroup"] == "primary"
    assert execution["QueryExecutionContext"] == {"Database": lake.database}
    assert execution["ResultConfiguration"]["OutputLocation"] == f"{lake.output}{execution_id}.csv"
    status = execution["Status"]
    assert status["State"] == "SUCCEEDED"
    assert status["SubmissionDateTime"] <= status["CompletionDateTime"]
    assert "AthenaError" not in status and "StateChangeReason" not in status
    stats = execution["Statistics"]
    assert stats["DataScannedInBytes"] == sum(sizes.values())
    assert stats["TotalExecutionTimeInMillis"] >= stats["EngineExecutionTimeInMillis"] >= 0
    assert stats["QueryQueueTimeInMillis"] >= 0
    assert "DataManifestLocation" not in stats
    assert execution["EngineVersion"]["EffectiveEngineVersion"] == "Athena engine version 3"

    # The header row, every value quoted with quotes doubled, NULL an empty field, \n line ends.
    assert lake.object(f"{lake.output}{execution_id}.csv") == (
        b'"id","name"\n'
        b'"1","a ""quoted"", name"\n'
        b'"2",\n'
        b'"3",""\n'
    )
    metadata = lake.object(f"{lake.output}{execution_id}.csv.metadata")
    assert metadata[:1] == b"\x0a" and b"hive" in metadata and b"bigint" in metadata and b"varchar" in metadata

    results = lake.athena.get_query_results(QueryExecutionId=execution_id)
    rows = [[cell.get("VarCharValue") for cell in row["Data"]] for row in results["ResultSet"]["Rows"]]
    assert rows == [["id", "name"], ["1", 'a "quoted", name'], ["2", None], ["3", ""]]
    columns = results["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [("id", "bigint"), ("name", "varchar")]
    assert all(c["CatalogName"] == "hive" and c["Nullable"] == "UNKNOWN" for c in columns)
    assert results["UpdateCount"] == 0 and "NextToken" not in results


def test_several_queries_run_at_once_and_each_gets_its_own_answer(lake, local_cloud):
    from pipeline_lib.localcloud import lifecycle

    before = lifecycle.status(local_cloud.record.state_dir)["extensions"]["athena"]["queries_succeeded"]
    lake.put_table("people", PEOPLE)
    ids = {n: lake.start(f"SELECT count(*) + {n} AS c FROM people") for n in range(6)}
    for n, execution_id in ids.items():
        assert lake.wait(execution_id)["Status"]["State"] == "SUCCEEDED"
        rows = lake.athena.get_query_results(QueryExecutionId=execution_id)["ResultSet"]["Rows"]
        assert rows[1]["Data"][0]["VarCharValue"] == str(3 + n)
    status = lifecycle.status(local_cloud.record.state_dir)["extensions"]["athena"]
    assert status["queries_succeeded"] >= before + len(ids) and status["seams"] is True
    held = status["object_files"]  # the Parquet objects scanned, kept for DuckDB (Linux)
    assert held is None or (held["files"] >= 1 and 0 < held["bytes"] <= held["max_bytes"]
                            and held["pinned"] <= held["files"] <= held["max_files"])


def test_an_object_overwritten_or_deleted_between_queries_is_read_as_it_is_now(lake):
    """The engine keeps scanned objects for later queries (engine/objectfiles.py): never past a change."""
    sizes = lake.put_table("days", PEOPLE, files={"a.parquet": PEOPLE, "b.parquet": PEOPLE})
    sql = "SELECT count(*), sum(id) FROM days"
    rows = lambda execution: lake.athena.get_query_results(  # noqa: E731
        QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]["Rows"][1]["Data"]
    first = lake.run(sql)
    assert [d["VarCharValue"] for d in rows(first)] == ["6", "12"]
    assert first["Statistics"]["DataScannedInBytes"] == sum(sizes.values())
    more = pa.table({"id": pa.array([10, 20], pa.int64()), "name": pa.array(["x", "y"]),
                     "score": pa.array([None, 1.0], pa.float64())})
    buffer = io.BytesIO()
    pq.write_table(more, buffer)
    lake.s3.put_object(Bucket=lake.bucket, Key="data/days/b.parquet", Body=buffer.getvalue())
    assert [d["VarCharValue"] for d in rows(lake.run(sql))] == ["5", "36"]
    lake.s3.delete_object(Bucket=lake.bucket, Key="data/days/a.parquet")
    third = lake.run(sql)
    assert [d["VarCharValue"] for d in rows(third)] == ["2", "30"]
    assert third["Statistics"]["DataScannedInBytes"] == len(buffer.getvalue())


def test_get_query_results_pages_of_1000_rows_with_the_header_first(lake):
    n = 2500
    lake.put_table("many", pa.table({"n": pa.array(range(n), pa.int64())}))
    execution_id = lake.run("SELECT n FROM many ORDER BY n")["QueryExecutionId"]
    first = lake.athena.get_query_results(QueryExecutionId=execution_id)
    assert len(first["ResultSet"]["Rows"]) == 1000 and first["NextToken"]
    second = lake.athena.get_query_results(QueryExecutionId=execution_id, NextToken=first["NextToken"])
    third = lake.athena.get_query_results(QueryExecutionId=execution_id, NextToken=second["NextToken"])
    assert [len(p["ResultSet"]["Rows"]) for p in (second, third)] == [1000, 501] and "NextToken" not in third
    assert third["ResultSet"]["ResultSetMetadata"]["ColumnInfo"][0]["Name"] == "n"

    paginator = lake.athena.get_paginator("get_query_results")
    rows = [r for page in paginator.paginate(QueryExecutionId=execution_id, PaginationConfig={"PageSize": 700})
            for r in page["ResultSet"]["Rows"]]
    values = [r["Data"][0]["VarCharValue"] for r in rows]
    assert values == ["n"] + [str(i) for i in range(n)]
    one = lake.athena.get_query_results(QueryExecutionId=execution_id, MaxResults=1)
    assert [r["Data"][0]["VarCharValue"] for r in one["ResultSet"]["Rows"]] == ["n"]
    with pytest.raises(ClientError) as error:
        lake.athena.get_query_results(QueryExecutionId=execution_id, NextToken="not-a-token")
    assert error.value.response["Error"]["Code"] == "InvalidRequestException"

    # GetQueryResults reads the result file: once it is deleted, the rows are gone too.
    lake.s3.delete_object(Bucket=lake.bucket, Key=f"results/{execution_id}.csv")
    with pytest.raises(ClientError) as error:
        lake.athena.get_query_results(QueryExecutionId=execution_id, NextToken=first["NextToken"])
    assert error.value.response["Error"]["Code"] == "InvalidRequestException"


# -- errors -------------------------------------------------------------------------------------
def test_a_syntax_error_is_refused_by_start_query_execution(lake):
    with pytest.raises(ClientError) as error:
        lake.start("SELEC 1")
    response = error.value.response
    assert response["Error"]["Code"] == "InvalidRequestException"
    assert response["AthenaErrorCode"] == "MALFORMED_QUERY"
    assert re.match(r"line 1:1: ", response["Error"]["Message"]), response["Error"]["Message"]
    listed = lake.athena.list_query_executions()["QueryExecutionIds"]
    batch = lake.athena.batch_get_query_execution(QueryExecutionIds=listed[:50])["QueryExecutions"] if listed else []
    assert all(e["Query"] != "SELEC 1" for e in batch)


def test_a_missing_table_ends_failed_with_athenas_error_and_writes_nothing(lake):
    execution = lake.wait(lake.start("SELECT * FROM nowhere"))
    status = execution["Status"]
    assert status["State"] == "FAILED"
    expected = f"TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.{lake.database}.nowhere' does not exist"
    assert status["StateChangeReason"] == expected
    assert status["AthenaError"]["ErrorMessage"] == expected
    assert status["AthenaError"]["ErrorCategory"] == 2 and status["AthenaError"]["Retryable"] is False
    # Athena error catalog (error-reference.html): 1110 "Provided table or view does not exist".
    assert status["AthenaError"]["ErrorType"] == 1110
    assert lake.keys("results/") == []
    with pytest.raises(ClientError) as error:
        lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert error.value.response["Error"]["Code"] == "InvalidRequestException"


def test_the_execution_context_names_catalog_and_database(lake):
    lake.put_table("people", PEOPLE)
    execution = lake.run("SELECT count(*) FROM people",
                         QueryExecutionContext={"Database": lake.database, "Catalog": "awsdatacatalog"})
    assert execution["QueryExecutionContext"] == {"Database": lake.database, "Catalog": "awsdatacatalog"}
    qualified = lake.run(f'SELECT count(*) FROM "awsdatacatalog"."{lake.database}"."people"', QueryExecutionContext={})
    rows = lake.athena.get_query_results(QueryExecutionId=qualified["QueryExecutionId"])["ResultSet"]["Rows"]
    assert rows[1]["Data"][0]["VarCharValue"] == "3"
    failed = lake.wait(lake.start("SELECT * FROM people", QueryExecutionContext={"Database": lake.database,
                                                                                "Catalog": "nope"}))
    assert failed["Status"]["State"] == "FAILED"
    assert failed["Status"]["StateChangeReason"].startswith("CATALOG_NOT_FOUND: ")


def test_no_output_location_anywhere_is_refused(lake):
    with pytest.raises(ClientError) as error:
        lake.athena.start_query_execution(QueryString="SELECT 1")
    assert error.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "output location" in error.value.response["Error"]["Message"]


def test_unknown_execution_and_unknown_work_group(lake):
    for call in (lambda: lake.athena.get_query_execution(QueryExecutionId=str(uuid.uuid4())),
                 lambda: lake.athena.get_query_results(QueryExecutionId=str(uuid.uuid4())),
                 lambda: lake.start("SELECT 1", WorkGroup="no-such-group")):
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["Error"]["Code"] == "InvalidRequestException"


def test_answers_and_errors_carry_the_json_1_1_media_type(lake):
    """Athena is an awsJson1_1 service (botocore's model: protocol json, jsonVersion 1.1): its
    answers and its errors are `application/x-amz-json-1.1`, not the text/html moto's Flask gives."""
    seen = []
    athena = lake.athena
    athena.meta.events.register("after-call.athena.*", lambda http_response, **_: seen.append(http_response))
    assert athena.meta.service_model.metadata["jsonVersion"] == "1.1"
    athena.get_work_group(WorkGroup="primary")
    with pytest.raises(ClientError):
        athena.get_query_execution(QueryExecutionId=str(uuid.uuid4()))
    assert [(r.status_code, r.headers["Content-Type"]) for r in seen] == [
        (200, "application/x-amz-json-1.1"), (400, "application/x-amz-json-1.1")]


# -- a long query: results before the end, StopQueryExecution ------------------------------------
def test_results_before_the_end_are_refused_and_stop_cancels(lake):
    lake.put_table("wide", pa.table({"n": pa.array(range(4000), pa.int64())}))
    # 4000^3 = 64e9 joined rows each: far longer than this test takes to stop them.
    # No equality between the sides, so no hash join: the whole cross product is filtered.
    slow = "SELECT count(*) FROM wide a CROSS JOIN wide b CROSS JOIN wide c WHERE (a.n * b.n + c.n) % 1000003 = {}"
    first, second = lake.start(slow.format(1)), lake.start(slow.format(2))
    with pytest.raises(ClientError) as error:
        lake.athena.get_query_results(QueryExecutionId=first)
    message = error.value.response["Error"]["Message"]
    assert re.fullmatch(r"Query has not yet finished\. Current state: (QUEUED|RUNNING)", message), message

    # Several queries run at once: both are RUNNING together.
    deadline = time.monotonic() + 30
    while {lake.athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Status"]["State"]
           for i in (first, second)} != {"RUNNING"}:
        assert time.monotonic() < deadline, "two queries never ran at the same time"
    for execution_id in (first, second):
        lake.athena.stop_query_execution(QueryExecutionId=execution_id)
    for execution_id in (first, second):
        execution = lake.wait(execution_id, timeout=60)
        assert execution["Status"]["State"] == "CANCELLED"
        assert execution["Status"]["StateChangeReason"]
        assert "CompletionDateTime" in execution["Status"]
    assert lake.keys("results/") == []
    lake.athena.stop_query_execution(QueryExecutionId=first)  # stopping a finished query is fine


def test_queries_beyond_the_worker_pool_wait_queued_and_cancel_from_the_queue(lake):
    from pipeline_lib.localcloud.athena.service import DEFAULT_WORKERS

    lake.put_table("wide", pa.table({"n": pa.array(range(4000), pa.int64())}))
    slow = "SELECT count(*) FROM wide a CROSS JOIN wide b CROSS JOIN wide c WHERE (a.n * b.n + c.n) % 1000003 = {}"
    ids = [lake.start(slow.format(i)) for i in range(DEFAULT_WORKERS + 2)]

    def states() -> list[str]:
        return [lake.athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Status"]["State"] for i in ids]

    deadline = time.monotonic() + 30
    while sorted(states()) != ["QUEUED"] * 2 + ["RUNNING"] * DEFAULT_WORKERS:
        assert time.monotonic() < deadline, states()
    queued = [i for i, state in zip(ids, states()) if state == "QUEUED"]
    for execution_id in queued + [i for i in ids if i not in queued]:
        lake.athena.stop_query_execution(QueryExecutionId=execution_id)
    for execution_id in ids:
        execution = lake.wait(execution_id, timeout=60)
        assert execution["Status"]["State"] == "CANCELLED"
        if execution_id in queued:
            assert execution["Statistics"]["EngineExecutionTimeInMillis"] == 0


# -- parameters, prepared statements, idempotency ---------------------------------------------------
def test_execution_parameters_fill_the_question_marks(lake):
    lake.put_table("people", PEOPLE)
    execution = lake.run("SELECT name FROM people WHERE id = ? OR name = ?", ExecutionParameters=["1", "''"])
    assert execution["ExecutionParameters"] == ["1", "''"]
    rows = lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]["Rows"]
    assert sorted(r["Data"][0].get("VarCharValue") for r in rows[1:]) == ["", 'a "quoted", name']


def test_prepared_statements_run_with_execute_using(lake):
    lake.put_table("people", PEOPLE)
    name = f"by_id_{uuid.uuid4().hex[:6]}"
    lake.athena.create_prepared_statement(StatementName=name, WorkGroup="primary",
                                          QueryStatement="SELECT id FROM people WHERE id >= ? ORDER BY id")
    got = lake.athena.get_prepared_statement(StatementName=name, WorkGroup="primary")["PreparedStatement"]
    assert got["QueryStatement"] == "SELECT id FROM people WHERE id >= ? ORDER BY id" and got["WorkGroupName"] == "primary"
    listed = lake.athena.list_prepared_statements(WorkGroup="primary")["PreparedStatements"]
    assert name in [s["StatementName"] for s in listed]

    execution = lake.run(f"EXECUTE {name} USING 2")
    assert execution["Query"] == f"EXECUTE {name} USING 2"
    rows = lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]["Rows"]
    assert [r["Data"][0]["VarCharValue"] for r in rows] == ["id", "2", "3"]
    execution = lake.run(f"EXECUTE {name}", ExecutionParameters=["3"])
    rows = lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]["Rows"]
    assert [r["Data"][0]["VarCharValue"] for r in rows] == ["id", "3"]

    lake.athena.delete_prepared_statement(StatementName=name, WorkGroup="primary")
    with pytest.raises(ClientError) as error:
        lake.athena.get_prepared_statement(StatementName=name, WorkGroup="primary")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as error:
        lake.start(f"EXECUTE {name} USING 2")
    assert error.value.response["Error"]["Code"] == "InvalidRequestException"


def test_sql_prepare_and_deallocate(lake):
    lake.put_table("people", PEOPLE)
    name = f"sql_{uuid.uuid4().hex[:6]}"
    lake.run(f"PREPARE {name} FROM SELECT count(*) AS n FROM people WHERE id <= ?")
    statement = lake.athena.get_prepared_statement(StatementName=name, WorkGroup="primary")["PreparedStatement"]
    assert statement["QueryStatement"] == "SELECT count(*) AS n FROM people WHERE id <= ?"
    execution = lake.run(f"EXECUTE {name} USING 2")
    rows = lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]["Rows"]
    assert rows[1]["Data"][0]["VarCharValue"] == "2"
    lake.run(f"DEALLOCATE PREPARE {name}")
    assert lake.wait(lake.start(f"DEALLOCATE PREPARE {name}"))["Status"]["State"] == "FAILED"
    with pytest.raises(ClientError) as error:
        lake.start(f"PREPARE {name} FROM SELEC 1")
    assert error.value.response["AthenaErrorCode"] == "MALFORMED_QUERY"


def test_result_reuse_answers_from_an_earlier_result(lake):
    lake.put_table("people", PEOPLE)
    sql = "SELECT id FROM people ORDER BY id"
    reuse = {"ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 5}}
    first = lake.run(sql)
    assert first["ResultReuseConfiguration"] == {"ResultReuseByAgeConfiguration": {"Enabled": False}}
    again = lake.run(sql, ResultReuseConfiguration=reuse)
    assert again["QueryExecutionId"] != first["QueryExecutionId"]
    assert again["ResultReuseConfiguration"] == reuse
    assert again["Statistics"]["ResultReuseInformation"] == {"ReusedPreviousResult": True}
    assert again["Statistics"]["DataScannedInBytes"] == 0
    assert again["ResultConfiguration"]["OutputLocation"] == first["ResultConfiguration"]["OutputLocation"]
    rows = lake.athena.get_query_results(QueryExecutionId=again["QueryExecutionId"])["ResultSet"]["Rows"]
    assert [r["Data"][0]["VarCharValue"] for r in rows] == ["id", "1", "2", "3"]
    # Another query text, or no earlier result file, runs afresh.
    other = lake.run(sql + " ", ResultReuseConfiguration=reuse)
    assert other["Statistics"]["ResultReuseInformation"] == {"ReusedPreviousResult": False}
    for execution in (first, other):
        lake.s3.delete_object(Bucket=lake.bucket, Key=execution["ResultConfiguration"]["OutputLocation"].split("/", 3)[3])
    fresh = lake.run(sql, ResultReuseConfiguration=reuse)
    assert fresh["Statistics"]["ResultReuseInformation"] == {"ReusedPreviousResult": False}
    assert fresh["Statistics"]["DataScannedInBytes"] > 0


def test_client_request_token_makes_start_idempotent(lake):
    token = uuid.uuid4().hex + uuid.uuid4().hex
    first = lake.start("SELECT 1", ClientRequestToken=token)
    assert lake.start("SELECT 1", ClientRequestToken=token) == first
    with pytest.raises(ClientError) as error:
        lake.start("SELECT 2", ClientRequestToken=token)
    assert error.value.response["Error"]["Message"] == "Idempotent parameters do not match"
    lake.wait(first)


# -- work groups -----------------------------------------------------------------------------------
def test_work_group_configuration_decides_the_result_location(lake):
    enforced, relaxed = f"wg-enf-{uuid.uuid4().hex[:6]}", f"wg-rel-{uuid.uuid4().hex[:6]}"
    own = f"s3://{lake.bucket}/wg-results/"
    for name, enforce in ((enforced, True), (relaxed, False)):
        lake.athena.create_work_group(Name=name, Configuration={
            "ResultConfiguration": {"OutputLocation": own}, "EnforceWorkGroupConfiguration": enforce})
    group = lake.athena.get_work_group(WorkGroup=enforced)["WorkGroup"]
    assert group["Configuration"]["EnforceWorkGroupConfiguration"] is True
    assert group["Configuration"]["ResultConfiguration"] == {"OutputLocation": own}
    assert group["State"] == "ENABLED" and group["CreationTime"]
    assert lake.athena.get_work_group(WorkGroup=enforced)["WorkGroup"]["CreationTime"] == group["CreationTime"]

    mine = f"s3://{lake.bucket}/mine/"
    on_enforced = lake.run("SELECT 1", WorkGroup=enforced, ResultConfiguration={"OutputLocation": mine})
    assert on_enforced["ResultConfiguration"]["OutputLocation"].startswith(own)
    encrypted = lake.run("SELECT 1", ResultConfiguration={
        "OutputLocation": mine, "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}})
    key = encrypted["ResultConfiguration"]["OutputLocation"][len(f"s3://{lake.bucket}/"):]
    assert lake.s3.head_object(Bucket=lake.bucket, Key=key)["ServerSideEncryption"] == "AES256"
    on_relaxed = lake.run("SELECT 1", WorkGroup=relaxed, ResultConfiguration={"OutputLocation": mine})
    assert on_relaxed["ResultConfiguration"]["OutputLocation"].startswith(mine)
    assert lake.run("SELECT 1", WorkGroup=relaxed, ResultConfiguration={})["ResultConfiguration"][
        "OutputLocation"].startswith(own)

    # A work group that publishes CloudWatch metrics gets AWS/Athena's per-query metrics.
    lake.athena.update_work_group(WorkGroup=enforced, ConfigurationUpdates={"PublishCloudWatchMetricsEnabled": True})
    published = lake.run("SELECT 2", WorkGroup=enforced)
    metrics = lake.session.client("cloudwatch").list_metrics(
        Namespace="AWS/Athena", Dimensions=[{"Name": "WorkGroup", "Value": enforced}])["Metrics"]
    assert {"TotalExecutionTime", "EngineExecutionTime", "QueryQueueTime", "ProcessedBytes"} <= {m["MetricName"] for m in metrics}
    assert {d["Name"]: d["Value"] for d in metrics[0]["Dimensions"]} == {
        "QueryState": "SUCCEEDED", "QueryType": "DML", "WorkGroup": enforced}
    assert published["Status"]["State"] == "SUCCEEDED"

    listed = lake.athena.list_query_executions(WorkGroup=enforced)["QueryExecutionIds"]
    assert listed == [published["QueryExecutionId"], on_enforced["QueryExecutionId"]]
    names = [g["Name"] for page in lake.athena.get_paginator("list_work_groups").paginate() for g in page["WorkGroups"]] \
        if lake.athena.can_paginate("list_work_groups") else [g["Name"] for g in lake.athena.list_work_groups()["WorkGroups"]]
    assert {"primary", enforced, relaxed} <= set(names)

    lake.athena.update_work_group(WorkGroup=relaxed, ConfigurationUpdates={
        "ResultConfigurationUpdates": {"RemoveOutputLocation": True}, "EnforceWorkGroupConfiguration": True})
    updated = lake.athena.get_work_group(WorkGroup=relaxed)["WorkGroup"]["Configuration"]
    assert updated["EnforceWorkGroupConfiguration"] is True and "OutputLocation" not in updated["ResultConfiguration"]
    primary = lake.athena.get_work_group(WorkGroup="primary")["WorkGroup"]
    assert "EnforceWorkGroupConfiguration" in primary["Configuration"]


def test_a_work_group_with_contents_is_deleted_only_recursively(lake):
    group = f"wg-del-{uuid.uuid4().hex[:6]}"
    lake.athena.create_work_group(Name=group, Configuration={"ResultConfiguration": {"OutputLocation": lake.output}})
    lake.athena.create_named_query(Name="n", Database=lake.database, QueryString="SELECT 1", WorkGroup=group)
    ran = lake.run("SELECT 1", WorkGroup=group)
    with pytest.raises(ClientError) as error:
        lake.athena.delete_work_group(WorkGroup=group)
    assert error.value.response["Error"]["Message"] == f"WorkGroup {group} is not empty"
    lake.athena.delete_work_group(WorkGroup=group, RecursiveDeleteOption=True)
    with pytest.raises(ClientError):
        lake.athena.get_work_group(WorkGroup=group)
    lake.athena.create_work_group(Name=group, Configuration={"ResultConfiguration": {"OutputLocation": lake.output}})
    assert lake.athena.list_query_executions(WorkGroup=group)["QueryExecutionIds"] == []
    assert lake.athena.list_named_queries(WorkGroup=group)["NamedQueryIds"] == []
    assert ran["QueryExecutionId"]
    lake.athena.delete_work_group(WorkGroup=group)  # empty: no option needed
    with pytest.raises(ClientError):
        lake.athena.delete_work_group(WorkGroup="primary")


def test_list_query_executions_newest_first_and_batch_get(lake):
    group = f"wg-list-{uuid.uuid4().hex[:6]}"
    lake.athena.create_work_group(Name=group, Configuration={"ResultConfiguration": {"OutputLocation": lake.output}})
    ids = [lake.start(f"SELECT {i}", WorkGroup=group) for i in range(3)]
    for execution_id in ids:
        lake.wait(execution_id)
    pages = lake.athena.get_paginator("list_query_executions").paginate(
        WorkGroup=group, PaginationConfig={"PageSize": 2})
    listed = [i for page in pages for i in page["QueryExecutionIds"]]
    assert listed == list(reversed(ids))
    missing = str(uuid.uuid4())
    batch = lake.athena.batch_get_query_execution(QueryExecutionIds=ids + [missing])
    assert sorted(e["QueryExecutionId"] for e in batch["QueryExecutions"]) == sorted(ids)
    assert [u["QueryExecutionId"] for u in batch["UnprocessedQueryExecutionIds"]] == [missing]
    stats = lake.athena.get_query_runtime_statistics(QueryExecutionId=ids[0])["QueryRuntimeStatistics"]
    assert stats["Timeline"]["TotalExecutionTimeInMillis"] >= 0 and stats["Rows"]["OutputRows"] == 1


# -- DDL, CTAS -------------------------------------------------------------------------------------
def test_ddl_results_are_text_files(lake):
    lake.put_table("people", PEOPLE)
    created = lake.run(
        f"CREATE EXTERNAL TABLE copy_of_people (id bigint, name string, score double) STORED AS PARQUET "
        f"LOCATION 's3://{lake.bucket}/data/people/'")
    assert created["StatementType"] == "DDL"
    assert created["ResultConfiguration"]["OutputLocation"] == f"{lake.output}{created['QueryExecutionId']}.txt"
    assert lake.object(created["ResultConfiguration"]["OutputLocation"]) == b""
    table = lake.session.client("glue").get_table(DatabaseName=lake.database, Name="copy_of_people")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "name", "score"]

    shown = lake.run("SHOW TABLES")
    assert shown["StatementType"] == "UTILITY"
    assert shown["ResultConfiguration"]["OutputLocation"].endswith(".txt")
    text = lake.object(shown["ResultConfiguration"]["OutputLocation"]).decode()
    assert sorted(text.splitlines()) == ["copy_of_people", "people"]
    rows = lake.athena.get_query_results(QueryExecutionId=shown["QueryExecutionId"])["ResultSet"]["Rows"]
    assert sorted(r["Data"][0]["VarCharValue"] for r in rows) == ["copy_of_people", "people"]  # no header row


def test_ctas_writes_data_a_manifest_and_metadata(lake):
    lake.put_table("people", PEOPLE)
    location = f"s3://{lake.bucket}/ctas/people_ids/"
    execution = lake.run(
        f"CREATE TABLE people_ids WITH (external_location = '{location}', format = 'PARQUET') AS "
        f"SELECT id FROM people WHERE id > 1")
    execution_id = execution["QueryExecutionId"]
    assert execution["StatementType"] == "DML"  # the API reference's own example of DML
    manifest = execution["Statistics"]["DataManifestLocation"]
    assert manifest == f"{lake.output}{execution_id}-manifest.csv"
    data_keys = lake.keys("ctas/people_ids/")
    assert data_keys and lake.object(manifest) == "".join(f"s3://{lake.bucket}/{k}\n" for k in data_keys).encode()
    assert f"results/{execution_id}.metadata" in lake.keys("results/")
    read = pa.concat_tables([pq.read_table(io.BytesIO(lake.object(f"s3://{lake.bucket}/{k}"))) for k in data_keys])
    assert sorted(read.column("id").to_pylist()) == [2, 3]
    results = lake.athena.get_query_results(QueryExecutionId=execution_id)
    assert results["UpdateCount"] == 2 and results["ResultSet"]["Rows"] == []


def test_insert_into_lists_only_its_own_files_in_the_manifest(lake):
    lake.put_table("people", PEOPLE)
    location = f"s3://{lake.bucket}/ctas/ids/"
    lake.run(f"CREATE TABLE ids WITH (external_location = '{location}', format = 'PARQUET') AS SELECT id FROM people")
    before = set(lake.keys("ctas/ids/"))
    execution = lake.run("INSERT INTO ids SELECT id FROM people WHERE id = 1")
    assert execution["StatementType"] == "DML"
    added = sorted(set(lake.keys("ctas/ids/")) - before)
    assert added and lake.object(execution["Statistics"]["DataManifestLocation"]) == "".join(
        f"s3://{lake.bucket}/{k}\n" for k in added).encode()
    assert lake.athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["UpdateCount"] == 1


def test_a_failing_ctas_leaves_catalog_and_s3_as_they_were(lake):
    location = f"s3://{lake.bucket}/ctas/broken/"
    execution = lake.wait(lake.start(
        f"CREATE TABLE broken WITH (external_location = '{location}') AS SELECT * FROM nowhere"))
    assert execution["Status"]["State"] == "FAILED"
    assert lake.keys("ctas/") == [] and lake.keys("results/") == []
    tables = lake.session.client("glue").get_tables(DatabaseName=lake.database)["TableList"]
    assert [t["Name"] for t in tables] == []


# -- the catalog's views, named queries --------------------------------------------------------------
def test_catalog_views_come_from_glue(lake):
    lake.put_table("events", PEOPLE, partition_keys=[{"Name": "day", "Type": "string"}])
    catalogs = lake.athena.list_data_catalogs()["DataCatalogsSummary"]
    assert {"CatalogName": "AwsDataCatalog", "Type": "GLUE"} in catalogs
    assert lake.athena.get_data_catalog(Name="AwsDataCatalog")["DataCatalog"]["Type"] == "GLUE"
    database = lake.athena.get_database(CatalogName="AwsDataCatalog", DatabaseName=lake.database)["Database"]
    assert database["Name"] == lake.database
    names = [d["Name"] for page in lake.athena.get_paginator("list_databases").paginate(CatalogName="AwsDataCatalog")
             for d in page["DatabaseList"]]
    assert lake.database in names
    table = lake.athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=lake.database,
                                           TableName="events")["TableMetadata"]
    assert [c["Name"] for c in table["Columns"]] == ["id", "name", "score"]
    assert table["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    assert table["TableType"] == "EXTERNAL_TABLE" and table["Parameters"]["classification"] == "parquet"
    assert table["Parameters"]["location"] == f"s3://{lake.bucket}/data/events/"
    glue_table = lake.session.client("glue").get_table(DatabaseName=lake.database, Name="events")["Table"]
    assert abs((table["CreateTime"] - glue_table["CreateTime"]).total_seconds()) < 0.001  # Glue sends milliseconds
    listed = lake.athena.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=lake.database)
    assert [t["Name"] for t in listed["TableMetadataList"]] == ["events"]
    with pytest.raises(ClientError) as error:
        lake.athena.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=lake.database, TableName="nope")
    assert error.value.response["Error"]["Code"] == "MetadataException"


def test_named_queries(lake):
    query_id = lake.athena.create_named_query(Name="n", Database=lake.database, QueryString="SELECT 1")["NamedQueryId"]
    named = lake.athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]
    assert (named["Name"], named["Database"], named["QueryString"], named["WorkGroup"]) == ("n", lake.database, "SELECT 1", "primary")
    assert query_id in lake.athena.list_named_queries()["NamedQueryIds"]
    lake.athena.delete_named_query(NamedQueryId=query_id)
    with pytest.raises(ClientError):
        lake.athena.get_named_query(NamedQueryId=query_id)
