"""`deploy` / `destroy` on the local backend, with the real CDK app: every resource of the
synthesized template exists in its service, the data set is in the raw bucket, a second deploy
updates the stack, destroy removes it, and plain AWS clients (no project code) can use it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from botocore.exceptions import ClientError

from pipeline_lib import deploy
from pipeline_lib._deploy import synth
from pipeline_lib._deploy.app import find_app_dir

pytestmark = [pytest.mark.integration, pytest.mark.cdk]
STACK = deploy.STACK_NAME


def _resources(session: boto3.Session, stack: str = STACK) -> dict[str, dict[str, Any]]:
    cf = session.client("cloudformation")
    pages = cf.get_paginator("list_stack_resources").paginate(StackName=stack)
    return {r["LogicalResourceId"]: r for page in pages for r in page["StackResourceSummaries"]}


def _dataset_asset(assembly: Path) -> Path:
    """The data set folder the BucketDeployment publishes (the asset CDK copied into the assembly)."""
    manifest = json.loads((assembly / f"{STACK}.assets.json").read_text())
    for asset in manifest["files"].values():
        folder = assembly / asset["source"]["path"]
        if (folder / "items.jsonl").is_file():
            return folder
    raise AssertionError("no Dataset asset in the assembly")


# How to find each resource type in its own service: (session, physical id, logical id, template,
# logical -> physical) -> raises when it is not there.
Check = Callable[[boto3.Session, str, str, dict[str, Any], dict[str, str]], Any]


def _ref(value: Any, physical: dict[str, str]) -> str:
    return physical[value["Ref"]] if isinstance(value, dict) and "Ref" in value else value


def _properties(template: dict[str, Any], logical: str) -> dict[str, Any]:
    return template["Resources"][logical].get("Properties", {})


CHECKS: dict[str, Check] = {
    "AWS::S3::Bucket": lambda s, p, l, t, m: s.client("s3").head_bucket(Bucket=p),
    "AWS::S3::BucketPolicy": lambda s, p, l, t, m: s.client("s3").get_bucket_policy(
        Bucket=_ref(_properties(t, l)["Bucket"], m)),
    "AWS::Kinesis::Stream": lambda s, p, l, t, m: s.client("kinesis").describe_stream_summary(StreamName=p),
    "AWS::DynamoDB::Table": lambda s, p, l, t, m: s.client("dynamodb").describe_table(TableName=p),
    "AWS::Logs::LogGroup": lambda s, p, l, t, m: next(
        g for g in s.client("logs").describe_log_groups(logGroupNamePrefix=p)["logGroups"] if g["logGroupName"] == p),
    "AWS::Logs::LogStream": lambda s, p, l, t, m: next(
        x for x in s.client("logs").describe_log_streams(
            logGroupName=_ref(_properties(t, l)["LogGroupName"], m))["logStreams"] if x["logStreamName"] == p),
    "AWS::IAM::Role": lambda s, p, l, t, m: s.client("iam").get_role(RoleName=p),
    # Its physical id is generated (as on AWS); the role holds it under its PolicyName.
    "AWS::IAM::Policy": lambda s, p, l, t, m: [
        s.client("iam").get_role_policy(RoleName=_ref(role, m), PolicyName=_properties(t, l)["PolicyName"])
        for role in _properties(t, l)["Roles"]],
    "AWS::Lambda::Function": lambda s, p, l, t, m: s.client("lambda").get_function(FunctionName=p),
    # Ref is the version's ARN: arn:aws:lambda:<region>:<account>:layer:<name>:<version>
    "AWS::Lambda::LayerVersion": lambda s, p, l, t, m: s.client("lambda").get_layer_version(
        LayerName=p.split(":")[6], VersionNumber=int(p.split(":")[7])),
    "AWS::Glue::Database": lambda s, p, l, t, m: s.client("glue").get_database(Name=p),
    "AWS::Glue::Table": lambda s, p, l, t, m: s.client("glue").get_table(
        DatabaseName=_properties(t, l)["DatabaseName"], Name=p),
    "AWS::Glue::Crawler": lambda s, p, l, t, m: s.client("glue").get_crawler(Name=p),
    "AWS::Athena::WorkGroup": lambda s, p, l, t, m: s.client("athena").get_work_group(WorkGroup=p),
    "AWS::KinesisFirehose::DeliveryStream": lambda s, p, l, t, m: s.client("firehose").describe_delivery_stream(
        DeliveryStreamName=p),
    "AWS::StepFunctions::StateMachine": lambda s, p, l, t, m: s.client("stepfunctions").describe_state_machine(
        stateMachineArn=p),
    # Its work (the files in the bucket) is checked by test_the_data_set_is_in_the_raw_bucket.
    "Custom::CDKBucketDeployment": lambda s, p, l, t, m: p.startswith("aws.cdk.s3deployment."),
}


def test_every_template_resource_exists_in_its_service(deployed_stack, deployed_assembly, boto_session) -> None:
    cf = boto_session.client("cloudformation")
    assert cf.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    template = synth.load_template(synth.template_paths(deployed_assembly)[STACK])
    listed = _resources(boto_session)
    assert set(listed) == set(template["Resources"])
    physical = {logical: r["PhysicalResourceId"] for logical, r in listed.items()}
    assert all(physical.values()), [k for k, v in physical.items() if not v]
    unchecked = {r["Type"] for r in template["Resources"].values()} - set(CHECKS)
    assert not unchecked, f"add a check for {unchecked}"
    for logical, resource in template["Resources"].items():
        assert listed[logical]["ResourceType"] == resource["Type"]
        try:
            assert CHECKS[resource["Type"]](boto_session, physical[logical], logical, template, physical) is not False
        except (ClientError, StopIteration, KeyError) as exc:
            pytest.fail(f"{logical} ({resource['Type']}, {physical[logical]}) is not in its service: {exc!r}")
    # Outputs resolve to those resources.
    assert deployed_stack["TableName"] == physical[next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table")]
    assert set(deployed_stack) >= {"TableName", "StreamArn", "RawBucketName", "LakeBucketName", "DeliveryStreamName",
                                   "GlueDatabaseName", "GlueTableName", "CrawlerName", "AthenaWorkGroupName",
                                   "StateMachineArn", "DataSetKey", "ChangeSetKey"}


def test_delivery_stream_reads_back_as_the_template_configures_it(deployed_stack, deployed_assembly, boto_session) -> None:
    template = synth.load_template(synth.template_paths(deployed_assembly)[STACK])
    configured = next(r for r in template["Resources"].values() if r["Type"] == "AWS::KinesisFirehose::DeliveryStream")
    expected = configured["Properties"]["ExtendedS3DestinationConfiguration"]
    description = boto_session.client("firehose").describe_delivery_stream(
        DeliveryStreamName=deployed_stack["DeliveryStreamName"])["DeliveryStreamDescription"]
    destination = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert set(expected) <= set(destination)
    for key in ("Prefix", "ErrorOutputPrefix", "CompressionFormat", "BufferingHints", "DynamicPartitioningConfiguration"):
        assert destination[key] == expected[key], key
    assert destination["BucketARN"] == f"arn:aws:s3:::{deployed_stack['LakeBucketName']}"
    schema = destination["DataFormatConversionConfiguration"]["SchemaConfiguration"]
    assert (schema["DatabaseName"], schema["TableName"]) == (deployed_stack["GlueDatabaseName"], deployed_stack["GlueTableName"])
    assert description["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"] == deployed_stack["StreamArn"]


def test_the_data_set_is_in_the_raw_bucket(deployed_stack, deployed_assembly, deploy_context, boto_session) -> None:
    s3 = boto_session.client("s3")
    folder = _dataset_asset(deployed_assembly)
    for key in (deployed_stack["DataSetKey"], deployed_stack["ChangeSetKey"]):
        body = s3.get_object(Bucket=deployed_stack["RawBucketName"], Key=key)["Body"].read()
        assert body == (folder / Path(key).name).read_bytes()
    assert sum(1 for _ in (folder / "items.jsonl").open()) >= int(deploy_context["items"])


def test_a_plain_client_sees_the_stack_with_only_the_local_env(deployed_stack, deployed_assembly, local_cloud,
                                                                 tmp_path) -> None:
    """`eval "$(python -m pipeline_lib local env)"` is all a script needs: boto3 and awswrangler,
    no project imports."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}
    exports = subprocess.run(
        [sys.executable, "-m", "pipeline_lib", "local", "env", "--state-dir", local_cloud.record.state_dir],
        env=base, capture_output=True, text=True, check=True, cwd=find_app_dir().parent,
    ).stdout
    env = dict(base)
    for line in exports.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = value
    script = textwrap.dedent(f"""
        import json, sys, boto3, awswrangler as wr
        cf = boto3.client("cloudformation")
        resources = cf.list_stack_resources(StackName="{STACK}")["StackResourceSummaries"]
        outputs = {{o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName="{STACK}")["Stacks"][0]["Outputs"]}}
        frame = wr.s3.read_json(f"s3://{{outputs['RawBucketName']}}/{{outputs['DataSetKey']}}", lines=True)
        print(json.dumps({{"resources": len(resources), "rows": len(frame), "columns": sorted(frame.columns),
                          "project": any(m.startswith("pipeline_lib") for m in sys.modules)}}))
    """)
    answer = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert answer.returncode == 0, answer.stderr
    seen = json.loads(answer.stdout)
    assert seen["project"] is False
    assert seen["resources"] == len(_resources(boto3.Session(region_name="us-east-1")))
    items = (_dataset_asset(deployed_assembly) / "items.jsonl").read_bytes().splitlines()
    assert seen["rows"] == len(items)
    assert set(seen["columns"]) == {next(iter(json.loads(line))) for line in items}  # PutRequest (and DeleteRequest)


