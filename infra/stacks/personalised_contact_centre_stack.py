"""Stage 3 personalised contact centre: callers are looked up by phone and greeted by name.

Adds the caller-lookup function, associates it with the Connect instance
(`IntegrationAssociation`), lets only that instance invoke it, and deploys the
flows of the manifest that need stage 3, with the flow module they share (the
caller greeting: lookup, contact attributes, greeting by name). The stage-1 flows
stay as they are: the basic inbound flow is the fallback the personalised one
returns to.
"""

from __future__ import annotations

from connect_flows.manifest import load_manifest
from infra.constructs.compliance import acknowledge_grant_policy
from infra.constructs.connect_integration import ConnectLambdaIntegration
from infra.constructs.contact_flows import ContactFlows
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.table_access import grant_table
from infra.stacks.contact_centre_stack import ContactCentreStack
from infra.stacks.customer_domain_stack import CustomerDomainStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from omni_domain import constants

CALLER_LOOKUP = "caller_lookup"  # the flows' ${lambda:caller_lookup}


class PersonalisedContactCentreStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        domain = self.deps.require(CustomerDomainStack)
        contact_centre = self.deps.require(ContactCentreStack)
        config = self.config

        self.caller_lookup = PlatformFunction(
            self,
            "CallerLookup",
            config=config,
            handler="connect_lookup.handler.lambda_handler",
            description="Contact-flow caller lookup: phone number to a flat map of who is calling",
            service="caller-lookup",
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            timeout_seconds=3,  # the flow waits at most 3 s (InvocationTimeLimitSeconds)
            environment={
                constants.ENV_CUSTOMER_TABLE: domain.customer_table.table_name,
                constants.ENV_IDENTITY_TABLE: domain.identity_table.table_name,
                constants.ENV_DEFAULT_PHONE_REGION: config.environment.default_phone_region,
            },
        )
        role = self.caller_lookup.role
        grant_table(role, domain.customer_table, foundation.key, actions=("dynamodb:Query",))
        grant_table(role, domain.identity_table, foundation.key, actions=("dynamodb:GetItem",))
        acknowledge_grant_policy(role)

        self.flow_dependencies = ConnectLambdaIntegration(
            self, "CallerLookupIntegration", function=self.caller_lookup.alias, instance_arn=contact_centre.instance_arn
        ).dependables
        manifest = load_manifest()
        self.flows = ContactFlows(
            self,
            "Flows",
            instance_arn=contact_centre.instance_arn,
            manifest=manifest,
            keys=[key for key, entry in manifest.flows.items() if entry.min_stage == self.capability.stage],
            module_keys=[key for key, entry in manifest.modules.items() if entry.min_stage == self.capability.stage],
            resources={
                **contact_centre.flow_resources,
                ("lambda", CALLER_LOOKUP): self.caller_lookup.alias.function_arn,
            },
            depends_on=self.flow_dependencies,
        )
        # What the later stages' flows name: these flows and the caller greeting module.
        self.flow_resources = self.flows.resolver
