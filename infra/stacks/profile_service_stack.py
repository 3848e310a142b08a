"""Stage 3 customer-profile service: the one profile and live state every channel reads and writes.

A REST API (IAM auth, WAF, access logs, alarms) in front of one function with
safe deployments. The function reads and writes the customer table and the
identity map of the customer domain (stage 2) with exactly the DynamoDB actions
it uses, and keeps idempotency records (Idempotency-Key on PUT and PATCH) in its
own table, which expire by TTL.
"""

from __future__ import annotations

from infra.constructs.compliance import acknowledge_grant_policy
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.platform_table import PlatformTable
from infra.constructs.secure_rest_api import SecureRestApi
from infra.constructs.table_access import grant_table
from infra.stacks.customer_domain_stack import CustomerDomainStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from omni_domain import constants

# The paths of the OpenAPI document the handler publishes (docs/api/profiles-openapi.json).
ROUTES = (
    ("/customers", ("GET",)),
    ("/customers/{customer_id}", ("GET", "PUT", "PATCH", "DELETE")),
    ("/customers/{customer_id}/consent", ("PUT",)),
)
IDEMPOTENCY_EXPIRY_SECONDS = 24 * 3600  # a retried request within a day gets the first answer back


class ProfileServiceStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        domain = self.deps.require(CustomerDomainStack)
        config = self.config

        self.idempotency_table = PlatformTable(
            self,
            "Idempotency",
            config=config,
            encryption_key=foundation.key,
            table_name=config.resource_name(constants.IDEMPOTENCY_TABLE_SUFFIX),
            partition_key=constants.IDEMPOTENCY_PARTITION_KEY,
            time_to_live_attribute=constants.IDEMPOTENCY_EXPIRY_ATTRIBUTE,
        ).table

        alerts = foundation.alert_topic_for(self)
        self.function = PlatformFunction(
            self,
            "Profiles",
            config=config,
            handler=constants.PROFILES_HANDLER,
            description="Customer-profile service: profiles, consent, identity lookups, erasure",
            service=constants.PROFILES_SERVICE,
            encryption_key=foundation.key,
            alert_topic=alerts,
            environment={
                constants.ENV_CUSTOMER_TABLE: domain.customer_table.table_name,
                constants.ENV_IDENTITY_TABLE: domain.identity_table.table_name,
                constants.ENV_IDEMPOTENCY_TABLE: self.idempotency_table.table_name,
                constants.ENV_IDEMPOTENCY_EXPIRY_SECONDS: str(IDEMPOTENCY_EXPIRY_SECONDS),
                constants.ENV_DEFAULT_PHONE_REGION: config.environment.default_phone_region,
            },
        )
        role = self.function.role
        # Exactly what the service's transactions and reads use (TransactWriteItems is authorised per item).
        grant_table(
            role,
            domain.customer_table,
            foundation.key,
            actions=("dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"),
        )
        grant_table(
            role,
            domain.identity_table,
            foundation.key,
            actions=("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
            indexes=(constants.IDENTITY_BY_CUSTOMER_INDEX,),
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
            name=config.resource_name("profiles"),
            description="Customer profiles shared by every channel (IAM-authorised)",
            handler=self.function.alias,
            encryption_key=foundation.key,
            alert_topic=alerts,
            routes=ROUTES,
        )
        # The handler answers unexpected failures with a 500 problem body (the invocation succeeds),
        # so the API's 5xx alarm, not only the function's Errors alarm, rolls a bad version back.
        self.function.deployment.add_alarm(self.api.server_errors_alarm)
