"""Caller lookup (pure): phone -> flat string map, with in-memory stores and no mocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from connect_lookup.lookup import UNKNOWN, caller_attributes, known_caller, tier_of
from omni_domain.identity_map import IdentityLink
from omni_domain.models import (
    ChannelInteraction,
    CustomerProfile,
    CustomerView,
    LiveState,
    ProfileAttributes,
    RollingSpend,
)
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _stores(
    first_name: str | None = "Ada", spend: str = "750"
) -> tuple[InMemoryIdentityMap, InMemoryCustomerRepository]:
    identity_map = InMemoryIdentityMap()
    customers = InMemoryCustomerRepository(identity_map)
    customers.profiles["gc-1"] = CustomerProfile(
        customer_id="gc-1",
        attributes=ProfileAttributes(first_name=first_name, phone="+447700900123"),
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )
    customers.live_states["gc-1"] = LiveState(
        rolling_spend=RollingSpend(last_365_days=Decimal(spend)),
        last_interaction={"contact_centre": ChannelInteraction(at=NOW, event_type="complaint")},
    )
    identity_map.put(IdentityLink("phone#+447700900123", "gc-1", "mdm", NOW.isoformat()))
    return identity_map, customers


def test_a_known_caller_in_any_phone_format_gets_name_tier_and_last_reason() -> None:
    identity_map, customers = _stores()
    for written in ("+447700900123", "07700 900123", "0044 7700 900 123"):
        answer = caller_attributes(written, identity_map=identity_map, customers=customers, default_region="GB")
        assert answer == {
            "known": "true",
            "customer_id": "gc-1",
            "first_name": "Ada",
            "tier": "silver",
            "last_contact_reason": "complaint",
        }


def test_unknown_invalid_or_missing_numbers_answer_known_false() -> None:
    identity_map, customers = _stores()
    for phone in ("+447700900999", "not a number", "", None):
        answer = caller_attributes(phone, identity_map=identity_map, customers=customers, default_region="GB")
        assert answer == UNKNOWN


def test_a_link_to_an_erased_customer_answers_known_false() -> None:
    identity_map, customers = _stores()
    del customers.profiles["gc-1"]
    answer = caller_attributes("+447700900123", identity_map=identity_map, customers=customers, default_region="GB")
    assert answer == {"known": "false"}


def test_tiers_follow_the_rolling_yearly_spend() -> None:
    assert [tier_of(Decimal(v)) for v in ("-20", "0", "499.99", "500", "1999", "2000")] == [
        "standard",
        "standard",
        "standard",
        "silver",
        "silver",
        "gold",
    ]


def test_missing_name_and_no_contact_history_still_give_every_key() -> None:
    view = CustomerView(customer_id="gc-2", attributes=ProfileAttributes(), version=1, created_at=NOW, updated_at=NOW)
    assert known_caller(view) == {
        "known": "true",
        "customer_id": "gc-2",
        "first_name": "",
        "tier": "standard",
        "last_contact_reason": "",
    }


@given(
    first_name=st.text(min_size=1, max_size=100).filter(lambda s: s.strip()),
    event_type=st.text(max_size=5000),
    spend=st.decimals(min_value=-10_000, max_value=10**9, allow_nan=False, places=2),
)
def test_the_answer_is_always_a_flat_string_map_within_connect_limits(
    first_name: str, event_type: str, spend: Decimal
) -> None:
    view = CustomerView(
        customer_id="gc-3",
        attributes=ProfileAttributes(first_name=first_name),
        version=1,
        created_at=NOW,
        updated_at=NOW,
        live_state=LiveState(
            rolling_spend=RollingSpend(last_365_days=spend),
            last_interaction={"contact_centre": ChannelInteraction(at=NOW, event_type=event_type)},
        ),
    )
    answer = known_caller(view)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in answer.items())
    assert len(json.dumps(answer).encode()) < 32 * 1024
    assert set(answer) == {"known", "customer_id", "first_name", "tier", "last_contact_reason"}
