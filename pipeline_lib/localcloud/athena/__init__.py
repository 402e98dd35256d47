"""The local Athena: the Athena API over the local Glue Data Catalog, Athena SQL executed by the
engine (``engine/``: sqlglot + DuckDB) over the local cloud's own S3.

Modules: `service` (StartQueryExecution and the worker pool that runs queries, the execution and
result actions, work groups), `executions` (one execution's state machine, statistics,
GetQueryExecution shape), `results` (the result files' bytes: <id>.csv, .csv.metadata, .txt,
-manifest.csv, .metadata), `workgroups` (result configuration, EnforceWorkGroupConfiguration),
`catalog_api` (data catalogs, databases, table metadata), `saved_queries` (named queries, prepared
statements), `catalog` and `storage` (the engine's Catalog and Storage protocols over moto's Glue
and S3 backends, in-process), `metrics` (AWS/Athena CloudWatch metrics), `paging` (NextToken),
`sqltext` (EXECUTE ... USING, PREPARE, DEALLOCATE), `errors` (API errors), `seams` (every moto
internal touched, one SeamSet), `extension` (the Extension), `cloudformation`
(AWS::Athena::WorkGroup, registered by ..cfn.registry).
"""
from __future__ import annotations

from .extension import AthenaExtension, extension

__all__ = ["AthenaExtension", "extension"]
