"""Step Functions: executions run in moto's ASL interpreter, their service integrations call this
cloud (seams.py, integrations.py); AWS::StepFunctions::StateMachine in the backend the API reads
(cloudformation.py)."""
from __future__ import annotations

from .extension import StepFunctionsExtension, extension

__all__ = ["StepFunctionsExtension", "extension"]
