"""Who is calling: the attributes the personalised inbound flow stores on the contact.

Connect takes a Lambda's STRING_MAP answer only as a flat map of strings, at most
32 KB, and later blocks read it through contact attributes. The flow relies on
these keys: `known` ("true"/"false"); when known, also `customer_id`,
`first_name`, `tier` and `last_contact_reason` (all present, possibly empty).

`tier` is derived from the rolling 365-day spend in the live state, so the
contact centre greets and routes by value without reading the spend itself.
"""

from __future__ import annotations

from decimal import Decimal

from omni_domain.errors import ValidationFailedError
from omni_domain.identifiers import identifier_key, normalise_phone
from omni_domain.models import CustomerView
from omni_domain.repositories import CustomerRepository, IdentityMap

UNKNOWN: dict[str, str] = {"known": "false"}
# 365-day spend thresholds, highest first: the first one met names the tier.
TIERS: tuple[tuple[Decimal, str], ...] = ((Decimal(2000), "gold"), (Decimal(500), "silver"), (Decimal(0), "standard"))
MAX_VALUE_LENGTH = 256  # keeps the whole map far below Connect's 32 KB and its attribute budget


def caller_attributes(
    phone: str | None, *, identity_map: IdentityMap, customers: CustomerRepository, default_region: str
) -> dict[str, str]:
    """The flat map for the caller on `phone`; `UNKNOWN` when the number resolves to no customer."""
    if not phone:
        return dict(UNKNOWN)
    try:
        e164 = normalise_phone(phone, default_region=default_region)
    except ValidationFailedError:
        return dict(UNKNOWN)
    customer_id = identity_map.resolve(identifier_key("phone", e164))
    if customer_id is None:
        return dict(UNKNOWN)
    view = customers.get(customer_id).view()
    if view is None:  # a link left behind by an erasure in progress, or a merge being applied
        return dict(UNKNOWN)
    return known_caller(view)


def known_caller(view: CustomerView) -> dict[str, str]:
    state = view.live_state
    contact = state.last_interaction.get("contact_centre")
    return {
        "known": "true",
        "customer_id": view.customer_id,
        "first_name": _bounded(view.attributes.first_name or ""),
        "tier": tier_of(state.rolling_spend.last_365_days),
        "last_contact_reason": _bounded(contact.event_type if contact else ""),
    }


def tier_of(spend_last_365_days: Decimal) -> str:
    # Refunds can take the rolling spend below zero: that is still the standard tier.
    return next((name for threshold, name in TIERS if spend_last_365_days >= threshold), "standard")


def _bounded(value: str) -> str:
    return value[:MAX_VALUE_LENGTH]