def test_deploying_again_updates_the_stack(deployed_stack, deployed_assembly, deploy_context, boto_session,
                                          tmp_path) -> None:
    """A new data set (other context) is an update in place; deploying the first assembly again
    puts the stack back as the session's other tests expect it."""
    cf, s3 = boto_session.client("cloudformation"), boto_session.client("s3")
    before = _resources(boto_session)
    smaller = {**deploy_context, "items": "120"}
    outputs = deploy.deploy(backend="local", context=smaller, out_dir=tmp_path / "cdk.out",
                            boto3_session=boto_session, progress=False)
    try:
        assert cf.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
        assert outputs == deployed_stack  # same resources, same names
        after = _resources(boto_session)
        assert {k: r["PhysicalResourceId"] for k, r in after.items()} == {k: r["PhysicalResourceId"] for k, r in before.items()}
        body = s3.get_object(Bucket=outputs["RawBucketName"], Key=outputs["DataSetKey"])["Body"].read()
        assert body == (_dataset_asset(tmp_path / "cdk.out") / "items.jsonl").read_bytes()
        events = cf.describe_stack_events(StackName=STACK)["StackEvents"]
        updated = {e["LogicalResourceId"] for e in events[: next(i for i, e in enumerate(events)
                                                                if e["ResourceStatus"] == "UPDATE_IN_PROGRESS"
                                                                and e["LogicalResourceId"] == STACK) + 1]
                   if e["ResourceStatus"] == "UPDATE_COMPLETE"}
        assert any(before[name]["ResourceType"] == "Custom::CDKBucketDeployment" for name in updated if name in before)
    finally:
        deploy.deploy(backend="local", out_dir=deployed_assembly, boto3_session=boto_session, progress=False,
                      synthesize=False)
    restored = s3.get_object(Bucket=deployed_stack["RawBucketName"], Key=deployed_stack["DataSetKey"])["Body"].read()
    assert restored == (_dataset_asset(deployed_assembly) / "items.jsonl").read_bytes()
    # Deploying what is deployed changes nothing.
    assert deploy.deploy(backend="local", out_dir=deployed_assembly, boto3_session=boto_session, progress=False,
                         synthesize=False) == deployed_stack


