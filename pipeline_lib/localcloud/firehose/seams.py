"""The Firehose seams: moto's delivery streams handed to the local delivery engines.

Seams (moto 5.2.5; ``build_seams(cloud)``, a ``..seam.SeamSet``: checked at install, applied once):
- ``moto.firehose.models.FirehoseBackend.create_delivery_stream``: after moto stores the stream,
  an engine starts for it (Kinesis sources start at the stream's tip, as Firehose reads LATEST).
- ``FirehoseBackend.delete_delivery_stream``: the engine delivers what it holds, then stops.
- ``FirehoseBackend.update_destination``: the engine delivers what it holds and restarts with the
  new configuration (and the new version in object names), reading on from the old engine's
  Kinesis checkpoints.
- ``FirehoseBackend.put_record_batch`` (``put_record`` calls it): Direct PUT records go into the
  engine instead of moto's one-raw-object-per-call writer; a Kinesis-sourced stream refuses them
  as AWS does.
- ``moto.firehose.responses.FirehoseResponse.put_record`` / ``put_record_batch``: records over
  1,000 KiB are refused with Firehose's ValidationException (record_limits.py) before moto sees them.
- Called as moto has them: ``FirehoseBackend.put_record`` (through put_record_batch) and
  ``describe_delivery_stream`` (each engine's configuration).
"""
from __future__ import annotations

import base64
import time
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ..seam import SeamSet
from .records import InRecord

if TYPE_CHECKING:
    from ..cloud import LocalCloud


class Engines(Protocol):
    """What the patches call: the Firehose extension of the cloud (extension.py)."""

    engines: dict[str, Any]

    def start_engine(self, backend: Any, delivery_stream_name: str, resume: Any = None) -> Any: ...

    def stop_engine(self, arn: str, deliver: bool) -> Any: ...


def build_seams(cloud: "LocalCloud") -> SeamSet:
    """Every moto patch of Firehose; each stream's engine runs in `cloud`'s Firehose extension."""
    from moto.firehose.models import DeliveryStream, FirehoseBackend

    from .. import moto_backends

    def engines() -> "Engines":
        return cloud.extension("firehose")  # type: ignore[return-value]

    seams = SeamSet("firehose")
    seams.replace(FirehoseBackend, "create_delivery_stream", (
        "self", "region", "delivery_stream_name", "delivery_stream_type", "kinesis_stream_source_configuration",
        "delivery_stream_encryption_configuration_input", "s3_destination_configuration",
        "extended_s3_destination_configuration", "redshift_destination_configuration",
        "elasticsearch_destination_configuration", "splunk_destination_configuration",
        "http_endpoint_destination_configuration", "snowflake_destination_configuration",
        "iceberg_destination_configuration", "tags",
    ), partial(_create_delivery_stream, engines=engines))
    seams.replace(FirehoseBackend, "delete_delivery_stream", ("self", "delivery_stream_name"), partial(_delete_delivery_stream, engines=engines))
    seams.replace(FirehoseBackend, "update_destination", (
        "self", "delivery_stream_name", "current_delivery_stream_version_id", "destination_id",
        "s3_destination_update", "extended_s3_destination_update", "s3_backup_mode", "redshift_destination_update",
        "elasticsearch_destination_update", "splunk_destination_update", "http_endpoint_destination_update",
        "snowflake_destination_configuration", "iceberg_destination_update",
    ), partial(_update_destination, engines=engines))
    seams.replace(FirehoseBackend, "put_record_batch", ("self", "delivery_stream_name", "records"), partial(_put_record_batch, engines=engines))
    seams.expect(FirehoseBackend, "put_record", ("self", "delivery_stream_name", "record"))  # calls put_record_batch
    from moto.firehose.responses import FirehoseResponse

    seams.expect(FirehoseResponse, "_get_param")
    seams.replace(FirehoseResponse, "put_record", ("self",), partial(_size_checked, param="Record"))
    seams.replace(FirehoseResponse, "put_record_batch", ("self",), partial(_size_checked, param="Records"))
    seams.expect(FirehoseBackend, "describe_delivery_stream", ("self", "delivery_stream_name"))
    seams.reads(FirehoseBackend, "delivery_streams", "account_id", "region_name")
    seams.reads(DeliveryStream, "delivery_stream_arn", "delivery_stream_type", "destinations", "version_id",
                "delivery_stream_encryption_configuration")
    # schema_source.table_columns reads the table's versions.
    from moto.glue.models import FakeTable

    seams.reads(FakeTable, "versions")
    # Called by the CloudFormation model (cloudformation.py) and the engines' services (extension.py).
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.logs.models import LogsBackend

    for name in ("start_delivery_stream_encryption", "stop_delivery_stream_encryption", "tag_delivery_stream",
                 "untag_delivery_stream"):
        seams.expect(FirehoseBackend, name)
    seams.expect(CloudWatchBackend, "put_metric_data", ("self", "namespace", "metric_data"))
    seams.expect(LogsBackend, "put_log_events", ("self", "log_group_name", "log_stream_name", "log_events"))
    seams.expect(FakeTable, "get_version", ("self", "ver"))
    moto_backends.declare(seams)
    return seams


