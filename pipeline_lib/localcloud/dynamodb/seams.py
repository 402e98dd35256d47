"""The moto patches of DynamoDB's request path, built by `build_seams(cloud)`.

- `DynamoHandler.parse_parameters` (added: moto's is BaseResponse's): the compiled parse of
  request_parsing.py for JSON-protocol requests; anything else goes to moto's own.
- `Item.__init__`: one size check per item, sizes summed directly, the attributes packed into
  one bytes object when they can be (items.py, packed.py, compact.py); `Item.attrs` (added, a
  property) builds moto's DynamoTypes from it when moto's code reads them; `to_json`, `describe_attrs`, `size`
  and `__deepcopy__` served from the packed form; the two writes that change an item in place
  (`UpdateExpressionExecutor.execute`, `Item.update_with_attribute_updates`) keep what they read
  until they end, then the item is packed again; `Item.__setstate__` (added) packs an item of a
  state saved before items were packed; `Item.__reduce__` and `DynamoType.__reduce__` (added)
  pickle them by their attributes. `Item.__new__` (added) skips moto's instance
  tracking, which kept every Item ever made alive (the dashboard's list of instances).
- `responses.dynamo_json_dump`, which BatchWriteItem uses only to find duplicate requests: the
  same text through orjson (items.json_dump; equal for the same requests, as moto's).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..seam import SeamSet
from .items import item_init, json_dump
from .packed import (ATTRS, ITEM_NEW, dynamo_type_reduce, in_write, item_deepcopy, item_describe_attrs, item_reduce,
                     item_setstate, item_size, item_to_json)
from .request_parsing import CompiledParser

if TYPE_CHECKING:
    from ..cloud import LocalCloud


def _parse_parameters(base_parse: Any) -> Any:
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.request import determine_request_protocol
    from moto.core.utils import get_service_model

    compiled: dict[tuple[str, str], CompiledParser] = {}
    shapes: dict[str, Any] = {}  # compiled shapes, shared by the operations of the service

    def parse_parameters(self: Any, request: Any) -> None:
        service_model = get_service_model(self.boto3_service_name)
        if determine_request_protocol(service_model, request.content_type) != "json":
            return base_parse(self, request)
        action = self._get_action()
        parser = compiled.get((self.boto3_service_name, action))
        if parser is None:
            operation_model = service_model.operation_model(action)
            timestamp = PROTOCOL_PARSERS["json"](operation_model)._timestamp_parser
            parser = compiled[(self.boto3_service_name, action)] = CompiledParser(operation_model, timestamp, shapes)
        self.params = parser.parse(request.data)

    return parse_parameters


def build_seams(cloud: "LocalCloud") -> SeamSet:
    from moto.core.parse import RequestParser
    from moto.core.common_models import BaseModel
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
    import moto.dynamodb.responses as responses
    from moto.dynamodb.responses import DynamoHandler

    seams = SeamSet("dynamodb")
    seams.expect(BaseResponse, "parse_parameters", ("self", "request"))
    seams.add(DynamoHandler, "parse_parameters", _parse_parameters(BaseResponse.parse_parameters))
    seams.expect(BaseResponse, "_get_action", ("self",))
    seams.expect(RequestParser, "__init__", ("self", "operation_model", "timestamp_parser", "blob_parser", "map_type"))
    seams.reads(RequestParser, "_timestamp_parser")
    seams.replace(Item, "__init__", ("self", "hash_key", "range_key", "attrs"), item_init)
    # Items kept packed (packed.py, compact.py): moto's code reads `attrs` as before; what answers
    # and change records need is served from the packed form; writes in place are bracketed.
    seams.add(Item, "attrs", ATTRS)
    seams.add(Item, "__new__", ITEM_NEW)
    seams.expect(BaseModel, "__new__", ("cls", "args", "kwargs"))
    seams.replace(Item, "to_json", ("self", "root_attr_name"), item_to_json)
    seams.replace(Item, "describe_attrs", ("self", "attributes"), item_describe_attrs)
    seams.replace(Item, "size", ("self",), item_size)
    seams.replace(Item, "__deepcopy__", ("self", "memo"), item_deepcopy)
    seams.add(Item, "__setstate__", item_setstate)  # states saved before items were packed load packed
    # Pickled by their attributes, not their __dict__ (packed.py: item_reduce).
    seams.add(Item, "__reduce__", item_reduce)
    seams.add(DynamoType, "__reduce__", dynamo_type_reduce)
    seams.replace(Item, "update_with_attribute_updates", ("self", "attribute_updates"), in_write)
    seams.replace(UpdateExpressionExecutor, "execute", ("self", "node"), in_write)
    seams.expect(LimitedSizeDict, "__setitem__", ("self", "key", "value"))  # the size check of writes in place
    seams.expect(DynamoType, "size", ("self",))
    seams.reads(DynamoType, "type", "value")  # items.attribute_size
    seams.replace(responses, "dynamo_json_dump", ("dynamo_object",), lambda _original: json_dump)
    return seams
