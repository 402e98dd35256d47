"""What a delivery stream does as its IAM roles, checked by the IAM extension before it is done,
and what Firehose shows when a permission is missing:

- reading the source stream (kinesis:DescribeStream/GetShardIterator/GetRecords on the stream,
  the source configuration's RoleARN): refused reads read nothing and keep the checkpoints;
- invoking the processor (lambda:InvokeFunction on the function ARN as configured):
  `Lambda.InvokeAccessDenied`, retried per NumberOfRetries, then processing-failed error records;
- reading the Glue schema (glue:GetTableVersions on catalog, database and table, the schema
  configuration's RoleARN or else the destination's): `DataFormatConversion.AccessDenied` per
  record, to format-conversion-failed;
- writing S3 (s3:PutObject on the object, the destination's RoleARN): `S3.AccessDenied` logged to
  the stream's error log and `DeliveryToS3.Success` 0, retried until the write is allowed (the
  error output is in S3 too, so nothing can go there; AWS keeps such data for up to 24 hours).

Firehose assumes each role first (as firehose.amazonaws.com, passing the account as
sts:ExternalId and the stream as aws:SourceArn): a role whose trust policy does not let it fails
each of those calls the same way, with `Lambda.AssumeRoleAccessDenied` for the processor (the S3
and Glue texts already name the trust policy or the role).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

from .config import StreamConfig
from .metrics import NAMESPACE
from .records import Services
from .schema_source import SchemaUnavailable

log = logging.getLogger("pipeline_lib.localcloud.firehose")

LAMBDA_ACCESS_DENIED = ("Lambda.InvokeAccessDenied",
                        "Access was denied. Ensure that the access policy allows access to the Lambda function.")
LAMBDA_ASSUME_ROLE_DENIED = ("Lambda.AssumeRoleAccessDenied",
                             "Access was denied. Ensure that the trust policy for the provided IAM role allows "
                             "Firehose to assume the role.")
FIREHOSE_PRINCIPAL = "firehose.amazonaws.com"
S3_ACCESS_DENIED = ("S3.AccessDenied",
                    "Access was denied. Ensure that the trust policy for the provided IAM role allows Firehose to "
                    "assume the role, and the access policy allows access to the S3 bucket.")
GLUE_ACCESS_DENIED_CODE = "DataFormatConversion.AccessDenied"
SOURCE_ACTIONS = ("kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords")


@dataclass(frozen=True)
class DeliveryRoles:
    source: str | None
    destination: str | None
    schema: str | None
    session: str  # the session name the cloud uses for the stream's calls


def delivery_roles(description: dict[str, Any]) -> DeliveryRoles:
    source = ((description.get("Source") or {}).get("KinesisStreamSourceDescription") or {}).get("RoleARN")
    destination = schema = None
    for dest in description.get("Destinations") or []:
        s3 = dest.get("ExtendedS3DestinationDescription") or dest.get("S3DestinationDescription") or {}
        destination = destination or s3.get("RoleARN")
        conversion = s3.get("DataFormatConversionConfiguration") or {}
        schema = schema or (conversion.get("SchemaConfiguration") or {}).get("RoleARN")
    return DeliveryRoles(source, destination, schema or destination, f"AWSFirehose-{description['DeliveryStreamName']}")


class GlueAccessDenied(SchemaUnavailable):
    code = GLUE_ACCESS_DENIED_CODE


class S3AccessDenied(RuntimeError):
    """PutObject refused by the delivery role's policies, as the engine's S3 retry sees it."""

    error_type = "AccessDenied"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvokeAccessDenied(RuntimeError):
    firehose_error = LAMBDA_ACCESS_DENIED


class AssumeRoleAccessDenied(InvokeAccessDenied):
    firehose_error = LAMBDA_ASSUME_ROLE_DENIED


def trust_context(stream_arn: str) -> dict[str, str]:
    """What Firehose passes to STS when it assumes a stream's role."""
    account = stream_arn.split(":")[4]
    return {"sts:ExternalId": account, "aws:SourceAccount": account, "aws:SourceArn": stream_arn}


