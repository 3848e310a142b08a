"""Stage 4 eligibility service: is this customer eligible for this product or offer, and why.

A REST API (IAM auth, WAF, logs, alarms) over one function that evaluates the
active rule set (versioned, stored as data) on the customer's profile and live
state, with a propensity score from the SageMaker endpoint when it answers in
time and the rules alone when it does not. Every decision is kept for audit,
expiring by TTL.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam

from eligibility import constants as eligibility
from infra.constructs.compliance import acknowledge_grant_policy
from infra.constructs.feature_drift import FeatureDriftCheck
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.platform_table import PlatformTable
from infra.constructs.secure_rest_api import SecureRestApi
from infra.constructs.table_access import grant_table
from infra.stacks.customer_domain_stack import CustomerDomainStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from infra.stacks.propensity_stack import PropensityStack
from infra.stages import Stage
from omni_domain import constants

# The paths of the OpenAPI document the handler publishes (docs/api/eligibility-openapi.json).
ROUTES = (
    ("/customers/{customer_id}/eligibility", ("POST",)),
    ("/rule-sets/{version}", ("GET", "PUT")),
    ("/rule-sets/{version}/activate", ("PUT",)),
)
# Added at stage 5 (Seamless): the next best action, for the contact centre and every other channel.
NEXT_BEST_ACTION_ROUTE = ("/customers/{customer_id}/next-best-action", ("GET",))


def routes_for(stage: Stage) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The API's routes at `stage`: a stage only ever adds routes."""
    return (*ROUTES, NEXT_BEST_ACTION_ROUTE) if stage >= Stage.SEAMLESS else ROUTES


class EligibilityServiceStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        domain = self.deps.require(CustomerDomainStack)
        propensity = self.deps.require(PropensityStack)
        config = self.config

        key = foundation.key
        self.rules_table = PlatformTable(
            self,
            "RuleSets",
            config=config,
            encryption_key=key,
            table_name=config.resource_name(eligibility.RULES_TABLE_SUFFIX),
            partition_key=eligibility.RULES_PARTITION_KEY,
        ).table
        self.decisions_table = PlatformTable(
            self,
            "Decisions",
            config=config,
            encryption_key=key,
            table_name=config.resource_name(eligibility.DECISIONS_TABLE_SUFFIX),
            partition_key=eligibility.DECISION_PARTITION_KEY,
            sort_key=eligibility.DECISION_SORT_KEY,
            time_to_live_attribute=eligibility.DECISION_EXPIRY_ATTRIBUTE,
        ).table
        self.idempotency_table = PlatformTable(
            self,
            "Idempotency",
            config=config,
            encryption_key=key,
            table_name=config.resource_name("eligibility", constants.IDEMPOTENCY_TABLE_SUFFIX),
            partition_key=constants.IDEMPOTENCY_PARTITION_KEY,
            time_to_live_attribute=constants.IDEMPOTENCY_EXPIRY_ATTRIBUTE,
        ).table

        alerts = foundation.alert_topic_for(self)
        self.function_environment = {
            constants.ENV_CUSTOMER_TABLE: domain.customer_table.table_name,
            eligibility.ENV_RULES_TABLE: self.rules_table.table_name,
            eligibility.ENV_DECISIONS_TABLE: self.decisions_table.table_name,
            eligibility.ENV_DECISION_TTL_DAYS: str(config.environment.eligibility.decision_ttl_days),
            eligibility.ENV_PROPENSITY_ENDPOINT: propensity.endpoint_name,
            eligibility.ENV_PROPENSITY_TIMEOUT_MS: str(config.environment.propensity.invoke_timeout_ms),
        }
        self.function = PlatformFunction(
            self,
            "Eligibility",
            config=config,
            handler=eligibility.ELIGIBILITY_HANDLER,
            description="Eligibility service: rules as data, propensity score with a rules-only fallback",
            service=eligibility.ELIGIBILITY_SERVICE,
            encryption_key=foundation.key,
            alert_topic=alerts,
            environment={
                **self.function_environment,
                constants.ENV_IDEMPOTENCY_TABLE: self.idempotency_table.table_name,
            },
        )
        self.grant_decisions(self.function.role, foundation, domain, propensity)
        role = self.function.role
        grant_table(
            role,
            self.rules_table,
            foundation.key,
            actions=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"),
        )
        grant_table(
            role,
            self.idempotency_table,
            foundation.key,
            actions=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        )
        acknowledge_grant_policy(role)

        self.api = SecureRestApi(
            self,
            "Api",
            config=config,
            name=config.resource_name("eligibility"),
            description="Eligibility decisions and rule sets (IAM-authorised)",
            handler=self.function.alias,
            encryption_key=foundation.key,
            alert_topic=alerts,
            routes=routes_for(config.maturity),
        )
        self.function.deployment.add_alarm(self.api.server_errors_alarm)
        # The model's live inputs (what the decisions recorded) against its training baseline, daily.
        self.feature_drift = FeatureDriftCheck(
            self,
            "FeatureDrift",
            config=config,
            foundation=foundation,
            decisions_table=self.decisions_table,
            endpoint_name=propensity.endpoint_name,
        )

    def grant_decisions(
        self, role: iam.IRole, foundation: FoundationStack, domain: CustomerDomainStack, propensity: PropensityStack
    ) -> None:
        """What deciding needs: read the customer, the active rules, score, and record the decision."""
        grant_table(role, domain.customer_table, foundation.key, actions=("dynamodb:Query",))
        grant_table(role, self.rules_table, foundation.key, actions=("dynamodb:GetItem",))
        grant_table(role, self.decisions_table, foundation.key, actions=("dynamodb:PutItem",))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sagemaker:InvokeEndpoint"],
                resources=[
                    self.format_arn(service="sagemaker", resource="endpoint", resource_name=propensity.endpoint_name)
                ],
            )
        )
