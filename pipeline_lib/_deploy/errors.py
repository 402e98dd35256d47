"""The error every deployment step raises."""
from __future__ import annotations


class DeployError(RuntimeError):
    """The stack did not reach the state asked for; the message says why and what to do."""
