"""A request's header block read as http.server reads it, without the email parser for the
usual case (the local cloud's HTTP handler: httpserver.py).

http.server parses the header lines with `http.client.parse_headers`: the lines are read with
its limits (a line of at most 64 KiB, at most 100 lines), decoded as latin-1 and fed to the
email package's FeedParser, a general MIME parser: a third of a small request's server time.
For a block of plain `Name: value` lines (no folding, no bare CR, no MIME body to parse) its
result is simple: the headers in order, each value with its leading blanks and line end
stripped. `parse_headers` builds that same `http.client.HTTPMessage` directly and hands any
other block (folded or odd lines, an unterminated block, a multipart or message content type)
to the stock parser, so every block gives what http.client gives (tests/unit/test_http_headers.py).
"""
from __future__ import annotations

import email.parser
import http.client
import re
from typing import BinaryIO

__all__ = ["parse_headers", "read_header_lines"]

# A block of `Name: value` lines as the FeedParser takes them whole (its header pattern: a name
# of visible ASCII but ':'), each ended by CR LF or LF (no CR or LF inside: it splits lines at
# each), then the blank line.
_PLAIN_BLOCK = re.compile(r"(?:[\041-\071\073-\176]+:[^\r\n]*\r?\n)*\r?\n")
# One line of such a block (once the block matched): its name, and its value without the leading
# blanks and line end (the FeedParser's compat32 policy: `value.lstrip(' \t')`, then
# `.rstrip('\r\n')`).
_PLAIN_LINE = re.compile(r"([^:\n]+):[ \t]*([^\r\n]*)\r?\n")


def read_header_lines(fp: BinaryIO) -> list[bytes]:
    """The header lines up to and including the blank one (or the end of input), with
    http.client's limits and errors (LineTooLong, HTTPException: too many headers)."""
    return http.client._read_headers(fp)  # the stock reader: the same limits, errors and reads


def parse_lines(lines: list[bytes]) -> http.client.HTTPMessage:
    """`http.client.parse_headers`'s message for the lines `read_header_lines` gave."""
    text = b"".join(lines).decode("iso-8859-1")
    if _PLAIN_BLOCK.fullmatch(text):
        headers = _PLAIN_LINE.findall(text)
        if not _has_mime_body(headers):
            message = http.client.HTTPMessage()
            message._headers = headers
            message._payload = ""  # the FeedParser's: the (empty) rest after the blank line
            return message
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)


def _has_mime_body(headers: list[tuple[str, str]]) -> bool:
    """Whether a content type may be one the FeedParser reads a body for (multipart/*,
    message/*): such blocks are left to it, to stay exact. Any mention is enough."""
    for name, value in headers:
        if len(name) == 12 and name.lower() == "content-type":
            lowered = value.lower()
            if "multipart" in lowered or "message" in lowered:
                return True
    return False


def parse_headers(fp: BinaryIO) -> http.client.HTTPMessage:
    """`http.client.parse_headers(fp)`: the same reads, limits, errors and message."""
    return parse_lines(read_header_lines(fp))
