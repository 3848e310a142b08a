"""Stage 5 state fan-out: every change to a customer's profile or live state reaches every channel.

The customer table's stream (new and old images, enabled by the customer-domain
stack from stage 5) feeds the state publisher, which puts one
`CustomerStateChanged` event per change on the platform bus: the changed
attributes only, no personal data beyond the customer id. Channels subscribe
with EventBridge rules (docs/channel-subscriptions.md) instead of polling.

The stream mapping keeps a customer's changes in order (a failed record fails
the customer's later records of the batch too, so the retry resumes in order)
and the publisher is idempotent on the stream record, so a retried batch emits
each change once. Records that still fail after the retries go to an encrypted
on-failure queue: nothing is dropped silently.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns

from infra.constructs.alarms import Watch, alarm_at_or_above
from infra.constructs.compliance import acknowledge, acknowledge_event_source_kms, acknowledge_grant_policy
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.platform_table import PlatformTable
from infra.constructs.secure_queue import DeadLetterQueue
from infra.constructs.table_access import grant_table
from infra.stacks.customer_domain_stack import CustomerDomainStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from omni_domain import constants

# Longer than the stream keeps a record (24 hours), so a redelivered record is always recognised.
IDEMPOTENCY_EXPIRY_SECONDS = 48 * 3600


class StateFanoutStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        domain = self.deps.require(CustomerDomainStack)
        config = self.config
        settings = config.environment.live_state
        self.idempotency_table = PlatformTable(
            self,
            "PublishedChanges",
            config=config,
            encryption_key=foundation.key,
            table_name=config.resource_name(constants.STATE_CHANGES_IDEMPOTENCY_SUFFIX),
            partition_key=constants.IDEMPOTENCY_PARTITION_KEY,
            time_to_live_attribute=constants.IDEMPOTENCY_EXPIRY_ATTRIBUTE,
        ).table
        failed_changes = DeadLetterQueue(
            self,
            "FailedChanges",
            encryption_key=foundation.key,
            retain=config.retain_data,
            purpose="customer-table stream records the state publisher could not publish",
        )
        failed_changes.acknowledge_as_dead_letter_queue()  # the stream mapping's on-failure destination
        self.failed_changes = failed_changes.queue
        alerts = foundation.alert_topic_for(self)
        self.publisher = PlatformFunction(
            self,
            "StatePublisher",
            config=config,
            handler=constants.STATE_PUBLISHER_HANDLER,
            description="State fan-out: customer-table stream records to CustomerStateChanged events on the bus",
            service=constants.STATE_PUBLISHER_SERVICE,
            encryption_key=foundation.key,
            alert_topic=alerts,
            timeout_seconds=constants.STATE_PUBLISHER_TIMEOUT_SECONDS,
            environment={
                constants.ENV_EVENT_BUS: foundation.event_bus_name,
                constants.ENV_IDEMPOTENCY_TABLE: self.idempotency_table.table_name,
                constants.ENV_IDEMPOTENCY_EXPIRY_SECONDS: str(IDEMPOTENCY_EXPIRY_SECONDS),
            },
        )
        role = self.publisher.role
        grant_table(
            role,
            self.idempotency_table,
            foundation.key,
            # Powertools idempotency: claim (conditional put), read, complete (update), release on failure.
            actions=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        )
        foundation.grant_put_events(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[foundation.key.key_arn])
        )
        self.publisher.alias.add_event_source(
            sources.DynamoEventSource(
                domain.customer_table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=settings.publisher_batch_size,
                max_batching_window=Duration.seconds(settings.publisher_batching_window_seconds),
                # One batch per shard at a time: a customer's changes are published in stream order.
                parallelization_factor=1,
                report_batch_item_failures=True,
                retry_attempts=settings.publisher_max_retries,
                max_record_age=Duration.seconds(settings.publisher_max_record_age_seconds),
                on_failure=sources.SqsDlq(self.failed_changes),
            )
        )
        acknowledge_grant_policy(role)
        acknowledge(
            role,
            (
                "AwsSolutions-IAM5[Resource::*]",
                "dynamodb:ListStreams, granted by the CDK stream event source: the action has no resource-level "
                "permissions (its only resource is *); reading records is granted on the customer table's stream.",
            ),
        )
        acknowledge_event_source_kms(role)
        self._alarms(alerts)

    def _alarms(self, alerts: sns.ITopic) -> None:
        """Channels would see stale state: falling behind the stream, or changes given up on."""
        five_minutes = Duration.minutes(5)
        alarm_at_or_above(
            self,
            alerts,
            (
                Watch(
                    "IteratorAgeAlarm",
                    self.publisher.function.metric("IteratorAge", statistic="Maximum", period=five_minutes),
                    30_000,
                    "state changes reach channels 30 seconds or more late: the publisher is behind the stream",
                ),
                Watch(
                    "FailedChangesWaitingAlarm",
                    self.failed_changes.metric_approximate_number_of_messages_visible(period=five_minutes),
                    1,
                    "customer-table changes the publisher gave up on are waiting in the on-failure queue",
                ),
            ),
        )
