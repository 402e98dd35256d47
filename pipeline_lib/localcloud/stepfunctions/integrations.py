"""What Step Functions' service integrations see of AWS, as AWS shows it (pure helpers the seams
install): state output as JSON values, aws-sdk error names in PascalCase, and boto3 clients that
call this cloud's own endpoint."""
from __future__ import annotations

import base64
import datetime as dt
import re
import threading
import uuid
from functools import lru_cache
from typing import Any, Callable

def json_value(value: Any) -> Any:
    """A boto3 value as Step Functions puts it in state output (pure)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


def pascal_service_name(service_id: str) -> str:
    """botocore's serviceId as Step Functions names the service in errors (pure):
    'Glue' -> 'Glue', 'DynamoDB' -> 'DynamoDb', 'ACM PCA' -> 'AcmPca', 'SFN' -> 'Sfn'."""
    words = [w for w in re.split(r"[\s\-]+", service_id) if w]
    fixed = [re.sub(r"[A-Z]{2,}", lambda m: m.group(0)[0] + m.group(0)[1:].lower(), w) for w in words]
    return "".join(w[:1].upper() + w[1:] for w in fixed)


def service_error_name(service_name: str) -> str:
    """The Step Functions error prefix of an aws-sdk integration's service (e.g. 'glue')."""
    boto_name = {"sfn": "stepfunctions", "states": "stepfunctions"}.get(service_name.lower(), service_name.lower())
    try:
        service_id = _botocore().get_service_model(boto_name).metadata["serviceId"]
    except Exception:  # not a botocore service name: keep what the definition said
        service_id = service_name
    return pascal_service_name(service_id)


@lru_cache(maxsize=1)
def _botocore() -> Any:
    import botocore.session

    return botocore.session.get_session()


def normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                       service_action_name: str | None = None) -> None:
    """In place (the interpreter keeps the object on its stack)."""
    if isinstance(response, dict):
        converted = json_value(response)
        response.clear()
        response.update(converted)


def named_execution(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_execution(self: Any, state_machine_arn: str, name: str | None = None,
                        execution_input: str | None = None, trace_header: str | None = None) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    return start_execution


def client_factory(endpoint: str, original: Callable[..., Any],
                   credentials_for: Callable[[str], dict[str, str] | None] | None = None) -> Callable[..., Any]:
    """moto's `boto_client_for`, pointed at `endpoint` (the cloud's own address). With
    `credentials_for` (role ARN -> temporary credentials), a task calls with the credentials of
    the role it runs as (the state machine's, or the task's `Credentials.RoleArn`), as on AWS, so
    the cloud decides the call by that role's policies."""
    import boto3
    from botocore.config import Config
    from moto.core.models import botocore_stubber
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    cache: dict[tuple[str, str, str, str | None], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if botocore_stubber.enabled:  # in-process moto (decorator mode)
            return original(region, service, state_credentials)
        role = getattr(state_credentials, "role_arn", None) or None
        credentials = credentials_for(role) if (credentials_for is not None and role) else None
        key = (endpoint, region, service, role if credentials else None)
        with lock:  # boto3 clients are thread-safe once made; making one is not cheap
            if key not in cache:
                cache[key] = boto3.session.Session().client(
                    service,
                    region_name=region,
                    endpoint_url=endpoint,
                    aws_access_key_id=credentials["AccessKeyId"] if credentials else "ak",
                    aws_secret_access_key=credentials["SecretAccessKey"] if credentials else "sk",
                    aws_session_token=credentials["SessionToken"] if credentials else None,
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    ),
                )
            return cache[key]

    return boto_client_for
