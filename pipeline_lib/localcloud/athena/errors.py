"""Errors the Athena API answers with (HTTP 400, AWS JSON protocol), raised by the service and
turned into a response by the seam that dispatches the request."""
from __future__ import annotations

import json

__all__ = ["ApiError", "InvalidRequest", "MetadataError", "ResourceNotFound"]


class ApiError(Exception):
    """An error response: `code` is the `__type` botocore reads as Error.Code."""

    code = "InvalidRequestException"
    status = 400

    def __init__(self, message: str, athena_error_code: str | None = None):
        super().__init__(message)
        self.message = message
        self.athena_error_code = athena_error_code

    def body(self) -> str:
        payload: dict[str, str] = {"__type": self.code, "Message": self.message}
        if self.athena_error_code:
            payload["AthenaErrorCode"] = self.athena_error_code
        return json.dumps(payload)


class InvalidRequest(ApiError):
    code = "InvalidRequestException"


class ResourceNotFound(ApiError):
    code = "ResourceNotFoundException"


class MetadataError(ApiError):
    """Athena's MetadataException: what the Glue catalog refused (a missing database or table)."""

    code = "MetadataException"
