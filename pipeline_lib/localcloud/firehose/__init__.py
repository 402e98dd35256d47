"""The local Firehose: every delivery stream in the cloud gets a delivery engine driven by its
own configuration (what DescribeDeliveryStream returns).

Seams (moto 5.2.5; ``firehose_seams()``, a ``..seam.SeamSet``: checked at install, applied once):
- ``moto.firehose.models.FirehoseBackend.create_delivery_stream``: after moto stores the stream,
  an engine starts for it (Kinesis sources start at the stream's tip, as Firehose reads LATEST).
- ``FirehoseBackend.delete_delivery_stream``: the engine delivers what it holds, then stops.
- ``FirehoseBackend.update_destination``: the engine delivers what it holds and restarts with the
  new configuration (and the new version in object names), reading on from the old engine's
  Kinesis checkpoints.
- ``FirehoseBackend.put_record_batch`` (``put_record`` calls it): Direct PUT records go into the
  engine instead of moto's one-raw-object-per-call writer; a Kinesis-sourced stream refuses them
  as AWS does.
- Called as moto has them: ``FirehoseBackend.put_record`` (through put_record_batch) and
  ``describe_delivery_stream`` (each engine's configuration).
"""
from __future__ import annotations

import base64
import importlib
import logging
import threading
import time
import uuid
from functools import lru_cache
from typing import Any

from ..extension import Extension
from ..seam import SeamSet
from .config import StreamConfig, UnsupportedConfiguration, parse_config
from .engine import DeliveryEngine, InRecord, Services

log = logging.getLogger("pipeline_lib.localcloud.firehose")

_ACTIVE: "FirehoseExtension | None" = None


