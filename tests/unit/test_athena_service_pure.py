"""The local Athena service's pure pieces: result-file bytes, EXECUTE parsing, result configuration.
Expected bytes are written from Athena's documented formats (and a published metadata hexdump)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipeline_lib.localcloud.athena import results, sqltext, workgroups


def test_csv_quotes_every_value_doubles_quotes_and_leaves_null_empty():
    body = results.csv_bytes(["id", "note", "missing"], [["1", 'say "hi", ok', None], ["", "x\ny", "z"]])
    assert body == (
        b'"id","note","missing"\n'
        b'"1","say ""hi"", ok",\n'
        b'"","x\ny","z"\n'
    )


def test_csv_of_no_rows_is_the_header_alone():
    assert results.csv_bytes(["a"], []) == b'"a"\n'


def test_manifest_is_one_uri_a_line():
    assert results.manifest_bytes(["s3://b/t/1.parquet", "s3://b/t/2.parquet"]) == b"s3://b/t/1.parquet\ns3://b/t/2.parquet\n"
    assert results.manifest_bytes([]) == b""


def test_metadata_matches_a_file_athena_wrote():
    # The hexdump of an Athena-written .csv.metadata (one array column "ary").
    athena_wrote = bytes.fromhex(
        "0a1b" + b"20190423_125128_00001_ehtur".hex()
        + "2219" + "0a04" + b"hive".hex() + "2203" + b"ary".hex() + "2a03" + b"ary".hex()
        + "3205" + b"array".hex() + "4803"
    )
    column = {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": "ary", "Label": "ary",
              "Type": "array", "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": False}
    assert results.metadata_bytes("20190423_125128_00001_ehtur", [column]) == athena_wrote


def test_metadata_encodes_precision_scale_and_case_sensitivity_as_varints():
    column = {"CatalogName": "hive", "Name": "v", "Label": "v", "Type": "varchar", "Precision": 2147483647,
              "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": True}
    body = results.metadata_bytes("q", [column])
    # field 7 (precision), varint of 2^31-1 is ff ff ff ff 07; field 10 (case sensitive) = 1
    assert bytes.fromhex("38ffffffff07") in body and body.endswith(bytes.fromhex("48035001"))


def test_engine_query_id_has_trinos_shape():
    import re
    from datetime import datetime, timezone

    engine_id = results.engine_query_id(datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc), 12)
    assert re.fullmatch(r"20260304_050607_00012_[a-z]{5}", engine_id)


@pytest.mark.parametrize("sql, name, using", [
    ("EXECUTE my_select", "my_select", []),
    ("execute s1 USING 'a', 1, DATE '2024-01-01'", "s1", ["'a'", "1", "DATE '2024-01-01'"]),
    ("EXECUTE \"odd name\" USING 'x,y', ARRAY[1, 2], f(1, 2);", "odd name", ["'x,y'", "ARRAY[1, 2]", "f(1, 2)"]),
    ("EXECUTE s USING 'it''s, fine'", "s", ["'it''s, fine'"]),
])
def test_execute_statements_are_recognised(sql, name, using):
    parsed = sqltext.parse_execute(sql)
    assert parsed is not None and (parsed.name, parsed.using) == (name, using)


def test_other_statements_are_not_executes():
    assert sqltext.parse_execute("SELECT 'EXECUTE x'") is None
    assert sqltext.parse_execute("executed_table") is None


def _group(configuration):
    return SimpleNamespace(name="wg", state="ENABLED", description="", configuration=configuration)


def test_an_enforcing_work_group_overrides_the_request():
    group = _group({"EnforceWorkGroupConfiguration": True, "ResultConfiguration": {"OutputLocation": "s3://wg/out/"}})
    assert workgroups.effective_result_configuration(group, {"OutputLocation": "s3://mine/"}) == {"OutputLocation": "s3://wg/out/"}


def test_a_non_enforcing_work_group_yields_to_the_request():
    group = _group({"EnforceWorkGroupConfiguration": False, "ResultConfiguration": {
        "OutputLocation": "s3://wg/out/", "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}})
    assert workgroups.effective_result_configuration(group, {"OutputLocation": "s3://mine/"}) == {
        "OutputLocation": "s3://mine/", "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}
    assert workgroups.effective_result_configuration(group, None)["OutputLocation"] == "s3://wg/out/"


def test_update_work_group_removes_and_sets_result_settings():
    group = _group({"ResultConfiguration": {"OutputLocation": "s3://a/"}})
    workgroups.apply_updates(group, {"ConfigurationUpdates": {"EnforceWorkGroupConfiguration": False,
                                                              "ResultConfigurationUpdates": {"RemoveOutputLocation": True}}})
    config = workgroups.configuration(group)
    assert config["EnforceWorkGroupConfiguration"] is False and config["ResultConfiguration"] == {}


def test_installed_moto_matches_the_athena_seams_and_they_restore():
    from moto.athena.responses import AthenaResponse

    from pipeline_lib.localcloud.athena.seams import build_seams, moto_backends
    from pipeline_lib.localcloud.athena.service import AthenaService

    service = AthenaService(moto_backends(), workers=1)
    cloud = SimpleNamespace(extension=lambda name: SimpleNamespace(service=service) if name == "athena" else None)
    seams = build_seams(cloud)
    original = AthenaResponse.get_query_results
    try:
        seams.apply()
        assert seams.applied and AthenaResponse.get_query_results is not original
        assert hasattr(AthenaResponse, "batch_get_query_execution")
    finally:
        seams.restore()
        service.shutdown()
    assert AthenaResponse.get_query_results is original and not hasattr(AthenaResponse, "batch_get_query_execution")


def test_result_csv_reads_back_with_nulls_quotes_and_line_breaks():
    rows = [["id", "note", "x"], ["1", 'say "hi", ok', None], ["2", None, ""], [None, "two\nlines", None]]
    assert results.parse_csv(results.csv_bytes(rows[0], rows[1:])) == rows
    assert results.parse_csv(results.csv_bytes(["only"], [[None], [""]])) == [["only"], [None], [""]]


def test_results_no_longer_held_are_read_back_from_the_csv(monkeypatch):
    """The service in-process over moto's own backends: with room for one result in memory, the
    older result pages come from its CSV file, byte-for-byte the same answer."""
    import io
    import time
    import uuid

    import pyarrow as pa
    import pyarrow.parquet as pq
    from moto.core import DEFAULT_ACCOUNT_ID as account

    from pipeline_lib.localcloud.athena import service as service_module
    from pipeline_lib.localcloud.athena.seams import moto_backends

    monkeypatch.setattr(service_module, "HELD_VALUES", 1)
    backends = moto_backends()
    region, tag = "us-east-1", uuid.uuid4().hex[:8]
    bucket, database = f"held-{tag}", f"held_{tag}"
    s3 = backends.s3(account, region)
    s3.create_bucket(bucket, region)
    buffer = io.BytesIO()
    pq.write_table(pa.table({"v": pa.array(["a,b", None, 'q"q', ""], pa.string())}), buffer)
    s3.put_object(bucket, "t/x.parquet", buffer.getvalue())
    glue = backends.glue(account, region)
    glue.create_database(database, {"Name": database})
    glue.create_table(database, "t", {"Name": "t", "StorageDescriptor": {
        "Columns": [{"Name": "v", "Type": "string"}], "Location": f"s3://{bucket}/t/",
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}})
    service = service_module.AthenaService(backends, workers=2)
    try:
        def run(sql):
            execution_id = service.handle("start_query_execution", account, region, {
                "QueryString": sql, "QueryExecutionContext": {"Database": database},
                "ResultConfiguration": {"OutputLocation": f"s3://{bucket}/out/"}})["QueryExecutionId"]
            deadline = time.monotonic() + 60
            while service.handle("get_query_execution", account, region, {"QueryExecutionId": execution_id})[
                    "QueryExecution"]["Status"]["State"] != "SUCCEEDED":
                assert time.monotonic() < deadline
                time.sleep(0.01)
            return execution_id

        first = run("SELECT v FROM t")
        second = run("SELECT v FROM t WHERE v IS NOT NULL")
        assert first not in service._held and second in service._held
        pages = service.handle("get_query_results", account, region, {"QueryExecutionId": first})
        values = [[c.get("VarCharValue") for c in r["Data"]] for r in pages["ResultSet"]["Rows"]]
        assert sorted(values[1:], key=str) == sorted([["a,b"], [None], ['q"q'], [""]], key=str)
        assert values[0] == ["v"]
    finally:
        service.shutdown()
