"""The local Athena SQL engine: Athena SQL (Trino dialect) parsed with sqlglot, run by DuckDB over
the Glue catalog's tables read from S3 (both given as protocols). No moto, no HTTP.

Module map: parse (syntax check, statement kinds) · catalog (name resolution) · resolve (views,
table binding, partition pruning) · scan / formats / projection (reading S3 objects) · transpile
(Trino -> DuckDB with semantic fixes) · functions (DuckDB macros/UDFs) · execute (run, errors,
result types) · types / render (Athena types and varchar rendering) · statements / ddl / writers
(DDL, SHOW, CTAS, INSERT, UNLOAD) · errors · outcome · memory (in-memory Catalog/Storage for tests).
"""

from .errors import AthenaQueryError, MalformedQuery
from .outcome import ColumnInfo, QueryOutcome
from .parse import parse_check, statement_type
from .protocols import Catalog, PreparedStatements, Storage
from .query import Query

__all__ = ["AthenaQueryError", "Catalog", "ColumnInfo", "MalformedQuery", "PreparedStatements", "Query", "QueryOutcome",
           "Storage", "parse_check", "statement_type"]
