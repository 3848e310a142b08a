"""The customer event (experience pathway): one definition for every producer and the event processor.

Wire format, one JSON object per Kinesis record:

    {"event_id": "...", "event_type": "purchase", "occurred_at": "2026-11-23T10:00:00Z",
     "channel": "web", "identity": {"email": "ada@example.com"},
     "payload": {"order_id": "o-1", "amount": "42.50", "currency": "GBP"}}

`event_type` selects the payload model (a discriminated union), so a purchase
without an amount is rejected with the field named. `identity` carries exactly
one identifier; e-mails and phones are canonicalised as the identity map stores
them. The Kinesis partition key is a hash of the identity: all events of one
identifier stay in order on one shard, and no e-mail or phone appears in stream
metadata (nor can a long e-mail exceed the 256-character key limit).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)

from omni_domain.errors import ValidationFailedError
from omni_domain.identifiers import IdentifierKind, identifier_key, normalise_email, normalise_phone
from omni_domain.models import CUSTOMER_ID_PATTERN, Channel

EventType = Literal[
    "page_view",
    "product_viewed",
    "cart_updated",
    "cart_abandoned",
    "purchase",
    "return",
    "loyalty_points",
    "contact_started",
    "contact_resolved",
    "complaint",
    "app_event",
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
CHANNELS: tuple[Channel, ...] = get_args(Channel)

# A Kinesis record holds at most 1 MiB, but an event is a small fact: a bigger one is a producer bug.
MAX_EVENT_BYTES = 64 * 1024
# Producers' clocks drift: an event may claim to have happened this far after it reached the stream
# (`events.future_tolerance_minutes` in cdk.json sets the deployed value).
DEFAULT_FUTURE_TOLERANCE = timedelta(minutes=5)
FUTURE_EVENT_REASON = "occurred_at in the future"
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _money(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("at most two decimal places")
    return value


Amount = Annotated[Decimal, Field(gt=0, le=Decimal("1000000"), allow_inf_nan=False), AfterValidator(_money)]
Value = Annotated[Decimal, Field(ge=0, le=Decimal("1000000"), allow_inf_nan=False), AfterValidator(_money)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Identity(_Model):
    """Exactly one identifier; the strongest a channel has (a known customer id beats an e-mail)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    customer_id: Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, description="E.164 preferred; a national number is read as British"
    )
    device_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,127}$")] | None = None

    @field_validator("email")
    @classmethod
    def _canonical_email(cls, value: str | None) -> str | None:
        return None if value is None else _canonical(normalise_email, value)

    @field_validator("phone")
    @classmethod
    def _canonical_phone(cls, value: str | None) -> str | None:
        return None if value is None else _canonical(normalise_phone, value)

    @model_validator(mode="after")
    def _exactly_one(self) -> Identity:
        given = (self.customer_id, self.email, self.phone, self.device_id)
        if sum(value is not None for value in given) != 1:
            raise ValueError("give exactly one of customer_id, email, phone, device_id")
        return self

    @property
    def map_key(self) -> str | None:
        """The identity map key to resolve, or None when the event names the customer id itself."""
        kinds: tuple[tuple[IdentifierKind, str | None], ...] = (
            ("email", self.email),
            ("phone", self.phone),
            ("device", self.device_id),
        )
        return next((identifier_key(kind, value) for kind, value in kinds if value is not None), None)

    @property
    def partition_key(self) -> str:
        """The Kinesis partition key: a SHA-256 of the identifier (ordered per identifier, no PII)."""
        name = self.map_key or f"customer#{self.customer_id}"
        return hashlib.sha256(name.encode()).hexdigest()


def _canonical(normalise: Any, value: str) -> str:
    try:
        return str(normalise(value))
    except ValidationFailedError as error:
        raise ValueError(error.detail) from None


class CartItem(_Model):
    product_id: Reference
    quantity: int = Field(ge=1, le=10_000)
    unit_price: Value


class PageView(_Model):
    page: Annotated[str, StringConstraints(min_length=1, max_length=2048)] = Field(
        description="path of the page, without query string"
    )


class ProductViewed(_Model):
    product_id: Reference
    category: Reference | None = None


class CartUpdated(_Model):
    cart_id: Reference
    items: list[CartItem] = Field(max_length=500, description="the whole cart after the change; empty when cleared")
    value: Value
    currency: Currency


class CartAbandoned(_Model):
    cart_id: Reference
    value: Value
    currency: Currency
    item_count: int = Field(ge=0, le=10_000)


class Purchase(_Model):
    order_id: Reference
    amount: Amount
    currency: Currency
    cart_id: Reference | None = Field(default=None, description="the cart this order checked out, if any")


class Return(_Model):
    order_id: Reference
    amount: Amount
    currency: Currency


class LoyaltyPoints(_Model):
    points: int = Field(ge=-1_000_000, le=1_000_000, description="earned (positive) or redeemed (negative)")
    reason: Reference | None = None


class ContactStarted(_Model):
    contact_id: Reference
    reason: Reference | None = None


class ContactResolved(_Model):
    contact_id: Reference
    outcome: Literal["resolved", "unresolved"]
    complaint_id: Reference | None = Field(default=None, description="the complaint this contact settled, if any")


