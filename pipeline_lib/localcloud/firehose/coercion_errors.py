"""What record format conversion raises: a record that cannot be converted, a table that cannot
drive a conversion, a value that does not fit its column."""
from __future__ import annotations

from . import error_records as codes

__all__ = ["ConversionError", "Mismatch", "SchemaConversionError"]


class ConversionError(Exception):
    """One record cannot be converted; `code`/`message` go into its error record."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class SchemaConversionError(ConversionError, ValueError):
    """The table or the deserializer options cannot drive a conversion. A ConversionError too, so
    a caller that builds the converter per record routes every record to format-conversion-failed
    (DataFormatConversion.InvalidSchema) instead of stopping."""

    def __init__(self, message: str):
        super().__init__(codes.CONVERSION_INVALID_SCHEMA.code, message)


class Mismatch(Exception):
    """A value does not fit its column (becomes MalformedData)."""
