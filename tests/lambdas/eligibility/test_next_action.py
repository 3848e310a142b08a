"""Next-best-action rules, pure (no mocks, no I/O) and property-based: the policy's order and its guarantees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from eligibility.attributes import CHANNELS, customer_facts
from eligibility.decisions import EligibilityDecision
from eligibility.next_action import (
    ACTIONS,
    MARKETING_ACTIONS,
    MAX_SCRIPT_LENGTH,
    POLICY_VERSION,
    NextBestAction,
    next_best_action,
)
from eligibility.scoring import Contribution
from omni_domain.models import (
    Address,
    CartState,
    ConsentDecision,
    CustomerView,
    FrictionPoint,
    LiveState,
    ProfileAttributes,
    RollingSpend,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STAGES = ("new", "exploring", "considering", "customer", "loyal", "at_risk")
FRICTION_KINDS = ("complaint", "unresolved_contact", "abandoned_cart")


def view(
    *,
    friction: tuple[str, ...] = (),
    stage: str = "loyal",
    spend_30d: int = 60,
    spend_365d: int = 800,
    tenure_days: int = 800,
    consent: dict[str, bool] | None = None,
    cart: str | None = None,
    attributes: ProfileAttributes | None = None,
    last_event_days_ago: int = 0,
) -> CustomerView:
    granted = {"contact_centre": True} if consent is None else consent
    return CustomerView(
        customer_id="gc-1",
        attributes=attributes or ProfileAttributes(first_name="Ada", last_name="Lovelace"),
        consent={
            channel: {"marketing": ConsentDecision(granted=value, decided_at=NOW)} for channel, value in granted.items()
        },
        version=1,
        created_at=NOW - timedelta(days=tenure_days),
        updated_at=NOW,
        live_state=LiveState(
            rolling_spend=RollingSpend(last_30_days=Decimal(spend_30d), last_365_days=Decimal(spend_365d)),
            friction_points=[
                FrictionPoint(kind=kind, channel="web", at=NOW, reference=f"ref-{i}") for i, kind in enumerate(friction)
            ],
            journey_stage=stage,
            cart=None if cart is None else CartState(cart_id="cart-1", status=cart, at=NOW),
            updated_at=NOW - timedelta(days=last_event_days_ago),
        ),
    )


def decision(*, offers: tuple[str, ...] = ("BB-LOYAL-20",), score: float | None = 0.4) -> EligibilityDecision:
    return EligibilityDecision(
        customer_id="gc-1",
        eligible=bool(offers),
        offers=list(offers),
        reasons=[f"{code}: all 2 conditions met" for code in offers] or ["BB-LOYAL-20: customer for less than a year"],
        rule_set_version="2026-11-a",
        score=score,
        score_source="model" if score is not None else "fallback",
        decision_id=f"{NOW.isoformat()}#req-1",
        decided_at=NOW,
    )


def nba(customer: CustomerView, made: EligibilityDecision | None = None, **kwargs: Any) -> NextBestAction:
    return next_best_action(
        state=customer.live_state, facts=customer_facts(customer, now=NOW), decision=made or decision(), **kwargs
    )


# Examples: each rule of the policy, in its priority order.


def test_given_an_open_complaint_then_service_recovery_comes_before_the_offer() -> None:
    result = nba(view(friction=("abandoned_cart", "complaint"), stage="at_risk"))
    assert (result.action, result.offer_code) == ("resolve_complaint", None)
    assert result.reasons[0] == "resolve_complaint: open complaint: service recovery comes first"
    assert (result.inputs.open_complaints, result.inputs.open_friction) == (1, 2)


def test_given_an_unresolved_contact_then_it_is_followed_up() -> None:
    assert nba(view(friction=("unresolved_contact",), stage="at_risk")).action == "follow_up_contact"


def test_given_an_at_risk_or_lapsing_customer_then_a_retention_call_even_without_marketing_consent() -> None:
    assert nba(view(stage="at_risk", consent={})).action == "retention_call"
    lapsing = nba(view(spend_30d=0, spend_365d=400, consent={}))
    assert lapsing.action == "retention_call"
    assert lapsing.script.startswith("At risk of leaving")


def test_a_customer_silent_for_a_whole_month_is_lapsing_though_their_stored_spend_is_not_zero() -> None:
    # Given a loyal customer whose last event (and stored 30-day spend) is 45 days old
    silent = view(spend_30d=60, spend_365d=800, consent={}, last_event_days_ago=45)
    # Then the spend has aged out by now, and the agent is told to call them
    assert nba(silent).action == "retention_call"
    assert nba(view(spend_30d=60, spend_365d=800, consent={}, last_event_days_ago=5)).action != "retention_call"


def test_given_an_abandoned_cart_and_consent_then_recover_it() -> None:
    assert nba(view(friction=("abandoned_cart",), stage="considering")).action == "recover_cart"
    assert nba(view(cart="abandoned", stage="considering")).action == "recover_cart"


def test_given_an_eligible_customer_with_consent_then_the_best_offer_is_made() -> None:
    result = nba(view(), decision(offers=("BB-LOYAL-20", "BB-SPEED-UP")), channel="contact_centre")
    assert (result.action, result.offer_code) == ("make_offer", "BB-LOYAL-20")
    assert result.script == "Eligible for offer BB-LOYAL-20: mention it once their request is handled."
    assert result.reasons == ["make_offer: eligible for an offer (BB-LOYAL-20)"]


def test_an_offer_with_the_models_contributions_tells_the_agent_the_top_reason_without_the_age() -> None:
    explained = decision().model_copy(
        update={
            "contributions": [
                Contribution(feature="age_years", value=41.0, contribution=0.8),
                Contribution(feature="purchases", value=3.0, contribution=0.5),
                Contribution(feature="complaints", value=1.0, contribution=-0.2),
            ]
        }
    )
    result = nba(view(), explained, channel="contact_centre")
    assert result.script == (
        "Eligible for offer BB-LOYAL-20: mention it once their request is handled. Likely to take it: 3 purchases."
    )
    assert result.reasons == [
        "make_offer: eligible for an offer (BB-LOYAL-20)",
        "likely to take the offer: aged 41, 3 purchases",
        "less likely to take the offer: 1 complaint",
    ]
    # Another action does not talk about the offer's score.
    assert nba(view(stage="at_risk"), explained).script.startswith("At risk of leaving")
    assert (result.inputs.score, result.inputs.score_source) == (0.4, "model")
    assert (result.policy_version, result.decision_id) == (POLICY_VERSION, f"{NOW.isoformat()}#req-1")


def test_given_consent_on_another_channel_only_then_no_offer_is_made_on_this_one() -> None:
    result = nba(view(consent={"email": True}), channel="contact_centre")
    assert result.action == "no_action"
    assert "make_offer skipped: eligible for an offer, but no marketing consent on contact_centre" in result.reasons
    assert nba(view(consent={"email": True})).action == "make_offer"  # no channel: consent on any channel counts


def test_given_a_new_customer_not_eligible_then_welcome() -> None:
    assert nba(view(stage="new", spend_365d=0, spend_30d=0, tenure_days=3), decision(offers=())).action == "welcome"


def test_given_an_explorer_not_eligible_then_nurture_with_consent_and_nothing_without() -> None:
    explorer = {"stage": "exploring", "spend_365d": 0, "spend_30d": 0, "tenure_days": 90}
    assert nba(view(**explorer), decision(offers=())).action == "nurture"  # type: ignore[arg-type]
    assert nba(view(**explorer, consent={}), decision(offers=())).action == "no_action"  # type: ignore[arg-type]


def test_without_a_score_the_rules_decided_alone_and_the_reasons_say_so() -> None:
    result = nba(view(), decision(score=None))
    assert (result.inputs.score, result.inputs.score_source) == (None, "fallback")
    assert result.reasons[-1] == "no propensity score: the rules decided alone"


# Properties: over any live state, consent and decision.

customers = st.builds(
    view,
    friction=st.lists(st.sampled_from(FRICTION_KINDS), max_size=4).map(tuple),
    stage=st.sampled_from(STAGES),
    spend_30d=st.integers(0, 5000),
    spend_365d=st.integers(0, 50_000),
    tenure_days=st.integers(0, 5000),
    consent=st.dictionaries(st.sampled_from(CHANNELS), st.booleans(), max_size=3),
    cart=st.none() | st.sampled_from(("active", "empty", "abandoned", "purchased")),
    attributes=st.builds(
        ProfileAttributes,
        first_name=st.sampled_from(("Ada", "Grace", "Zebedee")),
        last_name=st.sampled_from(("Lovelace", "Hopper", "Quimby")),
        email=st.just("someone@example.com"),
        phone=st.just("+447700900123"),
        address=st.just(Address(line1="1 Analytical Row", city="London", postcode="SW1A 1AA", country="GB")),
    ),
)
offer_codes = st.lists(st.from_regex(r"[A-Z][A-Z0-9-]{2,19}", fullmatch=True), max_size=3, unique=True).map(tuple)
decisions = st.builds(decision, offers=offer_codes, score=st.none() | st.floats(0, 1))
channels = st.none() | st.sampled_from(CHANNELS)


@given(customer=customers, made=decisions, channel=channels)
def test_never_a_marketing_action_without_marketing_consent(
    customer: CustomerView, made: EligibilityDecision, channel: Any
) -> None:
    result = nba(customer, made, channel=channel)
    if result.action in MARKETING_ACTIONS:
        consent = customer.consent
        if channel is None:
            assert any(purposes["marketing"].granted for purposes in consent.values())
        else:
            assert consent[channel]["marketing"].granted


@given(customer=customers, made=decisions, channel=channels)
def test_service_recovery_always_comes_before_selling(
    customer: CustomerView, made: EligibilityDecision, channel: Any
) -> None:
    kinds = {point.kind for point in customer.live_state.friction_points}
    result = nba(customer, made, channel=channel)
    if "complaint" in kinds:
        assert result.action == "resolve_complaint"
    elif "unresolved_contact" in kinds:
        assert result.action == "follow_up_contact"
    if kinds & {"complaint", "unresolved_contact"} or customer.live_state.journey_stage == "at_risk":
        assert result.action not in MARKETING_ACTIONS


@given(customer=customers, made=decisions, channel=channels)
def test_the_answer_is_from_the_catalogue_explained_and_free_of_personal_data(
    customer: CustomerView, made: EligibilityDecision, channel: Any
) -> None:
    result = nba(customer, made, channel=channel)
    assert result.action in ACTIONS
    assert result.reasons[0].startswith(f"{result.action}: ")
    assert (result.offer_code is not None) == (result.action == "make_offer")
    if result.offer_code is not None:
        assert result.offer_code == made.offers[0]
        assert result.offer_code in result.script
    assert 0 < len(result.script) <= MAX_SCRIPT_LENGTH
    shown = result.model_dump_json()
    personal = customer.attributes
    for value in (personal.first_name, personal.last_name, personal.email, personal.phone, "Analytical", "SW1A"):
        assert value is not None
        assert value not in shown
    assert result.inputs.score == made.score


@given(customer=customers, made=decisions, channel=channels)
def test_the_same_inputs_always_give_the_same_action(
    customer: CustomerView, made: EligibilityDecision, channel: Any
) -> None:
    assert nba(customer, made, channel=channel) == nba(customer, made, channel=channel)
