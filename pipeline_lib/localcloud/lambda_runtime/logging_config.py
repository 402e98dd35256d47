"""A function's `LoggingConfig` as Lambda keeps it (pure logic, no moto, no I/O).

Lambda always answers a LoggingConfig: `{"LogFormat": "Text", "LogGroup": "/aws/lambda/<name>"}`
by default. Switching to JSON adds `ApplicationLogLevel`/`SystemLogLevel` INFO unless given; an
update merges into what the function has, and switching back to Text drops the levels. Levels
with the Text format are refused, as Lambda refuses them.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

LOG_FORMATS = ("JSON", "Text")
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
LEVEL_KEYS = ("ApplicationLogLevel", "SystemLogLevel")
_LOG_GROUP = re.compile(r"[\.\-_/#A-Za-z0-9]{1,512}")
TEXT_WITH_LEVELS = ('LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your '
                    'request or change the LogFormat to "JSON" and try again.')


class LoggingConfigError(ValueError):
    """A LoggingConfig Lambda would refuse. `code` is Lambda's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def default_log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def default_logging_config(function_name: str) -> dict[str, str]:
    return {"LogFormat": "Text", "LogGroup": default_log_group(function_name)}


def on_create(requested: Mapping[str, Any] | None, function_name: str) -> dict[str, str]:
    """The LoggingConfig a function created with `requested` (or without one) has."""
    return on_update(default_logging_config(function_name), requested or {})


def on_update(current: Mapping[str, Any], requested: Mapping[str, Any]) -> dict[str, str]:
    """The LoggingConfig after an update that sends `requested` (fields not sent are kept)."""
    _validate(requested)
    merged = {**current, **{k: v for k, v in requested.items() if v is not None}}
    if merged.get("LogFormat") == "JSON":
        for key in LEVEL_KEYS:
            merged.setdefault(key, "INFO")
    else:
        if any(requested.get(key) for key in LEVEL_KEYS):
            raise LoggingConfigError("InvalidParameterValueException", TEXT_WITH_LEVELS)
        for key in LEVEL_KEYS:
            merged.pop(key, None)
    return merged


def _validate(requested: Mapping[str, Any]) -> None:
    if not isinstance(requested, Mapping):
        raise LoggingConfigError("ValidationException", "LoggingConfig must be an object with LogFormat, "
                                 "LogGroup, ApplicationLogLevel and/or SystemLogLevel")
    unknown = sorted(set(requested) - {"LogFormat", "LogGroup", *LEVEL_KEYS})
    if unknown:
        raise LoggingConfigError("ValidationException", f"LoggingConfig has unknown fields {unknown}: "
                                 "use LogFormat, LogGroup, ApplicationLogLevel, SystemLogLevel")
    for key, allowed in (("LogFormat", LOG_FORMATS), ("ApplicationLogLevel", APPLICATION_LOG_LEVELS),
                         ("SystemLogLevel", SYSTEM_LOG_LEVELS)):
        value = requested.get(key)
        if value is not None and value not in allowed:
            raise LoggingConfigError(
                "ValidationException",
                f"1 validation error detected: Value '{value}' at 'loggingConfig.{key[0].lower() + key[1:]}' "
                f"failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]")
    group = requested.get("LogGroup")
    if group is not None and not (isinstance(group, str) and _LOG_GROUP.fullmatch(group)):
        raise LoggingConfigError(
            "ValidationException",
            f"1 validation error detected: Value '{group}' at 'loggingConfig.logGroup' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+ "
            "(and be 1 to 512 characters long)")


def lambda_may_create(log_group: str) -> bool:
    """Lambda creates a missing log group for the function, except names starting with `aws/`
    (reserved: the function's logs then go nowhere)."""
    return not log_group.startswith("aws/")
