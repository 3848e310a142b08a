"""The customer profile and live state (pydantic v2): one definition for every channel.

`ProfileAttributes` is what channels write (PUT, PATCH); consent has its own
resource; `LiveState` is written by the event processor (experience pathway) and
only read here. Models are frozen and forbid unknown fields, so a typo in a
request is an error instead of silently stored data.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from omni_domain.identifiers import IdentifierKind

CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_CUSTOMER_ID = re.compile(CUSTOMER_ID_PATTERN)
CustomerId = Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)]
Channel = Literal["web", "app", "store", "contact_centre", "email", "sms", "push"]
Purpose = Literal["marketing", "personalisation", "analytics", "third_party_sharing"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _not_a_number(value: Any) -> Any:
    # pydantic reads a number as a Unix time (0 is 1970-01-01): a date arrives as the text the schema says.
    if isinstance(value, int | float):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_not_a_number)]


def is_customer_id(value: str) -> bool:
    """Whether `value` is a well-formed customer id (callers neither look up nor log anything else)."""
    return _CUSTOMER_ID.match(value) is not None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(_Model):
    line1: Text
    line2: Text | None = None
    city: Text
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(description="ISO 3166-1 alpha-2")


class ProfileAttributes(_Model):
    """What a channel knows about a customer; e-mail and phone are stored in canonical form."""

    first_name: Text | None = None
    last_name: Text | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = Field(
        default=None, description="stored lower-case and trimmed"
    )
    phone: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, description="stored in E.164; national numbers take the service's default region"
    )
    address: Address | None = None
    date_of_birth: IsoDate | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] | None = None
    preferred_channel: Channel | None = None


class ConsentDecision(_Model):
    granted: bool
    decided_at: datetime = Field(description="when this channel-purpose decision last changed (UTC)")


ConsentMap = dict[Channel, dict[Purpose, ConsentDecision]]
# What a caller sends: the whole consent document, true or false per channel and purpose.
ConsentRequest = dict[Channel, dict[Purpose, StrictBool]]  # true or false, not "yes" or 1


class ChannelInteraction(_Model):
    at: datetime
    event_type: str


class RollingSpend(_Model):
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "GBP"
    last_30_days: Decimal = Decimal(0)
    last_365_days: Decimal = Decimal(0)


class FrictionPoint(_Model):
    kind: str
    channel: Channel
    at: datetime
    reference: str | None = Field(
        default=None, description="what is open: the complaint, cart or contact id (closing events name it)"
    )


CartStatus = Literal["active", "empty", "abandoned", "purchased"]
JourneyStage = Literal["new", "exploring", "considering", "customer", "loyal", "at_risk"]


class CartState(_Model):
    cart_id: str
    status: CartStatus
    value: Decimal = Decimal(0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "GBP"
    item_count: int = 0
    at: datetime = Field(description="when the event that set this status occurred (UTC)")


class LiveState(_Model):
    """The real-time view the event processor maintains; its version is its own.

    Every field has a default, so a state item written before a field existed still reads.
    """

    last_interaction: dict[Channel, ChannelInteraction] = {}
    rolling_spend: RollingSpend = RollingSpend()
    counters: dict[str, int] = Field(
        default={},
        description="lifetime counts: purchases, returns, complaints, contacts; loyalty_points is the points balance",
    )
    friction_points: list[FrictionPoint] = Field(
        default=[], description="open friction: complaints, abandoned carts, unresolved contacts"
    )
    cart: CartState | None = None
    journey_stage: JourneyStage = "new"
    propensity: dict[str, Annotated[float, Field(ge=0, le=1)]] = {}
    propensity_model: str | None = Field(
        default=None,
        description="the model version that produced `propensity`, or the rules fallback's version (e.g. rules-v1)",
    )
    propensity_scored_at: datetime | None = Field(default=None, description="when `propensity` was last scored (UTC)")
    version: int = 0
    updated_at: datetime | None = None


class CustomerProfile(_Model):
    customer_id: CustomerId
    attributes: ProfileAttributes
    consent: ConsentMap = {}
    version: int = Field(ge=1, description="optimistic concurrency: the ETag, and the If-Match a write must send")
    created_at: datetime
    updated_at: datetime


class CustomerView(CustomerProfile):
    """A customer as channels read it: the profile with its live state."""

    live_state: LiveState = LiveState()


class ErasureRecord(_Model):
    """The audit record an erasure leaves behind: what was removed and when, no customer data."""

    customer_id: CustomerId
    erased_at: datetime
    removed_profile: bool
    removed_live_state: bool
    removed_identifiers: dict[IdentifierKind, int]
    request_id: str | None = None
