"""Firehose: Kinesis source -> enricher Lambda -> dynamic partitions -> Parquet -> lake bucket."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge, arn_finding

LAKE_ROOT = "data/"
ERROR_PREFIX = "errors/"


def lake_prefix_for(table: str) -> str:
    """Each Glue table reads its own folder: a stack redeployed with another schema (bring your own
    data) must not read the objects an earlier table's delivery wrote."""
    return f"{LAKE_ROOT}{table}/"


def data_prefix_expression(lake_prefix: str) -> str:
    """Partition keys come from the enricher's `metadata.partitionKeys` (year/month/day of createdAt)."""
    return (f"{lake_prefix}year=!{{partitionKeyFromLambda:year}}/month=!{{partitionKeyFromLambda:month}}"
            "/day=!{partitionKeyFromLambda:day}/")


# Required with dynamic partitioning; must contain !{firehose:error-output-type}.
ERROR_PREFIX_EXPRESSION = (
    f"{ERROR_PREFIX}!{{firehose:error-output-type}}/year=!{{timestamp:yyyy}}/month=!{{timestamp:MM}}/day=!{{timestamp:dd}}/"
)
# 64 MiB is the smallest buffer Firehose accepts with dynamic partitioning or format conversion.
BUFFER_SIZE_MB = 64
BUFFER_INTERVAL_S = 60
LOG_STREAM_NAME = "DestinationDelivery"


