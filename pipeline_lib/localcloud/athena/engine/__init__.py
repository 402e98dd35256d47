"""The local Athena SQL engine: Athena SQL (Trino dialect) parsed with sqlglot, run by DuckDB over
the Glue catalog's tables read from S3 (both given as protocols). No moto, no HTTP.

Module map
- parse       syntax check (MalformedQuery "line L:C: ..."), statement kinds, StatementType
- catalog     table names (t, db.t, "awsdatacatalog"."db"."t") -> Glue tables; not-found errors
- resolve     binding a statement: views inlined, tables declared for analysis, partitions pruned
              by WHERE conjuncts, data handed to DuckDB; information_schema tables from the catalog
- resolve_views  Athena's Presto view encoding ('/* Presto View: <base64 JSON> */')
- information_schema  schemata, tables, columns, views; Glue types in Trino's spelling
- scan        partitions (catalog or projection, never S3 listings), objects under a location
              (one listing per bucket for all of a table's partitions), Parquet as a DuckDB
              read_parquet over in-memory bytes (object files, else memfs; schemas remembered by
              footer, bounded; partition values joined by file name), text formats as Arrow
- formats     which format a table is; JSON lines / delimited / OpenCSV objects -> Arrow
- projection  partition projection (integer, date, enum, injected; storage.location.template)
- objectfiles the Parquet objects scanned kept as memfd files DuckDB reads natively by path
              (/proc/self/fd/N), by object version, pinned while a statement reads them, bounded
              (PIPELINE_ATHENA_CACHE_MB, default 64; 0: off); leases: its pure LRU bookkeeping;
              memfd: one sealed, mapped memfd (Linux; elsewhere everything goes through memfs)
- memfs       the fsspec filesystem DuckDB reads the fetched Parquet bytes through when an object
              is not kept as a file (no version, does not fit, not Linux)
- typecheck   Trino's strictness DuckDB lacks (no varchar <-> number/date coercion, CASE/UNION types)
- transpile   Trino -> DuckDB: sqlglot qualify/annotate, then the semantic fixes
- functions   DuckDB macros / Python UDFs for Trino functions; the shared DuckDB database
- execute     running a SELECT; DuckDB errors -> Athena errors; result columns -> Athena types
- compile_query  a query expression bound, typed, translated and run (what SELECT, CTAS, INSERT,
              UNLOAD, EXPLAIN and views share); a SELECT's compilation remembered (bounded) while
              the catalog answers its lookups alike, the data read afresh every run; below the
              statement modules, so imports flow query -> statements -> ddl/dml/show -> compile_query
- types       Glue <-> Arrow <-> DuckDB <-> Athena type names
- render      values as Athena's varchar (1.0E20, [1, 2], {a=1}, {x=1, y=2}, timestamps .fff)
- statements  dispatch of non-SELECT statements inside an undo log (changes)
- ddl, show   CREATE/DROP DATABASE|TABLE|VIEW, MSCK REPAIR, ALTER TABLE; SHOW ..., DESCRIBE
- dml         CREATE TABLE AS, INSERT INTO, UNLOAD, EXPLAIN; writers: the data files they write
- prepared    PREPARE / EXECUTE ... USING / DEALLOCATE PREPARE over a PreparedStatements store
- errors, outcome, protocols, results   the contract's types
- memory      in-memory Catalog/Storage and MemoryLake: test support (unit, conformance, bench)

What cannot be reproduced faithfully fails with NOT_SUPPORTED instead of answering differently:
ORC/Avro/Ion/Iceberg tables and formats, bucketing, Joda patterns or zones that are not literals,
Java regex named-group replacements, UNNEST or decimal division whose types are unknown before
execution, to_iso8601 of non-UTC zoned values, and any statement DuckDB cannot bind after
translation (the DuckDB message is included).
"""

from .errors import AthenaQueryError, MalformedQuery
from .outcome import ColumnInfo, QueryOutcome
from .parse import parse_check, statement_type
from .protocols import Catalog, PreparedStatements, Storage
from .query import Query, warm_up

__all__ = ["AthenaQueryError", "Catalog", "ColumnInfo", "MalformedQuery", "PreparedStatements", "Query",
           "QueryOutcome", "Storage", "parse_check", "statement_type", "warm_up"]
