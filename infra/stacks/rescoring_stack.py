"""Stage 5 real-time rescoring: a customer's propensity follows their live state.

The rescorer is itself a subscriber of the state fan-out: an EventBridge rule
on the platform bus sends it the `CustomerStateChanged` events that create or
update a live state or profile naming a model-relevant attribute (an erasure,
or a removal, never invokes it). It claims the customer in a small debounce
table (at most one rescore per customer per `live_state.rescore_debounce_seconds`),
asks the propensity endpoint for a score (falling back to a transparent rules
score when the model cannot answer in time) and writes the score and the model
version that produced it back to the live state, which fans out in turn.
The score's own change is not model-relevant, so rescoring never loops.

Changes debounced inside a window are not lost: the first one sends a message
to the delay queue, due when the window ends, and the same function consumes
it and rescores the state as it is then (the trailing edge). Events the rule
cannot deliver, and asynchronous invocations that keep failing, go to the
function's dead-letter queue; delayed messages that keep failing to their own.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs

from eligibility import constants as eligibility
from infra.constructs.alarms import Watch, alarm_at_or_above
from infra.constructs.compliance import acknowledge_grant_policy
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.platform_table import PlatformTable
from infra.constructs.secure_queue import DeadLetterQueue
from infra.constructs.table_access import grant_table
from infra.stacks.customer_domain_stack import CustomerDomainStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from infra.stacks.propensity_stack import PropensityStack
from omni_domain import constants
from rescorer import constants as rescorer
from state_publisher.changes import MODEL_RELEVANT_FIELDS

# The records whose changes can move a score: the live state and the profile (not erasures).
RESCORED_RECORDS = ("live_state", "profile")
# A removal leaves nothing to score (an erasure removes both records).
RESCORED_CHANGES = ("created", "updated")
RESCORER_TIMEOUT_SECONDS = 15
# Lambda's advice for an SQS source: six times the function's timeout, so a batch is not delivered twice.
DELAY_QUEUE_VISIBILITY = Duration.seconds(6 * RESCORER_TIMEOUT_SECONDS)
DELAY_QUEUE_MAX_RECEIVES = 5  # then the delayed message is kept in its dead-letter queue


def rescored_detail() -> dict[str, list[str]]:
    """The rule's pattern on the CustomerStateChanged detail: each key matches any of its values (and
    `changed`, a list, when any of its names is one of them)."""
    return {
        "record": list(RESCORED_RECORDS),
        "change": list(RESCORED_CHANGES),
        "changed": list(MODEL_RELEVANT_FIELDS),
    }


class RescoringStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        domain = self.deps.require(CustomerDomainStack)
        propensity = self.deps.require(PropensityStack)
        config = self.config
        self.debounce_table = PlatformTable(
            self,
            "Debounce",
            config=config,
            encryption_key=foundation.key,
            table_name=config.resource_name(constants.RESCORE_TABLE_SUFFIX),
            partition_key=constants.RESCORE_PARTITION_KEY,
            time_to_live_attribute=constants.RESCORE_EXPIRY_ATTRIBUTE,
        ).table
        self._delay_queue(foundation)
        self.rescorer = PlatformFunction(
            self,
            "Rescorer",
            config=config,
            handler=constants.RESCORER_HANDLER,
            description="Real-time rescoring: model-relevant state changes to a fresh propensity in the live state",
            service=constants.RESCORER_SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            timeout_seconds=RESCORER_TIMEOUT_SECONDS,
            asynchronous=True,
            environment={
                constants.ENV_CUSTOMER_TABLE: domain.customer_table.table_name,
                # The product each score is for: the one the contact centre's offer check asks about.
                rescorer.ENV_RESCORE_PRODUCTS: config.environment.eligibility.offer_check_product,
                constants.ENV_RESCORE_TABLE: self.debounce_table.table_name,
                constants.ENV_RESCORE_DEBOUNCE_SECONDS: str(config.environment.live_state.rescore_debounce_seconds),
                rescorer.ENV_RESCORE_DELAY_QUEUE_URL: self.delay_queue.queue_url,
                eligibility.ENV_PROPENSITY_ENDPOINT: propensity.endpoint_name,
                eligibility.ENV_PROPENSITY_TIMEOUT_MS: str(config.environment.propensity.invoke_timeout_ms),
            },
        )
        self._grants(foundation, domain, propensity)
        self.rule = events.Rule(
            self,
            "ModelRelevantChange",
            description="CustomerStateChanged naming an attribute the propensity model reads: rescore the customer",
            event_bus=foundation.event_bus_for(self),
            event_pattern=events.EventPattern(
                source=[constants.STATE_CHANGE_SOURCE],
                detail_type=[constants.STATE_CHANGED_DETAIL_TYPE],
                detail=rescored_detail(),
            ),
            targets=[
                targets.LambdaFunction(
                    self.rescorer.alias,
                    retry_attempts=4,
                    max_event_age=Duration.minutes(30),
                    # The function's own DLQ: a change EventBridge could not deliver is kept beside those the
                    # function failed on (the platform key's policy lets EventBridge encrypt into it).
                    dead_letter_queue=self.rescorer.dead_letter_queue,
                )
            ],
        )
        # The trailing rescores: SQS delivers them to the alias, like the rule, so CodeDeploy covers both.
        self.rescorer.alias.add_event_source(
            sources.SqsEventSource(
                self.delay_queue,
                batch_size=10,
                report_batch_item_failures=True,
                # Below the function's reserved concurrency, so the rule's invocations always have room and
                # throttled receives do not push trailing rescores into their dead-letter queue.
                max_concurrency=2,
            )
        )
        alarm_at_or_above(
            self,
            foundation.alert_topic_for(self),
            [
                Watch(
                    "FailedTrailingRescoresWaitingAlarm",
                    self.failed_trailing_rescores.metric_approximate_number_of_messages_visible(
                        period=Duration.minutes(5)
                    ),
                    1,
                    "trailing rescores the rescorer gave up on are waiting in their dead-letter queue",
                )
            ],
        )

    def _delay_queue(self, foundation: FoundationStack) -> None:
        config = self.config
        failed = DeadLetterQueue(
            self,
            "FailedTrailingRescores",
            encryption_key=foundation.key,
            retain=config.retain_data,
            purpose="the rescorer's delay queue",
        )
        self.failed_trailing_rescores = failed.queue
        # Holds ids and a time only; a message waits at most 15 minutes (SQS's longest delay) plus its retries.
        self.delay_queue = sqs.Queue(
            self,
            "TrailingRescores",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=foundation.key,
            data_key_reuse=Duration.hours(1),
            enforce_ssl=True,
            visibility_timeout=DELAY_QUEUE_VISIBILITY,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=DELAY_QUEUE_MAX_RECEIVES, queue=failed.queue),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )

    def _grants(self, foundation: FoundationStack, domain: CustomerDomainStack, propensity: PropensityStack) -> None:
        role = self.rescorer.role
        # Read the customer (profile and live state in one query), write the score back conditionally.
        grant_table(role, domain.customer_table, foundation.key, actions=("dynamodb:Query", "dynamodb:UpdateItem"))
        # A claim is a conditional put, marked pending by a conditional update, released when the rescore
        # fails; TTL removes the rest.
        grant_table(
            role,
            self.debounce_table,
            foundation.key,
            actions=("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        )
        # Send the trailing rescores (the SQS event source grants receiving and deleting them).
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.delay_queue.queue_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[foundation.key.key_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sagemaker:InvokeEndpoint"],
                resources=[
                    self.format_arn(service="sagemaker", resource="endpoint", resource_name=propensity.endpoint_name)
                ],
            )
        )
        acknowledge_grant_policy(role)
