"""Custom resources backed by a Lambda function (any Custom::* without a native provider, and
AWS::CloudFormation::CustomResource): the function runs in the local Lambda runtime with the
request CloudFormation sends, and answers by PUTting its response to the ResponseURL.

The ResponseURL is the local cloud's own endpoint (moto's custom-resource response route), not
moto's default `host.docker.internal`: the handler runs on this machine.

Seams (moto 5.2.5, checked at install):
- ``moto.cloudformation.responses.CloudFormationResponse.process_cfn_response``: a response for a
  request this module sent is handed to the waiting resource (SUCCESS and FAILED alike); other
  responses go to moto as before.
"""
from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from typing import Any, Callable

from ..seam import SeamSet
from .base import ResourceError
from .custom import CustomResource

# () -> (endpoint, lambda runtime or None, seconds to wait for a response)
Context = Callable[[], tuple[str, Any, float]]


class Responses:
    """Responses PUT by handlers, by RequestId, for the resources waiting on them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[threading.Event, dict[str, Any]]] = {}

    def expect(self, request_id: str) -> None:
        with self._lock:
            self._waiting[request_id] = (threading.Event(), {})

    def deliver(self, body: dict[str, Any]) -> bool:
        with self._lock:
            slot = self._waiting.get(str(body.get("RequestId")))
        if slot is None:
            return False
        slot[1].update(body)
        slot[0].set()
        return True

    def wait(self, request_id: str, timeout: float) -> dict[str, Any] | None:
        with self._lock:
            event, body = self._waiting[request_id]
        try:
            return dict(body) if event.wait(timeout) else None
        finally:
            with self._lock:
                self._waiting.pop(request_id, None)


class LambdaBackedResource(CustomResource):
    """moto calls a model's classmethods, so a cloud's provider is a subclass bound to that cloud
    (`bound_to`): its context and the responses its handlers PUT."""

    TYPE = "AWS::CloudFormation::CustomResource"
    context: Context | None = None
    responses: Responses | None = None

    @classmethod
    def bound_to(cls, context: Context, responses: Responses) -> type["LambdaBackedResource"]:
        return type(cls.__name__, (cls,), {"context": staticmethod(context), "responses": responses})

    def handle(self, request_type: str, properties: dict[str, Any], old_properties: dict[str, Any],
               physical_id: str) -> tuple[str, dict[str, Any]]:
        token = properties["ServiceToken"]
        if ":lambda:" not in token:
            raise ResourceError(
                f"ServiceToken {token}: the local cloud runs custom resources backed by Lambda functions only"
            )
        context, responses = type(self).context, type(self).responses
        if context is None or responses is None:
            raise ResourceError("the local cloud's CloudFormation extension is not installed")
        endpoint, runtime, timeout = context()
        if runtime is None:
            raise ResourceError(
                f"{self.cf_resource_type} is backed by the Lambda function {token}, and the local cloud "
                "has no Lambda runtime to run it (extension 'lambda' missing)"
            )
        request_id = str(uuid.uuid4())
        query = urllib.parse.urlencode({"stack": self.stack_id, "request": request_id})
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": f"{endpoint}/cloudformation_{self.region}/cfnresponse?{query}",
            "StackId": self.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": self.logical_resource_id,
            "ResourceType": self.cf_resource_type,
            "ResourceProperties": properties,
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = physical_id
        if request_type == "Update":
            event["OldResourceProperties"] = old_properties
        responses.expect(request_id)
        result: Any = None
        wait = timeout
        try:
            result = runtime.invoke(token, json.dumps(event).encode())
        except Exception as exc:  # a response PUT before the crash still decides
            result, wait = f"{type(exc).__name__}: {exc}", 0.0
        # Handlers PUT their response before they return, so it is normally here already.
        response = responses.wait(request_id, wait)
        if response is None:
            raise ResourceError(
                f"the custom resource provider {token} did not respond to the {request_type} request "
                f"({_describe(result)})"
            )
        if response.get("Status") != "SUCCESS":
            raise ResourceError(response.get("Reason") or f"the custom resource provider {token} reported FAILED")
        return str(response.get("PhysicalResourceId") or physical_id), response.get("Data") or {}


def _describe(result: Any) -> str:
    """What an invocation gave back, for a StatusReason (the runtime's InvocationResult or an error)."""
    error = getattr(result, "error", None)
    if error:
        return f"the function failed: {error.get('errorType', '')}: {error.get('errorMessage', '')}"
    if hasattr(result, "payload"):
        return f"the function returned {result.payload[:300]!r} without sending a response"
    return str(result)[:500]


def declare(seams: SeamSet, responses: Responses) -> None:
    from moto.cloudformation.responses import CloudFormationResponse

    def make(moto_process: Any) -> Any:
        def process_cfn_response(self: Any) -> Any:
            raw = self.body.decode() if isinstance(self.body, bytes) else (self.body or "")
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            if isinstance(body, dict) and responses.deliver(body):
                return 200, {"status": 200}, json.dumps("{}")
            return moto_process(self)

        return process_cfn_response

    seams.replace(CloudFormationResponse, "process_cfn_response", ("self",), make)
