"""The Lambda transformation stage of a delivery stream: batches below Lambda's payload limit,
the event Firehose sends, retries per NumberOfRetries, the response validated; records that fail
go to `fail` (processing-failed error records), the others come back as `Outgoing`."""
from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any, Callable

from .config import StreamConfig
from .metrics import StreamMetrics
from .records import InRecord, Outgoing, Services

# Lambda's synchronous invocation payload limit; Firehose splits its batches below it.
MAX_INVOKE_PAYLOAD = 6 * 1024 * 1024 - 64 * 1024


class LambdaProcessing:
    def __init__(self, config: StreamConfig, services: Services, metrics: StreamMetrics,
                 fail: Callable[..., None], required_partition_keys: list[str] | None,
                 dropped: Callable[[list[InRecord]], None] | None = None):
        self.config = config
        self.services = services
        self.metrics = metrics
        self._fail = fail  # (record, output type, code, message, attempts, lambda_arn=...)
        self._required_partition_keys = required_partition_keys
        self._dropped = dropped  # told of records the function answered "Dropped" (nothing to deliver)

    def chunks(self, records: list[InRecord]) -> list[list[InRecord]]:
        """`records` in batches whose invocation payload stays below the limit."""
        chunks: list[list[InRecord]] = [[]]
        size = 0
        limit = min(MAX_INVOKE_PAYLOAD, max(self.config.lambda_processor.buffer_bytes * 4 // 3 + 4096, 4096))
        for record in records:
            encoded = (len(record.data) + 2) // 3 * 4 + 400  # base64 + JSON envelope
            if chunks[-1] and size + encoded > limit:
                chunks.append([])
                size = 0
            chunks[-1].append(record)
            size += encoded
        return [c for c in chunks if c]

    def _lambda_event(self, records: list[InRecord]) -> dict[str, Any]:
        event: dict[str, Any] = {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": self.config.arn,
            "region": self.services.region,
            "records": [],
        }
        if self.config.source_stream_arn:
            event["sourceKinesisStreamArn"] = self.config.source_stream_arn
        for r in records:
            item: dict[str, Any] = {
                "recordId": r.record_id,
                "approximateArrivalTimestamp": r.arrival_ms,
                "data": base64.b64encode(r.data).decode(),
            }
            if r.sequence_number is not None:
                item["kinesisRecordMetadata"] = {
                    "shardId": r.shard_id,
                    "partitionKey": r.partition_key,
                    "approximateArrivalTimestamp": r.arrival_ms,
                    "sequenceNumber": r.sequence_number,
                    "subsequenceNumber": r.subsequence_number,
                }
            event["records"].append(item)
        return event

    def invoke(self, records: list[InRecord]) -> list[Outgoing]:
        """Run the Lambda processor over one batch; failed records become error records."""
        from .processor_response import LambdaResponseError, validate_lambda_response

        processor = self.config.lambda_processor
        payload = json.dumps(self._lambda_event(records)).encode()
        ids = [r.record_id for r in records]
        attempts = 0
        error_code, error_message = "Lambda.FunctionError", ""
        while attempts <= processor.retries:
            attempts += 1
            started = time.monotonic()
            try:
                response, function_error = self.services.invoke_lambda(processor.arn, payload)
            except Exception as exc:  # the runtime could not run it at all
                response, function_error = json.dumps({"errorMessage": str(exc)}).encode(), "Unhandled"
                error_code = "Lambda.InvokeFailed"
                if getattr(exc, "firehose_error", None):  # refused before it ran (IAM): Firehose's code
                    error_code, error_message = exc.firehose_error
                    self.metrics.add("ExecuteProcessing.Success", 0)
                    self.services.log_event(self.config, f"{error_code}: {error_message} (attempt {attempts} of {processor.retries + 1})")
                    continue
            self.metrics.add("ExecuteProcessing.Duration", (time.monotonic() - started) * 1000)
            if function_error:
                error_code = "Lambda.FunctionError"
                error_message = _error_message(response)
                self.metrics.add("ExecuteProcessing.Success", 0)
                self.services.log_event(self.config, f"{error_code}: {error_message} (attempt {attempts} of {processor.retries + 1})")
                continue
            try:
                processed = validate_lambda_response(
                    ids, response, self.config.dynamic_partitioning,
                    required_partition_keys=self._required_partition_keys,
                )
            except LambdaResponseError as exc:
                # The function answered; a malformed answer is not retried (AWS does the same).
                error_code, error_message = exc.code, exc.message
                self.metrics.add("ExecuteProcessing.Success", 0)
                self.services.log_event(self.config, f"{error_code}: {error_message}")
                break
            self.metrics.add("ExecuteProcessing.Success", 1)
            return self._after_lambda(records, processed, attempts)
        for record in records:
            self._fail(record, "processing-failed", error_code, error_message, attempts, lambda_arn=processor.arn)
        return []

    def _after_lambda(self, records: list[InRecord], processed: list[Any], attempts: int) -> list[Outgoing]:
        by_id = {r.record_id: r for r in records}
        out: list[Outgoing] = []
        ok_bytes = ok_records = 0
        for result in processed:
            source = by_id[result.record_id]
            if result.ok:
                ok_records += 1
                ok_bytes += len(result.data)
                out.append(Outgoing(source, result.data, dict(result.partition_keys or {})))
            elif result.error_code:  # ProcessingFailed, or a response problem with this record
                self._fail(source, result.error_output_type or "processing-failed", result.error_code,
                           result.error_message or "", attempts, lambda_arn=self.config.lambda_processor.arn)
            elif self._dropped is not None:  # "Dropped": intentionally discarded; nothing is delivered
                self._dropped([source])
        self.metrics.add("SucceedProcessing.Records", ok_records)
        self.metrics.add("SucceedProcessing.Bytes", ok_bytes)
        return out


def _error_message(payload: bytes) -> str:
    try:
        body = json.loads(payload)
        return str(body.get("errorMessage") or body)
    except (ValueError, AttributeError):
        return payload[:500].decode("utf-8", "replace")
