"""The moto patches of the DynamoDB → Kinesis extension, built by `build_seams(cloud)`.

moto's classes are process-wide, so the patches are too: they reach the running extension's
capture and API objects through its `Hook` (filled by `install`, emptied by `stop`), and behave
exactly like moto when it is empty.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from ..seam import SeamSet
from .capture import ChangeCapture, snapshot, table_key
from .table_update import ReplacementRefused, needs_replacement, update_in_place

if TYPE_CHECKING:
    from ..cloud import LocalCloud
    from .api import DestinationApi


class Hook:
    """What the patches call: the capture and API of `cloud`'s dynamodb_kinesis extension (None
    before it installs, after it stops, or without one: the patches then behave as moto)."""

    def __init__(self, cloud: "LocalCloud") -> None:
        self.cloud = cloud

    def _extension(self) -> Any:
        try:
            return self.cloud.extension("dynamodb_kinesis")
        except KeyError:
            return None

    @property
    def capture(self) -> "ChangeCapture | None":
        return getattr(self._extension(), "capture", None)

    @property
    def api(self) -> "DestinationApi | None":
        return getattr(self._extension(), "api", None)


def _item_for_key(table: Any, key: dict[str, Any]) -> Any:
    """The item `key` (DynamoDB JSON) names, or None (also when the key is malformed: moto will say so)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        return table.get_item(hash_key, range_key)
    except Exception:
        return None


def _captured_write(capture: ChangeCapture, table: Any, key: dict[str, Any], write: Callable[[], Any]) -> Any:
    """Run `write` (which returns the item written) under the table's lock and record the change of
    the item `key` names; `write` raising (a failed condition) records nothing."""
    with capture.lock(table):
        destination = capture.destination(table)
        if destination is None:
            return write()
        old = snapshot(_item_for_key(table, key))
        item = write()
        capture.emit(table, destination, old, snapshot(item))
        return item


# -- Table: every PutItem-like and DeleteItem-like change passes here ------------------------------
def _table_put_item(hook: Hook, original: Callable) -> Callable:
    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        capture = hook.capture
        if capture is None:
            return original(self, item_attrs, *args, **kwargs)
        return _captured_write(capture, self, item_attrs, lambda: original(self, item_attrs, *args, **kwargs))

    return put_item


def _table_delete_item(hook: Hook, original: Callable) -> Callable:
    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        capture = hook.capture
        if capture is None:
            return original(self, hash_key, range_key)
        with capture.lock(self):
            destination = capture.destination(self)
            item = original(self, hash_key, range_key)
            if destination is not None and item is not None:  # deleting nothing changes nothing
                capture.emit(self, destination, snapshot(item), None)
            return item

    return delete_item


# -- DynamoDBBackend: operations that read-check-write outside Table --------------------------------
def _backend_update_item(hook: Hook, original: Callable) -> Callable:
    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        capture = hook.capture
        if capture is None:
            return original(self, table_name, key, *args, **kwargs)

        def write() -> Any:
            with capture.suppressed():  # moto creates a missing item with an inner Table.put_item
                return original(self, table_name, key, *args, **kwargs)

        # Under the table's lock, the condition check and the in-place update are one step.
        return _captured_write(capture, self.get_table(table_name), key, write)

    return update_item


def _backend_delete_item(hook: Hook, original: Callable) -> Callable:
    def delete_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        capture = hook.capture
        if capture is None:
            return original(self, table_name, key, *args, **kwargs)
        with capture.lock(self.get_table(table_name)):  # condition check and delete are one step
            return original(self, table_name, key, *args, **kwargs)

    return delete_item


def _backend_transact_write_items(hook: Hook, original: Callable) -> Callable:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        capture = hook.capture
        if capture is None:
            return original(self, transact_items)
        from moto.dynamodb.exceptions import ResourceNotFoundException

        tables = []
        for entry in transact_items:
            for operation in entry.values():
                try:
                    tables.append(self.get_table(operation["TableName"]))
                except (TypeError, KeyError, ResourceNotFoundException):
                    pass  # moto reports a malformed operation or a missing table itself
        # All tables locked: moto's rollback restores whole tables, so no other write may interleave.
        with capture.locked(tables), capture.transaction():
            return original(self, transact_items)

    return transact_write_items


def _backend_delete_table(hook: Hook, original: Callable) -> Callable:
    def delete_table(self: Any, name: str) -> Any:
        table = original(self, name)
        if hook.capture is not None:
            hook.capture.registry.drop_table(table_key(table))
        return table

    return delete_table


