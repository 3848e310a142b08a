"""Stage 3 analytical pathway: every customer event also lands in the data lake.

Kinesis Data Firehose reads the experience pathway's stream and writes the events
to the raw bucket as GZIP JSON lines, partitioned by event type and day
(dynamic partitioning on `event_type`), with failed records under an error
prefix. A Glue table with partition projection makes them queryable at once
(Athena, Glue jobs, propensity training) without crawlers.
"""

from __future__ import annotations

from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose

from infra.constructs.compliance import acknowledge, acknowledge_grant_policy
from infra.constructs.lake_access import grant_prefix_write
from infra.constructs.log_group import encrypted_log_group
from infra.stacks.experience_pathway_stack import ExperiencePathwayStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from omni_domain.customer_events import EVENT_TYPES

EVENTS_PREFIX = "events/"
ERRORS_PREFIX = "events-errors/"
EVENTS_TABLE = "customer_events"
# Columns of the customer event contract as the lake stores them (payload and identity as JSON).
EVENT_COLUMNS = (
    ("event_id", "string"),
    ("occurred_at", "string"),
    ("channel", "string"),
    ("identity", "string"),
    ("payload", "string"),
)


class AnalyticalPathwayStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        experience = self.deps.require(ExperiencePathwayStack)
        events = self.config.environment.events

        role = iam.Role(
            self,
            "DeliveryRole",
            assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
            description="Firehose: read the customer event stream, write the raw lake's events prefix",
        )
        experience.stream.grant_read(role)
        grant_prefix_write(role, foundation.raw, EVENTS_PREFIX, why="the customer events, partitioned by type and day")
        grant_prefix_write(role, foundation.raw, ERRORS_PREFIX, why="events Firehose could not partition or deliver")
        # What Firehose's S3 destination checks on the bucket itself before writing.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[foundation.raw.arn],
            )
        )
        delivery_logs = encrypted_log_group(self, "DeliveryLogs", config=self.config, encryption_key=foundation.key)
        delivery_logs.grant_write(role)
        acknowledge_grant_policy(role)

        self.delivery_stream = firehose.CfnDeliveryStream(
            self,
            "EventsToLake",
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=experience.stream.stream_arn, role_arn=role.role_arn
            ),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=foundation.raw.arn,
                role_arn=role.role_arn,
                prefix=f"{EVENTS_PREFIX}event_type=!{{partitionKeyFromQuery:event_type}}/dt=!{{timestamp:yyyy-MM-dd}}/",
                error_output_prefix=f"{ERRORS_PREFIX}!{{firehose:error-output-type}}/dt=!{{timestamp:yyyy-MM-dd}}/",
                compression_format="GZIP",
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=events.lake_buffer_seconds, size_in_m_bs=events.lake_buffer_mb
                ),
                encryption_configuration=firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                    kms_encryption_config=firehose.CfnDeliveryStream.KMSEncryptionConfigProperty(
                        awskms_key_arn=foundation.key.key_arn
                    )
                ),
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True,
                    retry_options=firehose.CfnDeliveryStream.RetryOptionsProperty(duration_in_seconds=300),
                ),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[
                        firehose.CfnDeliveryStream.ProcessorProperty(
                            type="MetadataExtraction",
                            parameters=[
                                _parameter("MetadataExtractionQuery", "{event_type: .event_type}"),
                                _parameter("JsonParsingEngine", "JQ-1.6"),
                            ],
                        ),
                        # One event per line, so the table reads the objects as JSON lines.
                        firehose.CfnDeliveryStream.ProcessorProperty(
                            type="AppendDelimiterToRecord", parameters=[_parameter("Delimiter", "\\n")]
                        ),
                    ],
                ),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=delivery_logs.log_group_name, log_stream_name="DestinationDelivery"
                ),
            ),
        )
        self.delivery_stream.node.add_dependency(role)
        acknowledge(
            self.delivery_stream,
            (
                "AwsSolutions-KDF1",
                "The source is a Kinesis stream encrypted with the platform key; Firehose server-side "
                "encryption applies only to Direct PUT, and the S3 destination uses the platform key.",
            ),
        )
        self._events_table(foundation)

    def _events_table(self, foundation: FoundationStack) -> None:
        location = foundation.raw.url(EVENTS_PREFIX)
        glue.CfnTable(
            self,
            "CustomerEvents",
            catalog_id=self.account,
            database_name=foundation.glue_database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=EVENTS_TABLE,
                description="Customer events from every channel (the analytical pathway), JSON lines, GZIP",
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    # Partition projection: new days and event types are queryable without a crawler.
                    "projection.enabled": "true",
                    "projection.event_type.type": "enum",
                    "projection.event_type.values": ",".join(EVENT_TYPES),
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": "2026-01-01,NOW",
                    "storage.location.template": f"{location}event_type=${{event_type}}/dt=${{dt}}/",
                },
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name="event_type", type="string"),
                    glue.CfnTable.ColumnProperty(name="dt", type="string"),
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe"
                    ),
                    columns=[glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in EVENT_COLUMNS],
                ),
            ),
        )


def _parameter(name: str, value: str) -> firehose.CfnDeliveryStream.ProcessorParameterProperty:
    return firehose.CfnDeliveryStream.ProcessorParameterProperty(parameter_name=name, parameter_value=value)
