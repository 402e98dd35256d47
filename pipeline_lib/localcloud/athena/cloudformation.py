"""AWS::Athena::WorkGroup in moto's Athena backend, where the local Athena service reads work
groups (their ResultConfiguration and EnforceWorkGroupConfiguration).

Ref: the name. GetAtt: CreationTime, WorkGroupConfiguration.EngineVersion.EffectiveEngineVersion.
Everything but the name changes in place (UpdateWorkGroup).
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from ..cfn.base import LocalResource, ResourceError
from ..cfn.shapes import conform, input_member
from .workgroups import DEFAULTS as _WORK_GROUP_DEFAULTS

__all__ = ["RESOURCE_TYPES", "WorkGroup"]

ENGINE_3 = "Athena engine version 3"
# What GetWorkGroup reports for settings a configuration leaves out.
DEFAULTS = {key: value for key, value in _WORK_GROUP_DEFAULTS.items() if key != "ResultConfiguration"}
PROPERTIES = {"Name", "Description", "State", "Tags", "WorkGroupConfiguration",
              "WorkGroupConfigurationUpdates", "RecursiveDeleteOption"}


def _configuration(properties: dict[str, Any]) -> dict[str, Any]:
    given = properties.get("WorkGroupConfiguration") or {}
    configuration = conform(given, input_member("athena", "CreateWorkGroup", "Configuration"), "WorkGroupConfiguration")
    engine = configuration.get("EngineVersion")
    if engine is not None:
        selected = engine.get("SelectedEngineVersion") or "AUTO"
        # AUTO means "the latest", which is version 3; Athena reports what it runs as effective.
        configuration["EngineVersion"] = {
            "SelectedEngineVersion": selected,
            "EffectiveEngineVersion": ENGINE_3 if selected == "AUTO" else selected,
        }
    for key, value in DEFAULTS.items():
        configuration.setdefault(key, copy.deepcopy(value))
    return configuration


class WorkGroup(LocalResource):
    TYPE = "AWS::Athena::WorkGroup"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = frozenset({"CreationTime", "WorkGroupConfiguration.EngineVersion.EffectiveEngineVersion"})

    def _check(self, properties: dict[str, Any]) -> None:
        unknown = set(properties) - PROPERTIES
        if unknown:
            raise ResourceError(f"{self.TYPE} property {sorted(unknown)[0]} is not supported by the local cloud")
        if properties.get("WorkGroupConfigurationUpdates"):
            raise ResourceError("WorkGroupConfigurationUpdates is deprecated; use WorkGroupConfiguration")
        state = properties.get("State", "ENABLED")
        if state not in ("ENABLED", "DISABLED"):
            raise ResourceError(f"{self.TYPE} State must be ENABLED or DISABLED, got {state!r}")
        if self.name == "primary":
            raise ResourceError("the primary workgroup always exists; it cannot be created by a stack")

    def create(self) -> None:
        self._check(self.properties)
        backend = self.backend("athena")
        if self.name in backend.work_groups:
            raise ResourceError(f"WorkGroup {self.name} already exists")
        tags = conform(self.properties.get("Tags") or [], input_member("athena", "CreateWorkGroup", "Tags"), "Tags")
        backend.create_work_group(
            name=self.name,
            configuration=_configuration(self.properties),
            description=self.properties.get("Description", ""),
            tags=tags,
        )
        backend.work_groups[self.name].state = self.properties.get("State", "ENABLED")
        self.created_at = datetime.now(timezone.utc)

    def update(self, properties: dict[str, Any]) -> None:
        self._check(properties)
        work_group = self.backend("athena").work_groups[self.name]
        work_group.configuration = _configuration(properties)
        work_group.description = properties.get("Description", "")
        work_group.state = properties.get("State", "ENABLED")

    def remove(self) -> None:
        self.backend("athena").delete_work_group(self.name)

    def attribute(self, name: str) -> Any:
        if name == "CreationTime":
            return self.created_at.isoformat()
        configuration = self.backend("athena").work_groups[self.name].configuration
        return configuration.get("EngineVersion", {}).get("EffectiveEngineVersion", ENGINE_3)


# The types this package models (what the cfn registry collects from every service package).
RESOURCE_TYPES: tuple[type, ...] = (WorkGroup,)
