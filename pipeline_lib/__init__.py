"""Jupyter workbench helpers for the DynamoDB -> Kinesis -> Firehose -> S3 -> Glue -> Athena lake."""
__version__ = "0.1.0"
