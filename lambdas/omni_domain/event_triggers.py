"""Triggers: the facts the event processor puts on the EventBridge bus (source `omni.experience`).

Each detail type has one model; its JSON Schema is published under docs/events/.
A detail carries the golden customer id and the facts, never personal data
(no e-mail, phone, name or free text). `trigger_id` is deterministic (the same
cause gives the same id), so a consumer can drop the rare duplicate that a
retried batch delivers: the processor publishes before it stores the state,
so a failure repeats a trigger rather than losing it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from omni_domain.constants import TRIGGER_SOURCE
from omni_domain.models import Channel


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    detail_type: ClassVar[str]

    trigger_id: str = Field(description="deterministic: the same cause always gives the same id (for de-duplication)")
    customer_id: str = Field(description="golden (or provisional) customer id")


class SpendingThresholdCrossed(Trigger):
    """A purchase took the 30-day rolling spend to the threshold; fires again only after it fell below."""

    detail_type: ClassVar[str] = "SpendingThresholdCrossed"
    threshold: Decimal
    last_30_days: Decimal
    currency: str
    crossed_at: datetime = Field(description="when the processor saw the crossing (UTC)")


class CartAbandoned(Trigger):
    """A cart was abandoned: fires as the abandonment is delivered, unless the cart has a newer fact already
    (bought or changed); a purchase delivered afterwards does not take it back."""

    detail_type: ClassVar[str] = "CartAbandoned"
    cart_id: str
    value: Decimal
    currency: str
    item_count: int
    channel: Channel
    abandoned_at: datetime


class ComplaintLogged(Trigger):
    """A complaint was logged (one delivered after the contact that settled it does not fire)."""

    detail_type: ClassVar[str] = "ComplaintLogged"
    complaint_id: str
    category: str
    severity: Literal["low", "medium", "high", "critical"]
    channel: Channel
    occurred_at: datetime
    open_complaints: int = Field(description="complaints of this customer still open, this one included")


class ChannelSwitched(Trigger):
    """The customer moved to another channel within the switch window (e.g. web, then the contact centre)."""

    detail_type: ClassVar[str] = "ChannelSwitched"
    from_channel: Channel
    to_channel: Channel
    switched_at: datetime
    gap_seconds: int = Field(ge=0, description="time since the last interaction on from_channel")
    event_type: str = Field(description="the event that arrived on to_channel")


TRIGGER_TYPES: tuple[type[Trigger], ...] = (SpendingThresholdCrossed, CartAbandoned, ComplaintLogged, ChannelSwitched)


def trigger_entry(trigger: Trigger, *, bus_name: str) -> dict[str, Any]:
    """A PutEvents entry; numbers travel as JSON strings (Decimal) so no cent is lost to floats."""
    return {
        "Source": TRIGGER_SOURCE,
        "DetailType": trigger.detail_type,
        "Detail": trigger.model_dump_json(),
        "EventBusName": bus_name,
    }


def trigger_schema(trigger_type: type[Trigger]) -> dict[str, Any]:
    """The JSON Schema of one detail type, with the EventBridge envelope fields that select it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://omni-cx.example/schemas/triggers/{trigger_type.detail_type}.schema.json",
        "x-eventbridge": {"source": TRIGGER_SOURCE, "detail-type": trigger_type.detail_type},
        **trigger_type.model_json_schema(mode="serialization"),
    }