def _create_delivery_stream(original, engines: "Callable[[], Engines]"):
    def create_delivery_stream(backend, region, delivery_stream_name, *args, **kwargs):
        from moto.firehose.exceptions import InvalidArgumentException

        arn = original(backend, region, delivery_stream_name, *args, **kwargs)
        try:
            check_prefixes(backend, delivery_stream_name)
        except InvalidArgumentException:
            # AWS refuses such a stream at creation: it must not exist afterwards.
            backend.delivery_streams.pop(delivery_stream_name, None)
            raise
        engines().start_engine(backend, delivery_stream_name)
        return arn

    return create_delivery_stream


def _delete_delivery_stream(original, engines: "Callable[[], Engines]"):
    def delete_delivery_stream(backend, delivery_stream_name, *args, **kwargs):
        stream = backend.delivery_streams.get(delivery_stream_name)
        if stream is not None:
            engines().stop_engine(stream.delivery_stream_arn, deliver=True)
        return original(backend, delivery_stream_name, *args, **kwargs)

    return delete_delivery_stream


def _update_destination(original, engines: "Callable[[], Engines]"):
    def update_destination(backend, delivery_stream_name, *args, **kwargs):
        import copy

        from moto.firehose.exceptions import InvalidArgumentException

        stream = backend.delivery_streams.get(delivery_stream_name)
        replaced = None
        if stream is not None:
            replaced = engines().stop_engine(stream.delivery_stream_arn, deliver=True)
        before = copy.deepcopy(stream.destinations) if stream is not None else None
        try:
            result = original(backend, delivery_stream_name, *args, **kwargs)
            try:
                check_prefixes(backend, delivery_stream_name)
            except InvalidArgumentException:
                stream.destinations = before  # an invalid update changes nothing
                stream.version_id = str(int(stream.version_id) - 1)
                raise
            return result
        finally:
            if stream is not None:
                engines().start_engine(backend, delivery_stream_name, resume=replaced)

    return update_destination


def _put_record_batch(original, engines: "Callable[[], Engines]"):
    def put_record_batch(backend, delivery_stream_name, records):
        from moto.firehose.exceptions import InvalidArgumentException, ResourceNotFoundException

        stream = backend.delivery_streams.get(delivery_stream_name)
        if not stream:
            raise ResourceNotFoundException(
                f"Firehose {delivery_stream_name} under account {backend.account_id} not found."
            )
        if stream.delivery_stream_type == "KinesisStreamAsSource":
            raise InvalidArgumentException(
                "This operation is not permitted on KinesisStreamAsSource delivery stream type."
            )
        engine = engines().engines.get(stream.delivery_stream_arn)
        if engine is None:
            return original(backend, delivery_stream_name, records)
        now = int(time.time() * 1000)
        incoming = [
            InRecord(record_id=_record_id(), data=_record_bytes(r), arrival_ms=now) for r in records
        ]
        engine.metrics.add("IncomingPutRequests", 1)
        engine.ingest_direct(incoming)
        return {
            "FailedPutCount": 0,
            "Encrypted": bool(stream.delivery_stream_encryption_configuration),
            "RequestResponses": [{"RecordId": r.record_id} for r in incoming],
        }

    return put_record_batch


def _size_checked(original, param: str):
    from moto.core.exceptions import JsonRESTError

    from .record_limits import put_record_batch_errors, put_record_errors

    check = put_record_errors if param == "Record" else put_record_batch_errors

    def handler(self):
        message = check(self._get_param(param))
        if message:
            raise JsonRESTError("ValidationException", message)
        return original(self)

    handler.__name__ = original.__name__
    return handler


def check_prefixes(backend, delivery_stream_name: str) -> None:
    """AWS's CreateDeliveryStream/UpdateDestination rules for Prefix and ErrorOutputPrefix."""
    from moto.firehose.exceptions import InvalidArgumentException

    from .prefixes import PrefixError, validate_delivery_prefixes

    description = backend.describe_delivery_stream(delivery_stream_name)["DeliveryStreamDescription"]
    for destination in description.get("Destinations", []):
        s3 = destination.get("ExtendedS3DestinationDescription")
        if s3 is None:
            continue
        processors = (s3.get("ProcessingConfiguration") or {}).get("Processors") or []
        enabled = (s3.get("ProcessingConfiguration") or {}).get("Enabled", False)
        kinds = {p.get("Type") for p in processors} if enabled else set()
        try:
            validate_delivery_prefixes(
                s3.get("Prefix"), s3.get("ErrorOutputPrefix"),
                bool((s3.get("DynamicPartitioningConfiguration") or {}).get("Enabled")),
                has_metadata_extraction="MetadataExtraction" in kinds,
                has_lambda="Lambda" in kinds,
            )
        except PrefixError as exc:
            raise InvalidArgumentException(str(exc)) from None


def _record_id() -> str:
    # Firehose record ids are long opaque strings; uniqueness is what matters to processors.
    return uuid.uuid4().hex + uuid.uuid4().hex


def _record_bytes(record: dict[str, Any]) -> bytes:
    data = record.get("Data", b"")
    if isinstance(data, str):  # depending on the protocol path moto may hand us base64 text
        return base64.b64decode(data)
    return bytes(data)
