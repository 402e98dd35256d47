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
queue in order and appends to Kinesis in-process through the kinesis extension's
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
  compares it with ``Item.to_json`` for every attribute type). An item the dynamodb package keeps
  packed gives its image from its bytes (`dynamodb.packed.image`), without building DynamoTypes.
"""
from __future__ import annotations

from .extension import DynamoDBKinesis, extension

__all__ = ["DynamoDBKinesis", "extension"]
