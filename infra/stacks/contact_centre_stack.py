"""Stage 1 contact centre: the Amazon Connect instance, its hours, queues and routing.

The instance is created here (Connect-managed identities, inbound and outbound
calls, contact-flow logs, recordings and chat transcripts in a KMS-encrypted
bucket) unless config names an existing instance by ARN, in which case only the
platform's own resources (hours, queues, routing profile, flows) are added to it.

`flow_resources` maps the placeholders that flows use (`${queue:general_support}`,
`${hours:business_hours}`) to this deployment's ARNs.
"""

from __future__ import annotations

from aws_cdk import aws_connect as connect

from connect_flows.manifest import load_manifest
from infra.config import ContactCentreConfig
from infra.constructs.contact_flows import ContactFlows
from infra.constructs.secure_bucket import DataBucket
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack

BUSINESS_HOURS = "business_hours"
ROUTING_PROFILE = "front_line"


class ContactCentreStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        settings = self.config.environment.contact_centre
        self.flow_resources: dict[tuple[str, str], str] = {}

        if settings.existing_instance_arn:
            self.instance_arn = settings.existing_instance_arn
        else:
            self.instance_arn = self._instance(settings, foundation)

        hours = connect.CfnHoursOfOperation(
            self,
            "BusinessHours",
            instance_arn=self.instance_arn,
            name="Business hours",
            description="Opening hours of the contact centre (from config)",
            time_zone=settings.time_zone,
            config=[
                connect.CfnHoursOfOperation.HoursOfOperationConfigProperty(
                    day=day,
                    start_time=_clock(opens),
                    end_time=_clock(closes),
                )
                for day, (opens, closes) in settings.hours.items()
            ],
        )
        self.flow_resources["hours", BUSINESS_HOURS] = hours.attr_hours_of_operation_arn

        queues = {}
        for logical_name, queue_settings in settings.queues.items():
            queue = connect.CfnQueue(
                self,
                f"Queue-{logical_name}",
                instance_arn=self.instance_arn,
                name=queue_settings.name,
                description=queue_settings.description or None,
                hours_of_operation_arn=hours.attr_hours_of_operation_arn,
            )
            queues[logical_name] = queue
            self.flow_resources["queue", logical_name] = queue.attr_queue_arn

        first_queue = next(iter(queues.values()))
        connect.CfnRoutingProfile(
            self,
            "FrontLineRouting",
            instance_arn=self.instance_arn,
            name="Front line",
            description="Agents who answer every platform queue",
            default_outbound_queue_arn=first_queue.attr_queue_arn,
            media_concurrencies=[
                connect.CfnRoutingProfile.MediaConcurrencyProperty(channel="VOICE", concurrency=1),
                connect.CfnRoutingProfile.MediaConcurrencyProperty(channel="CHAT", concurrency=2),
            ],
            queue_configs=[
                connect.CfnRoutingProfile.RoutingProfileQueueConfigProperty(
                    delay=0,
                    priority=1,
                    queue_reference=connect.CfnRoutingProfile.RoutingProfileQueueReferenceProperty(
                        channel=channel, queue_arn=queue.attr_queue_arn
                    ),
                )
                for queue in queues.values()
                for channel in ("VOICE", "CHAT")
            ],
        )
        manifest = load_manifest()
        self.flows = ContactFlows(
            self,
            "Flows",
            instance_arn=self.instance_arn,
            manifest=manifest,
            keys=[key for key, entry in manifest.flows.items() if entry.min_stage == self.capability.stage],
            module_keys=[key for key, entry in manifest.modules.items() if entry.min_stage == self.capability.stage],
            resources=self.flow_resources,
        )
        self.flow_resources.update(self.flows.resolver)

    def _instance(self, settings: ContactCentreConfig, foundation: FoundationStack) -> str:
        instance = connect.CfnInstance(
            self,
            "Instance",
            identity_management_type="CONNECT_MANAGED",
            instance_alias=settings.instance_alias or self.config.resource_name(),
            attributes=connect.CfnInstance.AttributesProperty(
                inbound_calls=True,
                outbound_calls=True,
                contactflow_logs=True,
                contact_lens=True,
                auto_resolve_best_voices=True,
                early_media=True,
                use_custom_tts_voices=False,
            ),
        )
        instance.apply_removal_policy(self.stateful_removal_policy)
        recordings = DataBucket(
            self,
            "Recordings",
            encryption_key=foundation.key,
            access_logs=foundation.access_logs,
            retain=self.config.retain_data,
        ).bucket
        for resource_type, prefix in (("CALL_RECORDINGS", "recordings"), ("CHAT_TRANSCRIPTS", "transcripts")):
            connect.CfnInstanceStorageConfig(
                self,
                f"Storage-{prefix}",
                instance_arn=instance.attr_arn,
                resource_type=resource_type,
                storage_type="S3",
                s3_config=connect.CfnInstanceStorageConfig.S3ConfigProperty(
                    bucket_name=recordings.bucket_name,
                    bucket_prefix=prefix,
                    encryption_config=connect.CfnInstanceStorageConfig.EncryptionConfigProperty(
                        encryption_type="KMS", key_id=foundation.key.key_arn
                    ),
                ),
            )
        return instance.attr_arn


def _clock(value: str) -> connect.CfnHoursOfOperation.HoursOfOperationTimeSliceProperty:
    hours, minutes = value.split(":")
    return connect.CfnHoursOfOperation.HoursOfOperationTimeSliceProperty(hours=int(hours), minutes=int(minutes))
