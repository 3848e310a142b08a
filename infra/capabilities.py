"""The maturity table: which capability each stage adds, its stack and its dependencies.

This is the one place that decides what a stage deploys. Adding a capability is
one entry here plus its stack class. Entries are listed in build order; a
capability may depend only on capabilities of the same or a lower stage that
come before it (tests/infra/test_capabilities.py enforces both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.config import PlatformConfig
from infra.stacks.analytical_pathway_stack import AnalyticalPathwayStack
from infra.stacks.anomaly_alerts_stack import AnomalyAlertsStack
from infra.stacks.contact_centre_stack import ContactCentreStack
from infra.stacks.customer_domain_stack import CustomerDomainStack
from infra.stacks.eligibility_service_stack import EligibilityServiceStack
from infra.stacks.experience_pathway_stack import ExperiencePathwayStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.game_days_stack import GameDaysStack
from infra.stacks.next_action_contact_centre_stack import NextActionContactCentreStack
from infra.stacks.offers_contact_centre_stack import OffersContactCentreStack
from infra.stacks.personalised_contact_centre_stack import PersonalisedContactCentreStack
from infra.stacks.platform_stack import PlatformStack
from infra.stacks.profile_service_stack import ProfileServiceStack
from infra.stacks.propensity_stack import PropensityStack
from infra.stacks.rescoring_stack import RescoringStack
from infra.stacks.state_fanout_stack import StateFanoutStack
from infra.stages import Stage


@dataclass(frozen=True)
class Capability:
    name: str
    stage: Stage
    summary: str
    stack: type[PlatformStack]
    depends_on: tuple[str, ...] = ()
    # A boolean setting of the environment ("section.key") that must be true for the capability to be
    # deployed at its stage; None: always deployed.
    opt_in: str | None = None

    def stack_name(self, config: PlatformConfig) -> str:
        return config.resource_name(self.name)

    def enabled(self, config: PlatformConfig) -> bool:
        if self.opt_in is None:
            return True
        value: Any = config.environment
        for part in self.opt_in.split("."):
            value = getattr(value, part)
        return bool(value)


CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        name="foundation",
        stage=Stage.DISJOINTED,
        summary="platform KMS key, data-lake buckets, Glue database, customer event bus, alert topic",
        stack=FoundationStack,
    ),
    Capability(
        name="contact-centre",
        stage=Stage.DISJOINTED,
        summary="Amazon Connect instance, hours, queues, routing profile, contact flows",
        stack=ContactCentreStack,
        depends_on=("foundation",),
    ),
    Capability(
        name="customer-domain",
        stage=Stage.CONSISTENT,
        summary="customer matching (Splink on Glue, AWS Entity Resolution, or Glue FindMatches), golden records, identity map",
        stack=CustomerDomainStack,
        depends_on=("foundation",),
    ),
    Capability(
        name="profiles",
        stage=Stage.INTEGRATED,
        summary="customer-profile microservice (API Gateway, Lambda, DynamoDB): profiles, consent, lookups, erasure",
        stack=ProfileServiceStack,
        depends_on=("foundation", "customer-domain"),
    ),
    Capability(
        name="personalised-contact-centre",
        stage=Stage.INTEGRATED,
        summary="caller lookup for contact flows (associated with the instance), personalised inbound flow",
        stack=PersonalisedContactCentreStack,
        depends_on=("foundation", "customer-domain", "contact-centre"),
    ),
    Capability(
        name="experience-pathway",
        stage=Stage.INTEGRATED,
        summary="customer events on Kinesis, event processor keeping the live state, real-time triggers",
        stack=ExperiencePathwayStack,
        depends_on=("foundation", "customer-domain"),
    ),
    Capability(
        name="analytical-pathway",
        stage=Stage.INTEGRATED,
        summary="Firehose from the event stream to the data lake, partitioned, with a Glue table",
        stack=AnalyticalPathwayStack,
        depends_on=("foundation", "experience-pathway"),
    ),
    Capability(
        name="propensity",
        stage=Stage.ORCHESTRATED,
        summary="propensity model: scheduled SageMaker tuning, champion/challenger in a model package group, serverless endpoint",
        stack=PropensityStack,
        depends_on=("foundation",),
    ),
    Capability(
        name="eligibility",
        stage=Stage.ORCHESTRATED,
        summary="eligibility microservice: versioned rule sets, propensity score with rules fallback, audited",
        stack=EligibilityServiceStack,
        depends_on=("foundation", "customer-domain", "propensity"),
    ),
    Capability(
        name="offers-contact-centre",
        stage=Stage.ORCHESTRATED,
        summary="offer check for contact flows (associated with the instance), inbound flow with offers",
        stack=OffersContactCentreStack,
        depends_on=(
            "foundation",
            "customer-domain",
            "contact-centre",
            "personalised-contact-centre",
            "propensity",
            "eligibility",
        ),
    ),
    Capability(
        name="anomaly-alerts",
        stage=Stage.ORCHESTRATED,
        summary="anomaly-detection alarms on business and service metrics, journey health, routing to owning teams",
        stack=AnomalyAlertsStack,
        depends_on=("foundation", "profiles", "experience-pathway"),
    ),
    Capability(
        name="game-days",
        stage=Stage.ORCHESTRATED,
        summary="opt-in (game_days.enabled): AWS FIS experiments failing or delaying the event processor and both APIs",
        stack=GameDaysStack,
        depends_on=("foundation", "profiles", "experience-pathway", "eligibility", "anomaly-alerts"),
        opt_in="game_days.enabled",
    ),
    Capability(
        name="state-fanout",
        stage=Stage.SEAMLESS,
        summary="customer-table stream to CustomerStateChanged events on the bus: changes only, in order, once each",
        stack=StateFanoutStack,
        depends_on=("foundation", "customer-domain"),
    ),
    Capability(
        name="realtime-rescoring",
        stage=Stage.SEAMLESS,
        summary="propensity rescored on model-relevant state changes (debounced, rules fallback), kept in live state",
        stack=RescoringStack,
        depends_on=("foundation", "customer-domain", "propensity", "state-fanout"),
    ),
    Capability(
        name="next-action-contact-centre",
        stage=Stage.SEAMLESS,
        summary="next-best-action lookup for contact flows, inbound flow whose agent whisper says the next best action",
        stack=NextActionContactCentreStack,
        depends_on=(
            "foundation",
            "customer-domain",
            "contact-centre",
            "personalised-contact-centre",
            "propensity",
            "eligibility",
        ),
    ),
)


def capabilities_up_to(stage: Stage, table: tuple[Capability, ...] = CAPABILITIES) -> list[Capability]:
    """The capabilities deployed at `stage`, in build order."""
    return [capability for capability in table if capability.stage <= stage]


def capabilities_deployed(config: PlatformConfig, table: tuple[Capability, ...] = CAPABILITIES) -> list[Capability]:
    """The capabilities an environment deploys: those up to its stage, less the opt-ins it leaves off."""
    return [capability for capability in capabilities_up_to(config.maturity, table) if capability.enabled(config)]


def capabilities_added_at(stage: Stage, table: tuple[Capability, ...] = CAPABILITIES) -> list[Capability]:
    return [capability for capability in table if capability.stage == stage]
