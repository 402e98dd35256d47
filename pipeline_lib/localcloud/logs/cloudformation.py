"""AWS::Logs::LogStream (moto models log groups but not their streams). Ref: the stream name.
Every property change needs a new stream."""
from __future__ import annotations

from typing import Any

from ..cfn.base import LocalResource, ResourceError


class LogStream(LocalResource):
    TYPE = "AWS::Logs::LogStream"
    NAME_PROPERTY = "LogStreamName"
    REPLACE_ON = ("LogGroupName",)

    def create(self) -> None:
        group = self.properties.get("LogGroupName")
        if not group:
            raise ResourceError(f"{self.TYPE} needs the property LogGroupName")
        logs = self.backend("logs")
        if group not in logs.groups:
            raise ResourceError(f"log group {group} does not exist")
        logs.create_log_stream(group, self.name)

    def update(self, properties: dict[str, Any]) -> None:
        pass  # every property is a replacement (see REPLACE_ON / NAME_PROPERTY)

    def remove(self) -> None:
        group = self.backend("logs").groups.get(self.properties.get("LogGroupName"))
        if group is not None:  # deleting the group deleted its streams
            group.streams.pop(self.name, None)


RESOURCE_TYPES = (LogStream,)
