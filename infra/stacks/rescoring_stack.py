"""Stage 5 real-time rescoring: a customer's propensity follows their live state.

The rescorer is itself a subscriber of the state fan-out: an EventBridge rule
on the platform bus sends it the `CustomerStateChanged` events that name a
model-relevant attribute. It claims the customer in a small debounce table (at
most one rescore per customer per `live_state.rescore_debounce_seconds`), asks
the propensity endpoint for a score (falling back to a transparent rules score
when the model cannot answer in time) and writes the score and the model
version that produced it back to the live state, which fans out in turn.
The score's own change is not model-relevant, so rescoring never loops.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam

from eligibility import constants as eligibility
from infra.constructs.compliance import acknowledge_grant_policy
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.platform_table import PlatformTable
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
        self.rescorer = PlatformFunction(
            self,
            "Rescorer",
            config=config,
            handler=constants.RESCORER_HANDLER,
            description="Real-time rescoring: model-relevant state changes to a fresh propensity in the live state",
            service=constants.RESCORER_SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            timeout_seconds=15,
            asynchronous=True,
            environment={
                constants.ENV_CUSTOMER_TABLE: domain.customer_table.table_name,
                # The product each score is for: the one the contact centre's offer check asks about.
                rescorer.ENV_RESCORE_PRODUCTS: config.environment.eligibility.offer_check_product,
                constants.ENV_RESCORE_TABLE: self.debounce_table.table_name,
                constants.ENV_RESCORE_DEBOUNCE_SECONDS: str(config.environment.live_state.rescore_debounce_seconds),
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
                detail={"record": list(RESCORED_RECORDS), "changed": list(MODEL_RELEVANT_FIELDS)},
            ),
            targets=[targets.LambdaFunction(self.rescorer.alias, retry_attempts=4, max_event_age=Duration.minutes(30))],
        )

    def _grants(self, foundation: FoundationStack, domain: CustomerDomainStack, propensity: PropensityStack) -> None:
        role = self.rescorer.role
        # Read the customer (profile and live state in one query), write the score back conditionally.
        grant_table(role, domain.customer_table, foundation.key, actions=("dynamodb:Query", "dynamodb:UpdateItem"))
        # A claim is a conditional write, released when nothing was scored; TTL removes the rest.
        grant_table(role, self.debounce_table, foundation.key, actions=("dynamodb:PutItem", "dynamodb:DeleteItem"))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sagemaker:InvokeEndpoint"],
                resources=[
                    self.format_arn(service="sagemaker", resource="endpoint", resource_name=propensity.endpoint_name)
                ],
            )
        )
        acknowledge_grant_policy(role)
