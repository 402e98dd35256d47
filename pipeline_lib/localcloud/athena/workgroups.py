"""Work groups (kept in moto's Athena backend, where CloudFormation creates them): the result
configuration a query gets, GetWorkGroup/ListWorkGroups shapes, UpdateWorkGroup."""
from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

__all__ = ["DEFAULTS", "PRIMARY", "apply_updates", "configuration", "effective_result_configuration",
           "work_group_api", "work_group_summary"]

PRIMARY = "primary"
ENGINE_3 = "Athena engine version 3"
# What GetWorkGroup reports for settings a configuration leaves out.
DEFAULTS: dict[str, Any] = {
    "ResultConfiguration": {},
    "EnforceWorkGroupConfiguration": True,
    "PublishCloudWatchMetricsEnabled": False,
    "RequesterPaysEnabled": False,
    "EnableMinimumEncryptionConfiguration": False,
    "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": ENGINE_3},
}


def configuration(work_group: Any) -> dict[str, Any]:
    """The work group's whole Configuration, defaults filled in (a copy)."""
    out = copy.deepcopy(work_group.configuration or {})
    for key, value in DEFAULTS.items():
        out.setdefault(key, copy.deepcopy(value))
    return out


def effective_result_configuration(work_group: Any, requested: dict[str, Any] | None) -> dict[str, Any]:
    """The ResultConfiguration a query runs with: the work group's when it enforces its
    configuration (EnforceWorkGroupConfiguration), else the request's settings over the work
    group's."""
    config = configuration(work_group)
    own = copy.deepcopy(config.get("ResultConfiguration") or {})
    requested = copy.deepcopy(requested or {})
    if config.get("EnforceWorkGroupConfiguration", True):
        if not own.get("OutputLocation") and requested.get("OutputLocation"):
            own["OutputLocation"] = requested["OutputLocation"]  # nothing to enforce there
        return own
    own.update(requested)
    return own


def _timestamp(when: datetime) -> float:
    return when.timestamp()


def work_group_api(work_group: Any, created: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": work_group.name, "State": getattr(work_group, "state", "ENABLED"),
                           "Configuration": configuration(work_group)}
    if work_group.description:
        out["Description"] = work_group.description
    out["CreationTime"] = _timestamp(created)
    return out


def work_group_summary(work_group: Any, created: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": work_group.name, "State": getattr(work_group, "state", "ENABLED")}
    if work_group.description:
        out["Description"] = work_group.description
    out["CreationTime"] = _timestamp(created)
    out["EngineVersion"] = configuration(work_group)["EngineVersion"]
    return out


_RESULT_SETTINGS = ("OutputLocation", "EncryptionConfiguration", "ExpectedBucketOwner", "AclConfiguration")


def apply_updates(work_group: Any, params: dict[str, Any]) -> None:
    """UpdateWorkGroup: Description, State and ConfigurationUpdates (Remove* flags included)."""
    if "Description" in params:
        work_group.description = params["Description"]
    if "State" in params:
        work_group.state = params["State"]
    updates = params.get("ConfigurationUpdates") or {}
    config = work_group.configuration
    for key in ("EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled", "RequesterPaysEnabled",
                "BytesScannedCutoffPerQuery", "EnableMinimumEncryptionConfiguration", "AdditionalConfiguration",
                "ExecutionRole"):
        if key in updates:
            config[key] = updates[key]
    if updates.get("RemoveBytesScannedCutoffPerQuery"):
        config.pop("BytesScannedCutoffPerQuery", None)
    if "EngineVersion" in updates:
        selected = updates["EngineVersion"].get("SelectedEngineVersion") or "AUTO"
        config["EngineVersion"] = {"SelectedEngineVersion": selected,
                                   "EffectiveEngineVersion": ENGINE_3 if selected == "AUTO" else selected}
    result_updates = updates.get("ResultConfigurationUpdates") or {}
    result = config.setdefault("ResultConfiguration", {})
    for key in _RESULT_SETTINGS:
        if result_updates.get(f"Remove{key}"):
            result.pop(key, None)
        elif key in result_updates:
            result[key] = copy.deepcopy(result_updates[key])
