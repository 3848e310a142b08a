"""The offer check's answer (pure): customer id -> flat string map, over in-memory stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from connect_offers.offers import MAX_REASON_LENGTH, check_offer, unavailable
from eligibility.decisions import EligibilityService
from eligibility.rule_sets import RuleSet, RuleSetDocument
from eligibility.scoring import NoModel
from omni_domain.models import CustomerProfile, LiveState, ProfileAttributes, RollingSpend
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap
from omni_testing.eligibility import InMemoryDecisionLog, InMemoryRuleSetStore

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def service(*, spend: int = 900, reason: str | None = None, active: bool = True) -> EligibilityService:
    customers = InMemoryCustomerRepository(InMemoryIdentityMap())
    customers.profiles["gc-1"] = CustomerProfile(
        customer_id="gc-1",
        attributes=ProfileAttributes(first_name="Ada"),
        version=1,
        created_at=NOW - timedelta(days=500),
        updated_at=NOW,
    )
    customers.live_states["gc-1"] = LiveState(rolling_spend=RollingSpend(last_365_days=Decimal(spend)))
    condition = {"attribute": "spend_365d", "op": "gte", "value": 500, **({"reason": reason} if reason else {})}
    document = RuleSetDocument.model_validate(
        {"offers": [{"code": "BB-LOYAL-20", "product": "broadband", "conditions": [condition]}]}
    )
    rule_sets = InMemoryRuleSetStore()
    rule_sets.put(RuleSet(version="v1", document=document), now=NOW)
    if active:
        rule_sets.activate("v1", now=NOW)
    return EligibilityService(customers, rule_sets, InMemoryDecisionLog(), NoModel(), clock=lambda: NOW)


def test_given_an_eligible_customer_then_the_answer_is_true_with_the_best_offer() -> None:
    answer = check_offer(service(), "gc-1", product="broadband", decision_id="contact-1")
    assert answer.attributes == {"eligible": "true", "reason": "BB-LOYAL-20"}
    assert answer.record is not None
    assert answer.record.decision.score_source == "fallback"


def test_given_a_customer_below_the_threshold_then_the_answer_is_false_with_the_reason() -> None:
    answer = check_offer(service(spend=100), "gc-1", product="broadband", decision_id="contact-1")
    assert answer.attributes == {"eligible": "false", "reason": "BB-LOYAL-20: spend_365d is 100, needs >= 500"}


def test_unknown_or_malformed_customers_no_rules_and_no_offer_all_answer_false() -> None:
    cases = [
        (service(), "gc-404", "broadband", "unknown-customer"),
        (service(), "", "broadband", "unknown-customer"),
        (service(), "+447700900123 ", "broadband", "unknown-customer"),
        (service(active=False), "gc-1", "broadband", "no-rules"),
        (service(), "gc-1", "mobile", "no-offer"),
    ]
    for eligibility, customer_id, product, outcome in cases:
        answer = check_offer(eligibility, customer_id, product=product, decision_id="c")
        assert (answer.attributes["eligible"], answer.outcome) == ("false", outcome)
    assert unavailable().attributes == {"eligible": "false", "reason": "offer check unavailable"}


@given(reason=st.text(min_size=1, max_size=200).filter(str.strip), spend=st.integers(-(10**9), 499))
def test_the_answer_is_always_a_small_flat_string_map(reason: str, spend: int) -> None:
    answer = check_offer(service(spend=spend, reason=reason), "gc-1", product="broadband", decision_id="c")
    assert set(answer.attributes) == {"eligible", "reason"}
    assert all(isinstance(value, str) for value in answer.attributes.values())
    assert len(answer.attributes["reason"]) <= MAX_REASON_LENGTH
    assert len(json.dumps(answer.attributes).encode()) < 32 * 1024