def test_a_failed_deploy_says_which_resource_failed_and_why(local_cloud, boto_session, tmp_path) -> None:
    """A hand-made cloud assembly whose stack cannot be created: deploy raises with the failed
    resource's reason; deploying again first deletes the ROLLBACK_COMPLETE stack, as the CDK CLI does."""
    name = f"Broken{uuid.uuid4().hex[:8]}"
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"},
                              "Service": {"Type": "AWS::AppRunner::Service", "DependsOn": "Bucket"}}}
    (tmp_path / f"{name}.template.json").write_text(json.dumps(template))
    (tmp_path / f"{name}.assets.json").write_text(json.dumps({"version": "55.0.0", "files": {}, "dockerImages": {}}))
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {name: {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": f"{name}.template.json", "stackName": name}}}}))
    for _attempt in range(2):
        with pytest.raises(deploy.DeployError) as failure:
            deploy.deploy(backend="local", stack_name=name, out_dir=tmp_path, boto3_session=boto_session,
                          progress=False, synthesize=False)
        message = str(failure.value)
        assert "ROLLBACK_COMPLETE" in message and "Service (AWS::AppRunner::Service)" in message
        assert "not supported by the local cloud" in message
    cf = boto_session.client("cloudformation")
    assert [s["StackStatus"] for s in cf.describe_stacks()["Stacks"] if s["StackName"] == name] == ["ROLLBACK_COMPLETE"]
    assert deploy.destroy(backend="local", stack_name=name, boto3_session=boto_session, progress=False) is True


def test_cli_deploy_prints_the_outputs(deployed_stack, deployed_assembly, local_cloud) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "pipeline_lib", "deploy", "--no-synth", "--out", str(deployed_assembly)],
        env=dict(os.environ), capture_output=True, text=True, cwd=find_app_dir().parent, timeout=300,
    )
    assert answer.returncode == 0, answer.stderr
    assert "no changes" in answer.stderr
    table = dict(line.split(None, 1) for line in answer.stdout.strip().splitlines())
    assert table == deployed_stack


