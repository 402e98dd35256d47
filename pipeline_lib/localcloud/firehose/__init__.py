"""The local Firehose: every delivery stream in the cloud gets a delivery engine driven by its
own configuration (what DescribeDeliveryStream returns).

extension.py starts and stops the engines (engine.py, composing loop_control, buffer_store,
placement, converter_cache, s3_delivery, checkpoint and engine_status) that seams.py hands
moto's delivery streams to; sources.py reads Kinesis or takes Direct PUT records; config, prefixes, naming,
conversion, deaggregation, jq_extract, processor_response, error_records and metrics are the
engine's pure parts; cloudformation.py is AWS::KinesisFirehose::DeliveryStream.
"""
from __future__ import annotations

from .extension import FirehoseExtension, extension

__all__ = ["FirehoseExtension", "extension"]
