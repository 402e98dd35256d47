"""Jupyter workbench helpers for the DynamoDB -> Kinesis -> Firehose -> S3 -> Glue -> Athena lake.

    import pipeline_lib as pl
    session = pl.backend.connect()          # local cloud by default; PIPELINE_BACKEND=aws for AWS
    outputs = pl.stack.outputs(boto3_session=session)
    pl.lake.reconcile(changes, outputs["LakeBucketName"], boto3_session=session)

The modules, by job:

  backend  which backend, and a boto3 Session that reaches it (`connect`, `session`)
  stack    the deployed stack's name and outputs
  deploy   deploy / destroy the stack (synthesizing the CDK app in infra/)
  data     the data set and change set, the lake schema, seeding a table
  stream   the change records on the Kinesis stream; the delivery stream's settings
  lake     what landed: objects, partitions, rows, error records, the reconciliation, waiting
  query    Athena queries (awswrangler) with their statistics; the current-state view
  report   the run's HTML report (plots of what landed)
  flow     the Step Functions flow run and watched; the whole job once (`run`)
  schema   the Glue/Hive type parser and its Arrow mapping

Every function that calls AWS takes `boto3_session=` (keyword-only, last); without one it uses
`backend.session()`, the configured backend's. Modules load on first use, so importing the
package stays cheap (the Lambda workers and the local cloud import it too).
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["backend", "data", "deploy", "flow", "lake", "query", "report", "schema", "stack", "stream"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