class Complaint(_Model):
    complaint_id: Reference
    category: Literal["delivery", "product", "billing", "service", "privacy", "other"]
    severity: Literal["low", "medium", "high", "critical"]


AppProperty = str | int | float | bool


class AppEvent(_Model):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    properties: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")], AppProperty] = Field(
        default={}, max_length=20
    )


def _utc(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("occurred_at needs a time zone: send UTC, e.g. 2026-11-23T10:00:00Z")
    if offset != timedelta(0):
        raise ValueError("occurred_at must be UTC (Z or +00:00)")
    return value


class _Event(_Model):
    event_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,127}$")] = Field(
        description="unique per event (a UUID is ideal): a repeated id is applied once, the first copy delivered wins"
    )
    occurred_at: Annotated[datetime, AfterValidator(_utc)] = Field(
        description=(
            "when it happened (ISO-8601, UTC); at most a few minutes (5 by default) after the event reaches the"
            " stream: a later time is dead-lettered"
        )
    )
    channel: Channel
    identity: Identity


class PageViewEvent(_Event):
    event_type: Literal["page_view"]
    payload: PageView


class ProductViewedEvent(_Event):
    event_type: Literal["product_viewed"]
    payload: ProductViewed


class CartUpdatedEvent(_Event):
    event_type: Literal["cart_updated"]
    payload: CartUpdated


class CartAbandonedEvent(_Event):
    event_type: Literal["cart_abandoned"]
    payload: CartAbandoned


class PurchaseEvent(_Event):
    event_type: Literal["purchase"]
    payload: Purchase


class ReturnEvent(_Event):
    event_type: Literal["return"]
    payload: Return


class LoyaltyPointsEvent(_Event):
    event_type: Literal["loyalty_points"]
    payload: LoyaltyPoints


class ContactStartedEvent(_Event):
    event_type: Literal["contact_started"]
    payload: ContactStarted


class ContactResolvedEvent(_Event):
    event_type: Literal["contact_resolved"]
    payload: ContactResolved


class ComplaintEvent(_Event):
    event_type: Literal["complaint"]
    payload: Complaint


class AppEventEvent(_Event):
    event_type: Literal["app_event"]
    payload: AppEvent


CustomerEvent = Annotated[
    PageViewEvent
    | ProductViewedEvent
    | CartUpdatedEvent
    | CartAbandonedEvent
    | PurchaseEvent
    | ReturnEvent
    | LoyaltyPointsEvent
    | ContactStartedEvent
    | ContactResolvedEvent
    | ComplaintEvent
    | AppEventEvent,
    Field(discriminator="event_type"),
]
CUSTOMER_EVENT: TypeAdapter[CustomerEvent] = TypeAdapter(CustomerEvent)


class InvalidEventError(Exception):
    """An event that can never be applied; `reason` names the fields, never their values (they may be PII)."""

    def __init__(self, reason: str, *, errors: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []


def describe_errors(error: Any) -> list[str]:
    """`payload.amount: Input should be greater than 0` for each problem of a pydantic ValidationError.

    The union's branch name is dropped from the location so the path reads as the JSON does.
    """
    problems = []
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        location = [str(part) for part in detail["loc"] if str(part) not in EVENT_TYPES]
        if detail["type"] in ("union_tag_invalid", "union_tag_not_found"):
            location = ["event_type"]
        problems.append(f"{'.'.join(location) or '(event)'}: {detail['msg']}")
    return problems


def parse_event(data: bytes | str) -> CustomerEvent:
    """One event from its JSON text; raises InvalidEventError."""
    if len(data) > MAX_EVENT_BYTES:
        raise InvalidEventError(f"event larger than {MAX_EVENT_BYTES} bytes")
    try:
        return CUSTOMER_EVENT.validate_json(data)
    except ValueError as error:
        errors = describe_errors(error) if hasattr(error, "errors") else [str(error)]
        json_invalid = any(": Invalid JSON" in problem for problem in errors)
        raise InvalidEventError("not JSON" if json_invalid else "schema-invalid", errors=errors) from None


def check_not_future(event: CustomerEvent, *, now: datetime, tolerance: timedelta) -> None:
    """Raise InvalidEventError when the event claims to happen more than `tolerance` after `now`.

    Parsing cannot decide this (it has no clock): the event processor checks it against the
    record's arrival on the stream.
    Applied as it stands, such an event would count its spend now and keep it in the rolling windows
    until its date, and its interaction would hide every real one on its channel until then.
    """
    ahead = event.occurred_at - now
    if ahead > tolerance:
        raise InvalidEventError(
            FUTURE_EVENT_REASON,
            errors=[
                f"occurred_at: {int(ahead.total_seconds())} seconds after it was received; "
                f"at most {int(tolerance.total_seconds())} are tolerated"
            ],
        )


def event_json(event: CustomerEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


def event_schema() -> dict[str, Any]:
    """The JSON Schema of one event (what docs/events/customer-event.schema.json holds)."""
    schema = CUSTOMER_EVENT.json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://omni-cx.example/schemas/customer-event.schema.json",
        "title": "CustomerEvent",
        "description": (__doc__ or "").strip().split("\n\n")[0],
        **schema,
    }
