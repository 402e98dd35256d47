"""Stack updates of AWS::DynamoDB::Table (moto 5.2.5 has none: it dropped the resource).

CloudFormation replaces a table only when TableName, KeySchema or LocalSecondaryIndexes change;
everything else updates in place, keeping the items. In place, this applies what moto's backend
can hold: AttributeDefinitions, BillingMode, ProvisionedThroughput, StreamSpecification,
GlobalSecondaryIndexes (created / deleted by IndexName), DeletionProtectionEnabled, Tags, and the
KinesisStreamSpecification (through the destination API). Like moto's create, it ignores the
properties moto does not model (TimeToLive, point-in-time recovery, SSE changes, table class).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ReplacementRefused(Exception):
    """AWS's refusal to replace a table whose name the template fixes."""


def _lsi_shape(indexes: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    return sorted((i["IndexName"], repr(i.get("KeySchema"))) for i in indexes or [])


def needs_replacement(table: Any, properties: dict[str, Any]) -> bool:
    name = properties.get("TableName")
    return bool(
        (name and name != table.name)
        or properties.get("KeySchema", table.schema) != table.schema
        or _lsi_shape(properties.get("LocalSecondaryIndexes")) != _lsi_shape([i.describe() for i in table.indexes])
    )


def gsi_updates(current: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """UpdateTable GlobalSecondaryIndexUpdates that turn `current` into `wanted` (matched by IndexName;
    an index whose key schema or projection changes is deleted and created again)."""
    have = {i["IndexName"]: i for i in current}
    want = {i["IndexName"]: i for i in wanted}
    updates: list[dict[str, Any]] = []
    for name, index in have.items():
        if name not in want or any(want[name].get(k) != index.get(k) for k in ("KeySchema", "Projection")):
            updates.append({"Delete": {"IndexName": name}})
    kept = {name for name in have if {"Delete": {"IndexName": name}} not in updates}
    updates.extend({"Create": index} for name, index in want.items() if name not in kept)
    return updates


def update_in_place(backend: Any, table: Any, properties: dict[str, Any],
                    apply_kinesis: Callable[[Any, dict[str, Any] | None], None]) -> Any:
    current_gsis = [{"IndexName": i.name, "KeySchema": i.schema, "Projection": i.projection} for i in table.global_indexes]
    billing = "PAY_PER_REQUEST" if properties.get("BillingMode") == "PAY_PER_REQUEST" else "PROVISIONED"
    backend.update_table(
        name=table.name,
        attr_definitions=properties.get("AttributeDefinitions"),
        global_index=gsi_updates(current_gsis, properties.get("GlobalSecondaryIndexes") or []),
        throughput=properties.get("ProvisionedThroughput"),
        billing_mode=billing,
        stream_spec=None,
        deletion_protection_enabled=bool(properties.get("DeletionProtectionEnabled", False)),
        warm_throughput=properties.get("WarmThroughput"),
    )
    wanted_stream = properties.get("StreamSpecification")
    current_stream = table.stream_specification if (table.stream_specification or {}).get("StreamEnabled") else None
    if (wanted_stream or {}).get("StreamViewType") != (current_stream or {}).get("StreamViewType"):
        table.set_stream_specification(None)  # off first: moto refuses to enable an enabled stream
        table.stream_shard = None
        table.latest_stream_label = None
        if wanted_stream:
            backend.update_table_streams(table, dict(wanted_stream))
    table.tags = properties.get("Tags") or []
    apply_kinesis(table, properties.get("KinesisStreamSpecification"))
    return table
