"""The Step Functions extension: executions really run (see seams.py for how)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..extension import Extension
from ..seam import SeamError, moto_version
from .executions import halt, resume, running
from .seams import build_seams, modules_with_foreign_clients

if TYPE_CHECKING:
    from ..cloud import LocalCloud

log = logging.getLogger("pipeline_lib.localcloud.stepfunctions")


class StepFunctionsExtension(Extension):
    name = "stepfunctions"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.seams = build_seams(cloud)
        # modules whose boto_client_for now calls this cloud
        self.integration_modules = sum(1 for line in self.seams.describe() if ".boto_client_for(" in line)

    def install(self) -> None:
        from moto.core.config import default_user_config

        if not default_user_config.get("stepfunctions", {}).get("execute_state_machine"):
            raise RuntimeError("moto's Step Functions interpreter is off: set "
                               "default_user_config['stepfunctions']['execute_state_machine'] = True "
                               "before installing the extensions (server.py does)")
        self.seams.apply()
        stale = modules_with_foreign_clients()
        if stale:
            raise SeamError(f"moto {moto_version()}: these Step Functions modules still call AWS through "
                            f"moto's own client factory: {', '.join(stale)}")

    def start(self) -> None:
        """Executions RUNNING now come from a loaded state (no request has been answered yet):
        they continue (executions.py)."""
        from ..moto_backends import backends

        for execution in list(running(backends("stepfunctions"))):
            try:
                resume(execution)
            except Exception:  # one that cannot continue must not keep the others from it
                log.exception("execution %s could not be resumed", execution.exec_arn)

    def stop(self) -> None:
        """Halt the executions running now (their state was saved before; see executions.py)."""
        from ..moto_backends import backends

        halt(backends("stepfunctions"))

    def status(self) -> dict[str, Any]:
        return {"endpoint": self.cloud.endpoint, "integration_modules": self.integration_modules}


def extension(cloud: "LocalCloud") -> StepFunctionsExtension:
    return StepFunctionsExtension(cloud)
