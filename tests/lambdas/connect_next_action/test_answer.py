"""The next-action lookup's answer (pure): customer id -> Connect's flat string map, over in-memory stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from connect_next_action.answer import FALLBACK_SCRIPT, next_action_answer, unavailable
from eligibility.decisions import EligibilityService
from eligibility.next_action import ACTIONS
from eligibility.rule_sets import RuleSet, RuleSetDocument
from eligibility.scoring import NoModel
from omni_domain.models import (
    ConsentDecision,
    CustomerProfile,
    FrictionPoint,
    LiveState,
    ProfileAttributes,
    RollingSpend,
)
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap
from omni_testing.eligibility import InMemoryDecisionLog, InMemoryRuleSetStore

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEYS = {"next_action", "next_action_script", "next_action_offer", "eligible"}


def service(
    *, spend: int = 900, consent: bool = True, friction: tuple[str, ...] = (), active: bool = True
) -> tuple[EligibilityService, InMemoryDecisionLog]:
    customers = InMemoryCustomerRepository(InMemoryIdentityMap())
    customers.profiles["gc-1"] = CustomerProfile(
        customer_id="gc-1",
        attributes=ProfileAttributes(first_name="Ada", phone="+447700900123"),
        consent={"contact_centre": {"marketing": ConsentDecision(granted=consent, decided_at=NOW)}},
        version=1,
        created_at=NOW - timedelta(days=500),
        updated_at=NOW,
    )
    customers.live_states["gc-1"] = LiveState(
        rolling_spend=RollingSpend(last_30_days=Decimal(spend) / 10, last_365_days=Decimal(spend)),
        friction_points=[FrictionPoint(kind=kind, channel="web", at=NOW) for kind in friction],
        journey_stage="loyal",
    )
    document = RuleSetDocument.model_validate(
        {
            "offers": [
                {
                    "code": "BB-LOYAL-20",
                    "product": "broadband",
                    "conditions": [{"attribute": "spend_365d", "op": "gte", "value": 500}],
                }
            ]
        }
    )
    rule_sets = InMemoryRuleSetStore()
    rule_sets.put(RuleSet(version="v1", document=document), now=NOW)
    if active:
        rule_sets.activate("v1", now=NOW)
    log = InMemoryDecisionLog()
    return EligibilityService(customers, rule_sets, log, NoModel(), clock=lambda: NOW), log


def test_given_an_eligible_customer_with_consent_then_the_offer_is_the_next_action_and_audited() -> None:
    eligibility, log = service()
    answer = next_action_answer(eligibility, "gc-1", product="broadband", decision_id="contact-1")
    assert answer.attributes == {
        "next_action": "make_offer",
        "next_action_script": "Eligible for offer BB-LOYAL-20: mention it once their request is handled.",
        "next_action_offer": "BB-LOYAL-20",
        "eligible": "true",
    }
    assert answer.outcome == "advised"
    [record] = log.records
    assert record.decision.decision_id.endswith("#contact-1")


def test_given_an_open_complaint_then_recovery_first_though_still_routed_as_eligible() -> None:
    answer = next_action_answer(service(friction=("complaint",))[0], "gc-1", product="broadband", decision_id="c")
    assert (answer.attributes["next_action"], answer.attributes["next_action_offer"]) == ("resolve_complaint", "")
    assert answer.attributes["eligible"] == "true"


def test_without_marketing_consent_for_calls_no_offer_is_suggested() -> None:
    answer = next_action_answer(service(consent=False)[0], "gc-1", product="broadband", decision_id="c")
    assert answer.attributes["next_action"] == "no_action"
    assert answer.attributes["eligible"] == "true"  # the rules say eligible; the whisper does not sell


def test_unknown_or_malformed_customers_no_rules_and_no_offer_all_answer_the_fallback() -> None:
    cases = [
        (service()[0], "gc-404", "broadband", "unknown-customer"),
        (service()[0], "", "broadband", "unknown-customer"),
        (service()[0], "+447700900123", "broadband", "unknown-customer"),
        (service(active=False)[0], "gc-1", "broadband", "no-rules"),
        (service()[0], "gc-1", "mobile", "no-offer"),
    ]
    for eligibility, customer_id, product, outcome in cases:
        answer = next_action_answer(eligibility, customer_id, product=product, decision_id="c")
        assert answer.outcome == outcome
        assert answer.attributes == unavailable().attributes
    assert unavailable().attributes == {
        "next_action": "no_action",
        "next_action_script": FALLBACK_SCRIPT,
        "next_action_offer": "",
        "eligible": "false",
    }


@given(
    spend=st.integers(0, 10**7),
    consent=st.booleans(),
    friction=st.lists(st.sampled_from(("complaint", "unresolved_contact", "abandoned_cart")), max_size=3),
)
def test_the_answer_is_always_a_small_flat_string_map_without_personal_data(
    spend: int, consent: bool, friction: list[str]
) -> None:
    answer = next_action_answer(
        service(spend=spend, consent=consent, friction=tuple(friction))[0], "gc-1", product="broadband", decision_id="c"
    )
    assert set(answer.attributes) == KEYS
    assert all(isinstance(value, str) for value in answer.attributes.values())
    assert answer.attributes["next_action"] in ACTIONS
    encoded = json.dumps(answer.attributes)
    assert len(encoded.encode()) < 1024  # far within Connect's 32 KB answer and contact-attribute limits
    assert "Ada" not in encoded
    assert "7700" not in encoded
