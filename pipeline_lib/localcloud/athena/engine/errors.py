"""Athena's errors: the syntax error StartQueryExecution refuses, and the failure a query ends with.

`AthenaQueryError.error_name` is Trino's error code name (what Athena puts before the colon of
`StateChangeReason`); `error_type` is Athena's `AthenaError.ErrorType`, `error_category` its
`ErrorCategory` (1 system, 2 user, 3 other; Athena error catalog,
https://docs.aws.amazon.com/athena/latest/ug/error-reference.html).
"""

from __future__ import annotations

__all__ = [
    "MalformedQuery", "AthenaQueryError", "ERROR_TYPES", "not_supported", "user_error",
]

# ErrorType for each Trino error name the engine raises, chosen by the meaning the Athena error
# catalog gives each number ("Error type reference",
# https://docs.aws.amazon.com/athena/latest/ug/error-reference.html). The page lists the numbers and
# their descriptions only, not which Trino error name Athena reports under which number; where two
# fit, the more specific description is used.
ERROR_TYPES: dict[str, int] = {
    "TABLE_NOT_FOUND": 1110,  # Provided table or view does not exist
    "SCHEMA_NOT_FOUND": 1301,  # General entity not found
    "CATALOG_NOT_FOUND": 1301,
    "COLUMN_NOT_FOUND": 1301,
    "NOT_FOUND": 1301,  # e.g. an unknown prepared statement
    "FUNCTION_NOT_FOUND": 1303,  # Provided function or function implementation not found
    "SYNTAX_ERROR": 1006,  # Syntax error
    "NOT_SUPPORTED": 1200,  # Query not supported
    "HIVE_INVALID_VIEW_DATA": 1107,  # Invalid view
    "VIEW_IS_RECURSIVE": 1107,
    "INVALID_TABLE_PROPERTY": 1103,  # Invalid table property provided
    "INVALID_FUNCTION_ARGUMENT": 1106,  # Invalid function argument provided
    "HIVE_COLUMN_ORDER_MISMATCH": 1004,  # Schema error
    "HIVE_INVALID_METADATA": 1004,
    # Analysis errors with no number of their own: User error.
    "TYPE_MISMATCH": 1000,
    "INVALID_PARAMETER_USAGE": 1000,
    "AMBIGUOUS_NAME": 1000,
    "MISSING_COLUMN_NAME": 1000,
    "MISSING_SCHEMA_NAME": 1000,
    "MISMATCHED_COLUMN_ALIASES": 1000,
    "DUPLICATE_COLUMN_NAME": 1000,
    "CONSTRAINT_VIOLATION": 1000,
    "GENERIC_USER_ERROR": 1000,
    # DDL that the catalog refuses: DDL task failed.
    "ALREADY_EXISTS": 1003,
    "TABLE_ALREADY_EXISTS": 1003,
    "SCHEMA_ALREADY_EXISTS": 1003,
    "SCHEMA_NOT_EMPTY": 1003,
    "HIVE_PATH_ALREADY_EXISTS": 1003,
    "HIVE_METASTORE_ERROR": 1003,
    "HIVE_INVALID_PARTITION_VALUE": 1003,
    # Errors in the data, found while the query runs: Data error.
    "DIVISION_BY_ZERO": 1001,
    "INVALID_CAST_ARGUMENT": 1001,
    "NUMERIC_VALUE_OUT_OF_RANGE": 1001,
    "HIVE_BAD_DATA": 1001,
    "HIVE_CURSOR_ERROR": 1001,
    "USER_CANCELLED": 1011,  # Query canceled by user
    "GENERIC_INTERNAL_ERROR": 200,  # Query engine had an internal error (category 1, system)
}


class MalformedQuery(Exception):
    """A syntax error: StartQueryExecution itself refuses the query (InvalidRequestException,
    AthenaErrorCode MALFORMED_QUERY). `message` is "line L:C: ..." as Athena words it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AthenaQueryError(Exception):
    """The query ends FAILED; `str()` is the StateChangeReason `"<error_name>: <message>"`."""

    def __init__(self, error_name: str, message: str, *, error_category: int = 2,
                 error_type: int | None = None, retryable: bool = False) -> None:
        self.error_name = error_name
        self.message = message
        self.error_category = error_category
        self.error_type = ERROR_TYPES.get(error_name, 1000) if error_type is None else error_type
        self.retryable = retryable
        super().__init__(f"{error_name}: {message}")


def user_error(error_name: str, message: str) -> AthenaQueryError:
    return AthenaQueryError(error_name, message, error_category=2)


def not_supported(what: str) -> AthenaQueryError:
    """What the local engine cannot reproduce faithfully: refused loudly, never answered differently."""
    return AthenaQueryError("NOT_SUPPORTED", f"{what} is not supported by the local Athena engine")