class FirehoseExtension(Extension):
    name = "firehose"

    def __init__(self, cloud):
        super().__init__(cloud)
        self.engines: dict[str, DeliveryEngine] = {}  # by delivery stream ARN
        self._refused: dict[str, str] = {}  # streams that cannot run locally, ARN -> why
        self._lock = threading.RLock()

    # -- seams ----------------------------------------------------------------------------------
    def install(self) -> None:
        global _ACTIVE
        firehose_seams().apply()
        _ACTIVE = self

    # -- engines --------------------------------------------------------------------------------
    def start_engine(self, backend, delivery_stream_name: str,
                     resume: DeliveryEngine | None = None) -> DeliveryEngine | None:
        """Start the stream's engine; `resume`: the engine it replaces, whose source checkpoints
        the new one continues from (a Kinesis source would otherwise skip what arrived between)."""
        description = backend.describe_delivery_stream(delivery_stream_name)["DeliveryStreamDescription"]
        try:
            config = parse_config(description)
        except (UnsupportedConfiguration, KeyError) as exc:
            # Refuse loudly: the stream exists but delivers nothing, and status says why.
            log.error("delivery stream %s cannot run locally: %s", delivery_stream_name, exc)
            self._refused[description["DeliveryStreamARN"]] = str(exc)
            return None
        engine = DeliveryEngine(config, self._source_for(config, resume), self._services(backend))
        with self._lock:
            old = self.engines.pop(config.arn, None)
            if old is not None:
                old.stop()
            self.engines[config.arn] = engine
        engine.start()
        return engine

    def stop_engine(self, arn: str, deliver: bool) -> DeliveryEngine | None:
        with self._lock:
            engine = self.engines.pop(arn, None)
        if engine is not None:
            if deliver:
                engine.flush(timeout=120)
            engine.stop()
        return engine

    def _source_for(self, config: StreamConfig, resume: DeliveryEngine | None = None):
        if config.source_stream_arn is None:
            return _DirectPutSource()
        from .sources import KinesisSource

        previous = resume.source if resume is not None else None
        if isinstance(previous, KinesisSource) and previous.stream_arn == config.source_stream_arn:
            return KinesisSource(self.cloud, config.source_stream_arn, positions=previous.positions)
        return KinesisSource(self.cloud, config.source_stream_arn)

    def _services(self, backend) -> Services:
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.logs.models import logs_backends
        from moto.s3.models import s3_backends

        account, region = backend.account_id, backend.region_name
        runtime = self.cloud.extension("lambda").runtime

        s3 = s3_backends[account]["aws"]  # looked up once: moto's BackendDict lookup is not free

        def put_object(bucket: str, key: str, body: bytes) -> None:
            s3.put_object(bucket, key, body)

        def invoke_lambda(arn: str, payload: bytes) -> tuple[bytes, str | None]:
            result = runtime.invoke(arn, payload, invocation_type="RequestResponse")
            return result.payload, result.function_error

        def publish(namespace: str, data: list[dict[str, Any]]) -> None:
            cloudwatch_backends[account][region].put_metric_data(namespace, data)

        def log_event(config: StreamConfig, message: str) -> None:
            if not (config.log_group and config.log_stream):
                return
            logs = logs_backends[account][region]
            try:
                logs.put_log_events(config.log_group, config.log_stream,
                                    [{"timestamp": int(time.time() * 1000), "message": message}])
            except Exception:  # a missing log group must not stop delivery; AWS drops such logs too
                log.warning("delivery stream %s: cannot log to %s/%s", config.name, config.log_group, config.log_stream)

        def converter_for(config: StreamConfig):
            from .schema_source import converter_for_stream

            return converter_for_stream(account, region, config)

        return Services(
            put_object=put_object,
            invoke_lambda=invoke_lambda,
            converter_for=converter_for,
            publish_metrics=publish,
            log_event=log_event,
            scaled=self.cloud.scaled,
            region=region,
        )

    # -- Extension API ----------------------------------------------------------------------------
    def start(self) -> None:
        # pyarrow.parquet takes about half a second to import: pay it now, not on the first delivery.
        threading.Thread(target=importlib.import_module, args=("pyarrow.parquet",), name="warm-parquet",
                         daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            engines = list(self.engines.values())
            self.engines.clear()
        for engine in engines:
            engine.stop()

    def flush(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        report: dict[str, Any] = {}
        with self._lock:
            engines = list(self.engines.items())
        for arn, engine in engines:
            ok = engine.flush(max(0.0, deadline - time.monotonic()))
            report[engine.config.name] = {"flushed": ok, **engine.status()}
        return report

    def status(self) -> dict[str, Any]:
        with self._lock:
            out = {engine.config.name: engine.status() for engine in self.engines.values()}
        for arn, reason in self._refused.items():
            out[arn.split("/")[-1]] = {"refused": reason}
        return out


class _DirectPutSource:
    """Direct PUT records arrive through `DeliveryEngine.ingest_direct`; nothing to poll."""

    def poll(self, limit: int) -> list[InRecord]:
        return []

    def lag_ms(self) -> int:
        return 0


@lru_cache(maxsize=1)
def firehose_seams() -> SeamSet:
    from moto.firehose.models import FirehoseBackend

    seams = SeamSet("firehose")
    seams.replace(FirehoseBackend, "create_delivery_stream", (
        "self", "region", "delivery_stream_name", "delivery_stream_type", "kinesis_stream_source_configuration",
        "delivery_stream_encryption_configuration_input", "s3_destination_configuration",
        "extended_s3_destination_configuration", "redshift_destination_configuration",
        "elasticsearch_destination_configuration", "splunk_destination_configuration",
        "http_endpoint_destination_configuration", "snowflake_destination_configuration",
        "iceberg_destination_configuration", "tags",
    ), _create_delivery_stream)
    seams.replace(FirehoseBackend, "delete_delivery_stream", ("self", "delivery_stream_name"), _delete_delivery_stream)
    seams.replace(FirehoseBackend, "update_destination", (
        "self", "delivery_stream_name", "current_delivery_stream_version_id", "destination_id",
        "s3_destination_update", "extended_s3_destination_update", "s3_backup_mode", "redshift_destination_update",
        "elasticsearch_destination_update", "splunk_destination_update", "http_endpoint_destination_update",
        "snowflake_destination_configuration", "iceberg_destination_update",
    ), _update_destination)
    seams.replace(FirehoseBackend, "put_record_batch", ("self", "delivery_stream_name", "records"), _put_record_batch)
    seams.expect(FirehoseBackend, "put_record", ("self", "delivery_stream_name", "record"))  # calls put_record_batch
    seams.expect(FirehoseBackend, "describe_delivery_stream", ("self", "delivery_stream_name"))
    return seams


def _create_delivery_stream(original):
    def create_delivery_stream(backend, region, delivery_stream_name, *args, **kwargs):
        from moto.firehose.exceptions import InvalidArgumentException

        arn = original(backend, region, delivery_stream_name, *args, **kwargs)
        try:
            check_prefixes(backend, delivery_stream_name)
        except InvalidArgumentException:
            # AWS refuses such a stream at creation: it must not exist afterwards.
            backend.delivery_streams.pop(delivery_stream_name, None)
            raise
        if _ACTIVE is not None:
            _ACTIVE.start_engine(backend, delivery_stream_name)
        return arn

    return create_delivery_stream


def _delete_delivery_stream(original):
    def delete_delivery_stream(backend, delivery_stream_name, *args, **kwargs):
        stream = backend.delivery_streams.get(delivery_stream_name)
        if stream is not None and _ACTIVE is not None:
            _ACTIVE.stop_engine(stream.delivery_stream_arn, deliver=True)
        return original(backend, delivery_stream_name, *args, **kwargs)

    return delete_delivery_stream


def _update_destination(original):
    def update_destination(backend, delivery_stream_name, *args, **kwargs):
        import copy

        from moto.firehose.exceptions import InvalidArgumentException

        stream = backend.delivery_streams.get(delivery_stream_name)
        replaced = None
        if stream is not None and _ACTIVE is not None:
            replaced = _ACTIVE.stop_engine(stream.delivery_stream_arn, deliver=True)
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
            if stream is not None and _ACTIVE is not None:
                _ACTIVE.start_engine(backend, delivery_stream_name, resume=replaced)

    return update_destination


def _put_record_batch(original):
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
        engine = _ACTIVE.engines.get(stream.delivery_stream_arn) if _ACTIVE else None
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


def extension(cloud) -> FirehoseExtension:
    return FirehoseExtension(cloud)
