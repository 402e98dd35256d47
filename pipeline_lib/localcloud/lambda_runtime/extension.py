"""The Lambda extension: the runtime, its seams, and the logs it writes (see the package docstring)."""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from ..extension import Extension
from .function_spec import FunctionSpec, spec_from_moto
from .logging_config import lambda_may_create
from .runtime import FunctionNotFound, LambdaRuntime
from .seams import build_seams

if TYPE_CHECKING:
    from ..cloud import LocalCloud

log = logging.getLogger("pipeline_lib.localcloud.lambda")

class LambdaExtension(Extension):
    name = "lambda"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self._logs_lock = threading.Lock()
        self.runtime = LambdaRuntime(
            cloud.state_dir,
            cloud.endpoint,
            resolve=self.resolve,
            log_sink=self.write_logs,
            async_retry_delays=(cloud.scaled(60), cloud.scaled(120)),
            inject=self._fault,
            credentials_for=self._role_credentials,
        )
        self.seams = build_seams(cloud)

    def _fault(self, spec) -> str | None:
        """The invocation's injected fault, if any (see pipeline_lib.localcloud.faults)."""
        from ..faults import faults_of

        faults = faults_of(self.cloud)
        if faults.decide("lambda_timeout", spec.name):
            return "timeout"
        if faults.decide("lambda_error", spec.name):
            return "error"
        return None

    def install(self) -> None:
        self.seams.apply()

    def _role_credentials(self, role_arn: str, session_name: str) -> Any:
        """The execution role session's credentials (session named after the function, as on
        AWS), from the IAM extension; None in a cloud without one (the dummy ones then)."""
        lookup = getattr(self.cloud, "extension", None)  # unit tests give a bare namespace
        try:
            iam = lookup("iam") if lookup is not None else None
        except KeyError:
            iam = None
        if iam is None:
            return None
        return iam.credentials_for(role_arn, session_name)

    def stop(self) -> None:
        self.runtime.stop()

    def flush(self, timeout: float) -> dict[str, Any]:
        return self.runtime.flush(timeout)

    def status(self) -> dict[str, Any]:
        return self.runtime.status()

    def resolve(self, function: str, qualifier: str | None = None) -> FunctionSpec:
        """The spec of a function by name, `name:qualifier` or ARN, in this cloud's moto state."""
        from ..moto_backends import backend

        account, region = self.cloud.account_id, self.cloud.region
        if function.startswith("arn:"):
            parts = function.split(":")
            if len(parts) < 7:
                raise FunctionNotFound(f"{function!r} is not a Lambda function ARN")
            region, account = parts[3], parts[4]
        try:
            fn = backend("lambda", account, region).get_function(function, qualifier)
        except Exception as exc:  # moto's UnknownFunctionException
            raise FunctionNotFound(f"Function not found: {function}"
                                   f"{':' + qualifier if qualifier else ''} ({exc})") from None
        return spec_from_moto(fn)

    def write_logs(self, spec: FunctionSpec, stream: str, lines: list[str]) -> None:
        from ..moto_backends import backend as moto_backend

        backend = moto_backend("logs", spec.account_id, spec.region)
        now = int(time.time() * 1000)
        with self._logs_lock:  # moto's logs backend is not thread-safe
            if spec.log_group not in backend.groups:
                if not lambda_may_create(spec.log_group):
                    log.warning("function %s logs to %s, which does not exist and Lambda may not create "
                                "(names starting with aws/ are reserved): its logs are dropped",
                                spec.name, spec.log_group)
                    return
                # Lambda creates a missing group (the role's logs:CreateLogGroup is not checked here).
                backend.ensure_log_group(spec.log_group)
            backend.ensure_log_stream(spec.log_group, stream)
            backend.put_log_events(spec.log_group, stream, [{"timestamp": now, "message": line} for line in lines])


def extension(cloud: "LocalCloud") -> LambdaExtension:
    return LambdaExtension(cloud)
