"""Inline parsing for dynamic partitioning: the MetadataExtraction processor's jq query
(developer guide, "Understand partitioning keys"), e.g. `{customer_id: .customer_id,
year: .event_timestamp | strftime("%Y")}`, run on each record to produce its partition keys.

A record must be exactly one JSON value: anything else (not JSON, several concatenated objects)
fails with DynamicPartitioning.MetadataExtractionFailed "Non JSON record provided", as the
service reports it; such records go to the `metadata-extraction-failed` error output.
Key values become strings as jq prints them (numbers without a trailing `.0`, booleans as
`true`/`false`); a key that evaluates to null, an object or an array fails the record.
Only `JQ-1.6` is an accepted JsonParsingEngine (the only one Firehose supports); the `jq`
package runs it.
"""
from __future__ import annotations

import json
import math
from typing import Any, Mapping

import jq

from . import error_records as codes

ENGINES = ("JQ-1.6",)


class MetadataQueryError(ValueError):
    """The MetadataExtraction processor's configuration is invalid (refused at configuration)."""


class MetadataExtractionError(Exception):
    """Extraction failed for one record."""

    code = codes.METADATA_EXTRACTION_FAILED_CODE.code
    output_type = codes.METADATA_EXTRACTION_FAILED_CODE.output_type

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _as_key_value(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MetadataExtractionError(f"Partition key {name!r} evaluated to a non-finite number ({value}).")
        # jq prints integral numbers without a fraction (1.0 -> 1), others with up to 17 digits.
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return format(value, ".17g")
    kind = "null" if value is None else "an object" if isinstance(value, dict) else "an array"
    raise MetadataExtractionError(
        f"Partition key {name!r} evaluated to {kind}; the MetadataExtractionQuery must yield a string, number or "
        "boolean for every key."
    )


class MetadataExtractor:
    """A compiled MetadataExtractionQuery."""

    def __init__(self, query: str, engine: str = "JQ-1.6"):
        if engine not in ENGINES:
            raise MetadataQueryError(f"JsonParsingEngine {engine!r} is not supported; Firehose supports {', '.join(ENGINES)}")
        if not isinstance(query, str) or not query.strip():
            raise MetadataQueryError("MetadataExtractionQuery is empty; give a jq expression such as {id: .id}")
        self.query = query
        self.engine = engine
        try:
            self._program = jq.compile(query)
        except ValueError as exc:
            raise MetadataQueryError(f"MetadataExtractionQuery {query!r} is not a valid jq expression: {exc}") from None

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, str]) -> "MetadataExtractor":
        """From a MetadataExtraction processor's parameters (ParameterName -> ParameterValue)."""
        if "MetadataExtractionQuery" not in parameters:
            raise MetadataQueryError("the MetadataExtraction processor needs a MetadataExtractionQuery parameter")
        return cls(parameters["MetadataExtractionQuery"], parameters.get("JsonParsingEngine", "JQ-1.6"))

    def extract(self, record_bytes: bytes) -> dict[str, str]:
        """The record's partition keys, or MetadataExtractionError."""
        try:
            document = json.loads(record_bytes)
        except (ValueError, UnicodeDecodeError):
            raise MetadataExtractionError(codes.METADATA_EXTRACTION_FAILED_CODE.message) from None
        try:
            results = self._program.input_value(document).all()
        except ValueError as exc:
            raise MetadataExtractionError(f"The MetadataExtractionQuery failed on this record: {exc}") from None
        if not results:
            raise MetadataExtractionError("The MetadataExtractionQuery produced no output for this record.")
        keys = results[0]
        if not isinstance(keys, dict):
            raise MetadataExtractionError(
                f"The MetadataExtractionQuery must produce a JSON object of partition keys, got {json.dumps(keys)[:100]}."
            )
        return {str(name): _as_key_value(str(name), value) for name, value in keys.items()}
