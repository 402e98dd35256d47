"""The resource types moto skips, created by CloudFormation in the local cloud with their full
configuration (read back through each service's API), updated in place, deleted; and stacks that
fail as on AWS: a type the local cloud cannot create fails the stack, naming the type."""
from __future__ import annotations

import copy
import io
import json
import urllib.request
import uuid
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def _events(cf: Any, stack: str) -> list[dict[str, Any]]:
    return list(reversed(cf.describe_stack_events(StackName=stack)["StackEvents"]))


def _status(cf: Any, stack: str) -> str:
    return cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def _outputs(cf: Any, stack: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])}


def _reasons(cf: Any, stack: str) -> list[str]:
    return [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in _events(cf, stack) if e["ResourceStatus"].endswith("FAILED")
    ]


def _role(service: str) -> dict[str, Any]:
    """A role the service may use for anything: these stacks test CloudFormation, not IAM (the
    local cloud enforces role policies; tests/integration/test_iam_enforcement.py covers that)."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
            },
            "Policies": [{"PolicyName": "test-anything", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}],
        },
    }


def _pipeline_template(uid: str) -> dict[str, Any]:
    """Kinesis -> Firehose (Lambda, dynamic partitioning, Parquet from a Glue table) -> S3, the
    crawler and the workgroup: the shapes the CDK app uses."""
    lake_arn = {"Fn::GetAtt": ["Lake", "Arn"]}
    role_arn = {"Fn::GetAtt": ["DeliveryRole", "Arn"]}
    return {
        "Resources": {
            "Lake": {"Type": "AWS::S3::Bucket"},
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
            "DeliveryRole": _role("firehose.amazonaws.com"),
            "CrawlerRole": _role("glue.amazonaws.com"),
            "FnRole": _role("lambda.amazonaws.com"),
            "Enricher": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["FnRole", "Arn"]},
                    "Code": {"ZipFile": "def handler(event, context):\n    return {'records': []}\n"},
                },
            },
            "Database": {
                "Type": "AWS::Glue::Database",
                "Properties": {"CatalogId": {"Ref": "AWS::AccountId"},
                               "DatabaseInput": {"Name": f"db_{uid}", "Description": "the lake"}},
            },
            "Table": {
                "Type": "AWS::Glue::Table",
                "DependsOn": "Database",
                "Properties": {
                    "CatalogId": {"Ref": "AWS::AccountId"},
                    "DatabaseName": f"db_{uid}",
                    "TableInput": {
                        "Name": "events",
                        "Description": "cdc events",
                        "TableType": "EXTERNAL_TABLE",
                        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
                        "PartitionKeys": [{"Name": "year", "Type": "string", "Comment": "yyyy"},
                                          {"Name": "month", "Type": "string"}],
                        "StorageDescriptor": {
                            "Columns": [{"Name": "order_id", "Type": "string"}, {"Name": "total", "Type": "decimal(12,2)"}],
                            "Location": {"Fn::Join": ["", ["s3://", {"Ref": "Lake"}, "/data/"]]},
                            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                            "Compressed": False,
                            "StoredAsSubDirectories": False,
                            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                                          "Parameters": {"serialization.format": "1"}},
                        },
                    },
                },
            },
            "Crawler": {
                "Type": "AWS::Glue::Crawler",
                "DependsOn": "Table",
                "Properties": {
                    "Name": f"crawler-{uid}",
                    "Role": {"Fn::GetAtt": ["CrawlerRole", "Arn"]},
                    "DatabaseName": f"db_{uid}",
                    "Description": "adds partitions",
                    "Targets": {"CatalogTargets": [{"DatabaseName": f"db_{uid}", "Tables": ["events"]}]},
                    "SchemaChangePolicy": {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
                    "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_EVERYTHING"},
                    "Configuration": json.dumps({"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}}),
                },
            },
            "WorkGroup": {
                "Type": "AWS::Athena::WorkGroup",
                "Properties": {
                    "Name": f"wg-{uid}",
                    "Description": "lake queries",
                    "State": "ENABLED",
                    "RecursiveDeleteOption": True,
                    "WorkGroupConfiguration": {
                        "EnforceWorkGroupConfiguration": True,
                        "PublishCloudWatchMetricsEnabled": "true",
                        "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
                        "ResultConfiguration": {
                            "OutputLocation": {"Fn::Join": ["", ["s3://", {"Ref": "Lake"}, "/athena-results/"]]},
                            "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
                        },
                    },
                },
            },
            "StatesRole": _role("states.amazonaws.com"),
            "Flow": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": {"Fn::GetAtt": ["StatesRole", "Arn"]},
                    "Definition": {"StartAt": "Crawl", "States": {"Crawl": {
                        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler",
                        "Parameters": {"Name": "${CrawlerName}"}, "End": True}}},
                    "DefinitionSubstitutions": {"CrawlerName": {"Ref": "Crawler"}},
                    "LoggingConfiguration": {"Level": "ALL", "IncludeExecutionData": True, "Destinations": [
                        {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["Logs", "Arn"]}}}]},
                    "TracingConfiguration": {"Enabled": True},
                },
            },
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/aws/kinesisfirehose/fh-{uid}"}},
            "LogStream": {"Type": "AWS::Logs::LogStream",
                          "Properties": {"LogGroupName": {"Ref": "Logs"}, "LogStreamName": "DestinationDelivery"}},
            "Delivery": {
                "Type": "AWS::KinesisFirehose::DeliveryStream",
                "DependsOn": "Table",
                "Properties": {
                    "DeliveryStreamName": f"fh-{uid}",
                    "DeliveryStreamType": "KinesisStreamAsSource",
                    "KinesisStreamSourceConfiguration": {"KinesisStreamARN": {"Fn::GetAtt": ["Stream", "Arn"]}, "RoleARN": role_arn},
                    "ExtendedS3DestinationConfiguration": {
                        "BucketARN": lake_arn,
                        "RoleARN": role_arn,
                        "Prefix": "data/year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/",
                        "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
                        "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": "64"},
                        "CompressionFormat": "UNCOMPRESSED",
                        "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
                        "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": {"Ref": "Logs"},
                                                     "LogStreamName": {"Ref": "LogStream"}},
                        "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                            {"ParameterName": "LambdaArn", "ParameterValue": {"Fn::GetAtt": ["Enricher", "Arn"]}},
                            {"ParameterName": "NumberOfRetries", "ParameterValue": "3"},
                            {"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"},
                            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "60"},
                        ]}]},
                        "DynamicPartitioningConfiguration": {"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}},
                        "DataFormatConversionConfiguration": {
                            "Enabled": True,
                            "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {"CaseInsensitive": True}}},
                            "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
                            "SchemaConfiguration": {"CatalogId": {"Ref": "AWS::AccountId"}, "DatabaseName": f"db_{uid}",
                                                    "TableName": "events", "Region": {"Ref": "AWS::Region"},
                                                    "RoleARN": role_arn, "VersionId": "LATEST"},
                        },
                    },
                },
            },
        },
        "Outputs": {
            "DeliveryArn": {"Value": {"Fn::GetAtt": ["Delivery", "Arn"]}},
            "DeliveryName": {"Value": {"Ref": "Delivery"}},
            "DatabaseName": {"Value": {"Ref": "Database"}},
            "TableName": {"Value": {"Ref": "Table"}},
            "CrawlerName": {"Value": {"Ref": "Crawler"}},
            "WorkGroupName": {"Value": {"Ref": "WorkGroup"}},
            "EngineVersion": {"Value": {"Fn::GetAtt": ["WorkGroup", "WorkGroupConfiguration.EngineVersion.EffectiveEngineVersion"]}},
            "LogStreamName": {"Value": {"Ref": "LogStream"}},
            "StreamArn": {"Value": {"Fn::GetAtt": ["Stream", "Arn"]}},
            "LakeName": {"Value": {"Ref": "Lake"}},
            "FlowArn": {"Value": {"Ref": "Flow"}},
            "FlowName": {"Value": {"Fn::GetAtt": ["Flow", "Name"]}},
        },
    }


def test_pipeline_resources_are_created_with_full_configuration_updated_and_deleted(local_cloud, boto_session) -> None:
    uid = _uid()
    cf, fh, glue, athena, logs, s3 = (boto_session.client(s) for s in ("cloudformation", "firehose", "glue", "athena", "logs", "s3"))
    stack = f"pipeline-{uid}"
    template = _pipeline_template(uid)
    cf.create_stack(StackName=stack, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    assert _status(cf, stack) == "CREATE_COMPLETE", _reasons(cf, stack)
    out = _outputs(cf, stack)
    lake = out["LakeName"]

    # Firehose: every configured field reads back as configured (typed as the API types it).
    description = fh.describe_delivery_stream(DeliveryStreamName=f"fh-{uid}")["DeliveryStreamDescription"]
    assert out["DeliveryArn"] == description["DeliveryStreamARN"] and out["DeliveryName"] == f"fh-{uid}"
    assert description["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert description["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"] == out["StreamArn"]
    destination = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    configured = copy.deepcopy(template["Resources"]["Delivery"]["Properties"]["ExtendedS3DestinationConfiguration"])
    assert set(configured) <= set(destination), set(configured) - set(destination)
    assert destination["BucketARN"] == f"arn:aws:s3:::{lake}"
    assert destination["Prefix"] == configured["Prefix"] and destination["ErrorOutputPrefix"] == configured["ErrorOutputPrefix"]
    assert destination["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 64}
    assert destination["CompressionFormat"] == "UNCOMPRESSED"
    assert destination["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    assert destination["CloudWatchLoggingOptions"] == {
        "Enabled": True, "LogGroupName": f"/aws/kinesisfirehose/fh-{uid}", "LogStreamName": "DestinationDelivery"}
    processor = destination["ProcessingConfiguration"]["Processors"][0]
    assert processor["Type"] == "Lambda"
    assert {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}["NumberOfRetries"] == "3"
    assert ":function:" in {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}["LambdaArn"]
    assert destination["DynamicPartitioningConfiguration"] == {"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}}
    conversion = destination["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert conversion["SchemaConfiguration"]["TableName"] == "events" and conversion["SchemaConfiguration"]["CatalogId"] == ACCOUNT
    assert conversion["OutputFormatConfiguration"] == {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}}
    assert conversion["InputFormatConfiguration"] == {"Deserializer": {"OpenXJsonSerDe": {"CaseInsensitive": True}}}

    # Glue: database, table (partition keys, storage descriptor, parameters, type), crawler.
    assert out["DatabaseName"] == f"db_{uid}" and out["TableName"] == "events"
    assert glue.get_database(Name=f"db_{uid}")["Database"]["Description"] == "the lake"
    table = glue.get_table(DatabaseName=f"db_{uid}", Name="events")["Table"]
    assert table["TableType"] == "EXTERNAL_TABLE" and table["Parameters"]["classification"] == "parquet"
    assert [k["Name"] for k in table["PartitionKeys"]] == ["year", "month"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{lake}/data/"
    assert [c["Type"] for c in table["StorageDescriptor"]["Columns"]] == ["string", "decimal(12,2)"]
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"serialization.format": "1"}
    crawler = glue.get_crawler(Name=f"crawler-{uid}")["Crawler"]
    assert out["CrawlerName"] == f"crawler-{uid}"
    assert crawler["Targets"]["CatalogTargets"] == [{"DatabaseName": f"db_{uid}", "Tables": ["events"]}]
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    assert crawler["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_EVERYTHING"}
    assert json.loads(crawler["Configuration"])["CrawlerOutput"]["Partitions"]["AddOrUpdateBehavior"] == "InheritFromTable"
    assert crawler["Role"].endswith(":role/" + crawler["Role"].rsplit("/", 1)[-1]) and crawler["DatabaseName"] == f"db_{uid}"

    # Athena and Logs.
    work_group = athena.get_work_group(WorkGroup=f"wg-{uid}")["WorkGroup"]
    assert work_group["Configuration"]["ResultConfiguration"]["OutputLocation"] == f"s3://{lake}/athena-results/"
    assert work_group["Configuration"]["PublishCloudWatchMetricsEnabled"] is True
    assert work_group["State"] == "ENABLED" and work_group["Description"] == "lake queries"
    assert out["EngineVersion"] == "Athena engine version 3" and out["WorkGroupName"] == f"wg-{uid}"
    streams = logs.describe_log_streams(logGroupName=f"/aws/kinesisfirehose/fh-{uid}")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["DestinationDelivery"] == [out["LogStreamName"]]

    # Step Functions: in the backend the API (and executions) use, with its full configuration.
    machine = boto_session.client("stepfunctions").describe_state_machine(stateMachineArn=out["FlowArn"])
    assert machine["name"] == out["FlowName"]
    assert json.loads(machine["definition"])["States"]["Crawl"]["Parameters"] == {"Name": f"crawler-{uid}"}
    assert machine["loggingConfiguration"]["level"] == "ALL" and machine["loggingConfiguration"]["includeExecutionData"]
    assert machine["tracingConfiguration"] == {"enabled": True}

    # Update in place: same ARN and names, new configuration; a removed resource is deleted.
    version_before = description["VersionId"]
    updated = copy.deepcopy(template)
    props = updated["Resources"]["Delivery"]["Properties"]["ExtendedS3DestinationConfiguration"]
    props["BufferingHints"] = {"IntervalInSeconds": 120, "SizeInMBs": 128}
    del props["DynamicPartitioningConfiguration"]["RetryOptions"]
    updated["Resources"]["Table"]["Properties"]["TableInput"]["StorageDescriptor"]["Columns"].append({"Name": "status", "Type": "string"})
    updated["Resources"]["Crawler"]["Properties"]["Description"] = "adds partitions, hourly"
    updated["Resources"]["Crawler"]["Properties"]["Schedule"] = {"ScheduleExpression": "cron(0 * * * ? *)"}
    updated["Resources"]["WorkGroup"]["Properties"]["State"] = "DISABLED"
    updated["Resources"]["WorkGroup"]["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"]["OutputLocation"] = {
        "Fn::Join": ["", ["s3://", {"Ref": "Lake"}, "/results-v2/"]]}
    updated["Resources"]["Database"]["Properties"]["DatabaseInput"]["Description"] = "the lake, v2"
    cf.update_stack(StackName=stack, TemplateBody=json.dumps(updated), Capabilities=["CAPABILITY_IAM"])
    assert _status(cf, stack) == "UPDATE_COMPLETE", _reasons(cf, stack)
    after = fh.describe_delivery_stream(DeliveryStreamName=f"fh-{uid}")["DeliveryStreamDescription"]
    assert after["DeliveryStreamARN"] == description["DeliveryStreamARN"]
    assert int(after["VersionId"]) == int(version_before) + 1
    new_destination = after["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert new_destination["BufferingHints"] == {"IntervalInSeconds": 120, "SizeInMBs": 128}
    assert new_destination["DynamicPartitioningConfiguration"] == {"Enabled": True}
    assert [c["Name"] for c in glue.get_table(DatabaseName=f"db_{uid}", Name="events")["Table"]["StorageDescriptor"]["Columns"]][-1] == "status"
    crawler = glue.get_crawler(Name=f"crawler-{uid}")["Crawler"]
    assert crawler["Description"] == "adds partitions, hourly" and crawler["Schedule"]["ScheduleExpression"] == "cron(0 * * * ? *)"
    assert crawler["Version"] == 2
    work_group = athena.get_work_group(WorkGroup=f"wg-{uid}")["WorkGroup"]
    assert work_group["State"] == "DISABLED"
    assert work_group["Configuration"]["ResultConfiguration"]["OutputLocation"] == f"s3://{lake}/results-v2/"
    assert glue.get_database(Name=f"db_{uid}")["Database"]["Description"] == "the lake, v2"
    # Updating with the same template is refused, as on AWS.
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cf.update_stack(StackName=stack, TemplateBody=json.dumps(updated), Capabilities=["CAPABILITY_IAM"])

    # Delete: every resource is gone from its service.
    cf.delete_stack(StackName=stack)
    assert stack not in [s["StackName"] for s in cf.describe_stacks()["Stacks"]]
    assert f"fh-{uid}" not in fh.list_delivery_streams()["DeliveryStreamNames"]
    assert f"db_{uid}" not in [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    assert f"crawler-{uid}" not in [c["Name"] for c in glue.get_crawlers()["Crawlers"]]
    assert f"wg-{uid}" not in [w["Name"] for w in athena.list_work_groups()["WorkGroups"]]
    assert f"/aws/kinesisfirehose/fh-{uid}" not in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=lake)
    with pytest.raises(ClientError, match="StateMachineDoesNotExist|does not exist|Not Exist"):
        boto_session.client("stepfunctions").describe_state_machine(stateMachineArn=out["FlowArn"])


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _deployment_template(source_bucket: str, keys: list[str], prefix: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Site": {"Type": "AWS::S3::Bucket"},
            "HandlerRole": _role("lambda.amazonaws.com"),
            "Handler": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "python3.12", "Handler": "index.handler", "Role": {"Fn::GetAtt": ["HandlerRole", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    raise RuntimeError('the native provider answers')\n"}}},
            "Deployment": {
                "Type": "Custom::CDKBucketDeployment",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
                    "SourceBucketNames": [source_bucket] * len(keys),
                    "SourceObjectKeys": keys,
                    "SourceMarkers": [{"<<site>>": {"Ref": "Site"}}] + [{}] * (len(keys) - 1),
                    "DestinationBucketName": {"Ref": "Site"},
                    "DestinationBucketArn": {"Fn::GetAtt": ["Site", "Arn"]},
                    "DestinationBucketKeyPrefix": prefix,
                    "Extract": True,
                    "Prune": True,
                    "RetainOnDelete": False,
                    "Exclude": ["*.tmp"],
                    "SystemMetadata": {"cache-control": "max-age=60"},
                    "UserMetadata": {"owner": "workbench"},
                    "OutputObjectKeys": True,
                },
            },
        },
        "Outputs": {
            "Site": {"Value": {"Ref": "Site"}},
            "Arn": {"Value": {"Fn::GetAtt": ["Deployment", "DestinationBucketArn"]}},
            "Keys": {"Value": {"Fn::Join": [",", {"Fn::GetAtt": ["Deployment", "SourceObjectKeys"]}]}},
            "Id": {"Value": {"Ref": "Deployment"}},
        },
    }


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def test_bucket_deployment_syncs_zips_into_the_bucket(local_cloud, boto_session) -> None:
    uid = _uid()
    cf, s3 = boto_session.client("cloudformation"), boto_session.client("s3")
    source = f"assets-{uid}"
    s3.create_bucket(Bucket=source)
    s3.put_object(Bucket=source, Key="v1.zip", Body=_zip({
        "index.html": b"<a href='<<site>>'>home</a>\n", "data/items.jsonl": b'{"a": 1}\n', "scratch.tmp": b"x"}))
    s3.put_object(Bucket=source, Key="extra.zip", Body=_zip({"data/more.json": b"[]"}))
    s3.put_object(Bucket=source, Key="v2.zip", Body=_zip({"index.html": b"v2 <<site>>"}))
    stack = f"deployment-{uid}"

    cf.create_stack(StackName=stack, TemplateBody=json.dumps(_deployment_template(source, ["v1.zip", "extra.zip"], "web")))
    assert _status(cf, stack) == "CREATE_COMPLETE", _reasons(cf, stack)
    out = _outputs(cf, stack)
    site = out["Site"]
    assert _keys(s3, site) == ["web/data/items.jsonl", "web/data/more.json", "web/index.html"]  # *.tmp excluded
    page = s3.get_object(Bucket=site, Key="web/index.html")
    assert page["Body"].read() == f"<a href='{site}'>home</a>\n".encode()  # marker replaced
    assert page["CacheControl"] == "max-age=60" and page["Metadata"] == {"owner": "workbench"}
    assert page["ContentType"] == "text/html"
    assert out["Arn"] == f"arn:aws:s3:::{site}" and out["Keys"] == "v1.zip,extra.zip"
    assert out["Id"].startswith("aws.cdk.s3deployment.")

    # Update: new sources replace the files; Prune deletes the rest under the prefix, except
    # what the filters exclude; objects outside the prefix are not touched.
    s3.put_object(Bucket=site, Key="web/keep.tmp", Body=b"excluded from the sync, so not pruned")
    s3.put_object(Bucket=site, Key="other/file.txt", Body=b"outside the prefix")
    cf.update_stack(StackName=stack, TemplateBody=json.dumps(_deployment_template(source, ["v2.zip"], "web")))
    assert _status(cf, stack) == "UPDATE_COMPLETE", _reasons(cf, stack)
    assert _keys(s3, site) == ["other/file.txt", "web/index.html", "web/keep.tmp"]
    assert s3.get_object(Bucket=site, Key="web/index.html")["Body"].read() == f"v2 {site}".encode()
    assert _outputs(cf, stack)["Id"] == out["Id"]  # same physical resource

    # A new destination prefix: the old one is emptied (RetainOnDelete is false).
    cf.update_stack(StackName=stack, TemplateBody=json.dumps(_deployment_template(source, ["v2.zip"], "app/")))
    assert _status(cf, stack) == "UPDATE_COMPLETE", _reasons(cf, stack)
    assert _keys(s3, site) == ["app/index.html", "other/file.txt"]

    # Delete: the deployment removes its files; the bucket still holds other/file.txt, so its
    # delete fails and the stack stays, DELETE_FAILED, as on AWS. Emptied, a retry completes.
    cf.delete_stack(StackName=stack)
    summary = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert summary["StackStatus"] == "DELETE_FAILED" and "[Site]" in summary["StackStatusReason"]
    assert any("Site" in r and "not empty" in r for r in _reasons(cf, stack)), _reasons(cf, stack)
    assert _keys(s3, site) == ["other/file.txt"]
    s3.delete_object(Bucket=site, Key="other/file.txt")
    cf.delete_stack(StackName=stack)
    assert stack not in [s["StackName"] for s in cf.describe_stacks()["Stacks"]]
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=site)


def test_bucket_configuration_is_applied_and_updated(local_cloud, boto_session) -> None:
    uid = _uid()
    cf, s3 = boto_session.client("cloudformation"), boto_session.client("s3")
    stack = f"buckets-{uid}"

    def template(lifecycle: bool, versioning: str) -> str:
        data = {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                "VersioningConfiguration": {"Status": versioning},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LoggingConfiguration": {"DestinationBucketName": {"Ref": "Logs"}, "LogFilePrefix": "data/"},
                "Tags": [{"Key": "team", "Value": "lake"}],
            },
        }
        if lifecycle:
            data["Properties"]["LifecycleConfiguration"] = {"Rules": [
                {"Id": "abort", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
                {"Id": "expire", "Status": "Enabled", "Prefix": "tmp/", "ExpirationInDays": 30,
                 "NoncurrentVersionExpiration": {"NoncurrentDays": 7}},
            ]}
        return json.dumps({"Resources": {"Logs": {"Type": "AWS::S3::Bucket"}, "Data": data},
                           "Outputs": {"Data": {"Value": {"Ref": "Data"}}, "Logs": {"Value": {"Ref": "Logs"}}}})

    cf.create_stack(StackName=stack, TemplateBody=template(True, "Enabled"))
    assert _status(cf, stack) == "CREATE_COMPLETE", _reasons(cf, stack)
    data, logs = _outputs(cf, stack)["Data"], _outputs(cf, stack)["Logs"]
    assert s3.get_bucket_versioning(Bucket=data)["Status"] == "Enabled"
    assert s3.get_public_access_block(Bucket=data)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert s3.get_bucket_ownership_controls(Bucket=data)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert s3.get_bucket_logging(Bucket=data)["LoggingEnabled"] == {"TargetBucket": logs, "TargetPrefix": "data/"}
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=data)["Rules"]}
    assert rules["abort"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rules["expire"]["Expiration"] == {"Days": 30} and rules["expire"]["Filter"] == {"Prefix": "tmp/"}
    assert rules["expire"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
    assert s3.get_bucket_encryption(Bucket=data)["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_tagging(Bucket=data)["TagSet"] == [{"Key": "team", "Value": "lake"}]

    cf.update_stack(StackName=stack, TemplateBody=template(False, "Suspended"))
    assert _status(cf, stack) == "UPDATE_COMPLETE", _reasons(cf, stack)
    assert _outputs(cf, stack)["Data"] == data  # in place
    assert s3.get_bucket_versioning(Bucket=data)["Status"] == "Suspended"
    with pytest.raises(ClientError, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket=data)
    # S3 delivered server access logs for the requests above, as AWS does: the logs bucket must
    # be emptied before the stack can delete it.
    logged = _keys(s3, logs, "data/")
    assert logged
    for key in logged:
        s3.delete_object(Bucket=logs, Key=key)
    cf.delete_stack(StackName=stack)
    assert stack not in [s["StackName"] for s in cf.describe_stacks()["Stacks"]], _reasons(cf, stack)


def test_auto_delete_objects_empties_its_bucket_on_delete(local_cloud, boto_session) -> None:
    uid = _uid()
    cf, s3 = boto_session.client("cloudformation"), boto_session.client("s3")
    stack = f"autodelete-{uid}"
    template = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketName": f"auto-{uid}", "VersioningConfiguration": {"Status": "Enabled"},
            "Tags": [{"Key": "aws-cdk:auto-delete-objects", "Value": "true"}]}},
        "HandlerRole": _role("lambda.amazonaws.com"),
        "Handler": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "nodejs22.x", "Handler": "index.handler", "Role": {"Fn::GetAtt": ["HandlerRole", "Arn"]},
            "Code": {"ZipFile": "exports.handler = async () => {};"}}},
        "AutoDelete": {"Type": "Custom::S3AutoDeleteObjects", "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}, "BucketName": {"Ref": "Bucket"}}},
    }}
    cf.create_stack(StackName=stack, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    assert _status(cf, stack) == "CREATE_COMPLETE", _reasons(cf, stack)
    for body in (b"one", b"two"):  # two versions of one key, plus another key
        s3.put_object(Bucket=f"auto-{uid}", Key="k", Body=body)
    s3.put_object(Bucket=f"auto-{uid}", Key="other", Body=b"x")
    cf.delete_stack(StackName=stack)
    assert stack not in [s["StackName"] for s in cf.describe_stacks()["Stacks"]], _reasons(cf, stack)
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=f"auto-{uid}")


def test_unsupported_type_fails_the_stack_naming_the_type(local_cloud, boto_session) -> None:
    uid = _uid()
    cf, s3 = boto_session.client("cloudformation"), boto_session.client("s3")
    stack = f"unsupported-{uid}"
    template = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Service": {"Type": "AWS::AppRunner::Service", "DependsOn": "Bucket", "Properties": {"ServiceName": uid}},
        },
        "Outputs": {"Name": {"Value": {"Ref": "Bucket"}}},
    }
    cf.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    summary = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert summary["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "Outputs" not in summary
    assert any(e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS" and "[Service]" in e["ResourceStatusReason"]
               for e in _events(cf, stack))
    events = _events(cf, stack)
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Service"]
    assert "AWS::AppRunner::Service" in failed[0]["ResourceStatusReason"]
    assert "not supported by the local cloud" in failed[0]["ResourceStatusReason"]
    bucket = next(e["PhysicalResourceId"] for e in events if e["LogicalResourceId"] == "Bucket" and e["ResourceStatus"] == "CREATE_COMPLETE")
    assert [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "Bucket"][-1] == "DELETE_COMPLETE"
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=bucket)  # rolled back
    assert cf.list_stack_resources(StackName=stack)["StackResourceSummaries"] == []
    with pytest.raises(ClientError, match="ROLLBACK_COMPLETE"):
        cf.update_stack(StackName=stack, TemplateBody=json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}))
    cf.delete_stack(StackName=stack)


def test_failed_update_rolls_back_to_the_previous_template(local_cloud, boto_session) -> None:
    uid = _uid()
    cf, s3 = boto_session.client("cloudformation"), boto_session.client("s3")
    stack = f"rollback-{uid}"
    first = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"first-{uid}"}}}}
    cf.create_stack(StackName=stack, TemplateBody=json.dumps(first))
    second = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"first-{uid}"}},
        "Added": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"added-{uid}"}},
        "Broken": {"Type": "AWS::Glue::Table", "DependsOn": "Added",
                   "Properties": {"CatalogId": ACCOUNT, "DatabaseName": f"missing_{uid}", "TableInput": {"Name": "t"}}},
    }}
    cf.update_stack(StackName=stack, TemplateBody=json.dumps(second))
    assert _status(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"
    reasons = _reasons(cf, stack)
    assert any(r.startswith("Broken:") and "missing_" in r for r in reasons), reasons
    s3.head_bucket(Bucket=f"first-{uid}")
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=f"added-{uid}")  # what the failed update added is gone
    assert [r["LogicalResourceId"] for r in cf.list_stack_resources(StackName=stack)["StackResourceSummaries"]] == ["Bucket"]
    assert cf.get_template(StackName=stack)["TemplateBody"] == first
    cf.delete_stack(StackName=stack)


def test_rules_and_ssm_parameters_are_checked_before_anything_is_created(local_cloud, boto_session) -> None:
    uid = _uid()
    cf, ssm = boto_session.client("cloudformation"), boto_session.client("ssm")
    parameter = f"/test/{uid}/version"
    template = {
        "Parameters": {"Version": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": parameter}},
        "Rules": {"CheckVersion": {"Assertions": [{
            "Assert": {"Fn::Not": [{"Fn::Contains": [["1", "2", "3", "4", "5"], {"Ref": "Version"}]}]},
            "AssertDescription": "bootstrap version 6 required"}]}},
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
    }
    with pytest.raises(ClientError, match=f"Unable to fetch parameters \\[{parameter}\\]"):
        cf.create_stack(StackName=f"rules-{uid}", TemplateBody=json.dumps(template))
    ssm.put_parameter(Name=parameter, Value="5", Type="String")
    with pytest.raises(ClientError, match="bootstrap version 6 required"):
        cf.create_stack(StackName=f"rules-{uid}", TemplateBody=json.dumps(template))
    ssm.put_parameter(Name=parameter, Value="30", Type="String", Overwrite=True)
    cf.create_stack(StackName=f"rules-{uid}", TemplateBody=json.dumps(template))
    assert _status(cf, f"rules-{uid}") == "CREATE_COMPLETE"
    cf.delete_stack(StackName=f"rules-{uid}")


def test_bucket_policies_deny_as_written(local_cloud, boto_session) -> None:
    """CDK's enforceSSL statement does not deny the local cloud's (loopback) requests; a plain
    Deny does."""
    uid = _uid()
    cf, s3 = boto_session.client("cloudformation"), boto_session.client("s3")
    arn = {"Fn::GetAtt": ["Bucket", "Arn"]}
    objects = {"Fn::Join": ["", [arn, "/*"]]}
    template = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"policy-{uid}"}},
        "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": [arn, objects],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": {"Fn::Join": ["", [arn, "/private/*"]]}},
            ]}}},
    }}
    cf.create_stack(StackName=f"policy-{uid}", TemplateBody=json.dumps(template))
    assert _status(cf, f"policy-{uid}") == "CREATE_COMPLETE", _reasons(cf, f"policy-{uid}")
    assert json.loads(s3.get_bucket_policy(Bucket=f"policy-{uid}")["Policy"])["Statement"][1]["Resource"].endswith("/private/*")
    s3.put_object(Bucket=f"policy-{uid}", Key="public/a", Body=b"a")
    s3.put_object(Bucket=f"policy-{uid}", Key="private/b", Body=b"b")
    assert s3.get_object(Bucket=f"policy-{uid}", Key="public/a")["Body"].read() == b"a"
    with pytest.raises(ClientError, match="403|AccessDenied|Forbidden"):
        s3.get_object(Bucket=f"policy-{uid}", Key="private/b")
    for key in ("public/a", "private/b"):
        s3.delete_object(Bucket=f"policy-{uid}", Key=key)
    cf.delete_stack(StackName=f"policy-{uid}")
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=f"policy-{uid}")


def _extensions(endpoint: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{endpoint}/_workbench/status", timeout=10) as answer:  # noqa: S310
        return json.loads(answer.read())["extensions"]


PROVIDER = """
import json, boto3, cfnresponse