# -- DynamoHandler: the four actions moto answers with "not implemented" ----------------------------
def _handler_action(hook: Hook, verb: str) -> Callable:
    def action(self: Any) -> Any:
        from moto.core.responses import ActionResult
        from moto.dynamodb.exceptions import MockValidationException

        if hook.api is None:
            raise MockValidationException("Kinesis streaming destinations need the local cloud's dynamodb_kinesis extension")
        body = getattr(self, "body", None) or {}
        return ActionResult(getattr(hook.api, verb)(self.current_account, self.region, body))

    action.__name__ = f"{verb}_kinesis_streaming_destination"
    return action


# -- CloudFormation: AWS::DynamoDB::Table KinesisStreamSpecification ---------------------------------
def _table_create_from_cloudformation_json(hook: Hook, original: classmethod) -> classmethod:
    create = original.__func__

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        table = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        spec = (cloudformation_json.get("Properties") or {}).get("KinesisStreamSpecification")
        if spec and hook.api is not None:
            hook.api.apply_template_spec(table, spec)
        return table

    return classmethod(create_from_cloudformation_json)


def _table_update_from_cloudformation_json(hook: Hook) -> classmethod:
    def update_from_cloudformation_json(cls: Any, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> Any:
        return _update_table(hook, cls, original_resource, new_resource_name, cloudformation_json, account_id,
                             region_name)

    return classmethod(update_from_cloudformation_json)


def _update_table(hook: Hook, cls: Any, original_resource: Any, new_resource_name: str,
                                           cloudformation_json: dict[str, Any], account_id: str,
                                           region_name: str) -> Any:
    """moto has no update for tables (it dropped the resource): replace or update in place as AWS does."""
    from ..moto_backends import backend

    properties = cloudformation_json.get("Properties") or {}
    if needs_replacement(original_resource, properties):
        name = properties.get("TableName") or new_resource_name
        if name == original_resource.name:
            raise ReplacementRefused(
                "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
                f"Rename {name} and update the stack again."
            )
        table = cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
        cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
        return table
    api = hook.api
    return update_in_place(backend("dynamodb", account_id, region_name), original_resource, properties,
                           api.apply_template_spec if api is not None else lambda _table, _spec: None)


def build_seams(cloud: "LocalCloud") -> SeamSet:
    """Every moto patch of DynamoDB; they call `cloud`'s dynamodb_kinesis extension."""
    hook = Hook(cloud)
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    seams = SeamSet("dynamodb_kinesis")
    seams.replace(Table, "put_item", (
        "self", "item_attrs", "expected", "condition_expression", "expression_attribute_names",
        "expression_attribute_values", "overwrite", "return_values_on_condition_check_failure"), partial(_table_put_item, hook))
    seams.replace(Table, "delete_item", ("self", "hash_key", "range_key"), partial(_table_delete_item, hook))
    seams.replace(DynamoDBBackend, "update_item", (
        "self", "table_name", "key", "update_expression", "expression_attribute_names", "expression_attribute_values",
        "attribute_updates", "expected", "condition_expression", "return_values_on_condition_check_failure"),
        partial(_backend_update_item, hook))
    seams.replace(DynamoDBBackend, "delete_item", (
        "self", "table_name", "key", "expression_attribute_names", "expression_attribute_values",
        "condition_expression", "return_values_on_condition_check_failure"), partial(_backend_delete_item, hook))
    seams.replace(DynamoDBBackend, "transact_write_items", ("self", "transact_items"), partial(_backend_transact_write_items, hook))
    seams.replace(DynamoDBBackend, "delete_table", ("self", "name"), partial(_backend_delete_table, hook))
    for verb in ("enable", "describe", "disable", "update"):
        seams.add(DynamoHandler, f"{verb}_kinesis_streaming_destination", _handler_action(hook, verb))
    seams.replace(Table, "create_from_cloudformation_json", (
        "cls", "resource_name", "cloudformation_json", "account_id", "region_name", "kwargs"),
        partial(_table_create_from_cloudformation_json, hook))
    seams.add(Table, "update_from_cloudformation_json", _table_update_from_cloudformation_json(hook))
    # Read, not patched: capture (snapshots, table keys), the destinations API (table ids) and
    # table_update (whether a template change replaces the table, its stream specification).
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from .. import moto_backends

    seams.reads(Item, "attrs")
    seams.reads(DynamoType, "type", "value")
    seams.reads(Table, "hash_key_attr", "range_key_attr", "name", "account_id", "region_name", "table_arn",
                "created_at", "schema", "indexes", "global_indexes", "stream_specification")
    seams.expect(Table, "get_item", ("self", "hash_key", "range_key", "projection_expression"))
    seams.expect(Table, "set_stream_specification", ("self", "streams"))
    moto_backends.declare(seams)
    return seams