def source_check(iam: Any, roles: DeliveryRoles, stream_arn: str,
                 delivery_stream_arn: str | None = None) -> Callable[[], str | None]:
    from ..iam import AccessDenied

    trust = trust_context(delivery_stream_arn) if delivery_stream_arn else None

    def authorize() -> str | None:
        try:
            for action in SOURCE_ACTIONS:
                iam.check(roles.source, roles.session, action, [stream_arn],
                          service=FIREHOSE_PRINCIPAL if trust else None, trust_context=trust)
        except AccessDenied as exc:
            return exc.message
        return None

    return authorize


def guarded(services: Services, config: StreamConfig, roles: DeliveryRoles, iam: Any) -> Services:
    """`services` with every call checked against the stream's roles."""
    from ..iam import AccessDenied, AssumeRoleDenied

    trust = trust_context(config.arn)

    def put_object(bucket: str, key: str, body: bytes) -> None:
        try:
            iam.check(roles.destination, roles.session, "s3:PutObject", [f"arn:aws:s3:::{bucket}/{key}"],
                      service=FIREHOSE_PRINCIPAL, trust_context=trust)
        except AccessDenied as exc:
            log.warning("delivery stream %s: %s (%s)", config.name, S3_ACCESS_DENIED[0], exc.message)
            services.publish_metrics(NAMESPACE, [_metric("DeliveryToS3.Success", 0, config)])
            # An S3 error like any other: the engine retries it for the stream's retry duration,
            # then writes the records under the error prefix (s3_delivery.S3Delivery.put).
            raise S3AccessDenied(S3_ACCESS_DENIED[1]) from None
        services.put_object(bucket, key, body)

    def invoke_lambda(arn: str, payload: bytes) -> tuple[bytes, str | None]:
        try:
            iam.check(roles.destination, roles.session, "lambda:InvokeFunction", [arn],
                      service=FIREHOSE_PRINCIPAL, trust_context=trust)
        except AssumeRoleDenied as exc:
            raise AssumeRoleAccessDenied(exc.message) from None
        except AccessDenied as exc:
            raise InvokeAccessDenied(exc.message) from None
        return services.invoke_lambda(arn, payload)

    def converter_for(cfg: StreamConfig) -> Any:
        check_schema(cfg)
        return _CheckedConverter(services.converter_for(cfg), lambda: check_schema(cfg))

    def check_schema(cfg: StreamConfig) -> None:
        conversion = cfg.conversion
        region = conversion.region or services.region
        account = cfg.arn.split(":")[4]
        base = f"arn:aws:glue:{region}:{account}"
        resources = [f"{base}:catalog", f"{base}:database/{conversion.database}",
                     f"{base}:table/{conversion.database}/{conversion.table}"]
        try:
            iam.check(roles.schema, roles.session, "glue:GetTableVersions", resources,
                      service=FIREHOSE_PRINCIPAL, trust_context=trust)
        except AccessDenied as exc:
            raise GlueAccessDenied(f"Access was denied when calling Glue. {exc.message}") from None

    return replace(services, put_object=put_object, invoke_lambda=invoke_lambda, converter_for=converter_for)


class _CheckedConverter:
    """A converter that asks again whether the schema may still be read (`check`, which the
    engine calls before each batch it converts): every time while refused, and at most every
    RECHECK_SECONDS while allowed (a policy change takes effect within that; a decision per
    record would cost more than converting it)."""

    RECHECK_SECONDS = 0.2

    def __init__(self, inner: Any, check: Callable[[], None]):
        self._inner = inner
        self._check = check
        self._allowed_at = float("-inf")

    def check(self) -> None:
        now = time.monotonic()
        if now - self._allowed_at >= self.RECHECK_SECONDS:
            self._check()
            self._allowed_at = now

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _metric(name: str, value: float, config: StreamConfig) -> dict[str, Any]:
    from datetime import datetime, timezone

    # moto keeps metric timestamps naive (UTC), as metrics.py publishes them.
    return {"MetricName": name, "Value": float(value), "Unit": "None",
            "Timestamp": datetime.now(timezone.utc).replace(tzinfo=None),
            "Dimensions": [{"Name": "DeliveryStreamName", "Value": config.name}]}


__all__ = ["DeliveryRoles", "delivery_roles", "guarded", "source_check"]
