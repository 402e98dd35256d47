"""The Firehose extension: a delivery engine per delivery stream in the cloud (see the package
docstring), started and stopped by the seams (seams.py)."""
from __future__ import annotations

import importlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from ..extension import Extension
from .config import StreamConfig, UnsupportedConfiguration, parse_config
from . import role_access
from .conversion_workers import ConversionWorkers, default_size
from .engine import DeliveryEngine
from .records import Services
from .seams import build_seams
from .sources import DirectPutSource, KinesisSource

if TYPE_CHECKING:
    from ..cloud import LocalCloud

log = logging.getLogger("pipeline_lib.localcloud.firehose")


class FirehoseExtension(Extension):
    name = "firehose"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.seams = build_seams(cloud)
        self.engines: dict[str, DeliveryEngine] = {}  # by delivery stream ARN
        self._refused: dict[str, str] = {}  # streams that cannot run locally, ARN -> why
        self.restarts: dict[str, int] = {}  # engines restarted after an injected crash, by ARN
        self._lock = threading.RLock()
        self._restored: dict[str, dict[str, Any]] = {}  # loaded checkpoints by ARN, until start
        self._loaded = False
        # Record format conversion runs in these processes (conversion_workers.py); None: in this one.
        self.workers: ConversionWorkers | None = None
        size = default_size()
        if size:
            self.workers = ConversionWorkers(size)

    # -- seams ----------------------------------------------------------------------------------
    def install(self) -> None:
        self.seams.apply()

    # -- engines --------------------------------------------------------------------------------
    def start_engine(self, backend, delivery_stream_name: str,
                     resume: DeliveryEngine | None = None,
                     restored: dict[str, Any] | None = None) -> DeliveryEngine | None:
        """Start the stream's engine; `resume`: the engine it replaces, whose source checkpoints
        the new one continues from (a Kinesis source would otherwise skip what arrived between);
        `restored`: a saved checkpoint (`DeliveryEngine.checkpoint`) it continues from instead."""
        description = backend.describe_delivery_stream(delivery_stream_name)["DeliveryStreamDescription"]
        try:
            config = parse_config(description)
        except (UnsupportedConfiguration, KeyError) as exc:
            # Refuse loudly: the stream exists but delivers nothing, and status says why.
            log.error("delivery stream %s cannot run locally: %s", delivery_stream_name, exc)
            self._refused[description["DeliveryStreamARN"]] = str(exc)
            return None
        roles = role_access.delivery_roles(description)
        services = self._services(backend)
        iam = self._iam()
        if iam is not None:  # every call the stream makes as its roles is decided by their policies
            services = role_access.guarded(services, config, roles, iam)
        positions = restored.get("positions", {}) if restored is not None else None
        engine = DeliveryEngine(config, self._source_for(config, resume, roles, iam, positions), services)
        if restored is not None:
            engine.restore(restored)
        with self._lock:
            old = self.engines.pop(config.arn, None)
            if old is not None:
                old.stop()
            self.engines[config.arn] = engine
        engine.start()
        return engine

    def _restart(self, crashed: DeliveryEngine) -> None:
        """Start the successor of an engine that crashed: a Kinesis source from the crashed
        engine's committed checkpoints (records it had not delivered are read again); a Direct PUT
        stream ingests what the crashed engine held (Firehose keeps accepted records 24 hours)."""
        config = crashed.config
        if config.source_stream_arn is not None:
            # The successor reads as the crashed one did: as the source role, checked by IAM.
            source: Any = KinesisSource(self.cloud, config.source_stream_arn, positions=crashed.committed_positions(),
                                        authorize=getattr(crashed.source, "authorize", None))
            again = []
        else:
            source, again = DirectPutSource(), crashed.held_records()
        engine = DeliveryEngine(config, source, crashed.services, metrics=crashed.metrics)
        with self._lock:
            if self.engines.get(config.arn) is not crashed:
                return  # deleted or updated meanwhile
            self.engines[config.arn] = engine
            self.restarts[config.arn] = self.restarts.get(config.arn, 0) + 1
        if again:
            engine.ingest_direct(again)
        engine.start()
        log.warning("delivery stream %s restarted after a crash (restart %d)", config.name, self.restarts[config.arn])

    def stop_engine(self, arn: str, deliver: bool) -> DeliveryEngine | None:
        with self._lock:
            engine = self.engines.pop(arn, None)
        if engine is not None:
            if deliver:
                engine.flush(timeout=120)
            engine.stop()
        return engine

    def _iam(self) -> Any:
        try:
            return self.cloud.extension("iam")
        except KeyError:  # a cloud built without IAM (unit tests)
            return None

    def _source_for(self, config: StreamConfig, resume: DeliveryEngine | None = None,
                    roles: "role_access.DeliveryRoles | None" = None, iam: Any = None,
                    positions: dict[str, Any] | None = None):
        """The stream's source: Kinesis from `positions` (a saved checkpoint) or from the
        positions of the engine it replaces (`resume`), else from the start; or Direct PUT."""
        if config.source_stream_arn is None:
            return DirectPutSource()
        authorize = (role_access.source_check(iam, roles, config.source_stream_arn, config.arn)
                     if iam is not None and roles is not None else None)
        previous = resume.source if resume is not None else None
        if positions is None and isinstance(previous, KinesisSource) and previous.stream_arn == config.source_stream_arn:
            positions = previous.positions
        if positions is not None:
            return KinesisSource(self.cloud, config.source_stream_arn, positions=positions, authorize=authorize)
        return KinesisSource(self.cloud, config.source_stream_arn, authorize=authorize)

    def _services(self, backend) -> Services:
        from ..moto_backends import backend as moto_backend

        account, region = backend.account_id, backend.region_name
        runtime = self.cloud.extension("lambda").runtime

        s3 = moto_backend("s3", account, region)  # looked up once: moto's BackendDict lookup is not free

        from ..faults import InjectedS3Error, faults_of

        def put_object(bucket: str, key: str, body: bytes) -> None:
            if faults_of(self.cloud).decide("s3_put_error", f"{bucket}/{key}"):
                raise InjectedS3Error()
            s3.put_object(bucket, key, body)

        def crash_point() -> bool:
            return faults_of(self.cloud).decide("firehose_crash")

        def invoke_lambda(arn: str, payload: bytes) -> tuple[bytes, str | None]:
            result = runtime.invoke(arn, payload, invocation_type="RequestResponse")
            return result.payload, result.function_error

        def publish(namespace: str, data: list[dict[str, Any]]) -> None:
            moto_backend("cloudwatch", account, region).put_metric_data(namespace, data)

        def log_event(config: StreamConfig, message: str) -> None:
            if not (config.log_group and config.log_stream):
                return
            logs = moto_backend("logs", account, region)
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
            crash_point=crash_point,
            restart=self._restart,
            buffer_wait=self.cloud.buffer_wait,
            convert_batch=self.workers.convert if self.workers is not None else None,
            write_parquet=self.workers.write_parquet if self.workers is not None else None,
            write_parquets=self.workers.write_parquets if self.workers is not None else None,
        )

    # -- saved state (localcloud/state/) -----------------------------------------------------------
    def save_state(self) -> dict[str, Any]:
        with self._lock:
            engines = list(self.engines.items())
        return {arn: engine.checkpoint() for arn, engine in engines}

    def load_state(self, state: dict[str, Any]) -> None:
        self._restored = dict(state)
        self._loaded = True

    def _start_restored(self) -> None:
        """The engines of the delivery streams a loaded state holds, continuing from their
        checkpoints (a stream without one starts as a new stream would)."""
        if not self._loaded:
            return
        from ..moto_backends import backends

        restored, self._restored = self._restored, {}
        for found in backends("firehose"):
            for name, stream in list(found.delivery_streams.items()):
                self.start_engine(found, name, restored=restored.get(stream.delivery_stream_arn))

    # -- Extension API ----------------------------------------------------------------------------
    def start(self) -> None:
        self._start_restored()
        # pyarrow.parquet takes about half a second to import: pay it now, not on the first delivery.
        threading.Thread(target=importlib.import_module, args=("pyarrow.parquet",), name="warm-parquet",
                         daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            engines = list(self.engines.values())
            self.engines.clear()
        for engine in engines:
            engine.stop()
        if self.workers is not None:  # stopped; a new set starts on first use if the cloud starts again
            self.workers.close()
            self.workers = ConversionWorkers(self.workers.size)

    def flush(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        report: dict[str, Any] = {}
        with self._lock:
            engines = list(self.engines.items())
        for arn, engine in engines:
            while True:
                ok = engine.flush(max(0.0, deadline - time.monotonic()))
                with self._lock:
                    current = self.engines.get(arn)
                if ok or current is None or current is engine:
                    break
                engine = current  # it crashed and was restarted: the successor delivers the rest
            report[engine.config.name] = {"flushed": ok, **engine.status(), "restarts": self.restarts.get(arn, 0)}
        return report

    def status(self) -> dict[str, Any]:
        with self._lock:
            out = {engine.config.name: {**engine.status(), "restarts": self.restarts.get(arn, 0)}
                   for arn, engine in self.engines.items()}
        for arn, reason in self._refused.items():
            out[arn.split("/")[-1]] = {"refused": reason}
        return out


def extension(cloud: "LocalCloud") -> FirehoseExtension:
    return FirehoseExtension(cloud)
