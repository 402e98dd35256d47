"""Firehose acting as its roles (firehose/role_access.py) with a stand-in IAM that refuses what a
test says: the codes and texts are Firehose's (developer guide, "Monitoring with CloudWatch Logs")."""
from __future__ import annotations

import pytest

from pipeline_lib.localcloud.firehose import role_access
from pipeline_lib.localcloud.firehose.records import Services
from pipeline_lib.localcloud.iam import AccessDenied, AssumeRoleDenied

DESCRIPTION = {
    "DeliveryStreamName": "events",
    "Source": {"KinesisStreamSourceDescription": {"RoleARN": "arn:aws:iam::123456789012:role/Source"}},
    "Destinations": [{"ExtendedS3DestinationDescription": {
        "RoleARN": "arn:aws:iam::123456789012:role/Delivery",
        "DataFormatConversionConfiguration": {"SchemaConfiguration": {"RoleARN": "arn:aws:iam::123456789012:role/Schema"}},
    }}],
}


class Iam:
    def __init__(self, refuse: set[str], untrusted: bool = False):
        self.refuse = refuse
        self.untrusted = untrusted  # no role trusts the service
        self.calls: list[tuple[str, str, list[str]]] = []
        self.assumed: list[tuple[str, dict]] = []

    def check(self, role, session, action, resources, context=None, service=None, trust_context=None):
        self.calls.append((role, action, list(resources)))
        if service is not None:
            self.assumed.append((service, dict(trust_context or {})))
            if self.untrusted:
                raise AssumeRoleDenied(service, role)
        if action in self.refuse:
            raise AccessDenied(f"User: x is not authorized to perform: {action}", action, resources[0])


def services(log: list, metrics: list, puts: list) -> Services:
    return Services(
        put_object=lambda b, k, body: puts.append((b, k)),
        invoke_lambda=lambda arn, payload: (b"{}", None),
        converter_for=lambda cfg: None,
        publish_metrics=lambda ns, data: metrics.append((ns, data)),
        log_event=lambda cfg, message: log.append(message),
        scaled=lambda s: 0.0,
        region="us-east-1",
    )


class Config:
    name = "events"
    arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/events"


def test_roles_come_from_the_stream_description():
    roles = role_access.delivery_roles(DESCRIPTION)
    assert (roles.source, roles.destination, roles.schema) == (
        "arn:aws:iam::123456789012:role/Source", "arn:aws:iam::123456789012:role/Delivery",
        "arn:aws:iam::123456789012:role/Schema")


def test_refused_invoke_is_lambda_invoke_access_denied():
    iam = Iam({"lambda:InvokeFunction"})
    guarded = role_access.guarded(services([], [], []), Config(), role_access.delivery_roles(DESCRIPTION), iam)
    with pytest.raises(role_access.InvokeAccessDenied) as refused:
        guarded.invoke_lambda("arn:aws:lambda:us-east-1:123456789012:function:enricher", b"{}")
    assert refused.value.firehose_error == (
        "Lambda.InvokeAccessDenied", "Access was denied. Ensure that the access policy allows access to the Lambda function.")
    assert iam.calls == [("arn:aws:iam::123456789012:role/Delivery", "lambda:InvokeFunction",
                          ["arn:aws:lambda:us-east-1:123456789012:function:enricher"])]


def test_a_refused_s3_write_is_an_s3_access_denied_error_for_the_engines_retry():
    """The refusal is measured and raised as S3's AccessDenied: the engine's PutObject retry
    (s3_delivery.S3Delivery.put) logs it as `S3.AccessDenied: <message>`, retries it for the
    stream's retry duration and then writes the records under the error prefix, as it does any
    S3 error."""
    iam = Iam({"s3:PutObject"})
    log, metrics, puts = [], [], []
    guarded = role_access.guarded(services(log, metrics, puts), Config(), role_access.delivery_roles(DESCRIPTION), iam)
    with pytest.raises(role_access.S3AccessDenied) as refused:
        guarded.put_object("lake", "data/x.parquet", b"body")
    assert (f"S3.{refused.value.error_type}", refused.value.message) == (
        "S3.AccessDenied", "Access was denied. Ensure that the trust policy for the provided IAM role "
        "allows Firehose to assume the role, and the access policy allows access to the S3 bucket.")
    assert puts == []
    assert [(ns, d[0]["MetricName"], d[0]["Value"]) for ns, d in metrics] == [("AWS/Firehose", "DeliveryToS3.Success", 0.0)]
    assert iam.calls[0][2] == ["arn:aws:s3:::lake/data/x.parquet"]

    iam.refuse.clear()  # the permission comes back: the next attempt writes
    guarded.put_object("lake", "data/x.parquet", b"body")
    assert puts == [("lake", "data/x.parquet")]


def test_a_role_that_does_not_trust_firehose_is_lambda_assume_role_access_denied():
    iam = Iam(set(), untrusted=True)
    guarded = role_access.guarded(services([], [], []), Config(), role_access.delivery_roles(DESCRIPTION), iam)
    with pytest.raises(role_access.InvokeAccessDenied) as refused:
        guarded.invoke_lambda("arn:aws:lambda:us-east-1:123456789012:function:enricher", b"{}")
    assert refused.value.firehose_error == (
        "Lambda.AssumeRoleAccessDenied",
        "Access was denied. Ensure that the trust policy for the provided IAM role allows Firehose to assume the role.")
    # Firehose assumes the role as its service principal, with the account as the external id.
    assert iam.assumed == [("firehose.amazonaws.com", {
        "sts:ExternalId": "123456789012", "aws:SourceAccount": "123456789012", "aws:SourceArn": Config.arn})]
    with pytest.raises(role_access.S3AccessDenied):
        guarded.put_object("lake", "k", b"x")
