"""Every moto internal the local Athena touches, declared in one `..seam.SeamSet` (tag "athena"),
checked against moto 5.2.5 before anything is patched.

Seams
-----
Replaced (moto's canned answers give way to the service; each closes over the cloud and reaches
the service of its athena extension per request):
``moto.athena.responses.AthenaResponse.<action>(self)`` for the actions moto has
(create/get/list/delete_work_group, start_query_execution, get_query_execution,
list_query_executions, stop_query_execution, get_query_results, get_query_runtime_statistics,
list_data_catalogs, get_data_catalog, get_database, list_databases, create/get/list_named_query,
create/get_prepared_statement). Added (moto dispatches ``AmazonAthena.<Action>`` to the method of
that name): the actions moto lacks (update_work_group, batch_get_query_execution,
get/list_table_metadata, update/delete/batch_get_named_query, update/delete/list/batch_get
prepared statements).

Called or read (checked, never patched): ``moto.athena.models.athena_backends``,
``AthenaBackend.create_work_group / delete_work_group / work_groups / data_catalogs``, the
``WorkGroup`` attributes ``name / state / description / configuration`` and the ``DataCatalog``
attributes ``name / type / description / parameters``;
``moto.glue.models.glue_backends``, ``GlueBackend.create_database / delete_database /
create_table / update_table / delete_table / create_partition / get_table / databases``,
``FakeDatabase.as_dict``, ``FakeTable.as_dict / delete_partition / partitions``,
``FakePartition.as_dict / partition_input``; ``moto.s3.models.s3_backends``, ``S3Backend.get_bucket / put_object /
delete_object``, ``FakeKey`` (``size / lock / _value_buffer / last_modified``) and ``FakeBucket.keys``;
``moto.cloudwatch.models.cloudwatch_backends`` and ``CloudWatchBackend.put_metric_data`` (AWS/Athena
metrics); ``BaseResponse.current_account / region / body`` of the request. Signatures and module
attributes are checked by the SeamSet, and so are the instance attributes the catalog and storage
adapters read (`SeamSet.reads`); the rest (work groups', data catalogs') by the integration tests
(tests/integration/test_athena_*.py).
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from ..seam import SeamSet
from .errors import ApiError
from .backends import Backends
from .service import ACTIONS

if TYPE_CHECKING:
    from ..cloud import LocalCloud
    from .service import AthenaService

__all__ = ["build_seams", "moto_backends"]

TAG = "athena"
# Athena speaks AWS's JSON 1.1 protocol: answers and errors carry its media type (moto's Flask
# layer would call a plain string answer text/html).
JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}


def _json_default(value: Any) -> Any:
    """Dates as the epoch seconds AWS's JSON protocol carries; moto's naive datetimes are UTC."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _handler(service_of: Callable[[], "AthenaService"], action: str) -> Callable[[Any], Any]:
    def handler(self: Any) -> Any:
        service = service_of()
        body = self.body
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        try:
            params = json.loads(body) if body else {}
        except ValueError:
            return ApiError("The request body is not valid JSON").body(), {"status": 400, **JSON_HEADERS}
        try:
            answer = service.handle(action, self.current_account, self.region, params)
        except ApiError as exc:
            return exc.body(), {"status": exc.status, **JSON_HEADERS}
        return json.dumps(answer, default=_json_default), {"status": 200, **JSON_HEADERS}

    handler.__name__ = action
    return handler


def moto_backends() -> Backends:
    """The three moto backend look-ups the service uses (BackendDict lookups, by account/region)."""
    from moto.athena.models import athena_backends
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.glue.models import glue_backends
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return Backends(
        athena=lambda account, region: athena_backends[account][region],
        glue=lambda account, region: glue_backends[account][region],
        s3=lambda account, region: s3_backends[account][get_partition(region)],
        cloudwatch=lambda account, region: cloudwatch_backends[account][region],
    )


def build_seams(cloud: "LocalCloud") -> SeamSet:
    """The Athena seams of `cloud`: each API action goes to the service of the cloud's athena
    extension (looked up per request: no module keeps the active instance)."""
    from moto.athena import models as athena_models
    from moto.athena import responses
    from moto.cloudwatch import models as cloudwatch_models
    from moto.core.responses import BaseResponse
    from moto.glue import models as glue_models
    from moto.s3 import models as s3_models
    from moto.utilities import utils

    def service_of() -> "AthenaService":
        return cloud.extension("athena").service  # type: ignore[attr-defined]

    seams = SeamSet(TAG)
    for action in ACTIONS:
        handler = _handler(service_of, action)
        if action in vars(responses.AthenaResponse):
            seams.replace(responses.AthenaResponse, action, ("self",), lambda _original, h=handler: h)
        else:
            seams.add(responses.AthenaResponse, action, handler)
    for owner, name, params in (
        (athena_models.AthenaBackend, "create_work_group", ("self", "name", "configuration", "description", "tags")),
        (athena_models.AthenaBackend, "delete_work_group", ("self", "name")),
        (glue_models.GlueBackend, "create_database", ("self", "database_name", "database_input", "tags")),
        (glue_models.GlueBackend, "delete_database", ("self", "database_name")),
        (glue_models.GlueBackend, "create_table", ("self", "database_name", "table_name", "table_input", "open_table_format_input")),
        (glue_models.GlueBackend, "update_table", ("self", "database_name", "table_name", "table_input")),
        (glue_models.GlueBackend, "delete_table", ("self", "database_name", "table_name")),
        (glue_models.GlueBackend, "get_table", ("self", "database_name", "table_name")),
        (glue_models.GlueBackend, "create_partition", ("self", "database_name", "table_name", "part_input")),
        (glue_models.FakeDatabase, "as_dict", ("self",)),
        (glue_models.FakeTable, "as_dict", ("self", "version")),
        (glue_models.FakeTable, "delete_partition", ("self", "values")),
        (glue_models.FakePartition, "as_dict", ("self",)),
        (s3_models.S3Backend, "get_bucket", ("self", "bucket_name")),
        (cloudwatch_models.CloudWatchBackend, "put_metric_data", ("self", "namespace", "metric_data")),
        (s3_models.S3Backend, "put_object", ("self", "bucket_name", "key_name", "value", "storage", "etag", "multipart",
                                             "encryption", "kms_key_id", "bucket_key_enabled", "lock_mode",
                                             "lock_legal_status", "lock_until", "checksum_value",
                                             "request_method", "disable_notification")),
        (s3_models.S3Backend, "delete_object", ("self", "bucket_name", "key_name", "version_id", "bypass")),
    ):
        seams.expect(owner, name, params)
    for module, names in (
        (athena_models, ("athena_backends", "WorkGroup", "DataCatalog")),
        (glue_models, ("glue_backends",)),
        (cloudwatch_models, ("cloudwatch_backends",)),
        (s3_models, ("s3_backends", "FakeKey")),
        (utils, ("get_partition",)),
    ):
        for name in names:
            seams.expect(module, name)
    seams.expect(BaseResponse, "setup_class")
    # Instance attributes the catalog and storage adapters read (catalog.py, storage.py).
    seams.reads(glue_models.GlueBackend, "databases")
    seams.reads(glue_models.FakeDatabase, "tables")
    seams.reads(glue_models.FakeTable, "partitions")
    seams.reads(glue_models.FakePartition, "partition_input")
    seams.reads(s3_models.FakeBucket, "keys")
    seams.reads(s3_models.FakeKey, "size", "lock", "_value_buffer", "last_modified")
    return seams
