"""The rules fallback score: bounded, monotone in each documented direction, and readable from the facts."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from eligibility.attributes import Facts
from rescorer.fallback import RULES_VERSION, RulesInputs, rules_score

amounts = st.floats(allow_nan=True, allow_infinity=True)
counts = st.floats(min_value=-10, max_value=1e6, allow_nan=False)
carts = st.sampled_from([None, "active", "abandoned", "empty", "purchased", "unknown"])
inputs = st.builds(
    RulesInputs, spend_365d=amounts, purchases=amounts, complaints=amounts, friction_points=amounts, cart_status=carts
)
finite = st.builds(
    RulesInputs, spend_365d=counts, purchases=counts, complaints=counts, friction_points=counts, cart_status=carts
)
increase = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(inputs)
def test_the_score_is_always_a_probability(values: RulesInputs) -> None:
    assert 0.0 <= rules_score(values) <= 1.0


@given(finite, increase)
def test_more_spend_never_lowers_the_score(values: RulesInputs, more: float) -> None:
    assert rules_score(replace(values, spend_365d=values.spend_365d + more)) >= rules_score(values)


@given(finite, increase)
def test_more_purchases_never_lower_the_score(values: RulesInputs, more: float) -> None:
    assert rules_score(replace(values, purchases=values.purchases + more)) >= rules_score(values)


@given(finite, increase)
def test_more_complaints_never_raise_the_score(values: RulesInputs, more: float) -> None:
    assert rules_score(replace(values, complaints=values.complaints + more)) <= rules_score(values)


@given(finite, increase)
def test_more_friction_never_raises_the_score(values: RulesInputs, more: float) -> None:
    assert rules_score(replace(values, friction_points=values.friction_points + more)) <= rules_score(values)


@given(finite)
def test_an_active_cart_scores_at_least_an_abandoned_one_which_scores_at_least_none(values: RulesInputs) -> None:
    active, abandoned, empty = (
        rules_score(replace(values, cart_status=status)) for status in ("active", "abandoned", None)
    )
    assert active >= abandoned >= empty


@given(inputs)
def test_a_rules_score_never_looks_as_confident_as_the_model_can(values: RulesInputs) -> None:
    assert rules_score(values) <= 0.8


def test_documented_examples() -> None:
    assert RULES_VERSION == "rules-v1"
    assert rules_score(RulesInputs()) == 0.2
    best = RulesInputs(spend_365d=5000, purchases=9, complaints=0, friction_points=0, cart_status="active")
    assert rules_score(best) == 0.8
    worst = RulesInputs(spend_365d=0, purchases=0, complaints=7, friction_points=9)
    assert rules_score(worst) == 0.0
    typical = RulesInputs(spend_365d=820, purchases=3, complaints=1, friction_points=1, cart_status="active")
    assert rules_score(typical) == 0.505  # 0.2 + 0.205 + 0.15 - 0.1 - 0.05 + 0.1


def test_inputs_come_from_the_eligibility_facts_and_unknown_values_count_as_zero() -> None:
    facts: Facts = {
        "spend_365d": 820.0,
        "purchases": 3.0,
        "complaints": 1.0,
        "friction_points": 2.0,
        "cart_status": "abandoned",
        "age_years": None,
    }
    assert RulesInputs.from_facts(facts) == RulesInputs(820.0, 3.0, 1.0, 2.0, "abandoned")
    assert RulesInputs.from_facts({"spend_365d": None, "purchases": True, "cart_status": None}) == RulesInputs()
