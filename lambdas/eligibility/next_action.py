"""Next best action: one small, explainable recommendation from the live state, the decision and the score.

Pure: no I/O, no clock, no randomness. The same live state, facts and
eligibility decision always give the same action, with the reasons and the
inputs that chose it, so an agent (or any channel) can say why.

Policy `POLICY_VERSION`, first rule that applies wins:

1. `resolve_complaint`: an open complaint. Service recovery comes before
   anything else, and nothing is sold while a complaint is open.
2. `follow_up_contact`: an unresolved contact (the customer's last issue was
   not fixed). Also service recovery, so also before any selling.
3. `retention_call`: the customer is at risk (journey stage `at_risk`) or is
   lapsing (a paying customer with spend in the last year but none in the last
   30 days). A service conversation, not a sale: it needs no marketing consent.
4. `recover_cart`: an abandoned cart, with marketing consent.
5. `make_offer`: eligible for an offer (the rules and the score said so), with
   marketing consent; the best eligible offer's code is named.
6. `welcome`: a new customer (journey stage `new`, or under `WELCOME_DAYS`).
7. `nurture`: still exploring or considering, with marketing consent.
8. `no_action`: nothing above applies.

Never a marketing action (`MARKETING_ACTIONS`) without marketing consent: on
the channel asked about when one is given, on any channel otherwise. A
marketing action skipped for want of consent is named in the reasons.

The script is one short sentence for the agent: it names the action and at most
an offer code, never a name, contact detail, address or date of birth. With
`make_offer`, when the model's score came with contributions, the script adds
the top one that raised it ("Likely to take it: 3 purchases.", age left out) so
the agent whisper can say why, and the reasons say them all in plain words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from eligibility.attributes import Facts
from eligibility.decisions import EligibilityDecision, ScoreSource
from eligibility.explanations import explain, top_reason
from omni_domain.models import Channel, JourneyStage, LiveState

POLICY_VERSION: Final = "nba-2026-11-v1"
Action = Literal[
    "resolve_complaint",
    "follow_up_contact",
    "retention_call",
    "recover_cart",
    "make_offer",
    "welcome",
    "nurture",
    "no_action",
]
ACTIONS: tuple[Action, ...] = get_args(Action)
# Actions that sell or promote: each needs marketing consent.
MARKETING_ACTIONS: frozenset[Action] = frozenset({"recover_cart", "make_offer", "nurture"})
WELCOME_DAYS = 30
MAX_SCRIPT_LENGTH = 200
# Friction kinds the event processor records (event_processor.rules).
COMPLAINT = "complaint"
UNRESOLVED_CONTACT = "unresolved_contact"
ABANDONED_CART = "abandoned_cart"


class NextBestActionInputs(BaseModel):
    """What the policy looked at: derived facts only, never personal data."""

    model_config = ConfigDict(frozen=True)

    score: float | None = Field(description="the propensity score the decision used; null when unavailable")
    score_source: ScoreSource
    journey_stage: JourneyStage
    open_friction: int = Field(ge=0, description="open friction points of any kind")
    open_complaints: int = Field(ge=0)
    unresolved_contacts: int = Field(ge=0)
    abandoned_carts: int = Field(ge=0)
    marketing_consent: bool = Field(description="marketing consent on `channel`, or on any channel without one")
    channel: Channel | None = Field(description="the channel asked about, if any")
    eligible: bool
    offers: list[str] = Field(description="eligible offer codes, best first")
    tenure_days: float | None
    spend_30d: float | None
    spend_365d: float | None
    rule_set_version: str


class NextBestAction(BaseModel):
    """The recommendation, why, and what it was based on."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    action: Action
    offer_code: str | None = Field(description="the offer to make (make_offer only)")
    script: str = Field(max_length=MAX_SCRIPT_LENGTH, description="one sentence for the agent, no personal data")
    reasons: list[str]
    inputs: NextBestActionInputs
    policy_version: str
    decision_id: str = Field(description="the audited eligibility decision this action was chosen with")


@dataclass(frozen=True)
class _Rule:
    action: Action
    applies: Callable[[NextBestActionInputs], bool]
    because: str


def _lapsing(inputs: NextBestActionInputs) -> bool:
    return (inputs.spend_365d or 0) > 0 and (inputs.spend_30d or 0) <= 0 and inputs.journey_stage != "new"


def _new(inputs: NextBestActionInputs) -> bool:
    return inputs.journey_stage == "new" or (inputs.tenure_days is not None and inputs.tenure_days < WELCOME_DAYS)


