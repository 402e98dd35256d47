"""AWS::KinesisFirehose::DeliveryStream, created through moto's Firehose backend with its full
configuration (the delivery engine of pipeline_lib.localcloud.firehose reads it from there).

Ref: the stream name. GetAtt: Arn. Name, type and source need a new stream; destination,
encryption and tags change in place (UpdateDestination, Start/StopDeliveryStreamEncryption).
"""
from __future__ import annotations

from typing import Any

from ..cfn.base import LocalResource, ResourceError
from ..cfn.shapes import conform, input_member

# Template property -> keyword of moto's FirehoseBackend.create_delivery_stream.
DESTINATIONS = {
    "ExtendedS3DestinationConfiguration": "extended_s3_destination_configuration",
    "S3DestinationConfiguration": "s3_destination_configuration",
    "RedshiftDestinationConfiguration": "redshift_destination_configuration",
    "ElasticsearchDestinationConfiguration": "elasticsearch_destination_configuration",
    "SplunkDestinationConfiguration": "splunk_destination_configuration",
    "HttpEndpointDestinationConfiguration": "http_endpoint_destination_configuration",
    "SnowflakeDestinationConfiguration": "snowflake_destination_configuration",
    "IcebergDestinationConfiguration": "iceberg_destination_configuration",
}
# Template property -> (keyword of update_destination, moto's destination key).
UPDATES = {
    "ExtendedS3DestinationConfiguration": ("extended_s3_destination_update", "ExtendedS3"),
    "S3DestinationConfiguration": ("s3_destination_update", "S3"),
    "RedshiftDestinationConfiguration": ("redshift_destination_update", "Redshift"),
    "ElasticsearchDestinationConfiguration": ("elasticsearch_destination_update", "Elasticsearch"),
    "SplunkDestinationConfiguration": ("splunk_destination_update", "Splunk"),
    "HttpEndpointDestinationConfiguration": ("http_endpoint_destination_update", "HttpEndpoint"),
    "SnowflakeDestinationConfiguration": ("snowflake_destination_configuration", "Snowflake"),
    "IcebergDestinationConfiguration": ("iceberg_destination_update", "Iceberg"),
}
OTHER_PROPERTIES = {
    "DeliveryStreamName",
    "DeliveryStreamType",
    "KinesisStreamSourceConfiguration",
    "DeliveryStreamEncryptionConfigurationInput",
    "Tags",
}


class DeliveryStream(LocalResource):
    TYPE = "AWS::KinesisFirehose::DeliveryStream"
    NAME_PROPERTY = "DeliveryStreamName"
    ATTRIBUTES = frozenset({"Arn"})
    REPLACE_ON = ("DeliveryStreamType", "KinesisStreamSourceConfiguration")

    def _api(self, properties: dict[str, Any]) -> dict[str, Any]:
        """The CreateDeliveryStream arguments (moto keywords) for `properties`."""
        unknown = set(properties) - OTHER_PROPERTIES - set(DESTINATIONS)
        if unknown:
            raise ResourceError(
                f"{self.TYPE} property {sorted(unknown)[0]} is not supported by the local cloud "
                f"(supported: {', '.join(sorted(OTHER_PROPERTIES | set(DESTINATIONS)))})"
            )
        destinations = [p for p in DESTINATIONS if p in properties]
        if len(destinations) != 1:
            raise ResourceError(f"{self.TYPE} needs exactly one destination configuration, got {destinations or 'none'}")

        def member(name: str) -> Any:
            if name not in properties:
                return None
            return conform(properties[name], input_member("firehose", "CreateDeliveryStream", name), name)

        stream_type = properties.get("DeliveryStreamType") or "DirectPut"
        source = member("KinesisStreamSourceConfiguration")
        if (stream_type == "KinesisStreamAsSource") != (source is not None):
            raise ResourceError(
                "KinesisStreamSourceConfiguration is required exactly when DeliveryStreamType is KinesisStreamAsSource"
            )
        args: dict[str, Any] = {keyword: None for keyword in DESTINATIONS.values()}
        args[DESTINATIONS[destinations[0]]] = member(destinations[0])
        args.update(
            region=self.region,
            delivery_stream_name=self.name,
            delivery_stream_type=stream_type,
            kinesis_stream_source_configuration=source,
            delivery_stream_encryption_configuration_input=member("DeliveryStreamEncryptionConfigurationInput"),
            tags=member("Tags") or [],
        )
        return args

    def create(self) -> None:
        self.backend("firehose").create_delivery_stream(**self._api(self.properties))

    def needs_replacement(self, new_properties: dict[str, Any]) -> bool:
        old_dest = [p for p in DESTINATIONS if p in self.properties]
        new_dest = [p for p in DESTINATIONS if p in new_properties]
        # Switching destination type is a new stream too (UpdateDestination cannot, for most types).
        return super().needs_replacement(new_properties) or old_dest != new_dest

    def update(self, properties: dict[str, Any]) -> None:
        backend = self.backend("firehose")
        stream = backend.delivery_streams[self.name]
        args = self._api(properties)
        for prop, keyword in DESTINATIONS.items():
            if args[keyword] is None or properties.get(prop) == self.properties.get(prop):
                continue
            update_keyword, moto_key = UPDATES[prop]
            update = dict(args[keyword])
            if "S3BackupConfiguration" in update:  # the Update shape names it S3BackupUpdate
                update["S3BackupUpdate"] = update.pop("S3BackupConfiguration")
            kwargs: dict[str, Any] = {kw: None for kw, _ in UPDATES.values()}
            kwargs[update_keyword] = update
            # UpdateDestination merges into what is stored: drop what the template no longer has
            # first, so the stream (and the engine restarting on it) sees exactly the new config.
            stored = stream.destinations[0].get(moto_key, {})
            for key in set(stored) - set(update) - {"S3BackupDescription"}:
                stored.pop(key, None)
            backend.update_destination(
                delivery_stream_name=self.name,
                current_delivery_stream_version_id=stream.version_id,
                destination_id=stream.destinations[0]["destination_id"],
                s3_backup_mode=None,
                **kwargs,
            )
        old_encryption = self.properties.get("DeliveryStreamEncryptionConfigurationInput")
        new_encryption = args["delivery_stream_encryption_configuration_input"]
        if new_encryption != old_encryption:
            if new_encryption:
                backend.start_delivery_stream_encryption(self.name, new_encryption)
            else:
                backend.stop_delivery_stream_encryption(self.name)
        if properties.get("Tags") != self.properties.get("Tags"):
            old_keys = {t["Key"] for t in self.properties.get("Tags") or []}
            new_keys = {t["Key"] for t in args["tags"]}
            if old_keys - new_keys:
                backend.untag_delivery_stream(self.name, sorted(old_keys - new_keys))
            if args["tags"]:
                backend.tag_delivery_stream(self.name, args["tags"])

    def remove(self) -> None:
        backend = self.backend("firehose")
        if self.name in backend.delivery_streams:
            backend.delete_delivery_stream(self.name)

    def attribute(self, name: str) -> Any:
        return self.backend("firehose").delivery_streams[self.name].delivery_stream_arn


RESOURCE_TYPES = (DeliveryStream,)
