"""The four Kinesis-streaming-destination actions and the template property, over the registry.

Requests and responses have AWS's shapes (DynamoDB API reference: Enable/Describe/Disable/
UpdateKinesisStreamingDestination); errors are AWS's codes and messages.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .capture import table_key
from .destinations import ACTIVE, ENABLE_FAILED, Destination, DestinationError, DestinationRegistry, table_id
from .models import MILLISECOND


def _moto_error(exc: DestinationError) -> Exception:
    from moto.dynamodb.exceptions import MockValidationException, ResourceNotFoundException

    if exc.code == "ResourceNotFoundException":
        return ResourceNotFoundException(exc.message)
    return MockValidationException(exc.message)


class DestinationApi:
    def __init__(self, registry: DestinationRegistry):
        self.registry = registry

    # -- lookups --
    @staticmethod
    def table(account_id: str, region: str, name: str | None) -> Any:
        from moto.dynamodb.exceptions import ResourceNotFoundException
        from ..moto_backends import backend

        try:
            return backend("dynamodb", account_id, region).get_table(name or "")
        except ResourceNotFoundException:
            raise ResourceNotFoundException(table_name=name) from None

    def _call(self, action: Callable[[], Destination]) -> Destination:
        try:
            return action()
        except DestinationError as exc:
            raise _moto_error(exc) from None

    # -- actions: each takes the parsed request and returns the response body --
    def enable(self, account_id: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        table = self.table(account_id, region, body.get("TableName"))
        config = body.get("EnableKinesisStreamingConfiguration") or {}
        entry = self._call(lambda: self.registry.enable(
            table_key(table), body.get("StreamArn"), config.get("ApproximateCreationDateTimePrecision")))
        return {
            "TableName": table.name,
            "StreamArn": entry.stream_arn,
            "DestinationStatus": entry.status,
            "EnableKinesisStreamingConfiguration": config,
        }

    def disable(self, account_id: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        table = self.table(account_id, region, body.get("TableName"))
        if body.get("EnableKinesisStreamingConfiguration"):
            raise _moto_error(DestinationError(
                "ValidationException",
                "Streaming destination cannot be disabled with given parameters: "
                "EnableKinesisStreamingConfiguration is not accepted by DisableKinesisStreamingDestination; "
                "send TableName and StreamArn only",
            ))
        entry = self._call(lambda: self.registry.disable(table_key(table), body.get("StreamArn")))
        return {"TableName": table.name, "StreamArn": entry.stream_arn, "DestinationStatus": entry.status}

    def update(self, account_id: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        table = self.table(account_id, region, body.get("TableName"))
        config = body.get("UpdateKinesisStreamingConfiguration") or {}
        precision = config.get("ApproximateCreationDateTimePrecision")
        entry = self._call(lambda: self.registry.update(
            table_key(table), body.get("StreamArn"), precision, table_id(table.table_arn, str(table.created_at))))
        return {
            "TableName": table.name,
            "StreamArn": entry.stream_arn,
            "DestinationStatus": entry.status,
            "UpdateKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": precision},
        }

    def describe(self, account_id: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        table = self.table(account_id, region, body.get("TableName"))
        entries = self.registry.describe(table_key(table))
        return {"TableName": table.name, "KinesisDataStreamDestinations": [e.describe() for e in entries]}

    # -- AWS::DynamoDB::Table KinesisStreamSpecification --
    def apply_template_spec(self, table: Any, spec: dict[str, Any] | None) -> None:
        """Make the table's destination what the template says; ACTIVE (or an error) on return."""
        key = table_key(table)
        live = self.registry.live(key)
        if not spec:
            if live is not None:
                self._call(lambda: self.registry.disable(key, live.stream_arn, immediate=True))
            return
        stream_arn = spec.get("StreamArn")
        precision = spec.get("ApproximateCreationDateTimePrecision")
        if not stream_arn:
            raise _moto_error(DestinationError(
                "ValidationException", "KinesisStreamSpecification needs a StreamArn (the Arn of an AWS::Kinesis::Stream)"))
        if live is not None and live.stream_arn == stream_arn:
            wanted = precision or MILLISECOND  # a property left out means its default
            if live.effective_precision != wanted:
                self._call(lambda: self.registry.update(key, stream_arn, wanted, "", immediate=True))
            return
        if live is not None:
            self._call(lambda: self.registry.disable(key, live.stream_arn, immediate=True))
        entry = self._call(lambda: self.registry.enable(key, stream_arn, precision, immediate=True))
        if entry.status == ENABLE_FAILED:
            raise _moto_error(DestinationError(
                "ValidationException",
                f"KinesisStreamSpecification of table {table.name}: Kinesis stream {stream_arn} does not exist in "
                f"account {key.account_id}, region {key.region}. Create the stream first (in the same template, "
                "give StreamArn as Fn::GetAtt <Stream>.Arn so the stream is created before the table).",
            ))
        assert entry.status == ACTIVE
