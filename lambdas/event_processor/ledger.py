"""What the processor keeps per customer beside the live state: the facts that make updates order-tolerant.

The STATE item holds `live_state` (the projection channels read, `LiveState`)
and `ledger` (this module), written together in one conditional write:

- registers, last writer wins by `(occurred_at, event_id)`: one per channel
  (last interaction), one for the cart, one per friction point (open/closed).
  A late event compares older and changes nothing, whatever the arrival order;
  a closed friction point stays as a tombstone for `tombstone_days`, so a late
  "open" cannot reopen it.
- additive facts (counters, spend per day for 365 days): applied once thanks to
  `applied`, the ids of additive events applied in the last `dedup_hours`
  (bounded to `MAX_APPLIED_IDS`). Ids live in the item, not in a processed-ids
  table, because the state and the ids it reflects must change atomically:
  one conditional write per customer gives exactly-once without a transaction
  per event, and keeps the writes per batch at one per customer.
- `seen`: the ids of the other events (page views, cart updates...) of the same
  `dedup_hours`. Their effect on registers is idempotent by construction, but a
  redelivered copy must be counted as a duplicate, not applied again (and a copy
  holding something else must not replace the first). They are kept apart and
  bounded separately (`MAX_SEEN_IDS`), so a burst of page views cannot crowd out
  the additive ids that exactly-once depends on; past that bound a redelivered
  page view would be counted as applied again, and change nothing.
- `above_threshold`: whether SpendingThresholdCrossed has fired for the current
  crossing (it fires again only after the spend fell below).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

# About 60 bytes each in the item: 2,000 + 1,000 ids stay well under DynamoDB's 400 KB item limit.
MAX_APPLIED_IDS = 2000
MAX_SEEN_IDS = 1000

Stamp = tuple[datetime, str]  # (occurred_at, event_id): a total order for last-writer-wins


@dataclass(frozen=True, slots=True)
class ChannelRegister:
    stamp: Stamp
    event_type: str


@dataclass(frozen=True, slots=True)
class CartRegister:
    stamp: Stamp
    cart_id: str
    status: str
    value: Decimal
    currency: str
    item_count: int


@dataclass(frozen=True, slots=True)
class FrictionRegister:
    stamp: Stamp
    kind: str
    reference: str
    channel: str
    open: bool


@dataclass(slots=True)
class Ledger:
    channels: dict[str, ChannelRegister] = field(default_factory=dict)
    cart: CartRegister | None = None
    friction: dict[str, FrictionRegister] = field(default_factory=dict)
    spend_by_day: dict[str, Decimal] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)  # additive event id -> epoch second it was applied
    seen: dict[str, int] = field(default_factory=dict)  # any other event id -> epoch second it was applied
    above_threshold: bool = False

    def knows(self, event_id: str) -> bool:
        """Whether an event of this id was applied already (within `dedup_hours`)."""
        return event_id in self.applied or event_id in self.seen

    def copy(self) -> Ledger:
        # Registers are immutable: copying the containers is enough.
        return replace(
            self,
            channels=dict(self.channels),
            friction=dict(self.friction),
            spend_by_day=dict(self.spend_by_day),
            counters=dict(self.counters),
            applied=dict(self.applied),
            seen=dict(self.seen),
        )


def _stamp(value: list[Any]) -> Stamp:
    return (datetime.fromisoformat(str(value[0])), str(value[1]))


def _stamp_document(stamp: Stamp) -> list[str]:
    return [stamp[0].isoformat(), stamp[1]]


def ledger_document(ledger: Ledger) -> dict[str, Any]:
    """The `ledger` attribute of the STATE item (plain types and Decimal: DynamoDB-serialisable)."""
    document: dict[str, Any] = {
        "channels": {
            channel: [*_stamp_document(register.stamp), register.event_type]
            for channel, register in ledger.channels.items()
        },
        "friction": {
            key: [*_stamp_document(item.stamp), item.kind, item.reference, item.channel, item.open]
            for key, item in ledger.friction.items()
        },
        "spend_by_day": dict(ledger.spend_by_day),
        "counters": dict(ledger.counters),
        "applied": dict(ledger.applied),
        "seen": dict(ledger.seen),
        "above_threshold": ledger.above_threshold,
    }
    if ledger.cart is not None:
        cart = ledger.cart
        document["cart"] = [
            *_stamp_document(cart.stamp),
            cart.cart_id,
            cart.status,
            cart.value,
            cart.currency,
            cart.item_count,
        ]
    return document


def ledger_from_document(document: dict[str, Any]) -> Ledger:
    cart = document.get("cart")
    return Ledger(
        channels={
            channel: ChannelRegister(_stamp(value), str(value[2])) for channel, value in document["channels"].items()
        },
        cart=(
            CartRegister(_stamp(cart), str(cart[2]), str(cart[3]), Decimal(cart[4]), str(cart[5]), int(cart[6]))
            if cart
            else None
        ),
        friction={
            key: FrictionRegister(_stamp(value), str(value[2]), str(value[3]), str(value[4]), bool(value[5]))
            for key, value in document["friction"].items()
        },
        spend_by_day={day: Decimal(amount) for day, amount in document["spend_by_day"].items()},
        counters={name: int(count) for name, count in document["counters"].items()},
        applied={event_id: int(at) for event_id, at in document["applied"].items()},
        # Items written before non-additive ids were remembered have no `seen`.
        seen={event_id: int(at) for event_id, at in document.get("seen", {}).items()},
        above_threshold=bool(document["above_threshold"]),
    )
