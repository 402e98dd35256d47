"""Kinesis Data Streams for DynamoDB: the streaming-destination API and the change records.

moto 5.2.5 answers EnableKinesisStreamingDestination with 500 and ignores a table's
KinesisStreamSpecification. This extension adds the four actions (AWS's shapes, statuses and
errors; see `destinations`), applies the template property when a stack creates or updates a table
(the destination is ACTIVE when the resource completes), and turns every committed item change of
a table whose destination is ACTIVE (or UPDATING) into one record on that stream, in the
DynamoDB→Kinesis JSON format (`models`).

Data flow: each write path takes its table's lock, snapshots the old and new images around the
mutation, and enqueues the change before releasing the lock (`capture`); failed writes (a
ConditionExpression, a cancelled transaction) enqueue nothing. One forwarder thread drains the
queue in order and appends to Kinesis in-process through the kinesis_store extension's
``put_records`` (`forwarder`), so one item's records reach its shard (the partition key derives from
the item's key) in commit order, even under concurrent writers. ``flush(timeout)`` returns once
every change accepted so far is on its stream. A put that rewrites an item unchanged is a MODIFY
(docs/ARCHITECTURE.md: a put of an existing key is an update).

Seams (checked against moto 5.2.5 at install; `pipeline_lib.localcloud.seam`)
-----------------------------------------------------------------------------
- ``moto.dynamodb.models.table.Table.put_item`` (wrapped): lock; old/new images; PutItem,
  BatchWriteItem puts, TransactWriteItems puts and PartiQL INSERT/UPDATE pass here.
- ``Table.delete_item`` (wrapped): lock; old image; every delete passes here.
- ``moto.dynamodb.models.DynamoDBBackend.update_item`` (wrapped): lock around moto's read-check-
  update-in-place; old/new images; the inner put moto uses to create a missing item records nothing.
- ``DynamoDBBackend.delete_item`` (wrapped): lock, so the condition check and the delete are atomic.
- ``DynamoDBBackend.transact_write_items`` (wrapped): locks all its tables; publishes on commit only.
- ``DynamoDBBackend.delete_table`` (wrapped): the table's destinations go with it.
- ``moto.dynamodb.responses.DynamoHandler.enable_/describe_/disable_/update_kinesis_streaming_destination``
  (added): moto dispatches X-Amz-Target ``DynamoDB_20120810.<Action>`` to the method of that name.
- ``Table.create_from_cloudformation_json`` (wrapped): applies KinesisStreamSpecification.
- ``Table.update_from_cloudformation_json`` (added; moto had none and dropped the resource on a
  stack update): replaces the table when TableName, KeySchema or LocalSecondaryIndexes change, else
  updates it in place (`table_update`), KinesisStreamSpecification included.
- Read, not patched: ``moto.dynamodb.models.dynamo_type.Item.attrs`` and ``DynamoType.type`` /
  ``.value`` (`capture.snapshot` copies images itself, without ``to_json``'s deepcopy; a unit test
  compares it with ``Item.to_json`` for every attribute type).
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ..extension import Extension
from ..seam import SeamSet
from .api import DestinationApi
from .capture import ChangeCapture
from .destinations import DestinationRegistry, TableKey, Timings
from .forwarder import ChangeQueue, Forwarder
from .seams import HOOK, dynamodb_seams

if TYPE_CHECKING:
    from ..cloud import LocalCloud
    from ..kinesis_store import KinesisStore

QUEUE_LIMIT = 50_000  # changes waiting for Kinesis before writers are held back


class DynamoDBKinesis(Extension):
    name = "dynamodb_kinesis"

    def __init__(self, cloud: LocalCloud):
        super().__init__(cloud)
        self.seams: SeamSet | None = None
        self.registry: DestinationRegistry | None = None
        self.queue = ChangeQueue(QUEUE_LIMIT)
        self.forwarder: Forwarder | None = None

    def _store(self) -> KinesisStore:
        try:
            return self.cloud.extension("kinesis_store")  # type: ignore[return-value]
        except KeyError:
            raise RuntimeError(
                "the dynamodb_kinesis extension needs the kinesis_store extension: list "
                "'pipeline_lib.localcloud.kinesis_store' before it in EXTENSION_MODULES"
            ) from None

    def install(self) -> None:
        store = self._store()
        self.registry = DestinationRegistry(Timings.scaled(self.cloud.scaled), partial(stream_usable, store))
        self.forwarder = Forwarder(self.queue, store.put_records)
        HOOK.capture = ChangeCapture(self.registry, self.queue.put)
        HOOK.api = DestinationApi(self.registry)
        self.seams = dynamodb_seams()
        self.seams.apply()

    def start(self) -> None:
        if self.forwarder is not None:
            self.forwarder.start()

    def stop(self) -> None:
        if self.forwarder is not None:
            self.forwarder.stop(timeout=5.0)
        HOOK.capture = None
        HOOK.api = None

    def flush(self, timeout: float) -> dict[str, Any]:
        drained = self.queue.drained(timeout)
        return {"drained": drained, **self._counts()}

    def _counts(self) -> dict[str, Any]:
        forwarder = self.forwarder
        return {
            "records_captured": self.queue.accepted,
            "records_forwarded": forwarder.forwarded if forwarder else 0,
            "records_undeliverable": forwarder.undeliverable if forwarder else 0,
            "queue_depth": self.queue.depth,
        }

    def status(self) -> dict[str, Any]:
        destinations = []
        for table, entries in (self.registry.all() if self.registry else {}).items():
            for entry in entries:
                destinations.append({"table": table.name, "region": table.region, **entry.describe()})
        return {"seams": bool(self.seams and self.seams.applied), "destinations": destinations, **self._counts()}


def stream_usable(store: KinesisStore, table: TableKey, stream_arn: str) -> bool:
    """AWS streams a table only to an existing stream of the same account and region."""
    parts = stream_arn.split(":")
    same_place = len(parts) > 5 and parts[2] == "kinesis" and (parts[4], parts[3]) == (table.account_id, table.region)
    return same_place and store.stream_exists(stream_arn)


def extension(cloud: LocalCloud) -> DynamoDBKinesis:
    return DynamoDBKinesis(cloud)
