"""The DynamoDB → Kinesis extension: destinations, change capture and the forwarder (see the
package docstring)."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ..extension import Extension
from ..seam import SeamSet
from .api import DestinationApi
from .capture import ChangeCapture
from .destinations import DestinationRegistry, TableKey, Timings
from .forwarder import ChangeQueue, Forwarder
from .seams import build_seams

if TYPE_CHECKING:
    from ..cloud import LocalCloud
    from ..kinesis import KinesisStore

QUEUE_LIMIT = 50_000  # changes waiting for Kinesis before writers are held back


class DynamoDBKinesis(Extension):
    name = "dynamodb_kinesis"

    def __init__(self, cloud: LocalCloud):
        super().__init__(cloud)
        self.seams: SeamSet = build_seams(cloud)
        self.capture: ChangeCapture | None = None  # what the seams call while installed
        self.api: DestinationApi | None = None
        self.registry: DestinationRegistry | None = None
        self.queue = ChangeQueue(QUEUE_LIMIT)
        self.forwarder: Forwarder | None = None

    def _store(self) -> KinesisStore:
        try:
            return self.cloud.extension("kinesis")  # type: ignore[return-value]
        except KeyError:
            raise RuntimeError(
                "the dynamodb_kinesis extension needs the kinesis extension: list "
                "'pipeline_lib.localcloud.kinesis' before it in EXTENSION_MODULES"
            ) from None

    def _put_records(self, store: KinesisStore):
        """The store's put, refused at the injected kinesis_throttle rate (the forwarder retries)."""
        from ..faults import ThroughputExceeded, faults_of

        def put_records(stream_arn: str, records):
            if faults_of(self.cloud).decide("kinesis_throttle"):
                raise ThroughputExceeded(stream_arn)
            return store.put_records(stream_arn, records)

        return put_records

    def install(self) -> None:
        store = self._store()
        self.registry = DestinationRegistry(Timings.scaled(self.cloud.scaled), partial(stream_usable, store))
        self.forwarder = Forwarder(self.queue, self._put_records(store))
        self.capture = ChangeCapture(self.registry, self.queue.put)
        self.api = DestinationApi(self.registry)
        self.seams.apply()

    def start(self) -> None:
        if self.forwarder is not None:
            self.forwarder.start()

    def stop(self) -> None:
        if self.forwarder is not None:
            self.forwarder.stop(timeout=5.0)
        self.capture = None
        self.api = None

    def flush(self, timeout: float) -> dict[str, Any]:
        drained = self.queue.drained(timeout)
        return {"drained": drained, **self._counts()}

    def save_state(self) -> dict[str, Any]:
        # Taken before Kinesis is written (state/keeper.py), so a change is never in neither.
        return {"destinations": self.registry.export() if self.registry else {},
                "unfinished": self.queue.unfinished()}

    def load_state(self, state: dict[str, Any]) -> None:
        if self.registry is not None:
            self.registry.import_(state.get("destinations", {}))
        if state.get("unfinished"):
            self.queue.put(state["unfinished"])  # forwarded once the forwarder starts

    def _counts(self) -> dict[str, Any]:
        forwarder = self.forwarder
        return {
            "records_captured": self.queue.accepted,
            "records_forwarded": forwarder.forwarded if forwarder else 0,
            "records_undeliverable": forwarder.undeliverable if forwarder else 0,
            "puts_throttled": forwarder.throttled if forwarder else 0,
            "queue_depth": self.queue.depth,
        }

    def status(self) -> dict[str, Any]:
        destinations = []
        for table, entries in (self.registry.all() if self.registry else {}).items():
            for entry in entries:
                destinations.append({"table": table.name, "region": table.region, **entry.describe()})
        return {"seams": self.seams.applied, "destinations": destinations, **self._counts()}


def stream_usable(store: KinesisStore, table: TableKey, stream_arn: str) -> bool:
    """AWS streams a table only to an existing stream of the same account and region."""
    parts = stream_arn.split(":")
    same_place = len(parts) > 5 and parts[2] == "kinesis" and (parts[4], parts[3]) == (table.account_id, table.region)
    return same_place and store.stream_exists(stream_arn)


def extension(cloud: LocalCloud) -> DynamoDBKinesis:
    return DynamoDBKinesis(cloud)