RULES: tuple[_Rule, ...] = (
    _Rule("resolve_complaint", lambda i: i.open_complaints > 0, "open complaint: service recovery comes first"),
    _Rule("follow_up_contact", lambda i: i.unresolved_contacts > 0, "unresolved contact: service recovery first"),
    _Rule(
        "retention_call",
        lambda i: i.journey_stage == "at_risk" or _lapsing(i),
        "at risk or lapsing: spend this year, none in the last 30 days",
    ),
    _Rule("recover_cart", lambda i: i.abandoned_carts > 0, "abandoned cart"),
    _Rule("make_offer", lambda i: i.eligible and bool(i.offers), "eligible for an offer"),
    _Rule("welcome", _new, f"new customer (journey stage new or under {WELCOME_DAYS} days)"),
    _Rule("nurture", lambda i: i.journey_stage in ("exploring", "considering"), "still exploring or considering"),
)

_SCRIPTS: dict[Action, str] = {
    "resolve_complaint": "Open complaint: acknowledge it and resolve it before anything else.",
    "follow_up_contact": "Their last issue is unresolved: ask about it and fix it first.",
    "retention_call": "At risk of leaving: ask how things are going and what would help them stay.",
    "recover_cart": "They left items in their basket: offer help to complete the order.",
    "make_offer": "Eligible for offer {offer}: mention it once their request is handled.",
    "welcome": "New customer: welcome them and offer help getting started.",
    "nurture": "Still deciding: answer their questions and suggest what fits their needs.",
    "no_action": "No recommendation: handle the request as usual.",
}


def policy_inputs(
    *, state: LiveState, facts: Facts, decision: EligibilityDecision, channel: Channel | None = None
) -> NextBestActionInputs:
    """The derived inputs of the policy for one customer: counts, flags and the decision, no personal data."""
    kinds = [point.kind for point in state.friction_points]
    consent_key = f"consent.{channel}.marketing" if channel else "marketing_consent"
    return NextBestActionInputs(
        score=decision.score,
        score_source=decision.score_source,
        journey_stage=state.journey_stage,
        open_friction=len(kinds),
        open_complaints=kinds.count(COMPLAINT),
        unresolved_contacts=kinds.count(UNRESOLVED_CONTACT),
        # The cart status counts too: the friction point and the cart are written by the same event.
        abandoned_carts=max(
            kinds.count(ABANDONED_CART), int(state.cart is not None and state.cart.status == "abandoned")
        ),
        marketing_consent=facts.get(consent_key) is True,
        channel=channel,
        eligible=decision.eligible,
        offers=list(decision.offers),
        tenure_days=_number(facts.get("tenure_days")),
        spend_30d=_number(facts.get("spend_30d")),
        spend_365d=_number(facts.get("spend_365d")),
        rule_set_version=decision.rule_set_version,
    )


def choose(inputs: NextBestActionInputs) -> tuple[Action, str | None, list[str]]:
    """The action, the offer it names (make_offer only) and the reasons, by the policy's priority order."""
    reasons: list[str] = []
    for rule in RULES:
        if not rule.applies(inputs):
            continue
        if rule.action in MARKETING_ACTIONS and not inputs.marketing_consent:
            where = f"on {inputs.channel}" if inputs.channel else "on any channel"
            reasons.append(f"{rule.action} skipped: {rule.because}, but no marketing consent {where}")
            continue
        offer = inputs.offers[0] if rule.action == "make_offer" else None
        reasons.insert(0, f"{rule.action}: {rule.because}" + (f" ({offer})" if offer else ""))
        return rule.action, offer, reasons
    reasons.insert(0, "no_action: no rule of the policy applies")
    return "no_action", None, reasons


def next_best_action(
    *, state: LiveState, facts: Facts, decision: EligibilityDecision, channel: Channel | None = None
) -> NextBestAction:
    """The next best action for the decision's customer (see the module docstring for the policy)."""
    inputs = policy_inputs(state=state, facts=facts, decision=decision, channel=channel)
    action, offer, reasons = choose(inputs)
    if inputs.score is None:
        reasons.append("no propensity score: the rules decided alone")
    script = _SCRIPTS[action].format(offer=offer or "")
    if action == "make_offer":
        reasons.extend(explain(decision.contributions))
        why = top_reason(decision.contributions)
        if why is not None:
            script = f"{script} Likely to take it: {why}."
    return NextBestAction(
        customer_id=decision.customer_id,
        action=action,
        offer_code=offer,
        script=script[:MAX_SCRIPT_LENGTH],
        reasons=reasons,
        inputs=inputs,
        policy_version=POLICY_VERSION,
        decision_id=decision.decision_id,
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
