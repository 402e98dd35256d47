"""The synthesized CdcWorkbench template: every resource kind and its key properties."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cdk_template_tools import only, render, resources, state_machine_definition
from pipeline_lib import data
from pipeline_lib._deploy import synth as synth_mod
from pipeline_lib.schema import load_schema

pytestmark = pytest.mark.cdk

ROOT = Path(__file__).resolve().parents[2]
# Plain CloudFormation types only, plus the data set's BucketDeployment. Anything else (e.g.
# Custom::LogRetention, Custom::S3AutoDeleteObjects, AWS::CDK::Metadata) would need a Node.js
# custom resource or special handling in the local cloud.
EXPECTED_TYPES = {
    "AWS::Athena::WorkGroup",
    "AWS::DynamoDB::Table",
    "AWS::Glue::Crawler",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::Kinesis::Stream",
    "AWS::KinesisFirehose::DeliveryStream",
    "AWS::Lambda::Function",
    "AWS::Lambda::LayerVersion",
    "AWS::Logs::LogGroup",
    "AWS::Logs::LogStream",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::StepFunctions::StateMachine",
    "Custom::CDKBucketDeployment",
}


def _logical_id(ref: dict) -> str:
    (fn, arg), = ref.items()
    return arg if fn == "Ref" else arg[0]


def _outputs(template: dict) -> dict:
    return {name: o["Value"] for name, o in template["Outputs"].items()}


def _function(template: dict, handler: str) -> tuple[str, dict]:
    found = [(lid, r) for lid, r in resources(template, "AWS::Lambda::Function").items()
             if r["Properties"].get("Handler") == handler]
    assert len(found) == 1, f"expected one function with handler {handler}, found {len(found)}"
    return found[0]


def test_resource_types_are_plain_cloudformation(template):
    assert {r["Type"] for r in template["Resources"].values()} == EXPECTED_TYPES


def test_outputs_are_exactly_those_of_the_architecture_doc(template):
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = doc.split("## Stack outputs", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Za-z]+)`", section)) - {"CdcWorkbench"}
    assert len(documented) >= 18
    assert set(template["Outputs"]) == documented


def test_output_values(template):
    out = _outputs(template)
    schema = load_schema()
    _, firehose = only(template, "AWS::KinesisFirehose::DeliveryStream")
    _, crawler = only(template, "AWS::Glue::Crawler")
    _, workgroup = only(template, "AWS::Athena::WorkGroup")
    assert out["DataSetKey"] == "dataset/items.jsonl"
    assert out["ChangeSetKey"] == "dataset/changes.jsonl"
    assert out["LakePrefix"] == f"data/{schema.table}/"
    assert out["ErrorPrefix"] == "errors/"
    assert out["GlueDatabaseName"] == "cdc_lake"
    assert out["GlueTableName"] == schema.table
    assert out["DeliveryStreamName"] == firehose["Properties"]["DeliveryStreamName"]
    assert out["CrawlerName"] == crawler["Properties"]["Name"]
    assert out["AthenaWorkGroupName"] == workgroup["Properties"]["Name"] == "cdc-workbench"
    assert render(out["AthenaResultsLocation"]) == render(
        workgroup["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"]["OutputLocation"]
    )
    table_id, _ = only(template, "AWS::DynamoDB::Table")
    assert out["TableName"] == {"Ref": table_id}
    assert out["EnricherFunctionName"] == {"Ref": _function(template, "enricher.handler")[0]}
    assert out["SeederFunctionName"] == {"Ref": _function(template, "seeder.handler")[0]}


def test_dynamodb_table(cdk_template, template):
    from aws_cdk.assertions import Match

    stream_id, _ = only(template, "AWS::Kinesis::Stream")
    cdk_template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": {
                "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                "AttributeDefinitions": Match.array_with(
                    [{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}]
                ),
                "BillingMode": "PAY_PER_REQUEST",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "KinesisStreamSpecification": {
                    "StreamArn": {"Fn::GetAtt": [stream_id, "Arn"]},
                    "ApproximateCreationDateTimePrecision": "MILLISECOND",
                },
            },
            "DeletionPolicy": "Delete",
        },
    )


def test_kinesis_stream_on_demand_and_encrypted(cdk_template):
    cdk_template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
        },
    )


def test_buckets_private_encrypted_tls_only_and_destroyable(template):
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3
    policies = {_logical_id(p["Properties"]["Bucket"]): p for p in resources(template, "AWS::S3::BucketPolicy").values()}
    for lid, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        }, lid
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ], lid
        assert bucket["DeletionPolicy"] == "Delete", lid
        assert "BucketName" not in props, f"{lid}: CloudFormation names the buckets"
        statements = policies[lid]["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Action"] == "s3:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        ), f"{lid} does not deny plain HTTP"
    logged = {lid: b["Properties"]["LoggingConfiguration"] for lid, b in buckets.items() if "LoggingConfiguration" in b["Properties"]}
    assert len(logged) == 2, "raw and lake buckets log their access"
    assert {_logical_id(c["DestinationBucketName"]) for c in logged.values()} == set(buckets) - set(logged)


def test_firehose_delivery_stream(template):
    schema = load_schema()
    fh_id, fh = only(template, "AWS::KinesisFirehose::DeliveryStream")
    props = fh["Properties"]
    stream_id, _ = only(template, "AWS::Kinesis::Stream")
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == {"Fn::GetAtt": [stream_id, "Arn"]}
    s3 = props["ExtendedS3DestinationConfiguration"]
    # Each table has its own folder under data/ (a redeploy with another schema reads only its own).
    assert s3["Prefix"] == (
        f"data/{schema.table}/" + "year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/"
    )
    assert s3["ErrorOutputPrefix"] == (
        "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
    )
    # Every partition key in the prefix is a partition key of the Glue table, in order.
    assert re.findall(r"!\{partitionKeyFromLambda:(\w+)\}", s3["Prefix"]) == schema.partition_key_names()
    assert s3["DynamicPartitioningConfiguration"] == {"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}}
    assert s3["BufferingHints"] == {"SizeInMBs": 64, "IntervalInSeconds": 60}
    assert s3["CompressionFormat"] == "UNCOMPRESSED"
    (processor,) = s3["ProcessingConfiguration"]["Processors"]
    assert s3["ProcessingConfiguration"]["Enabled"] is True and processor["Type"] == "Lambda"
    params = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    enricher_id, _ = _function(template, "enricher.handler")
    assert params == {
        "LambdaArn": {"Fn::GetAtt": [enricher_id, "Arn"]},
        "NumberOfRetries": "3",
        "BufferSizeInMBs": "1",
        "BufferIntervalInSeconds": "60",
    }
    conversion = s3["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert "OpenXJsonSerDe" in conversion["InputFormatConfiguration"]["Deserializer"]
    assert conversion["OutputFormatConfiguration"]["Serializer"] == {"ParquetSerDe": {"Compression": "SNAPPY"}}
    schema_config = conversion["SchemaConfiguration"]
    _, glue_table = only(template, "AWS::Glue::Table")
    assert schema_config["DatabaseName"] == glue_table["Properties"]["DatabaseName"]
    assert schema_config["TableName"] == glue_table["Properties"]["TableInput"]["Name"]
    assert schema_config["VersionId"] == "LATEST"
    assert schema_config["RoleARN"] == s3["RoleARN"] == props["KinesisStreamSourceConfiguration"]["RoleARN"]
    # The stream is created after the table whose schema it reads.
    glue_table_id, _ = only(template, "AWS::Glue::Table")
    assert glue_table_id in fh["DependsOn"]


def test_firehose_logs_to_the_log_group_and_stream_the_stack_creates(template):
    _, fh = only(template, "AWS::KinesisFirehose::DeliveryStream")
    logging = fh["Properties"]["ExtendedS3DestinationConfiguration"]["CloudWatchLoggingOptions"]
    assert logging["Enabled"] is True
    group_id = _logical_id(logging["LogGroupName"])
    stream_id = _logical_id(logging["LogStreamName"])
    group = template["Resources"][group_id]
    stream = template["Resources"][stream_id]
    assert group["Type"] == "AWS::Logs::LogGroup" and stream["Type"] == "AWS::Logs::LogStream"
    assert group["Properties"]["LogGroupName"] == f"/aws/kinesisfirehose/{fh['Properties']['DeliveryStreamName']}"
    assert stream["Properties"]["LogGroupName"] == {"Ref": group_id}
    # The role may write exactly there.
    role_id = _logical_id(fh["Properties"]["ExtendedS3DestinationConfiguration"]["RoleARN"])
    log_resources = [
        render(s["Resource"])
        for p in resources(template, "AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "logs:PutLogEvents"
    ]
    assert log_resources == [
        f"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<{group_id}>:log-stream:"
        f"{stream['Properties']['LogStreamName']}"
    ]


def test_glue_table_columns_come_from_schema_json(template):
    schema = load_schema()
    lake_id = _lake_bucket_id(template)
    _, table = only(template, "AWS::Glue::Table")
    table_input = table["Properties"]["TableInput"]
    sd = table_input["StorageDescriptor"]
    as_glue = lambda cols: [{k: v for k, v in c.items() if v} for c in cols]  # noqa: E731 (empty comments omitted)
    assert sd["Columns"] == as_glue(schema.glue_columns())
    assert table_input["PartitionKeys"] == as_glue(schema.glue_partition_keys())
    assert [c["Name"] for c in table_input["PartitionKeys"]] == ["year", "month", "day"]
    assert all(c["Type"] == "string" for c in table_input["PartitionKeys"])
    assert table_input["Name"] == schema.table and table_input["TableType"] == "EXTERNAL_TABLE"
    assert render(sd["Location"]) == f"s3://<{lake_id}>/data/{schema.table}/"
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    _, database = only(template, "AWS::Glue::Database")
    assert table["Properties"]["DatabaseName"] == database["Properties"]["DatabaseInput"]["Name"] == "cdc_lake"


def test_crawler_targets_the_catalog_table(template):
    _, crawler = only(template, "AWS::Glue::Crawler")
    _, table = only(template, "AWS::Glue::Table")
    props = crawler["Properties"]
    assert props["Targets"] == {
        "CatalogTargets": [{"DatabaseName": "cdc_lake", "Tables": [table["Properties"]["TableInput"]["Name"]]}]
    }
    assert props["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    assert json.loads(props["Configuration"])["CrawlerOutput"]["Partitions"] == {"AddOrUpdateBehavior": "InheritFromTable"}
    role = template["Resources"][_logical_id(props["Role"])]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "glue.amazonaws.com"}


def test_athena_workgroup(template):
    lake_id = _lake_bucket_id(template)
    _, workgroup = only(template, "AWS::Athena::WorkGroup")
    config = workgroup["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert render(config["ResultConfiguration"]["OutputLocation"]) == f"s3://<{lake_id}>/athena-results/"
    assert config["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}


def test_lambdas(template, assembly):
    expected = {
        "enricher.handler": (60, 256),
        "seeder.handler": (900, 1024),
        "delivery_monitor.handler": (30, 128),
    }
    code_keys = set()
    for handler, (timeout, memory) in expected.items():
        lid, fn = _function(template, handler)
        props = fn["Properties"]
        assert (props["Runtime"], props["Timeout"], props["MemorySize"]) == ("python3.12", timeout, memory), handler
        group = template["Resources"][_logical_id(props["LoggingConfig"]["LogGroup"])]
        assert group["Type"] == "AWS::Logs::LogGroup" and group["Properties"]["RetentionInDays"] > 0, handler
        code_keys.add(props["Code"]["S3Key"])
    assert len(code_keys) == 1, "the three functions share one asset (the lambdas folder)"
    (asset,) = [a for a in synth_mod.asset_manifest(assembly.out_dir) if a.object_key in code_keys]
    names = {p.name for p in asset.source_path.iterdir()}
    assert {"enricher.py", "seeder.py", "delivery_monitor.py"} <= names
    assert "__pycache__" not in names and asset.packaging == "zip"

    _, seeder = _function(template, "seeder.handler")
    env = seeder["Properties"]["Environment"]["Variables"]
    out = _outputs(template)
    assert env["DATA_SET_KEYS"] == f"{out['DataSetKey']},{out['ChangeSetKey']}"
    assert env["RAW_BUCKET"] == out["RawBucketName"] and env["TABLE_NAME"] == out["TableName"]


def test_dataset_deployment(template, assembly):
    _, deployment = only(template, "Custom::CDKBucketDeployment")
    props = deployment["Properties"]
    raw_id = _logical_id(_outputs(template)["RawBucketName"])
    assert props["DestinationBucketName"] == {"Ref": raw_id}
    assert props["DestinationBucketKeyPrefix"] == "dataset/"
    assert props["Extract"] is True and props["RetainOnDelete"] is False
    handler = template["Resources"][_logical_id(props["ServiceToken"])]
    assert handler["Properties"]["MemorySize"] <= 256
    (key,) = props["SourceObjectKeys"]
    (asset,) = [a for a in synth_mod.asset_manifest(assembly.out_dir) if a.object_key == key]
    assert sorted(p.name for p in asset.source_path.iterdir()) == ["changes.jsonl", "items.jsonl"]
    ctx = assembly.context
    items = (asset.source_path / "items.jsonl").read_text(encoding="utf-8").splitlines()
    changes = (asset.source_path / "changes.jsonl").read_text(encoding="utf-8").splitlines()
    assert (len(items), len(changes)) == (ctx["items"], ctx["updates"] + ctx["deletes"])
    # Deterministic: the same context gives the same bytes as the generator.
    expected = "".join(data.dumps_line(r) for r in data.generate_items(ctx["items"], ctx["seed"]))
    assert "\n".join(items) + "\n" == expected


def test_no_log_retention_or_auto_delete_custom_resources(template):
    for lid, fn in resources(template, "AWS::Lambda::Function").items():
        assert "LoggingConfig" in fn["Properties"], f"{lid} has no explicit log group"
    for group in resources(template, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 7 and group["DeletionPolicy"] == "Delete"


def test_state_machine_polls_instead_of_waiting_fixed_minutes(template):
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["TracingConfiguration"] == {"Enabled": True}
    asl = state_machine_definition(machine)
    states = asl["States"]

    waits = {name: s for name, s in states.items() if s["Type"] == "Wait"}
    assert waits and all(s == {"Type": "Wait", "SecondsPath": "$.pollSeconds", "Next": s["Next"]} for s in waits.values())
    defaults = states[asl["StartAt"]]
    assert defaults["Type"] == "Pass" and defaults["Parameters"] == {"pollSeconds": 10, "maxPolls": 90}

    seeder_id, _ = _function(template, "seeder.handler")
    monitor_id, _ = _function(template, "delivery_monitor.handler")
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    by_resource = {s["Resource"]: name for name, s in tasks.items()}
    assert f"<{seeder_id}.Arn>" in by_resource and f"<{monitor_id}.Arn>" in by_resource
    check = tasks[by_resource[f"<{monitor_id}.Arn>"]]
    assert check["Parameters"] == {
        "deliveryStreamName": _outputs(template)["DeliveryStreamName"],
        "streamName": render(_outputs(template)["StreamName"]),  # the source stream (a Ref)
        "sinceEpochMs.$": "$.seed.startedAt",
        "expectedRecords.$": "$.seed.written",
    }
    crawler_name = _outputs(template)["CrawlerName"]
    for action in ("startCrawler", "getCrawler"):
        (task,) = [s for s in tasks.values() if s["Resource"].endswith(f":states:::aws-sdk:glue:{action}")]
        assert task["Parameters"] == {"Name": crawler_name}

    choices = [c for s in states.values() if s["Type"] == "Choice" for c in s["Choices"]]
    flat = json.dumps(choices)
    assert '"Variable": "$.delivery.drained", "BooleanEquals": true' in flat
    assert '"Variable": "$.crawler.Crawler.State", "StringEquals": "READY"' in flat
    assert '"Variable": "$.crawler.Crawler.LastCrawl.Status", "StringEquals": "SUCCEEDED"' in flat
    assert flat.count('"NumericGreaterThanEqualsPath": "$.maxPolls"') == 2, "both loops give up after maxPolls"
    fails = {s.get("Error") for s in states.values() if s["Type"] == "Fail"}
    assert {"InvalidInput", "DeliveryNotDrained", "CrawlerNotReady", "CrawlFailed"} <= fails
    assert any(s.get("CausePath") == "$.crawler.Crawler.LastCrawl.ErrorMessage" for s in states.values())


def test_state_machine_graph_is_closed_and_reachable(template):
    _, machine = only(template, "AWS::StepFunctions::StateMachine")
    asl = state_machine_definition(machine)
    states = asl["States"]

    def targets(state: dict) -> list[str]:
        out = [state[k] for k in ("Next", "Default") if k in state]
        out += [c["Next"] for c in state.get("Choices", [])]
        out += [c["Next"] for c in state.get("Catch", [])]
        return out

    seen, todo = set(), [asl["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        assert name in states, f"transition to unknown state {name}"
        seen.add(name)
        todo.extend(targets(states[name]))
    assert seen == set(states), f"unreachable states: {set(states) - seen}"
    terminal = {n for n, s in states.items() if s["Type"] in ("Succeed", "Fail") or s.get("End")}
    assert {n for n, s in states.items() if states[n]["Type"] == "Succeed"} == {"Done"}
    assert all(targets(states[n]) for n in set(states) - terminal)


def _lake_bucket_id(template: dict) -> str:
    return _logical_id(_outputs(template)["LakeBucketName"])
