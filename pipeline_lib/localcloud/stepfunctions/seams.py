"""The Step Functions seams: moto's ASL interpreter, wired to this process.

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
  `build_seams(cloud)` declares one seam per module, all in one `..seam.SeamSet`: checked
  before anything is patched, applied once.
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
- `StepFunctionsParserBackend.create_state_machine(...)` / `update_state_machine(...)`: wrapped;
  the role must be one Step Functions may assume (role_trust.py), checked after moto's own
  `_validate_role_arn` and before anything changes (also for CloudFormation, which calls them).
- Read: `moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"]`.
"""
from __future__ import annotations

import sys
import uuid
from typing import TYPE_CHECKING, Any, Callable

from ..seam import SeamSet, is_patched, original
from . import role_trust
from .integrations import client_factory, named_execution, normalise_response, service_error_name

if TYPE_CHECKING:
    from ..cloud import LocalCloud

BOTO_CLIENT_FOR = ("region", "service", "state_credentials")
NORMALISE_RESPONSE = ("self", "response", "boto_service_name", "service_action_name")
START_EXECUTION = ("self", "state_machine_arn", "name", "execution_input", "trace_header")
CREATE_STATE_MACHINE = ("self", "name", "definition", "roleArn", "tags", "publish", "loggingConfiguration",
                        "tracingConfiguration", "encryptionConfiguration", "version_description", "sm_type")
UPDATE_STATE_MACHINE = ("self", "arn", "definition", "role_arn", "logging_configuration", "tracing_configuration",
                        "encryption_configuration", "publish", "version_description")


def build_seams(cloud: "LocalCloud") -> SeamSet:
    """Every moto patch of Step Functions; its integrations call `cloud.endpoint`."""
    # The ASL parser imports every task-state module: all users of boto_client_for are loaded.
    import moto.stepfunctions.parser.asl.parse.asl_parser  # noqa: F401
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
        StateTaskServiceAwsSdk,
    )
    from moto.stepfunctions.parser.asl.utils import boto_client
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.utilities import utils as moto_utils

    seams = SeamSet("stepfunctions")
    seams.expect(StateTaskService, "_normalise_response", NORMALISE_RESPONSE)  # the hook moto calls
    seams.add(StateTaskServiceAwsSdk, "_normalise_response", normalise_response)
    seams.replace(StateTaskServiceAwsSdk, "_normalise_service_error_name", ("service_name",),
                  lambda _original: staticmethod(service_error_name))
    seams.replace(StepFunctionsParserBackend, "start_execution", START_EXECUTION, named_execution)
    # The role's trust policy, checked as Step Functions checks it (role_trust.py).
    seams.replace(StepFunctionsParserBackend, "create_state_machine", CREATE_STATE_MACHINE,
                  lambda original: _create_state_machine(original, cloud))
    seams.replace(StepFunctionsParserBackend, "update_state_machine", UPDATE_STATE_MACHINE,
                  lambda original: _update_state_machine(original, cloud))
    seams.expect(StepFunctionsParserBackend, "_validate_role_arn", ("self", "role_arn"))
    seams.expect(StepFunctionsParserBackend, "describe_state_machine", ("self", "arn"))
    seams.reads(StepFunctionsParserBackend, "account_id", "region_name")
    seams.reads(StateMachine, "arn")
    seams.expect(moto_utils, "get_partition", ("region",))

    # `boto_client_for`, replaced by one factory in its module and in every moto.stepfunctions
    # module that imported it by name.
    moto_factory = original(boto_client, "boto_client_for")
    ours: list[Callable[..., Any]] = []

    sessions: dict[str, str] = {}

    def role_credentials(role_arn: str) -> dict[str, str] | None:
        # One session per role, named like the random ids Step Functions gives its sessions.
        lookup = getattr(cloud, "extension", None)
        try:
            iam = lookup("iam") if lookup is not None else None
        except KeyError:
            return None
        if iam is None:
            return None
        session = sessions.setdefault(role_arn, uuid.uuid4().hex)
        return iam.credentials_for(role_arn, session)

    def make(moto_own: Callable[..., Any]) -> Callable[..., Any]:
        if not ours:
            ours.append(client_factory(cloud.endpoint, moto_own, role_credentials))
        return ours[0]

    for name, module in sorted(sys.modules.items()):
        if (name.startswith("moto.stepfunctions") and "boto_client_for" in getattr(module, "__dict__", {})
                and original(module, "boto_client_for") is moto_factory):
            seams.replace(module, "boto_client_for", BOTO_CLIENT_FOR, make)
    from .executions import declare

    declare(seams)  # what stopping (and resuming) executions reads
    return seams


def _create_state_machine(original: Callable[..., Any], cloud: "LocalCloud") -> Callable[..., Any]:
    def create_state_machine(self: Any, name: str, definition: str, roleArn: str, *args: Any, **kwargs: Any) -> Any:  # noqa: N803 (moto's name)
        self._validate_role_arn(roleArn)  # moto's InvalidArn first: only a well-formed role is looked up
        from moto.utilities.utils import get_partition

        arn = role_trust.state_machine_arn(get_partition(self.region_name), self.region_name, self.account_id, name)
        role_trust.check_role(cloud, roleArn, self.region_name, self.account_id, arn)
        return original(self, name, definition, roleArn, *args, **kwargs)

    return create_state_machine


def _update_state_machine(original: Callable[..., Any], cloud: "LocalCloud") -> Callable[..., Any]:
    def update_state_machine(self: Any, arn: str, definition: Any = None, role_arn: Any = None,
                             *args: Any, **kwargs: Any) -> Any:
        if role_arn:  # checked before moto changes anything; a missing machine is moto's answer
            self._validate_role_arn(role_arn)
            machine = self.describe_state_machine(arn)
            role_trust.check_role(cloud, role_arn, self.region_name, self.account_id, machine.arn)
        return original(self, arn, definition, role_arn, *args, **kwargs)

    return update_state_machine


def modules_with_foreign_clients() -> list[str]:
    """Modules of moto's Step Functions still holding a client factory that is not ours."""
    return [
        name for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions") and hasattr(module, "boto_client_for")
        and not is_patched(module, "boto_client_for")
    ]
