"""Injected faults look exactly like AWS's to a client (error codes, messages, partial results),
are configured per run (PIPELINE_FAULTS, the control API, the CLI) and show in `local status`;
a crashed cloud comes back with `local up`."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from pipeline_lib.localcloud import lifecycle
from pipeline_lib.localcloud.faults import client as faults_client

pytestmark = pytest.mark.integration

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
DYNAMODB_MESSAGE = ("The level of configured provisioned throughput for the table was exceeded. "
                    "Consider increasing your provisioning level with the UpdateTable API.")


@pytest.fixture
def faults(local_cloud):
    def set_(**settings) -> None:
        faults_client.set_faults(local_cloud.endpoint, {"seed": 4, **settings}, replace=True)

    try:
        yield set_
    finally:
        faults_client.clear(local_cloud.endpoint)


@pytest.fixture
def table(local_cloud) -> str:
    name = f"faults-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb", config=NO_RETRIES)
    client.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    yield name
    client.delete_table(TableName=name)


def test_dynamodb_throttling_is_awss_exception(local_cloud, faults, table) -> None:
    faults(dynamodb_throttle=1.0)
    client = boto3.client("dynamodb", config=NO_RETRIES)
    for call in (lambda: client.put_item(TableName=table, Item={"k": {"S": "a"}}),
                 lambda: client.delete_item(TableName=table, Key={"k": {"S": "a"}}),
                 lambda: client.update_item(TableName=table, Key={"k": {"S": "a"}}),
                 lambda: client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"k": {"S": "a"}}}}]})):
        with pytest.raises(client.exceptions.ProvisionedThroughputExceededException) as caught:
            call()
        error = caught.value.response
        assert error["Error"] == {"Code": "ProvisionedThroughputExceededException", "Message": DYNAMODB_MESSAGE}
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    faults()  # reads are never throttled, and no write above happened
    assert client.scan(TableName=table)["Count"] == 0


def test_batch_write_item_returns_unprocessed_items_and_writes_the_rest(local_cloud, faults, table) -> None:
    faults(dynamodb_unprocessed=0.5)
    client = boto3.client("dynamodb", config=NO_RETRIES)
    requests = [{"PutRequest": {"Item": {"k": {"S": f"{i:02d}"}, "v": {"N": str(i)}}}} for i in range(25)]
    answer = client.batch_write_item(RequestItems={table: requests})
    held = answer["UnprocessedItems"][table]
    assert 0 < len(held) < 25 and all(r in requests for r in held)  # the requests themselves, to resend
    written = {item["k"]["S"] for item in client.scan(TableName=table)["Items"]}
    assert written == {r["PutRequest"]["Item"]["k"]["S"] for r in requests if r not in held}
    # Every request held back: DynamoDB answers with the exception rather than an empty success.
    faults(dynamodb_unprocessed=1.0)
    with pytest.raises(client.exceptions.ProvisionedThroughputExceededException):
        client.batch_write_item(RequestItems={table: held})


def _shard_for(kinesis, stream: str, partition_key: str) -> str:
    """The open shard whose hash key range holds MD5(partition key), computed here."""
    point = int(hashlib.md5(partition_key.encode()).hexdigest(), 16)
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        r = shard["HashKeyRange"]
        if int(r["StartingHashKey"]) <= point <= int(r["EndingHashKey"]) and "EndingSequenceNumber" not in shard["SequenceNumberRange"]:
            return shard["ShardId"]
    raise AssertionError("no shard")


def test_kinesis_put_records_fails_per_record_and_put_record_whole(local_cloud, faults) -> None:
    kinesis = boto3.client("kinesis", config=NO_RETRIES)
    stream = f"faults-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=3)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    account = boto3.client("sts").get_caller_identity()["Account"]
    try:
        faults(kinesis_throttle=0.4)
        records = [{"Data": f"r{i}".encode(), "PartitionKey": f"key-{i}"} for i in range(40)]
        answer = kinesis.put_records(StreamName=stream, Records=records)
        failed = [i for i, r in enumerate(answer["Records"]) if "ErrorCode" in r]
        assert answer["FailedRecordCount"] == len(failed) and 0 < len(failed) < 40
        for i in failed:
            shard = _shard_for(kinesis, stream, f"key-{i}")
            assert answer["Records"][i] == {
                "ErrorCode": "ProvisionedThroughputExceededException",
                "ErrorMessage": f"Rate exceeded for shard {shard} in stream {stream} under account {account}."}
        for i, r in enumerate(answer["Records"]):
            if i not in failed:
                assert set(r) == {"SequenceNumber", "ShardId"} and r["ShardId"] == _shard_for(kinesis, stream, f"key-{i}")
        faults()
        stored = []
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            stored += [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]]
        assert sorted(stored) == sorted(records[i]["Data"] for i in range(40) if i not in failed)

        faults(kinesis_throttle=1.0)
        with pytest.raises(kinesis.exceptions.ProvisionedThroughputExceededException) as caught:
            kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="pk")
        assert caught.value.response["Error"]["Message"] == (
            f"Rate exceeded for shard {_shard_for(kinesis, stream, 'pk')} in stream {stream} under account {account}.")
    finally:
        faults_client.clear(local_cloud.endpoint)
        kinesis.delete_stream(StreamName=stream)


def test_lambda_errors_and_timeouts_answer_as_lambda_does(local_cloud, faults, deployed_stack) -> None:
    client = boto3.client("lambda", config=NO_RETRIES)
    name = deployed_stack["EnricherFunctionName"]
    timeout = client.get_function_configuration(FunctionName=name)["Timeout"]
    faults(lambda_timeout=1.0, lambda_match=name)
    answer = client.invoke(FunctionName=name, Payload=b'{"records": []}', LogType="Tail")
    assert answer["FunctionError"] == "Unhandled" and answer["StatusCode"] == 200
    body = json.loads(answer["Payload"].read())
    assert body["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(rf"RequestId: [0-9a-f-]{{36}} Error: Task timed out after {timeout:.2f} seconds", body["errorMessage"])
    import base64
    assert f"Task timed out after {timeout:.2f} seconds" in base64.b64decode(answer["LogResult"]).decode()

    faults(lambda_error=1.0, lambda_match=name)
    answer = client.invoke(FunctionName=name, Payload=b'{"records": []}')
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "InjectedFault"
    faults(lambda_error=1.0, lambda_match="no-such-function")  # the filter spares the enricher
    answer = client.invoke(FunctionName=name, Payload=b'{"records": []}')
    assert "FunctionError" not in answer and json.loads(answer["Payload"].read()) == {"records": []}


def test_control_api_cli_and_status(local_cloud, faults) -> None:
    endpoint = local_cloud.endpoint
    state_dir = local_cloud.record.state_dir
    cli = [sys.executable, "-m", "pipeline_lib", "local"]
    done = subprocess.run([*cli, "faults", "set", "kinesis_throttle=0.3", "seed=9", "--state-dir", state_dir],
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("faults: kinesis_throttle=0.3 (seed 9)")
    assert faults_client.show(endpoint)["config"]["kinesis_throttle"] == 0.3
    status = subprocess.run([*cli, "status", "--state-dir", state_dir], capture_output=True, text=True)
    assert '  faults: {"config": {"seed": 9, "kinesis_throttle": 0.3}, "injected": {}}' in status.stdout.splitlines()
    bad = subprocess.run([*cli, "faults", "set", "kinesis_throttle=1.5", "--state-dir", state_dir],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: kinesis_throttle must be a rate between 0 and 1, not '1.5'"
    # The control API refuses the same with 400 and the message.
    request = urllib.request.Request(f"{endpoint}/_workbench/faults", method="POST",
                                     data=json.dumps({"set": {"lambda_timeout": "x"}}).encode())
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 400
    assert json.loads(caught.value.read()) == {"error": "lambda_timeout must be a rate between 0 and 1, not 'x'"}
    cleared = subprocess.run([*cli, "faults", "clear", "--state-dir", state_dir], capture_output=True, text=True, check=True)
    assert cleared.stdout.startswith("faults: none")


def test_faults_from_the_environment_a_crash_and_local_up_again(tmp_path, monkeypatch) -> None:
    """PIPELINE_FAULTS is read at `local up` (a bad value stops it with the message); `local faults
    crash` kills the cloud as kill -9 would; `local up` on the same state dir starts it again.
    What the new cloud still holds is the durable-state work's (not on this branch: it starts empty)."""
    state_dir = str(tmp_path / "crashing")
    monkeypatch.setenv("PIPELINE_FAULTS", "lambda_error=often")
    with pytest.raises(lifecycle.LocalCloudError, match=r"PIPELINE_FAULTS: lambda_error must be a rate between 0 and 1, not 'often'"):
        lifecycle.up(port=0, state_dir=state_dir)
    monkeypatch.setenv("PIPELINE_FAULTS", "lambda_error=0.25,seed=3")
    first = lifecycle.up(port=0, state_dir=state_dir)
    try:
        assert faults_client.show(first.endpoint)["config"]["lambda_error"] == 0.25
        assert lifecycle.status(state_dir)["extensions"]["faults"]["config"] == {"seed": 3, "lambda_error": 0.25}
        faults_client.crash(first.endpoint)
        assert lifecycle.find(state_dir) is None and not lifecycle.status(state_dir)["running"]
        monkeypatch.delenv("PIPELINE_FAULTS")
        second = lifecycle.up(port=0, state_dir=state_dir)
        assert second.record.pid != first.record.pid
        assert faults_client.show(second.endpoint)["config"]["lambda_error"] == 0.0
        assert lifecycle.status(state_dir)["running"]
    finally:
        lifecycle.down(state_dir)
