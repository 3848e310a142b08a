"""What a change to a customer-table item means for the channels: the pure diff behind CustomerStateChanged.

Channels subscribe to the bus instead of polling the customer table, so every
PROFILE, STATE and ERASURE write is announced once, naming the top-level fields
that changed. The event is a notification, not a copy of the customer: it
carries the customer id and the new values of the fields that are not personal
data; personal profile fields (names, e-mail, phone, address, date of birth)
are named so a channel knows to re-read them through the profile API (which
checks its access), but their values never reach the bus, whose rules and
archives are not scoped per customer. Values are allow-listed per record kind:
a profile field added later is name-only until it is declared non-personal.

Bookkeeping that no channel reads (the event processor's `ledger`, `updated_at`
stamps, `version`, `created_at`) is never compared, so a write that changes only
those emits nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from omni_domain.constants import ERASURE_RECORD, LIVE_STATE_RECORD, PROFILE_RECORD

RecordKind = Literal["live_state", "profile", "erasure"]
ChangeKind = Literal["created", "updated", "removed"]
StreamEventName = Literal["INSERT", "MODIFY", "REMOVE"]

# The rescorer's EventBridge rule matches `detail.changed` on any of these (the stack imports this tuple).
MODEL_RELEVANT_FIELDS: tuple[str, ...] = (
    "rolling_spend",
    "counters",
    "friction_points",
    "cart",
    "journey_stage",
    "date_of_birth",
    "preferred_channel",
    "consent",
)
# Profile attributes that identify a person: named in `changed`, never given a value.
PII_PROFILE_FIELDS: tuple[str, ...] = ("first_name", "last_name", "email", "phone", "address", "date_of_birth")
# The profile fields whose new values are published (everything else of the profile is name-only).
PUBLISHED_PROFILE_VALUES: tuple[str, ...] = ("preferred_channel", "language", "consent")
# The erasure audit record holds counts and times only; the request id stays in the audit trail.
PUBLISHED_ERASURE_VALUES: tuple[str, ...] = (
    "erased_at",
    "removed_profile",
    "removed_live_state",
    "removed_identifiers",
)
# Never compared: stamps and bookkeeping that change on every write.
UNPUBLISHED_LIVE_STATE_FIELDS: frozenset[str] = frozenset({"updated_at", "version"})

RECORD_KINDS: dict[str, RecordKind] = {
    LIVE_STATE_RECORD: "live_state",
    PROFILE_RECORD: "profile",
    ERASURE_RECORD: "erasure",
}
CHANGE_KINDS: dict[StreamEventName, ChangeKind] = {"INSERT": "created", "MODIFY": "updated", "REMOVE": "removed"}


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One stream record of the customer table, decoded (images as plain Python values, numbers as Decimal)."""

    change_id: str  # the stream record's eventID
    customer_id: str
    sort_key: str  # PROFILE | STATE | ERASURE (other record kinds are not published)
    event_name: StreamEventName
    sequence: str
    occurred_at: datetime
    old_image: Mapping[str, Any]
    new_image: Mapping[str, Any]


class CustomerStateChanged(BaseModel):
    """The detail of a CustomerStateChanged event (source omni.customer-state)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    change_id: str = Field(description="the stream record's eventID: unique per change, the de-duplication key")
    customer_id: str = Field(description="golden (or provisional) customer id; the only identifier in the event")
    record: RecordKind = Field(description="which record of the customer changed (sort key STATE, PROFILE, ERASURE)")
    change: ChangeKind = Field(description="created (INSERT), updated (MODIFY) or removed (REMOVE)")
    changed: list[str] = Field(
        description=(
            "top-level names that differ, sorted: live_state keys; for the profile its attribute names"
            " (e.g. email, preferred_channel) and consent; for the erasure record its fields"
        )
    )
    values: dict[str, JsonValue] = Field(
        description=(
            "new values of the changed fields that are not personal data (null when the field is gone);"
            " personal fields (first_name, last_name, email, phone, address, date_of_birth) are never here"
        )
    )
    version: int | None = Field(description="the item's new version (null on remove, and for the erasure record)")
    sequence: str = Field(
        description="the stream SequenceNumber (digits): order a customer's changes by it, compared as integers"
    )
    occurred_at: datetime = Field(description="ApproximateCreationDateTime of the stream record (UTC)")


def state_change(change: ItemChange) -> CustomerStateChanged | None:
    """The event a stream record publishes; None for a record kind that is not published or a MODIFY that
    changes no published field."""
    kind = RECORD_KINDS.get(change.sort_key)
    if kind is None:
        return None
    old = published_fields(kind, change.old_image) if change.event_name != "INSERT" else {}
    new = published_fields(kind, change.new_image) if change.event_name != "REMOVE" else {}
    changed = sorted(name for name in old.keys() | new.keys() if old.get(name, _ABSENT) != new.get(name, _ABSENT))
    if change.event_name == "MODIFY" and not changed:
        return None
    values = {name: to_json(new.get(name)) for name in changed if value_is_published(kind, name)}
    version = change.new_image.get("version") if change.event_name != "REMOVE" and kind != "erasure" else None
    return CustomerStateChanged(
        change_id=change.change_id,
        customer_id=change.customer_id,
        record=kind,
        change=CHANGE_KINDS[change.event_name],
        changed=changed,
        values=values,
        version=None if version is None else int(version),
        sequence=change.sequence,
        occurred_at=change.occurred_at,
    )


_ABSENT = object()


def published_fields(kind: RecordKind, item: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level fields of an item image that are compared (and may be published), by name."""
    if kind == "live_state":
        document = item.get("live_state") or {}
        return {name: value for name, value in document.items() if name not in UNPUBLISHED_LIVE_STATE_FIELDS}
    if kind == "profile":
        fields = dict(item.get("attributes") or {})
        if "consent" in item:
            fields["consent"] = item["consent"]
        return fields
    return {name: value for name, value in item.items() if name in PUBLISHED_ERASURE_VALUES or name == "request_id"}


def value_is_published(kind: RecordKind, name: str) -> bool:
    if kind == "live_state":
        return True
    if kind == "profile":
        return name in PUBLISHED_PROFILE_VALUES
    return name in PUBLISHED_ERASURE_VALUES


def to_json(value: Any) -> JsonValue:
    """A DynamoDB value as JSON: whole numbers as int, other numbers as float, sets as sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_json(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return base64.b64encode(value).decode() if isinstance(value, bytes | bytearray) else str(value)
