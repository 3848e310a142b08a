"""The shape of a contact-centre stage that adds one in-flow eligibility lookup and its flows.

Stage 4 (offer check) and stage 5 (next best action) each add a function that
runs the eligibility domain in-process within the flow's 3-second limit, with
the eligibility service's decision grants, associate it with the Connect
instance, and deploy the manifest's flows of their own stage, whose
`${lambda:<placeholder>}` names that function. Only the function differs.
"""

from __future__ import annotations

from typing import ClassVar

from connect_flows.manifest import load_manifest
from eligibility import constants as eligibility
from infra.constructs.compliance import acknowledge_grant_policy
from infra.constructs.connect_integration import ConnectLambdaIntegration
from infra.constructs.contact_flows import ContactFlows
from infra.constructs.platform_function import PlatformFunction
from infra.stacks.contact_centre_stack import ContactCentreStack
from infra.stacks.customer_domain_stack import CustomerDomainStack
from infra.stacks.eligibility_service_stack import EligibilityServiceStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.personalised_contact_centre_stack import CALLER_LOOKUP, PersonalisedContactCentreStack
from infra.stacks.platform_stack import PlatformStack
from infra.stacks.propensity_stack import PropensityStack


class ContactCentreDecisionStack(PlatformStack):
    """Subclasses name the function: its construct id, handler, service, description and flow placeholder."""

    FUNCTION_ID: ClassVar[str]
    HANDLER: ClassVar[str]
    SERVICE: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    PLACEHOLDER: ClassVar[str]  # the flows' ${lambda:<PLACEHOLDER>}

    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        domain = self.deps.require(CustomerDomainStack)
        contact_centre = self.deps.require(ContactCentreStack)
        personalised = self.deps.require(PersonalisedContactCentreStack)
        service = self.deps.require(EligibilityServiceStack)
        propensity = self.deps.require(PropensityStack)

        self.function = PlatformFunction(
            self,
            self.FUNCTION_ID,
            config=self.config,
            handler=self.HANDLER,
            description=self.DESCRIPTION,
            service=self.SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            timeout_seconds=3,  # the flow waits at most 3 s
            environment={
                **service.function_environment,
                eligibility.ENV_OFFER_PRODUCT: self.config.environment.eligibility.offer_check_product,
            },
        )
        # Deciding is all it does: read the customer and the rules, score, record the decision.
        service.grant_decisions(self.function.role, foundation, domain, propensity)
        acknowledge_grant_policy(self.function.role)

        integration = ConnectLambdaIntegration(
            self,
            f"{self.FUNCTION_ID}Integration",
            function=self.function.alias,
            instance_arn=contact_centre.instance_arn,
        )
        manifest = load_manifest()
        self.flows = ContactFlows(
            self,
            "Flows",
            instance_arn=contact_centre.instance_arn,
            manifest=manifest,
            keys=[key for key, entry in manifest.flows.items() if entry.min_stage == self.capability.stage],
            module_keys=[key for key, entry in manifest.modules.items() if entry.min_stage == self.capability.stage],
            resources={
                **personalised.flow_resources,
                ("lambda", CALLER_LOOKUP): personalised.caller_lookup.alias.function_arn,
                ("lambda", self.PLACEHOLDER): self.function.alias.function_arn,
            },
            depends_on=[*integration.dependables, *personalised.flow_dependencies],
        )
