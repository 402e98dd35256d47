"""The fault seams: DynamoDB and Kinesis API answers with AWS's throttling errors.

Patched (checked against moto 5.2.5 at install), each a wrapper that asks the cloud's Faults and
otherwise calls moto's handler unchanged:
- ``moto.dynamodb.responses.DynamoHandler.put_item/update_item/delete_item/batch_write_item``:
  the whole request refused with ProvisionedThroughputExceededException (`dynamodb_throttle`);
  BatchWriteItem requests held back and returned in UnprocessedItems (`dynamodb_unprocessed`),
  the rest written; all held back is the exception, as DynamoDB answers when none was processed.
- ``moto.kinesis.responses.KinesisResponse.put_record``: ProvisionedThroughputExceededException;
  ``put_records``: per record, an entry with only ErrorCode/ErrorMessage in its position and
  FailedRecordCount counting them (`kinesis_throttle`). Requests moto refuses (too many records,
  too large) are left to moto: its error wins over a throttle.
In-process writers (the DynamoDB streaming destination, Firehose, the Lambda runtime) ask the
Faults themselves (see the package docstring).
"""
from __future__ import annotations

from base64 import b64decode
from typing import TYPE_CHECKING, Any, Callable

from ..seam import SeamSet
from .injector import Faults

if TYPE_CHECKING:
    from ..cloud import LocalCloud

DYNAMODB_THROTTLED = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)


def kinesis_throttled_message(shard_id: str, stream_name: str, account_id: str) -> str:
    return f"Rate exceeded for shard {shard_id} in stream {stream_name} under account {account_id}."


def _dynamodb_throttle_error():
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException(
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", DYNAMODB_THROTTLED)


def _kinesis_throttle_error(message: str):
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("ProvisionedThroughputExceededException", message)


def _throttled_write(faults: Callable[[], Faults]) -> Callable[[Callable], Callable]:
    def wrap(original: Callable) -> Callable:
        def handler(self: Any) -> Any:
            if faults().decide("dynamodb_throttle"):
                raise _dynamodb_throttle_error()
            return original(self)

        handler.__name__ = original.__name__
        return handler

    return wrap


def _batch_write_item(faults: Callable[[], Faults]) -> Callable[[Callable], Callable]:
    def wrap(original: Callable) -> Callable:
        def batch_write_item(self: Any) -> Any:
            active = faults()
            if active.decide("dynamodb_throttle"):
                raise _dynamodb_throttle_error()
            if active.config.dynamodb_unprocessed <= 0:
                return original(self)
            kept: dict[str, list] = {}
            held: dict[str, list] = {}
            for table, requests in self.body["RequestItems"].items():
                for request in requests:
                    (held if active.decide("dynamodb_unprocessed") else kept).setdefault(table, []).append(request)
            if not held:
                return original(self)
            if not kept:  # nothing processed: DynamoDB answers with the exception
                raise _dynamodb_throttle_error()
            self.body["RequestItems"] = kept
            result = original(self)
            result.result["UnprocessedItems"] = held
            return result

        return batch_write_item

    return wrap


def _shard_of(backend: Any, stream_arn: str | None, stream_name: str | None, record: dict) -> tuple[str, str]:
    stream = backend.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
    shard = stream.get_shard_for_key(record.get("PartitionKey"), record.get("ExplicitHashKey"))
    return (shard.shard_id if shard is not None else "shardId-000000000000"), stream.stream_name


def _put_record(faults: Callable[[], Faults]) -> Callable[[Callable], Callable]:
    def wrap(original: Callable) -> Callable:
        def put_record(self: Any) -> Any:
            if faults().decide("kinesis_throttle"):
                record = {"PartitionKey": self._get_param("PartitionKey"),
                          "ExplicitHashKey": self._get_param("ExplicitHashKey")}
                shard_id, name = _shard_of(self.kinesis_backend, self._get_param("StreamARN"),
                                           self._get_param("StreamName"), record)
                raise _kinesis_throttle_error(kinesis_throttled_message(shard_id, name, self.current_account))
            return original(self)

        return put_record

    return wrap


def _put_records(faults: Callable[[], Faults]) -> Callable[[Callable], Callable]:
    from moto.core.responses import ActionResult

    def wrap(original: Callable) -> Callable:
        def put_records(self: Any) -> Any:
            active = faults()
            records = self._get_param("Records") or []
            if active.config.kinesis_throttle <= 0 or len(records) > 500 or any(
                    len(b64decode(r.get("Data", ""))) + len(r.get("PartitionKey", "")) > 1048576 for r in records):
                return original(self)
            failed = [active.decide("kinesis_throttle") for _ in records]
            if not any(failed):
                return original(self)
            arn, name = self._get_param("StreamARN"), self._get_param("StreamName")
            kept = [r for r, f in zip(records, failed) if not f]
            if kept:
                answer = self.kinesis_backend.put_records(arn, name, kept)
            else:
                self.kinesis_backend.describe_stream(stream_arn=arn, stream_name=name)  # an unknown stream still fails
                answer = {"FailedRecordCount": 0, "Records": []}
            written = iter(answer["Records"])
            entries = []
            for record, fail in zip(records, failed):
                if fail:
                    shard_id, stream_name = _shard_of(self.kinesis_backend, arn, name, record)
                    entries.append({"ErrorCode": "ProvisionedThroughputExceededException",
                                    "ErrorMessage": kinesis_throttled_message(shard_id, stream_name, self.current_account)})
                else:
                    entries.append(next(written))
            response = {**answer, "FailedRecordCount": answer.get("FailedRecordCount", 0) + sum(failed), "Records": entries}
            return ActionResult(response)

        return put_records

    return wrap


def build_seams(cloud: "LocalCloud") -> SeamSet:
    from moto.dynamodb.responses import DynamoHandler
    from moto.kinesis.responses import KinesisResponse

    from .injector import faults_of

    def faults() -> Faults:
        return faults_of(cloud)

    seams = SeamSet("faults")
    seams.reads(DynamoHandler, "body")
    seams.expect(KinesisResponse, "_get_param")
    seams.reads(KinesisResponse, "kinesis_backend")
    for verb in ("put_item", "update_item", "delete_item"):
        seams.replace(DynamoHandler, verb, ("self",), _throttled_write(faults))
    seams.replace(DynamoHandler, "batch_write_item", ("self",), _batch_write_item(faults))
    seams.replace(KinesisResponse, "put_record", ("self",), _put_record(faults))
    seams.replace(KinesisResponse, "put_records", ("self",), _put_records(faults))
    return seams
