"""NextToken paging of the API's list and result calls (opaque tokens, bound to what they page)."""
from __future__ import annotations

import base64
import json
from typing import Any

from .errors import InvalidRequest

__all__ = ["list_page", "page_offset", "page_token", "with_token"]


def page_token(scope: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([scope, offset]).encode()).decode()


def page_offset(token: str | None, scope: str) -> int:
    """Where a page starts; a token of another listing (or none of ours) is refused."""
    if not token:
        return 0
    try:
        owner, offset = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError):
        raise InvalidRequest("Invalid NextToken") from None
    if owner != scope or not isinstance(offset, int) or offset < 0:
        raise InvalidRequest("Invalid NextToken")
    return offset


def list_page(items: list[Any], token: str | None, max_results: int | None, limit: int, scope: str) -> tuple[list[Any], str | None]:
    """One page of a list call (MaxResults up to `limit`, its default) and the next token."""
    size = limit if max_results is None else int(max_results)
    if size < 0 or size > limit:
        raise InvalidRequest(f"MaxResults must be between 0 and {limit}")
    offset = page_offset(token, scope)
    page = items[offset:offset + (size or limit)]
    end = offset + len(page)
    return page, (page_token(scope, end) if end < len(items) else None)


def with_token(response: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        response["NextToken"] = token
    return response
