"""A function's LoggingConfig as Lambda keeps it, and where the runtime's log streams go."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from pipeline_lib.localcloud.lambda_runtime import logging_config
from pipeline_lib.localcloud.lambda_runtime.function_spec import FunctionSpec, log_stream_name, worker_environment
from pipeline_lib.localcloud.lambda_runtime.logging_config import LoggingConfigError, on_create, on_update


def test_a_function_without_logging_config_has_lambdas_default():
    assert on_create(None, "fn") == {"LogFormat": "Text", "LogGroup": "/aws/lambda/fn"}
    assert on_create({}, "fn") == {"LogFormat": "Text", "LogGroup": "/aws/lambda/fn"}


def test_a_custom_group_and_format_are_kept_and_json_gets_info_levels():
    assert on_create({"LogGroup": "/my/group"}, "fn") == {"LogFormat": "Text", "LogGroup": "/my/group"}
    assert on_create({"LogFormat": "JSON"}, "fn") == {
        "LogFormat": "JSON", "LogGroup": "/aws/lambda/fn", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}
    assert on_create({"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"}, "fn")["ApplicationLogLevel"] == "DEBUG"


def test_an_update_merges_and_switching_back_to_text_drops_the_levels():
    current = on_create({"LogGroup": "/my/group"}, "fn")
    as_json = on_update(current, {"LogFormat": "JSON", "SystemLogLevel": "WARN"})
    assert as_json == {"LogFormat": "JSON", "LogGroup": "/my/group", "ApplicationLogLevel": "INFO",
                       "SystemLogLevel": "WARN"}
    assert on_update(as_json, {"ApplicationLogLevel": "ERROR"})["ApplicationLogLevel"] == "ERROR"
    assert on_update(as_json, {"LogFormat": "Text"}) == {"LogFormat": "Text", "LogGroup": "/my/group"}
    assert current == {"LogFormat": "Text", "LogGroup": "/my/group"}  # never changed in place


@pytest.mark.parametrize("requested, code, words", [
    ({"ApplicationLogLevel": "DEBUG"}, "InvalidParameterValueException", 'LogFormat is set to "Text"'),
    ({"LogFormat": "Text", "SystemLogLevel": "WARN"}, "InvalidParameterValueException", "LogLevel is not supported"),
    ({"LogFormat": "XML"}, "ValidationException", "enum value set: [JSON, Text]"),
    ({"LogFormat": "JSON", "SystemLogLevel": "TRACE"}, "ValidationException", "loggingConfig.systemLogLevel"),
    ({"LogGroup": "has spaces"}, "ValidationException", "loggingConfig.logGroup"),
    ({"LogGroup": ""}, "ValidationException", "loggingConfig.logGroup"),
    ({"LogGroup": "x" * 513}, "ValidationException", "loggingConfig.logGroup"),
    ({"Destination": "s3"}, "ValidationException", "unknown fields ['Destination']"),
])
def test_what_lambda_refuses_is_refused_with_its_error(requested, code, words):
    with pytest.raises(LoggingConfigError) as raised:
        on_create(requested, "fn")
    assert raised.value.code == code and words in str(raised.value)


def test_lambda_creates_missing_groups_except_reserved_names():
    assert logging_config.lambda_may_create("/aws/lambda/fn") and logging_config.lambda_may_create("/my/group")
    assert not logging_config.lambda_may_create("aws/my-group")


def _spec(log_group: str) -> FunctionSpec:
    return FunctionSpec(name="fn", arn="arn:aws:lambda:us-east-1:123456789012:function:fn", version="$LATEST",
                        handler="app.handler", runtime="python3.12", environment={}, timeout=3.0, memory_mb=128,
                        code_sha256="0" * 64, region="us-east-1", account_id="123456789012", log_group=log_group)


def test_streams_in_a_custom_group_carry_the_function_name():
    now = datetime(2026, 3, 4, tzinfo=timezone.utc)
    assert log_stream_name(_spec("/aws/lambda/fn"), now, "ab12") == "2026/03/04/[$LATEST]ab12"
    assert log_stream_name(_spec("/shared/group"), now, "ab12") == "2026/03/04/fn[$LATEST]ab12"


def test_a_new_log_group_means_new_workers_that_name_it():
    default, custom = _spec("/aws/lambda/fn"), _spec("/shared/group")
    assert default.fingerprint != custom.fingerprint
    assert dataclasses.replace(custom).fingerprint == custom.fingerprint
    env = worker_environment(custom, endpoint="http://127.0.0.1:1", code_dir="/code", log_stream="s", path="/bin")
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/shared/group"


# -- the seams, in process (applied around one mock_aws block, then restored) ------------------------
LOGGING_SEAMS = ("__init__", "update_configuration", "get_configuration", "create_from_cloudformation_json",
                 "update_from_cloudformation_json")


def test_logging_config_seams_answer_through_moto_and_restore(bare_cloud):
    import boto3
    from moto import mock_aws
    from moto.awslambda.models import LambdaFunction

    from pipeline_lib.localcloud.lambda_runtime import seams
    from pipeline_lib.localcloud.seam import original

    found = seams.build_seams(bare_cloud)  # a set of its own: it takes over whatever applied before
    before = {name: original(LambdaFunction, name) for name in LOGGING_SEAMS}
    try:
        found.apply()
        with mock_aws(config={"lambda": {"use_docker": False}}):
            role = boto3.client("iam", region_name="us-east-1").create_role(
                RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            lam = boto3.client("lambda", region_name="us-east-1")
            created = lam.create_function(FunctionName="f", Runtime="python3.12", Role=role, Handler="app.handler",
                                          Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18}, Publish=True,
                                          LoggingConfig={"LogGroup": "/my/group"})
            assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/my/group"}
            lam.update_function_configuration(FunctionName="f", LoggingConfig={"LogFormat": "JSON"})
            latest = lam.get_function_configuration(FunctionName="f")["LoggingConfig"]
            assert latest == {"LogFormat": "JSON", "LogGroup": "/my/group", "ApplicationLogLevel": "INFO",
                              "SystemLogLevel": "INFO"}
            # The published version keeps what it was published with.
            published = lam.get_function_configuration(FunctionName="f", Qualifier="1")["LoggingConfig"]
            assert published["LogFormat"] == "Text"
    finally:
        found.restore()
    assert {name: vars(LambdaFunction)[name] for name in LOGGING_SEAMS} == before
    assert isinstance(vars(LambdaFunction)["create_from_cloudformation_json"], classmethod)
