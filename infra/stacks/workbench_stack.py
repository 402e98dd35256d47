"""The CdcWorkbench stack: DynamoDB -> Kinesis -> Firehose -> S3 -> Glue -> Athena, plus seeding
and orchestration. Outputs are the contract with pipeline_lib (docs/ARCHITECTURE.md)."""
from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.catalog import Catalog
from infra.constructs.dataset import Dataset
from infra.constructs.delivery import Delivery, lake_prefix_for
from infra.constructs.orchestration import Orchestration, PipelineFunctions
from infra.constructs.storage import Storage
from infra.constructs.table_stream import TableStream
from pipeline_lib.schema import TableSchema
from pipeline_lib.stack import STACK_NAME

DELIVERY_STREAM_NAME = "cdc-workbench-events"
CRAWLER_NAME = "cdc-workbench-crawler"
GLUE_DATABASE_NAME = "cdc_lake"
ATHENA_WORKGROUP_NAME = "cdc-workbench"
ATHENA_RESULTS_PREFIX = "athena-results/"
LOG_RETENTION = logs.RetentionDays.ONE_WEEK


class WorkbenchStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str = STACK_NAME,
        *,
        schema: TableSchema,
        lambda_asset_dir: Path,
        dataset_dir: Path,
        **kwargs,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        storage = Storage(self, "Storage")
        lake_prefix = lake_prefix_for(schema.table)
        table_stream = TableStream(self, "TableStream")
        functions = PipelineFunctions(self, "Functions", asset_dir=lambda_asset_dir, log_retention=LOG_RETENTION)
        catalog = Catalog(
            self,
            "Catalog",
            lake=storage.lake,
            schema=schema,
            lake_prefix=lake_prefix,  # the table points where Firehose writes
            athena_results_prefix=ATHENA_RESULTS_PREFIX,
            database_name=GLUE_DATABASE_NAME,
            crawler_name=CRAWLER_NAME,
            workgroup_name=ATHENA_WORKGROUP_NAME,
        )
        delivery = Delivery(
            self,
            "Delivery",
            source=table_stream.stream,
            lake=storage.lake,
            enricher=functions.enricher,
            delivery_stream_name=DELIVERY_STREAM_NAME,
            glue_catalog_arn=catalog.catalog_arn,
            glue_database_arn=catalog.database_arn,
            glue_table_arn=catalog.table_arn,
            glue_database_name=catalog.database_name,
            glue_table_name=catalog.table_name,
            lake_prefix=lake_prefix,
            log_retention=LOG_RETENTION,
        )
        # Firehose reads the schema from the table when the stream is created.
        delivery.delivery_stream.node.add_dependency(catalog.table)
        dataset = Dataset(self, "Dataset", folder=dataset_dir, bucket=storage.raw, log_retention=LOG_RETENTION)

        _grant_seeder(functions, storage, dataset, table_stream)

        orchestration = Orchestration(
            self,
            "Orchestration",
            functions=functions,
            delivery_stream_name=DELIVERY_STREAM_NAME,
            source_stream_name=table_stream.stream.stream_name,
            crawler_name=CRAWLER_NAME,
            crawler_arn=catalog.crawler_arn,
            log_retention=LOG_RETENTION,
        )
        # Names are used by the state machine and the monitor; make sure the resources exist first.
        orchestration.state_machine.node.add_dependency(delivery.delivery_stream, catalog.crawler)

        _outputs(self, table_stream, storage, dataset, functions, catalog, orchestration, delivery)


def _grant_seeder(functions: PipelineFunctions, storage: Storage, dataset: Dataset, table_stream: TableStream) -> None:
    # The seeder reads exactly the two data set objects and writes to the table.
    # (explicit statements: Bucket.grant_read would add s3:GetObject*/List* wildcards)
    functions.seeder.add_to_role_policy(
        iam.PolicyStatement(
            sid="ReadDataSet",
            actions=["s3:GetObject"],
            resources=[storage.raw.arn_for_objects(k) for k in (dataset.items_key, dataset.changes_key)],
        )
    )
    functions.seeder.add_to_role_policy(
        iam.PolicyStatement(
            sid="SeedTable", actions=["dynamodb:BatchWriteItem"], resources=[table_stream.table.table_arn]
        )
    )
    for name, value in {
        "RAW_BUCKET": storage.raw.bucket_name,
        "TABLE_NAME": table_stream.table.table_name,
        "DATA_SET_KEYS": f"{dataset.items_key},{dataset.changes_key}",
    }.items():
        functions.seeder.add_environment(name, value)


def _outputs(stack: cdk.Stack, table_stream: TableStream, storage: Storage, dataset: Dataset,
             functions: PipelineFunctions, catalog: Catalog, orchestration: Orchestration, delivery: Delivery) -> None:
    """The stack's outputs: the names pipeline_lib reads (stack.outputs)."""
    outputs = {
        "TableName": (table_stream.table.table_name, "DynamoDB table (PK/SK) the changes come from"),
        "StreamName": (table_stream.stream.stream_name, "Kinesis stream the table streams changes to"),
        "StreamArn": (table_stream.stream.stream_arn, "ARN of that stream"),
        "RawBucketName": (storage.raw.bucket_name, "bucket holding the data set under dataset/"),
        "LakeBucketName": (storage.lake.bucket_name, "bucket Firehose writes Parquet to"),
        "DataSetKey": (dataset.items_key, "key of the data set (WriteRequests, JSON lines) in the raw bucket"),
        "ChangeSetKey": (dataset.changes_key, "key of the change set (WriteRequests, JSON lines) in the raw bucket"),
        "DeliveryStreamName": (DELIVERY_STREAM_NAME, "Firehose delivery stream"),
        "EnricherFunctionName": (functions.enricher.function_name, "Firehose transformation Lambda"),
        "SeederFunctionName": (functions.seeder.function_name, "Lambda that seeds the table from the raw bucket"),
        "GlueDatabaseName": (catalog.database_name, "Glue database of the lake"),
        "GlueTableName": (catalog.table_name, "Glue table of the lake (columns from the lake schema)"),
        "CrawlerName": (CRAWLER_NAME, "Glue crawler adding the lake table's partitions"),
        "AthenaWorkGroupName": (ATHENA_WORKGROUP_NAME, "Athena workgroup for queries of the lake"),
        "AthenaResultsLocation": (catalog.athena_results_location, "where the workgroup writes query results"),
        "StateMachineArn": (orchestration.state_machine.state_machine_arn, "seed -> deliver -> crawl state machine"),
        "LakePrefix": (delivery.lake_prefix, "key prefix of the lake table's data in the lake bucket"),
        "ErrorPrefix": (delivery.error_prefix, "key prefix of Firehose's error output in the lake bucket"),
    }
    for name, (value, description) in outputs.items():
        cdk.CfnOutput(stack, name, value=value, description=description)
