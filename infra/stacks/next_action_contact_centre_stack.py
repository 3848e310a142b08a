"""Stage 5 next best action in the contact centre: the agent whisper says what to do next with the caller.

Adds the next-action function (the eligibility domain and the next-best-action
policy, in-process, within the flow's 3-second limit), associates it with the
Connect instance, and deploys the manifest's stage-5 flows: an agent whisper that
speaks the action, then the inbound flow that calls the function once (routing
and the whisper share that one decision) and sets that whisper. The stage-3 and
stage-4 flows stay as they were.
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
from omni_domain import constants

NEXT_ACTION = "next_action"  # the flows' ${lambda:next_action}


class NextActionContactCentreStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        domain = self.deps.require(CustomerDomainStack)
        contact_centre = self.deps.require(ContactCentreStack)
        personalised = self.deps.require(PersonalisedContactCentreStack)
        service = self.deps.require(EligibilityServiceStack)
        propensity = self.deps.require(PropensityStack)

        self.next_action = PlatformFunction(
            self,
            "NextAction",
            config=self.config,
            handler=constants.NEXT_ACTION_HANDLER,
            description="Contact-flow next best action: what the agent should do next with the caller, and why",
            service=constants.NEXT_ACTION_SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            timeout_seconds=3,  # the flow waits at most 3 s
            environment={
                **service.function_environment,
                eligibility.ENV_OFFER_PRODUCT: self.config.environment.eligibility.offer_check_product,
            },
        )
        # Deciding is all it does: read the customer and the rules, score, record the decision.
        service.grant_decisions(self.next_action.role, foundation, domain, propensity)
        acknowledge_grant_policy(self.next_action.role)

        integration = ConnectLambdaIntegration(
            self, "NextActionIntegration", function=self.next_action.alias, instance_arn=contact_centre.instance_arn
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
                ("lambda", NEXT_ACTION): self.next_action.alias.function_arn,
            },
            depends_on=[*integration.dependables, *personalised.flow_dependencies],
        )
