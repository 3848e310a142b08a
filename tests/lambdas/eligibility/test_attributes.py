"""Facts read from the profile and live state: every catalogue attribute but the score, with unknowns as None."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from eligibility.attributes import CATALOGUE, MODEL_ATTRIBUTES, PROPENSITY, customer_facts, model_features
from omni_domain.models import CartState, ConsentDecision, CustomerView, LiveState, ProfileAttributes, RollingSpend

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def view(**state: object) -> CustomerView:
    return CustomerView(
        customer_id="gc-1",
        attributes=ProfileAttributes(first_name="Ada", date_of_birth=date(1990, 11, 24), preferred_channel="app"),
        consent={"sms": {"marketing": ConsentDecision(granted=True, decided_at=NOW)}},
        version=1,
        created_at=NOW - timedelta(days=365, hours=1),
        updated_at=NOW,
        live_state=LiveState(**state),  # type: ignore[arg-type]
    )


def test_given_a_full_customer_when_read_then_every_attribute_but_the_score_has_its_value() -> None:
    facts = customer_facts(
        view(
            rolling_spend=RollingSpend(last_30_days=Decimal("12.5"), last_365_days=Decimal(900)),
            counters={"complaints": 2, "loyalty_points": 340},
            journey_stage="at_risk",
            cart=CartState(cart_id="c-1", status="abandoned", value=Decimal("59.90"), at=NOW),
        ),
        now=NOW,
    )
    assert set(facts) == set(CATALOGUE) - {PROPENSITY}
    assert (facts["tenure_days"], facts["age_years"], facts["spend_30d"]) == (365.0, 35.0, 12.5)
    assert (facts["complaints"], facts["purchases"], facts["loyalty_points"]) == (2.0, 0.0, 340.0)
    assert (facts["journey_stage"], facts["cart_status"], facts["cart_value"]) == ("at_risk", "abandoned", 59.9)
    assert facts["marketing_consent"] is True
    assert facts["consent.sms.marketing"] is True
    assert facts["consent.email.marketing"] is False  # no recorded decision is no consent


def test_spend_windows_age_out_when_the_customer_has_sent_no_event_for_a_whole_window() -> None:
    # Given spend stored with the state as of the customer's last event, 40 days ago
    spend = RollingSpend(last_30_days=Decimal(80), last_365_days=Decimal(900))
    facts = customer_facts(view(rolling_spend=spend, updated_at=NOW - timedelta(days=40)), now=NOW)
    # Then the 30-day window has emptied since, the yearly one has not
    assert (facts["spend_30d"], facts["spend_365d"]) == (0.0, 900.0)
    # And a year of silence empties both; a recent state keeps its values
    silent = customer_facts(view(rolling_spend=spend, updated_at=NOW - timedelta(days=365)), now=NOW)
    assert (silent["spend_30d"], silent["spend_365d"]) == (0.0, 0.0)
    recent = customer_facts(view(rolling_spend=spend, updated_at=NOW - timedelta(days=29)), now=NOW)
    assert (recent["spend_30d"], recent["spend_365d"]) == (80.0, 900.0)


def test_without_a_cart_or_a_credit_band_those_facts_are_unknown() -> None:
    facts = customer_facts(view(), now=NOW)
    assert (facts["cart_status"], facts["cart_value"], facts["credit_band"]) == (None, None, None)


def test_the_model_is_sent_facts_not_consent_flags_nor_personal_data() -> None:
    features = model_features(customer_facts(view(), now=NOW), product="broadband")
    assert list(features) == ["product", *MODEL_ATTRIBUTES]
    assert not any(name.startswith("consent.") for name in features)
    assert "Ada" not in str(features)