def handler(event, context):
    props = event["ResourceProperties"]
    if event["RequestType"] == "Delete":
        boto3.client("s3").put_object(Bucket=props["Bucket"], Key="deleted/" + event["PhysicalResourceId"], Body=b"")
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, event["PhysicalResourceId"])
        return
    if props.get("Fail") == "true":
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, reason="asked to fail")
        return
    number = int(props["Value"])
    cfnresponse.send(event, context, cfnresponse.SUCCESS, {"Double": str(2 * number), "Type": event["RequestType"],
                     "Old": event.get("OldResourceProperties", {}).get("Value", "")}, "answer-" + props["Name"])
"""


def test_lambda_backed_custom_resource_runs_its_handler(local_cloud, boto_session) -> None:
    assert "lambda" in _extensions(local_cloud.endpoint)  # the runtime that runs the handler
    uid = _uid()
    cf, s3 = boto_session.client("cloudformation"), boto_session.client("s3")
    s3.create_bucket(Bucket=f"marks-{uid}")

    def template(value: int, fail: bool = False) -> str:
        return json.dumps({
            "Resources": {
                "Role": _role("lambda.amazonaws.com"),
                "Provider": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Runtime": "python3.12", "Handler": "index.handler", "Timeout": 30,
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"ZipFile": PROVIDER}}},
                "Answer": {"Type": "Custom::Answer", "Properties": {
                    "ServiceToken": {"Fn::GetAtt": ["Provider", "Arn"]}, "Value": value, "Name": uid,
                    "Bucket": f"marks-{uid}", "Fail": fail}},
            },
            "Outputs": {"Double": {"Value": {"Fn::GetAtt": ["Answer", "Double"]}},
                        "Type": {"Value": {"Fn::GetAtt": ["Answer", "Type"]}},
                        "Old": {"Value": {"Fn::GetAtt": ["Answer", "Old"]}},
                        "Id": {"Value": {"Ref": "Answer"}}},
        })

    stack = f"custom-{uid}"
    cf.create_stack(StackName=stack, TemplateBody=template(21), Capabilities=["CAPABILITY_IAM"])
    assert _status(cf, stack) == "CREATE_COMPLETE", _reasons(cf, stack)
    assert _outputs(cf, stack) == {"Double": "42", "Type": "Create", "Old": "", "Id": f"answer-{uid}"}
    cf.update_stack(StackName=stack, TemplateBody=template(5), Capabilities=["CAPABILITY_IAM"])
    assert _status(cf, stack) == "UPDATE_COMPLETE", _reasons(cf, stack)
    assert _outputs(cf, stack) == {"Double": "10", "Type": "Update", "Old": "21", "Id": f"answer-{uid}"}
    cf.update_stack(StackName=stack, TemplateBody=template(6, fail=True), Capabilities=["CAPABILITY_IAM"])
    assert _status(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"
    assert any("asked to fail" in r for r in _reasons(cf, stack)), _reasons(cf, stack)
    cf.delete_stack(StackName=stack)
    assert _keys(s3, f"marks-{uid}") == [f"deleted/answer-{uid}"]
