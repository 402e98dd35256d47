"""Step Functions executions really run: moto's ASL interpreter, wired to this process.

moto interprets a definition when `stepfunctions.execute_state_machine` is on in its config
(server.py switches it on; `install` refuses to run without it). Its service integrations
(`lambda:invoke`, `aws-sdk:*`, `glue:startJobRun`, ...) call AWS through boto3 clients made by
`boto_client_for`, which moto points at `http://localhost:$MOTO_PORT`. We point them at the
cloud's own endpoint instead (the address the server bound), so resolution of `localhost`
(::1 first on some hosts) and the environment never matter. Lambda tasks then reach the Lambda
runtime extension and `aws-sdk:glue:*` tasks reach Glue, through the cloud's HTTP API.

Seams (moto 5.2.5):
- `moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for(region, service,
  state_credentials)`: replaced, in that module and in every `moto.stepfunctions` module that
  imported it by name (13 in 5.2.5; all are imported with the ASL parser, before patching).
  `_client_seams()` declares one seam per module; the others are `_seams()`. Both are
  `.seam.SeamSet`s: checked before anything is patched, applied once.
- `StateTaskServiceAwsSdk._normalise_response(self, response, boto_service_name,
  service_action_name)`: added (the base class `StateTaskService` declares the hook, as a no-op,
  and calls it on every service result; its signature is checked). It turns boto3's datetimes (and
  bytes) into JSON values as Step Functions does (ISO-8601 UTC strings), so executions with e.g.
  `glue:getCrawler` output can be described (moto's DescribeExecution fails on a datetime).
- `StateTaskServiceAwsSdk._normalise_service_error_name(service_name)` (a staticmethod):
  replaced; errors of aws-sdk tasks are named `ServiceName.ErrorName` in PascalCase as in AWS
  (`Glue.EntityNotFoundException`; moto says `glue.`), so Retry/Catch on them match.
- `StepFunctionsParserBackend.start_execution(self, state_machine_arn, name, execution_input,
  trace_header)`: wrapped; an execution started without a name gets a UUID, as in AWS (moto's
  interpreter backend names it "None", so a second unnamed execution fails as a duplicate).
- Read: `moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"]`.
"""
from __future__ import annotations

import base64
import datetime as dt
import re
import sys
import threading
import uuid
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from .extension import Extension
from .seam import SeamError, SeamSet, is_patched, moto_version, original

if TYPE_CHECKING:
    from .cloud import LocalCloud

BOTO_CLIENT_FOR = ("region", "service", "state_credentials")
NORMALISE_RESPONSE = ("self", "response", "boto_service_name", "service_action_name")
START_EXECUTION = ("self", "state_machine_arn", "name", "execution_input", "trace_header")

_endpoint: str | None = None  # the cloud whose extension installed last


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


@lru_cache(maxsize=1)
def _seams() -> SeamSet:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
        StateTaskServiceAwsSdk,
    )

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    seams = SeamSet("stepfunctions")
    seams.expect(StateTaskService, "_normalise_response", NORMALISE_RESPONSE)  # the hook moto calls
    seams.add(StateTaskServiceAwsSdk, "_normalise_response", normalise_response)
    seams.replace(StateTaskServiceAwsSdk, "_normalise_service_error_name", ("service_name",),
                  lambda _original: staticmethod(service_error_name))
    seams.replace(StepFunctionsParserBackend, "start_execution", START_EXECUTION, _named_execution)
    return seams


def _named_execution(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_execution(self: Any, state_machine_arn: str, name: str | None = None,
                        execution_input: str | None = None, trace_header: str | None = None) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    return start_execution


def _client_factory(original: Callable[..., Any]) -> Callable[..., Any]:
    import boto3
    from botocore.config import Config
    from moto.core.models import botocore_stubber
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    cache: dict[tuple[str, str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if botocore_stubber.enabled or _endpoint is None:  # in-process moto (decorator mode)
            return original(region, service, state_credentials)
        key = (_endpoint, region, service)
        with lock:  # boto3 clients are thread-safe once made; making one is not cheap
            if key not in cache:
                cache[key] = boto3.session.Session().client(
                    service,
                    region_name=region,
                    endpoint_url=_endpoint,
                    aws_access_key_id="ak",
                    aws_secret_access_key="sk",
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    ),
                )
            return cache[key]

    return boto_client_for


@lru_cache(maxsize=1)
def _client_seams() -> SeamSet:
    """`boto_client_for`, replaced by one factory in its module and in every moto.stepfunctions
    module that imported it by name."""
    # The ASL parser imports every task-state module: all users of boto_client_for are loaded.
    import moto.stepfunctions.parser.asl.parse.asl_parser  # noqa: F401
    from moto.stepfunctions.parser.asl.utils import boto_client

    moto_factory = original(boto_client, "boto_client_for")
    ours: list[Callable[..., Any]] = []

    def make(moto_own: Callable[..., Any]) -> Callable[..., Any]:
        if not ours:
            ours.append(_client_factory(moto_own))
        return ours[0]

    seams = SeamSet("stepfunctions.clients")
    for name, module in sorted(sys.modules.items()):
        if (name.startswith("moto.stepfunctions") and "boto_client_for" in getattr(module, "__dict__", {})
                and original(module, "boto_client_for") is moto_factory):
            seams.replace(module, "boto_client_for", BOTO_CLIENT_FOR, make)
    return seams


def point_clients_at(endpoint: str) -> int:
    """Make every Step Functions service integration call `endpoint`; returns how many modules
    were rebound (0 when already done)."""
    global _endpoint
    _endpoint = endpoint
    return _client_seams().apply()


def modules_with_foreign_clients() -> list[str]:
    """Modules of moto's Step Functions still holding a client factory that is not ours."""
    return [
        name for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions") and hasattr(module, "boto_client_for")
        and not is_patched(module, "boto_client_for")
    ]


class StepFunctionsExtension(Extension):
    name = "stepfunctions"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.rebound_modules = 0

    def install(self) -> None:
        from moto.core.config import default_user_config

        if not default_user_config.get("stepfunctions", {}).get("execute_state_machine"):
            raise RuntimeError("moto's Step Functions interpreter is off: set "
                               "default_user_config['stepfunctions']['execute_state_machine'] = True "
                               "before installing the extensions (server.py does)")
        _seams().apply()
        self.rebound_modules += point_clients_at(self.cloud.endpoint)
        stale = modules_with_foreign_clients()
        if stale:
            raise SeamError(f"moto {moto_version()}: these Step Functions modules still call AWS through "
                            f"moto's own client factory: {', '.join(stale)}")

    def status(self) -> dict[str, Any]:
        return {"endpoint": _endpoint, "integration_modules": self.rebound_modules}


def extension(cloud: "LocalCloud") -> StepFunctionsExtension:
    return StepFunctionsExtension(cloud)