def test_destroy_removes_the_stack_and_its_resources(deployed_assembly, deployed_stack, second_cloud) -> None:
    """In a cloud of its own (the shared one keeps the stack for the other tests)."""
    session = second_cloud
    outputs = deploy.deploy(backend="local", out_dir=deployed_assembly, boto3_session=session,
                            progress=False, synthesize=False)
    physical = {k: r["PhysicalResourceId"] for k, r in _resources(session).items()}
    s3 = session.client("s3")
    s3.put_object(Bucket=outputs["LakeBucketName"], Key="data/year=2026/part.parquet", Body=b"x")  # destroy empties it
    assert deploy.destroy(backend="local", boto3_session=session, progress=False) is True
    cf = session.client("cloudformation")
    assert STACK not in [s["StackName"] for s in cf.describe_stacks()["Stacks"]]
    for bucket in (outputs["RawBucketName"], outputs["LakeBucketName"]):
        with pytest.raises(ClientError):
            s3.head_bucket(Bucket=bucket)
    assert outputs["TableName"] not in session.client("dynamodb").list_tables()["TableNames"]
    assert session.client("firehose").list_delivery_streams()["DeliveryStreamNames"] == []
    assert session.client("glue").get_databases()["DatabaseList"] == []
    assert session.client("glue").get_crawlers()["Crawlers"] == []
    assert [w["Name"] for w in session.client("athena").list_work_groups()["WorkGroups"]] == ["primary"]
    assert session.client("lambda").list_functions()["Functions"] == []
    assert session.client("stepfunctions").list_state_machines()["stateMachines"] == []
    roles = {r["RoleName"] for r in session.client("iam").list_roles()["Roles"]}
    assert not roles & set(physical.values())
    assert deploy.destroy(backend="local", boto3_session=session, progress=False) is False  # already gone
