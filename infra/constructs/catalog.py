"""Glue database + table (columns from the lake schema), the crawler that adds partitions, and
the Athena workgroup."""
from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge, arn_finding
from pipeline_lib.schema import TableSchema

PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
# Glue crawlers always log to this group, one stream per crawler name.
CRAWLER_LOG_GROUP = "/aws-glue/crawlers"
# A catalog-target crawl only adds/updates partitions; they inherit the table's schema so the
# schema file stays the single source of columns.
CRAWLER_CONFIGURATION = {
    "Version": 1.0,
    "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
}


class Catalog(Construct):
    """The lake's table in the Glue Data Catalog, its crawler, and where Athena writes results."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        lake: s3.IBucket,
        schema: TableSchema,
        lake_prefix: str,
        athena_results_prefix: str,
        database_name: str,
        crawler_name: str,
        workgroup_name: str,
    ) -> None:
        super().__init__(scope, id_)
        stack = cdk.Stack.of(self)
        self.database_name = database_name
        self.table_name = schema.table
        self.crawler_name = crawler_name
        self.workgroup_name = workgroup_name
        self.catalog_arn = stack.format_arn(service="glue", resource="catalog")
        self.database_arn = stack.format_arn(service="glue", resource="database", resource_name=database_name)
        self.table_arn = stack.format_arn(
            service="glue", resource="table", resource_name=f"{database_name}/{schema.table}"
        )
        self.crawler_arn = stack.format_arn(service="glue", resource="crawler", resource_name=crawler_name)
        self.athena_results_location = f"s3://{lake.bucket_name}/{athena_results_prefix}"

        self._table(schema, lake, lake_prefix)
        self._crawler_role(lake, lake_prefix)
        self._crawler(schema)
        self._workgroup()

    def _table(self, schema: TableSchema, lake: s3.IBucket, lake_prefix: str) -> None:
        """The database and the lake's table (columns and partition keys from the schema file)."""
        stack = cdk.Stack.of(self)
        database_name = self.database_name
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name,
                description="Change-data-capture lake of the workbench (DynamoDB -> Kinesis -> Firehose -> S3).",
            ),
        )
        self.table = glue.CfnTable(
            self,
            "Table",
            catalog_id=stack.account,
            database_name=database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=schema.table,
                description=schema.description or None,
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "parquet", "EXTERNAL": "TRUE", "parquet.compression": "SNAPPY"},
                partition_keys=[_column(c) for c in schema.glue_partition_keys()],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=[_column(c) for c in schema.glue_columns()],
                    location=f"s3://{lake.bucket_name}/{lake_prefix}",
                    input_format=PARQUET_INPUT_FORMAT,
                    output_format=PARQUET_OUTPUT_FORMAT,
                    compressed=False,
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=PARQUET_SERDE, parameters={"serialization.format": "1"}
                    ),
                    stored_as_sub_directories=False,
                ),
            ),
        )
        self.table.node.add_dependency(self.database)

    def _crawler_role(self, lake: s3.IBucket, lake_prefix: str) -> None:
        """What the crawler may do: the table's partitions, the lake's data/ objects, its logs."""
        stack = cdk.Stack.of(self)
        crawler_name = self.crawler_name
        self.crawler_role = iam.Role(
            self,
            "CrawlerRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Glue crawler of the lake table: reads the table, adds partitions, reads data/.",
        )
        self.crawler_role.add_to_policy(
            iam.PolicyStatement(
                sid="CatalogTable",
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:UpdateTable",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                    "glue:CreatePartition",
                    "glue:BatchCreatePartition",
                    "glue:UpdatePartition",
                    "glue:BatchUpdatePartition",
                ],
                resources=[self.catalog_arn, self.database_arn, self.table_arn],
            )
        )
        self.crawler_role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadLakeData",
                actions=["s3:GetObject"],
                resources=[lake.arn_for_objects(f"{lake_prefix}*")],
            )
        )
        self.crawler_role.add_to_policy(
            iam.PolicyStatement(
                sid="ListLakeData",
                actions=["s3:ListBucket"],
                resources=[lake.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [lake_prefix, f"{lake_prefix}*"]}},
            )
        )
        self.crawler_role.add_to_policy(
            iam.PolicyStatement(
                sid="CrawlerLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=CRAWLER_LOG_GROUP,
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    ),
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{CRAWLER_LOG_GROUP}:log-stream:{crawler_name}",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    ),
                ],
            )
        )
        acknowledge(
            self.crawler_role,
            "AwsSolutions-IAM5",
            "s3:GetObject on the objects under the lake's data/ prefix only: a crawler reads the "
            "Parquet files it finds there, whose keys are not known in advance.",
            applies_to=[arn_finding(lake, f"/{lake_prefix}*")],
        )

    def _crawler(self, schema: TableSchema) -> None:
        """A catalog-target crawler: adds the partitions Firehose wrote to the table."""
        database_name, crawler_name = self.database_name, self.crawler_name
        self.crawler = glue.CfnCrawler(
            self,
            "Crawler",
            name=crawler_name,
            role=self.crawler_role.role_arn,
            description="Adds the partitions Firehose wrote under data/ to the lake table.",
            database_name=database_name,
            targets=glue.CfnCrawler.TargetsProperty(
                catalog_targets=[
                    glue.CfnCrawler.CatalogTargetProperty(database_name=database_name, tables=[schema.table])
                ]
            ),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="LOG", delete_behavior="LOG"
            ),
            configuration=json.dumps(CRAWLER_CONFIGURATION, separators=(",", ":")),
        )
        self.crawler.node.add_dependency(self.table)
        # The policy must exist before the crawler is created (Glue validates the role).
        self.crawler.node.add_dependency(self.crawler_role.node.find_child("DefaultPolicy"))
        acknowledge(
            self.crawler,
            "AwsSolutions-GL1",
            "The crawler's CloudWatch logs hold table and partition names only, never record data; "
            "CloudWatch Logs encrypts them at rest with its service key.",
        )

    def _workgroup(self) -> None:
        workgroup_name = self.workgroup_name
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=workgroup_name,
            description="Queries of the workbench's lake (results under athena-results/ of the lake bucket).",
            state="ENABLED",
            # Lets `destroy` delete the workgroup even when it holds named queries.
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self.athena_results_location,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )


def _column(c: dict[str, str]) -> glue.CfnTable.ColumnProperty:
    return glue.CfnTable.ColumnProperty(name=c["Name"], type=c["Type"], comment=c.get("Comment") or None)
