"""Stage 4 offers in the contact centre: eligible callers are routed to the retention offers queue.

Adds the offer-check function (the eligibility domain, called in-process, within
the flow's 3-second limit), associates it with the Connect instance, and deploys
the manifest's stage-4 flow. The stage-3 personalised flow stays as it was.
"""

from __future__ import annotations

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

OFFER_CHECK = "offer_check"  # the flows' ${lambda:offer_check}


class OffersContactCentreStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        domain = self.deps.require(CustomerDomainStack)
        contact_centre = self.deps.require(ContactCentreStack)
        personalised = self.deps.require(PersonalisedContactCentreStack)
        service = self.deps.require(EligibilityServiceStack)
        propensity = self.deps.require(PropensityStack)

        self.offer_check = PlatformFunction(
            self,
            "OfferCheck",
            config=self.config,
            handler=eligibility.OFFER_CHECK_HANDLER,
            description="Contact-flow offer check: is the caller eligible for the retention offer, and why",
            service=eligibility.OFFER_CHECK_SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            timeout_seconds=3,  # the flow waits at most 3 s
            environment={
                **service.function_environment,
                eligibility.ENV_OFFER_PRODUCT: self.config.environment.eligibility.offer_check_product,
            },
        )
        service.grant_decisions(self.offer_check.role, foundation, domain, propensity)
        acknowledge_grant_policy(self.offer_check.role)

        integration = ConnectLambdaIntegration(
            self, "OfferCheckIntegration", function=self.offer_check.alias, instance_arn=contact_centre.instance_arn
        )
        manifest = load_manifest()
        self.flows = ContactFlows(
            self,
            "Flows",
            instance_arn=contact_centre.instance_arn,
            manifest=manifest,
            keys=[key for key, entry in manifest.flows.items() if entry.min_stage == self.capability.stage],
            resources={
                **contact_centre.flow_resources,
                ("lambda", CALLER_LOOKUP): personalised.caller_lookup.alias.function_arn,
                ("lambda", OFFER_CHECK): self.offer_check.alias.function_arn,
            },
            depends_on=[*integration.dependables, *personalised.flow_dependencies],
        )
