"""The data: a deterministic data set and change set (DynamoDB BatchWriteItem WriteRequests as
JSON lines), the lake table's schema, and seeding a table from a data set.

    from pipeline_lib import data
    data.generate_files(1000, 42, "items.jsonl", changes_out="changes.jsonl", updates=50, deletes=10)
    data.load_schema().column_names
    data.seed_file("items.jsonl", table_name, boto3_session=session)
    data.prepare_data("counties.csv", pk="STATE#{State}", sk="COUNTY#{County}")  # your own data

The schema itself (schema.json, the single source of the lake table's columns) is package data
of this folder; `pipeline_lib.schema` parses it.
"""
from ..schema import DEFAULT_SCHEMA_PATH as SCHEMA_PATH
from ..schema import SchemaError, TableSchema, load_schema
from ._byod import *  # noqa: F403 (re-exports exactly its __all__)
from ._byod import __all__ as _byod_all
from ._generate import *  # noqa: F403 (re-exports exactly its __all__)
from ._generate import __all__ as _generate_all
from ._seed import *  # noqa: F403
from ._seed import __all__ as _seed_all

__all__ = [*_byod_all, *_generate_all, *_seed_all, "SCHEMA_PATH", "SchemaError", "TableSchema", "load_schema"]
