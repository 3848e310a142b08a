"""Stage 3 experience pathway: customer events on Kinesis, the live customer state within seconds.

Channels put events on the KMS-encrypted stream (partition key: the customer
identity). The event processor reads it through an event-source mapping whose
settings come from config: batch size and window, parallelization, partial batch
responses, bisect on error, bounded retries and record age, and an encrypted
on-failure queue, so a bad record never blocks a shard and nothing is dropped
silently. Invalid records go to their own dead-letter queue with the reason.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns

from infra.constructs.alarms import Watch, alarm_at_or_above
from infra.constructs.compliance import acknowledge, acknowledge_event_source_kms, acknowledge_grant_policy
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.secure_queue import DeadLetterQueue
from infra.constructs.table_access import grant_table
from infra.stacks.customer_domain_stack import CustomerDomainStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from omni_domain import constants


class ExperiencePathwayStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        domain = self.deps.require(CustomerDomainStack)
        events = self.config.environment.events
        on_demand = events.stream_mode == "on_demand"
        self.stream = kinesis.Stream(
            self,
            "CustomerEvents",
            stream_name=self.config.resource_name(constants.EVENT_STREAM_SUFFIX),
            stream_mode=kinesis.StreamMode.ON_DEMAND if on_demand else kinesis.StreamMode.PROVISIONED,
            shard_count=None if on_demand else events.shards,
            retention_period=Duration.hours(events.retention_hours),
            encryption=kinesis.StreamEncryption.KMS,
            encryption_key=foundation.key,
            removal_policy=self.stateful_removal_policy,
        )
        acknowledge(
            self.stream,
            (
                "AwsSolutions-KDS3",
                "Deliberately the platform's customer-managed key, not aws/kinesis: one key policy, which we "
                "control and audit, governs every store of customer data, and consumers need an explicit grant.",
            ),
        )
        self._processor(foundation, domain)

    def _processor(self, foundation: FoundationStack, domain: CustomerDomainStack) -> None:
        config = self.config
        events = config.environment.events
        retain = config.retain_data
        invalid_events = DeadLetterQueue(
            self, "InvalidEvents", encryption_key=foundation.key, retain=retain, purpose="invalid customer events"
        )
        invalid_events.acknowledge_as_dead_letter_queue()  # the processor sends to it itself
        self.invalid_events = invalid_events.queue
        failed_batches = DeadLetterQueue(
            self,
            "FailedBatches",
            encryption_key=foundation.key,
            retain=retain,
            purpose="stream batches the processor could not apply",
        )
        failed_batches.acknowledge_as_dead_letter_queue()  # the event-source mapping's on-failure destination
        self.failed_batches = failed_batches.queue
        alerts = foundation.alert_topic_for(self)
        self.processor = PlatformFunction(
            self,
            "EventProcessor",
            config=config,
            handler=constants.EVENT_PROCESSOR_HANDLER,
            description="Experience pathway: applies customer events to the live state and raises triggers",
            service=constants.EVENT_PROCESSOR_SERVICE,
            encryption_key=foundation.key,
            alert_topic=alerts,
            timeout_seconds=60,
            environment={
                constants.ENV_CUSTOMER_TABLE: domain.customer_table.table_name,
                constants.ENV_IDENTITY_TABLE: domain.identity_table.table_name,
                constants.ENV_DEAD_LETTER_QUEUE_URL: self.invalid_events.queue_url,
                constants.ENV_EVENT_BUS: foundation.event_bus_name,
                constants.ENV_SPEND_THRESHOLD: str(events.spend_threshold),
                constants.ENV_SPEND_CURRENCY: events.spend_currency,
                constants.ENV_CHANNEL_SWITCH_MINUTES: str(events.channel_switch_minutes),
                constants.ENV_FUTURE_TOLERANCE_MINUTES: str(events.future_tolerance_minutes),
                # Longer than the stream keeps a record, so a redelivered record is always recognised.
                constants.ENV_DEDUP_HOURS: str(max(72, events.retention_hours + 24)),
            },
        )
        role = self.processor.role
        grant_table(role, domain.identity_table, foundation.key, actions=("dynamodb:BatchGetItem", "dynamodb:PutItem"))
        grant_table(
            role,
            domain.customer_table,
            foundation.key,
            actions=("dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"),
        )
        foundation.grant_put_events(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.invalid_events.queue_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[foundation.key.key_arn])
        )
        self.processor.alias.add_event_source(
            sources.KinesisEventSource(
                self.stream,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=events.batch_size,
                max_batching_window=Duration.seconds(events.batching_window_seconds),
                parallelization_factor=events.parallelization_factor,
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=events.max_retries,
                max_record_age=Duration.seconds(events.max_record_age_seconds),
                on_failure=sources.SqsDlq(self.failed_batches),
            )
        )
        acknowledge_grant_policy(role)
        acknowledge_event_source_kms(role, encrypted="stream and on-failure queue")
        self._alarms(alerts)

    def _alarms(self, alerts: sns.ITopic) -> None:
        """Falling behind the stream, dead letters of either kind: each alerts the platform team."""
        five_minutes = Duration.minutes(5)
        alarm_at_or_above(
            self,
            alerts,
            (
                Watch(
                    "IteratorAgeAlarm",
                    self.processor.function.metric("IteratorAge", statistic="Maximum", period=five_minutes),
                    60_000,
                    "the event processor is a minute or more behind the stream",
                ),
                Watch(
                    "InvalidEventsWaitingAlarm",
                    self.invalid_events.metric_approximate_number_of_messages_visible(period=five_minutes),
                    1,
                    "invalid customer events are waiting in their dead-letter queue",
                ),
                Watch(
                    "FailedBatchesWaitingAlarm",
                    self.failed_batches.metric_approximate_number_of_messages_visible(period=five_minutes),
                    1,
                    "stream records the processor gave up on are waiting in the on-failure queue",
                ),
            ),
        )
