"""The local Firehose: every delivery stream in the cloud gets a delivery engine driven by its
own configuration (what DescribeDeliveryStream returns).

Seams (moto 5.2.5, checked at install):
- ``moto.firehose.models.FirehoseBackend.create_delivery_stream``: after moto stores the stream,
  an engine starts for it (Kinesis sources start at the stream's tip, as Firehose reads LATEST).
- ``FirehoseBackend.delete_delivery_stream``: the engine delivers what it holds, then stops.
- ``FirehoseBackend.update_destination``: the engine delivers what it holds and restarts with the
  new configuration (and the new version in object names).
- ``FirehoseBackend.put_record_batch`` (``put_record`` calls it): Direct PUT records go into the
  engine instead of moto's one-raw-object-per-call writer; a Kinesis-sourced stream refuses them
  as AWS does.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from typing import Any

from ..extension import Extension
from .config import StreamConfig, UnsupportedConfiguration, parse_config
from .engine import DeliveryEngine, InRecord, Services

log = logging.getLogger("pipeline_lib.localcloud.firehose")

_ORIGINALS: dict[str, Any] = {}
_ACTIVE: "FirehoseExtension | None" = None


class FirehoseExtension(Extension):
    name = "firehose"

    def __init__(self, cloud):
        super().__init__(cloud)
        self.engines: dict[str, DeliveryEngine] = {}  # by delivery stream ARN
        self._lock = threading.RLock()

    # -- seams ----------------------------------------------------------------------------------
    def install(self) -> None:
        global _ACTIVE
        from moto.firehose import models
        from moto.firehose.exceptions import InvalidArgumentException, ResourceNotFoundException

        _ACTIVE = self
        backend_cls = models.FirehoseBackend
        for name in ("create_delivery_stream", "delete_delivery_stream", "update_destination", "put_record_batch"):
            if not callable(getattr(backend_cls, name, None)):
                raise RuntimeError(f"moto's FirehoseBackend has no {name}: the pinned moto version changed")
            _ORIGINALS.setdefault(name, getattr(backend_cls, name))
        if getattr(backend_cls, "_workbench_patched", False):
            return

        def create_delivery_stream(backend, region, delivery_stream_name, *args, **kwargs):
            arn = _ORIGINALS["create_delivery_stream"](backend, region, delivery_stream_name, *args, **kwargs)
            try:
                check_prefixes(backend, delivery_stream_name)
            except InvalidArgumentException:
                # AWS refuses such a stream at creation: it must not exist afterwards.
                backend.delivery_streams.pop(delivery_stream_name, None)
                raise
            if _ACTIVE is not None:
                _ACTIVE.start_engine(backend, delivery_stream_name)
            return arn

        def delete_delivery_stream(backend, delivery_stream_name, *args, **kwargs):
            stream = backend.delivery_streams.get(delivery_stream_name)
            if stream is not None and _ACTIVE is not None:
                _ACTIVE.stop_engine(stream.delivery_stream_arn, deliver=True)
            return _ORIGINALS["delete_delivery_stream"](backend, delivery_stream_name, *args, **kwargs)

        def update_destination(backend, delivery_stream_name, *args, **kwargs):
            import copy

            stream = backend.delivery_streams.get(delivery_stream_name)
            if stream is not None and _ACTIVE is not None:
                _ACTIVE.stop_engine(stream.delivery_stream_arn, deliver=True)
            before = copy.deepcopy(stream.destinations) if stream is not None else None
            try:
                result = _ORIGINALS["update_destination"](backend, delivery_stream_name, *args, **kwargs)
                try:
                    check_prefixes(backend, delivery_stream_name)
                except InvalidArgumentException:
                    stream.destinations = before  # an invalid update changes nothing
                    stream.version_id = str(int(stream.version_id) - 1)
                    raise
                return result
            finally:
                if stream is not None and _ACTIVE is not None:
                    _ACTIVE.start_engine(backend, delivery_stream_name)

        def put_record_batch(backend, delivery_stream_name, records):
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
                return _ORIGINALS["put_record_batch"](backend, delivery_stream_name, records)
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

        backend_cls.create_delivery_stream = create_delivery_stream
        backend_cls.delete_delivery_stream = delete_delivery_stream
        backend_cls.update_destination = update_destination
        backend_cls.put_record_batch = put_record_batch
        backend_cls._workbench_patched = True

    # -- engines --------------------------------------------------------------------------------
    def start_engine(self, backend, delivery_stream_name: str) -> DeliveryEngine | None:
        description = backend.describe_delivery_stream(delivery_stream_name)["DeliveryStreamDescription"]
        try:
            config = parse_config(description)
        except (UnsupportedConfiguration, KeyError) as exc:
            # Refuse loudly: the stream exists but delivers nothing, and status says why.
            log.error("delivery stream %s cannot run locally: %s", delivery_stream_name, exc)
            self._refused[description["DeliveryStreamARN"]] = str(exc)
            return None
        engine = DeliveryEngine(config, self._source_for(config), self._services(backend))
        with self._lock:
            old = self.engines.pop(config.arn, None)
            if old is not None:
                old.stop()
            self.engines[config.arn] = engine
        engine.start()
        return engine

    def stop_engine(self, arn: str, deliver: bool) -> None:
        with self._lock:
            engine = self.engines.pop(arn, None)
        if engine is not None:
            if deliver:
                engine.flush(timeout=120)
            engine.stop()

    @property
    def _refused(self) -> dict[str, str]:
        if not hasattr(self, "_refused_map"):
            self._refused_map: dict[str, str] = {}
        return self._refused_map

    def _source_for(self, config: StreamConfig):
        if config.source_stream_arn is None:
            return _DirectPutSource()
        from .sources import KinesisSource

        return KinesisSource(self.cloud, config.source_stream_arn)

    def _services(self, backend) -> Services:
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.logs.models import logs_backends
        from moto.s3.models import s3_backends

        account, region = backend.account_id, backend.region_name
        runtime = self.cloud.extension("lambda").runtime

        def put_object(bucket: str, key: str, body: bytes) -> None:
            s3_backends[account]["aws"].put_object(bucket, key, body)

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
