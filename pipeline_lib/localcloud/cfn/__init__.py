"""CloudFormation in the local cloud: stack operations that end as AWS's do, the registry of
resource types, and the custom-resource machinery. The resource types themselves live in their
service's package (`<service>/cloudformation.py`, listed in its `RESOURCE_TYPES`).

- registry.py: which model creates a type (the service packages' models, collected from the
  cloud's extensions); a type nobody models fails the stack, naming it.
- stack.py: resource events, dependency order, rollback, DELETE_FAILED; reads never create.
  graph.py (dependency order), rules.py (template Rules), shapes.py (template values to API
  shapes).
- base.py: the model protocol our resource models share; custom.py: custom resources we provide
  natively; lambda_backed.py: any other custom resource, run by the local Lambda runtime.

Seams: registry, stack and lambda_backed list theirs in their docstrings and declare them in
one ..seam.SeamSet (seams.py: `build_seams`); every one is checked against moto's attribute and
signature when the extension installs (a changed moto is refused, naming its version), and
installing twice patches once.
"""
from __future__ import annotations

from .extension import CfnExtension, extension

__all__ = ["CfnExtension", "extension"]
