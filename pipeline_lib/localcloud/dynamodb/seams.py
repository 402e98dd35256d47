"""The moto patches of DynamoDB's request path, built by `build_seams(cloud)`.

- `DynamoHandler.parse_parameters` (added: moto's is BaseResponse's): the compiled parse of
  request_parsing.py for JSON-protocol requests; anything else goes to moto's own.
- `Item.__init__`: one size check per item, sizes summed directly (items.py).
- `responses.dynamo_json_dump`, which BatchWriteItem uses only to find duplicate requests: the
  same text through orjson (items.json_dump; equal for the same requests, as moto's).
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ..seam import SeamSet
from .items import item_init, json_dump
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
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    import moto.dynamodb.responses as responses
    from moto.dynamodb.responses import DynamoHandler

    seams = SeamSet("dynamodb")
    seams.expect(BaseResponse, "parse_parameters", ("self", "request"))
    seams.add(DynamoHandler, "parse_parameters", _parse_parameters(BaseResponse.parse_parameters))
    seams.expect(BaseResponse, "_get_action", ("self",))
    seams.expect(RequestParser, "__init__", ("self", "operation_model", "timestamp_parser", "blob_parser", "map_type"))
    seams.reads(RequestParser, "_timestamp_parser")
    seams.replace(Item, "__init__", ("self", "hash_key", "range_key", "attrs"), item_init)
    seams.expect(DynamoType, "size", ("self",))
    seams.reads(DynamoType, "type", "value")  # items.attribute_size
    seams.replace(responses, "dynamo_json_dump", ("dynamo_object",), lambda _original: json_dump)
    return seams
