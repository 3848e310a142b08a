"""The model's contributions in plain words: each catalogue input, the fallback for unknown ones, the order."""

from __future__ import annotations

import pytest

from eligibility.attributes import MODEL_ATTRIBUTES, Fact
from eligibility.explanations import explain, phrase, top_reason
from eligibility.scoring import Contribution


@pytest.mark.parametrize(
    ("feature", "value", "words"),
    [
        ("purchases", 3.0, "3 purchases"),
        ("purchases", 1.0, "1 purchase"),
        ("complaints", 2.0, "2 complaints"),
        ("tenure_days", 1500.0, "tenure 4 years"),
        ("tenure_days", 400.0, "tenure 1 year"),
        ("tenure_days", 20.0, "tenure 20 days"),
        ("spend_30d", 64.5, "spent 64.50 in the last 30 days"),
        ("spend_365d", 1820.0, "spent 1,820 in the last year"),
        ("age_years", 41.0, "aged 41"),
        ("age_years", None, "age unknown"),
        ("cart_status", "abandoned", "cart abandoned"),
        ("cart_status", None, "no cart"),
        ("preferred_channel", "contact_centre", "prefers contact centre"),
        ("journey_stage", "at_risk", "journey stage at risk"),
        ("marketing_consent", True, "marketing consent given"),
        ("marketing_consent", False, "no marketing consent"),
        ("friction_points", 0.0, "0 open friction points"),
        ("loyalty_points", 250.0, "250 loyalty points"),
        ("credit_band", "B", "credit band B"),
        ("product", "broadband", "product broadband"),
        ("contacts", None, "contacts unknown"),
    ],
)
def test_each_input_reads_as_plain_words(feature: str, value: Fact, words: str) -> None:
    assert phrase(feature, value) == words


def test_every_input_the_model_is_sent_has_its_own_words() -> None:
    for feature in ("product", *MODEL_ATTRIBUTES):
        value: Fact = True if feature == "marketing_consent" else ("a" if feature in _STRINGS else 2.0)
        assert not phrase(feature, value).startswith(f"{feature} = "), feature


_STRINGS = {"product", "preferred_channel", "journey_stage", "cart_status", "credit_band"}


@pytest.mark.parametrize(
    ("feature", "value", "words"),
    [("balance", 1200.0, "balance = 1200"), ("housing", "yes", "housing = yes"), ("loan", False, "loan = false")],
)
def test_a_feature_this_module_does_not_know_reads_as_name_and_value(feature: str, value: Fact, words: str) -> None:
    assert phrase(feature, value) == words


def test_a_value_of_another_type_than_expected_falls_back_to_name_and_value() -> None:
    assert phrase("purchases", "many") == "purchases = many"


def test_raised_and_lowered_are_said_apart_in_the_order_given() -> None:
    contributions = [
        Contribution(feature="purchases", value=3.0, contribution=0.9),
        Contribution(feature="complaints", value=2.0, contribution=-0.5),
        Contribution(feature="tenure_days", value=1500.0, contribution=0.2),
        Contribution(feature="returns", value=0.0, contribution=0.0),
    ]
    assert explain(contributions) == [
        "likely to take the offer: 3 purchases, tenure 4 years",
        "less likely to take the offer: 2 complaints",
    ]
    assert explain([]) == []


def test_the_top_reason_is_the_largest_raise_without_personal_data() -> None:
    contributions = [
        Contribution(feature="complaints", value=2.0, contribution=-0.9),
        Contribution(feature="age_years", value=41.0, contribution=0.6),
        Contribution(feature="purchases", value=3.0, contribution=0.4),
    ]
    assert top_reason(contributions) == "3 purchases"
    assert top_reason(contributions[:2]) is None
