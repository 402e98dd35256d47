"""AccessDenied as each service's protocol returns it (status, headers, body)."""
from __future__ import annotations

import json
import uuid
from xml.sax.saxutils import escape

__all__ = ["AccessDenied", "AssumeRoleDenied", "http_response"]


class AccessDenied(Exception):
    """A refused call made on a role's behalf: `message` is AWS's text."""

    def __init__(self, message: str, action: str, resource: str):
        super().__init__(message)
        self.message = message
        self.action = action
        self.resource = resource


class AssumeRoleDenied(AccessDenied):
    """A service may not assume the role: the role's trust policy does not let it. Each service
    reports it in its own words (Firehose's error codes, Glue's crawl failure)."""

    def __init__(self, service: str, role_arn: str):
        super().__init__(f"Service {service} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                         "sts:AssumeRole", role_arn)
        self.service = service
        self.role_arn = role_arn


# signing name -> protocol family
_JSON = {"dynamodb", "kinesis", "firehose", "glue", "states", "logs", "athena", "events", "sqs", "kms",
         "secretsmanager", "ssm", "cloudformation-json"}
_REST_JSON = {"lambda", "apigateway"}
_QUERY = {"iam", "sts", "monitoring", "cloudformation", "sns", "ec2"}


def http_response(service: str, message: str, protocol: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
    """The (status line, headers, body) of an AccessDenied answer from `service` (signing name).
    `protocol`: the request's own ("json", "cbor", "query") when the service speaks several."""
    request_id = str(uuid.uuid4())
    if service == "s3":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>AccessDenied</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{request_id[:16].upper()}</RequestId><HostId>{uuid.uuid4().hex}</HostId></Error>"
        ).encode()
        return "403 Forbidden", [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body
    if service in _REST_JSON:
        body = json.dumps({"Message": message}).encode()
        return "403 Forbidden", [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException"),
                                 ("x-amzn-RequestId", request_id)], body
    if protocol == "cbor":
        return "400 Bad Request", [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                                   ("x-amzn-RequestId", request_id)], cbor_error("AccessDenied", message)
    if protocol == "json" or (protocol is None and service in _JSON):
        type_name = "com.amazon.coral.service#AccessDeniedException" if service == "dynamodb" else "AccessDeniedException"
        key = "Message" if service == "dynamodb" else "message"
        body = json.dumps({"__type": type_name, key: message}).encode()
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id)], body
    # Query protocol (IAM, STS, CloudWatch's query API)
    code = "AccessDenied"
    body = (
        f'<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>'
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return "403 Forbidden", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    n = len(data)
    head = 0x60
    if n < 24:
        return bytes([head | n]) + data
    if n < 256:
        return bytes([head | 24, n]) + data
    if n < 65536:
        return bytes([head | 25]) + n.to_bytes(2, "big") + data
    return bytes([head | 26]) + n.to_bytes(4, "big") + data


def cbor_error(type_name: str, message: str) -> bytes:
    """A Smithy RPC v2 CBOR error body: a map {"__type": ..., "message": ...} (CloudWatch)."""
    return bytes([0xA2]) + _cbor_text("__type") + _cbor_text(type_name) + _cbor_text("message") + _cbor_text(message)
