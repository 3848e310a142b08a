"""The customer attributes rules can test, and how each is read from the profile and live state.

This catalogue is the vocabulary of rule sets: a rule naming anything else, or
comparing an attribute with a value of another type, is refused when the rule
set is stored. The same facts (less the score) are what the propensity model
is sent, so the data preparation job must give its training columns these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, get_args

from omni_domain.models import CartStatus, Channel, CustomerView, JourneyStage, Purpose

AttributeType = Literal["number", "boolean", "string"]
Fact = float | bool | str | None  # None: unknown for this customer (the rule's `if_missing` decides)
Facts = dict[str, Fact]
PROPENSITY = "propensity"
# Live-state counters the event processor keeps (lifetime counts; loyalty_points is a balance).
COUNTERS = ("complaints", "purchases", "returns", "contacts", "loyalty_points")
CHANNELS: tuple[str, ...] = get_args(Channel)
PURPOSES: tuple[str, ...] = get_args(Purpose)
CREDIT_BANDS = ("A", "B", "C", "D", "E")


@dataclass(frozen=True)
class Attribute:
    name: str
    type: AttributeType
    description: str
    values: tuple[str, ...] = ()  # the allowed values of a string attribute


CATALOGUE: dict[str, Attribute] = {
    attribute.name: attribute
    for attribute in (
        Attribute("spend_30d", "number", "rolling spend over the last 30 days (live state)"),
        Attribute("spend_365d", "number", "rolling spend over the last 365 days (live state)"),
        Attribute("tenure_days", "number", "whole days since the profile was created"),
        Attribute("age_years", "number", "age in whole years (unknown without a date of birth)"),
        *(Attribute(name, "number", f"{name.replace('_', ' ')} (live-state counter)") for name in COUNTERS),
        Attribute("friction_points", "number", "friction points recorded in the live state"),
        Attribute("marketing_consent", "boolean", "marketing consent granted on at least one channel"),
        *(
            Attribute(f"consent.{channel}.{purpose}", "boolean", f"{purpose} consent on {channel} (absent: false)")
            for channel in CHANNELS
            for purpose in PURPOSES
        ),
        Attribute("preferred_channel", "string", "the customer's preferred channel", CHANNELS),
        Attribute("journey_stage", "string", "journey stage (live state)", get_args(JourneyStage)),
        Attribute("cart_status", "string", "status of the latest cart (unknown without one)", get_args(CartStatus)),
        Attribute("cart_value", "number", "value of the latest cart (unknown without one)"),
        Attribute("credit_band", "string", "credit band, A best (unknown until a bureau feed sets it)", CREDIT_BANDS),
        Attribute(PROPENSITY, "number", "the model's propensity score, 0-1 (unknown when the model is unavailable)"),
    )
}
# What the model is sent: the customer's facts, not its consent flags per channel or the score itself.
MODEL_ATTRIBUTES = tuple(name for name in CATALOGUE if not name.startswith("consent.") and name != PROPENSITY)


def customer_facts(view: CustomerView, *, now: datetime) -> Facts:
    """Every catalogue attribute but the score, for one customer at `now`."""
    state = view.live_state
    consent = {
        f"consent.{channel}.{purpose}": decision.granted
        for channel, purposes in view.consent.items()
        for purpose, decision in purposes.items()
    }
    facts: Facts = {
        "spend_30d": _spend_within(state.rolling_spend.last_30_days, days=30, computed_at=state.updated_at, now=now),
        "spend_365d": _spend_within(state.rolling_spend.last_365_days, days=365, computed_at=state.updated_at, now=now),
        "tenure_days": float(max(0, (now - view.created_at).days)),
        "age_years": _age(view.attributes.date_of_birth, now.date()),
        **{name: float(state.counters.get(name, 0)) for name in COUNTERS},
        "friction_points": float(len(state.friction_points)),
        "marketing_consent": any(consent.get(f"consent.{channel}.marketing", False) for channel in CHANNELS),
        "preferred_channel": view.attributes.preferred_channel,
        "journey_stage": state.journey_stage,
        "cart_status": state.cart.status if state.cart else None,
        "cart_value": float(state.cart.value) if state.cart else None,
        "credit_band": None,
    }
    for channel in CHANNELS:
        for purpose in PURPOSES:
            facts[f"consent.{channel}.{purpose}"] = consent.get(f"consent.{channel}.{purpose}", False)
    return facts


def model_features(facts: Facts, *, product: str) -> dict[str, Fact]:
    """The raw attributes the propensity endpoint encodes with the feature definition saved with the model."""
    return {"product": product, **{name: facts.get(name) for name in MODEL_ATTRIBUTES}}


def _spend_within(stored: Decimal, *, days: int, computed_at: datetime | None, now: datetime) -> float:
    """The rolling spend as of `now`, not as of the customer's last event.

    The event processor computes the windows when an event arrives; a customer
    who stopped buying sends no events, so the stored window never shrinks. With
    no event since `computed_at`, every purchase in it is at least that old: once
    a whole window has passed the spend is zero (the lapsed customers the
    policies look for); within it, the stored value is the best bound we have.
    """
    if computed_at is not None and now - computed_at >= timedelta(days=days):
        return 0.0
    return float(stored)


def _age(born: date | None, today: date) -> float | None:
    if born is None:
        return None
    return float(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))
