"""The rules engine, pure: no mocks, no I/O; and property-based: any rule set that passes the checks evaluates."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.attributes import CATALOGUE, PROPENSITY
from eligibility.rule_sets import RuleSetDocument, check_rule_set
from eligibility.rules import Target, evaluate
from omni_domain.errors import NotFoundError, ValidationFailedError

FACTS: dict[str, Any] = {
    "spend_365d": 820.0,
    "spend_30d": 0.0,
    "tenure_days": 400.0,
    "complaints": 3.0,
    "marketing_consent": True,
    "preferred_channel": "sms",
    "credit_band": None,
    PROPENSITY: 0.4,
}


def document(*offers: dict[str, Any]) -> RuleSetDocument:
    checked = RuleSetDocument.model_validate({"offers": list(offers)})
    check_rule_set(checked)
    return checked


def offer(code: str, *conditions: dict[str, Any], product: str = "broadband", priority: int = 100) -> dict[str, Any]:
    return {"code": code, "product": product, "priority": priority, "conditions": list(conditions)}


def test_given_every_condition_holds_when_evaluated_then_the_offer_is_eligible() -> None:
    rules = document(offer("A", {"attribute": "spend_365d", "op": "gte", "value": 500}))
    result = evaluate(rules, Target(product="broadband"), FACTS)
    assert (result.eligible, result.offers, result.reasons) == (True, ("A",), ("A: all 1 conditions met",))


def test_given_a_failing_condition_when_evaluated_then_the_reason_names_value_and_threshold() -> None:
    rules = document(offer("A", {"attribute": "complaints", "op": "lte", "value": 2}))
    result = evaluate(rules, Target(product="broadband"), FACTS)
    assert (result.eligible, result.reasons) == (False, ("A: complaints is 3, needs <= 2",))


def test_a_condition_can_give_its_own_reason() -> None:
    rules = document(offer("A", {"attribute": "spend_30d", "op": "gt", "value": 0, "reason": "no recent spend"}))
    assert evaluate(rules, Target(offer_code="A"), FACTS).reasons == ("A: no recent spend",)


@pytest.mark.parametrize(("if_missing", "eligible"), [("pass", True), ("fail", False)])
def test_an_unknown_value_takes_the_conditions_if_missing_outcome(if_missing: str, eligible: bool) -> None:
    rules = document(offer("A", {"attribute": "credit_band", "op": "in", "value": ["A"], "if_missing": if_missing}))
    assert evaluate(rules, Target(product="broadband"), FACTS).eligible is eligible


def test_eligible_offers_come_by_priority_and_only_for_the_product_asked() -> None:
    rules = document(offer("LATE", priority=50), offer("EARLY", priority=5), offer("CARD", product="credit_card"))
    assert evaluate(rules, Target(product="broadband"), FACTS).offers == ("EARLY", "LATE")


def test_true_never_equals_one() -> None:
    rules = document(offer("A", {"attribute": "complaints", "op": "ne", "value": 1}))
    assert evaluate(rules, Target(product="broadband"), {**FACTS, "complaints": True}).eligible is True


def test_a_product_or_offer_without_rules_is_not_found() -> None:
    rules = document(offer("A"))
    with pytest.raises(NotFoundError) as raised:
        evaluate(rules, Target(offer_code="B"), FACTS)
    assert raised.value.field == "offer_code"


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"attribute": "nope", "op": "eq", "value": 1}, "offers.0.conditions.0.attribute"),
        ({"attribute": "preferred_channel", "op": "gt", "value": "sms"}, "offers.0.conditions.0.op"),
        ({"attribute": "marketing_consent", "op": "in", "value": [True]}, "offers.0.conditions.0.op"),
        ({"attribute": "spend_30d", "op": "in", "value": 5}, "offers.0.conditions.0.value"),
        ({"attribute": "spend_30d", "op": "eq", "value": [5]}, "offers.0.conditions.0.value"),
        ({"attribute": "spend_30d", "op": "eq", "value": True}, "offers.0.conditions.0.value"),
        ({"attribute": "marketing_consent", "op": "eq", "value": 1}, "offers.0.conditions.0.value"),
        ({"attribute": "preferred_channel", "op": "eq", "value": "pigeon"}, "offers.0.conditions.0.value"),
    ],
)
def test_a_condition_the_engine_cannot_evaluate_is_refused_naming_its_field(
    condition: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        document(offer("A", condition))
    assert raised.value.field == field


def test_a_duplicate_offer_code_is_refused() -> None:
    with pytest.raises(ValidationFailedError) as raised:
        document(offer("A"), offer("A"))
    assert raised.value.field == "offers.1.code"


scalars = st.one_of(
    st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)
)
conditions = st.fixed_dictionaries(
    {
        "attribute": st.one_of(st.sampled_from(sorted(CATALOGUE)), st.text(max_size=10)),
        "op": st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "like"]),
        "value": st.one_of(scalars, st.lists(st.one_of(scalars, st.sampled_from(["A", "B", "sms"])), max_size=4)),
        "if_missing": st.sampled_from(["pass", "fail"]),
    }
)
offers = st.fixed_dictionaries(
    {
        "code": st.sampled_from(["A", "B", "C"]),
        "product": st.sampled_from(["broadband", "mobile"]),
        "priority": st.integers(0, 10),
        "conditions": st.lists(conditions, max_size=4),
    }
)


def fact_for(name: str) -> st.SearchStrategy[Any]:
    attribute = CATALOGUE[name]
    if attribute.type == "number":
        value: st.SearchStrategy[Any] = st.floats(allow_nan=True, allow_infinity=True)
    elif attribute.type == "boolean":
        value = st.booleans()
    else:
        value = st.sampled_from(attribute.values) if attribute.values else st.text(max_size=5)
    return st.one_of(st.none(), value)


facts = st.fixed_dictionaries({name: fact_for(name) for name in CATALOGUE})


@settings(max_examples=300)
@given(candidate=st.lists(offers, min_size=1, max_size=4), customer=facts, product=st.sampled_from(["broadband", "x"]))
def test_any_rule_set_that_passes_the_checks_evaluates_without_crashing(
    candidate: list[dict[str, Any]], customer: dict[str, Any], product: str
) -> None:
    try:
        rules = RuleSetDocument.model_validate({"offers": candidate})
        check_rule_set(rules)
    except (pydantic.ValidationError, ValidationFailedError):
        return
    try:
        result = evaluate(rules, Target(product=product), customer)
    except NotFoundError:
        assert all(o.product != product for o in rules.offers)
        return
    assert result.eligible == bool(result.offers)
    assert all(isinstance(reason, str) and reason for reason in result.reasons)