class Delivery(Construct):
    """The delivery stream, its role (least privilege) and its CloudWatch log group + stream."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        source: kinesis.IStream,
        lake: s3.IBucket,
        enricher: lambda_.IFunction,
        delivery_stream_name: str,
        glue_catalog_arn: str,
        glue_database_arn: str,
        glue_table_arn: str,
        glue_database_name: str,
        glue_table_name: str,
        lake_prefix: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id_)
        self.delivery_stream_name = delivery_stream_name
        self.lake_prefix = lake_prefix
        self.error_prefix = ERROR_PREFIX
        self._logs(delivery_stream_name, log_retention)
        policy = self._role(delivery_stream_name, source, lake, enricher, glue_catalog_arn, glue_database_arn,
                            glue_table_arn)
        self._delivery_stream(delivery_stream_name, source, lake, enricher, policy,
                              glue_database_name=glue_database_name, glue_table_name=glue_table_name)

    def _logs(self, delivery_stream_name: str, log_retention: logs.RetentionDays) -> None:
        """Created here and referenced by name in the stream: the names Firehose logs to are these."""
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/kinesisfirehose/{delivery_stream_name}",
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.log_stream = logs.LogStream(
            self,
            "DeliveryLogStream",
            log_group=self.log_group,
            log_stream_name=LOG_STREAM_NAME,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

    def _role(self, delivery_stream_name: str, source: kinesis.IStream, lake: s3.IBucket, enricher: lambda_.IFunction,
              glue_catalog_arn: str, glue_database_arn: str, glue_table_arn: str) -> iam.Policy:
        """The role Firehose assumes, with least-privilege statements; returns its policy."""
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": stack.account}}
            ),
            description=f"Firehose {delivery_stream_name}: read the source stream, invoke the enricher, "
            "read the Glue table schema, write the lake's data/ and errors/ prefixes, log.",
        )
        policy = iam.Policy(
            self,
            "RolePolicy",
            statements=[
                iam.PolicyStatement(
                    sid="ReadSourceStream",
                    actions=[
                        "kinesis:DescribeStream",
                        "kinesis:DescribeStreamSummary",
                        "kinesis:GetShardIterator",
                        "kinesis:GetRecords",
                        "kinesis:ListShards",
                    ],
                    resources=[source.stream_arn],
                ),
                iam.PolicyStatement(
                    sid="InvokeEnricher",
                    actions=["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                    resources=[enricher.function_arn],
                ),
                iam.PolicyStatement(
                    sid="ReadTableSchema",
                    actions=["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
                    resources=[glue_catalog_arn, glue_database_arn, glue_table_arn],
                ),
                iam.PolicyStatement(
                    sid="LakeBucket",
                    actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                    resources=[lake.bucket_arn],
                ),
                iam.PolicyStatement(
                    sid="LakeObjects",
                    actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                    resources=[lake.arn_for_objects(f"{self.lake_prefix}*"), lake.arn_for_objects(f"{ERROR_PREFIX}*")],
                ),
                iam.PolicyStatement(
                    sid="DeliveryLogs",
                    actions=["logs:PutLogEvents"],
                    resources=[
                        stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name=f"{self.log_group.log_group_name}:log-stream:{LOG_STREAM_NAME}",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                ),
            ],
        )
        policy.attach_to_role(self.role)
        # Only has an effect with a customer-managed key; the AWS-managed aws/kinesis key needs no grant.
        if source.encryption_key is not None:
            source.encryption_key.grant_decrypt(self.role)
        acknowledge(
            policy,
            "AwsSolutions-IAM5",
            "Firehose writes objects whose keys it generates (partition values, timestamps, uuids) "
            "under the lake's data/ and errors/ prefixes only.",
            applies_to=[arn_finding(lake, f"/{self.lake_prefix}*"), arn_finding(lake, f"/{ERROR_PREFIX}*")],
        )
        return policy

    def _delivery_stream(self, delivery_stream_name: str, source: kinesis.IStream, lake: s3.IBucket,
                         enricher: lambda_.IFunction, policy: iam.Policy, *, glue_database_name: str,
                         glue_table_name: str) -> None:
        self.delivery_stream = firehose.CfnDeliveryStream(
            self,
            "DeliveryStream",
            delivery_stream_name=delivery_stream_name,
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=source.stream_arn, role_arn=self.role.role_arn
            ),
            extended_s3_destination_configuration=self._destination(
                lake, enricher, glue_database_name=glue_database_name, glue_table_name=glue_table_name
            ),
        )
        # Firehose checks its role's permissions when the stream is created.
        self.delivery_stream.node.add_dependency(policy)
        acknowledge(
            self.delivery_stream,
            "AwsSolutions-KDF1",
            "The source is a Kinesis data stream (server-side encrypted); Firehose server-side "
            "encryption applies to Direct PUT sources only. Delivered objects are encrypted by the "
            "lake bucket (SSE-S3).",
        )

    def _destination(self, lake: s3.IBucket, enricher: lambda_.IFunction, *, glue_database_name: str,
                     glue_table_name: str) -> firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty:
        """S3 delivery: partitions from the enricher, Parquet against the Glue table, logging."""
        stack = cdk.Stack.of(self)
        return firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
            bucket_arn=lake.bucket_arn,
            role_arn=self.role.role_arn,
            prefix=data_prefix_expression(self.lake_prefix),
            error_output_prefix=ERROR_PREFIX_EXPRESSION,
            buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                size_in_m_bs=BUFFER_SIZE_MB, interval_in_seconds=BUFFER_INTERVAL_S
            ),
            # Format conversion requires UNCOMPRESSED here; Parquet compresses with SNAPPY itself.
            compression_format="UNCOMPRESSED",
            # Objects are encrypted by the lake bucket's default encryption (SSE-S3); a KMS key
            # here would only be needed for SSE-KMS.
            cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                enabled=True,
                log_group_name=self.log_group.log_group_name,
                log_stream_name=self.log_stream.log_stream_name,
            ),
            dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                enabled=True,
                retry_options=firehose.CfnDeliveryStream.RetryOptionsProperty(duration_in_seconds=300),
            ),
            processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                enabled=True,
                processors=[
                    firehose.CfnDeliveryStream.ProcessorProperty(
                        type="Lambda",
                        parameters=[
                            _param("LambdaArn", enricher.function_arn),
                            _param("NumberOfRetries", "3"),
                            _param("BufferSizeInMBs", "1"),
                            _param("BufferIntervalInSeconds", "60"),
                        ],
                    )
                ],
            ),
            data_format_conversion_configuration=firehose.CfnDeliveryStream.DataFormatConversionConfigurationProperty(
                enabled=True,
                input_format_configuration=firehose.CfnDeliveryStream.InputFormatConfigurationProperty(
                    deserializer=firehose.CfnDeliveryStream.DeserializerProperty(
                        open_x_json_ser_de=firehose.CfnDeliveryStream.OpenXJsonSerDeProperty(
                            case_insensitive=True
                        )
                    )
                ),
                output_format_configuration=firehose.CfnDeliveryStream.OutputFormatConfigurationProperty(
                    serializer=firehose.CfnDeliveryStream.SerializerProperty(
                        parquet_ser_de=firehose.CfnDeliveryStream.ParquetSerDeProperty(compression="SNAPPY")
                    )
                ),
                schema_configuration=firehose.CfnDeliveryStream.SchemaConfigurationProperty(
                    catalog_id=stack.account,
                    database_name=glue_database_name,
                    table_name=glue_table_name,
                    region=stack.region,
                    role_arn=self.role.role_arn,
                    version_id="LATEST",
                ),
            ),
        )


def _param(name: str, value: str) -> firehose.CfnDeliveryStream.ProcessorParameterProperty:
    return firehose.CfnDeliveryStream.ProcessorParameterProperty(parameter_name=name, parameter_value=value)
