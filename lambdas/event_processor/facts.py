"""What one event says about the customer's registers (its cart, its friction points), and which stamp wins.

The fold (`rules`) applies these to the ledger in time order; the triggers
(`trigger_rules`) judge them as each event is delivered. Both read them here, so
the state and the triggers cannot disagree about what an event means.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from event_processor.ledger import CartRegister, ChannelRegister, FrictionRegister, Stamp
from omni_domain.customer_events import (
    CartAbandonedEvent,
    CartUpdatedEvent,
    ComplaintEvent,
    ContactResolvedEvent,
    CustomerEvent,
    PurchaseEvent,
)


class FrictionUpdate(NamedTuple):
    kind: str  # abandoned_cart, complaint, unresolved_contact
    reference: str  # the cart, complaint or contact id
    is_open: bool

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.reference}"


def stamp(event: CustomerEvent) -> Stamp:
    return (event.occurred_at, event.event_id)


def replaces(current: Stamp | None, candidate: Stamp, newest: datetime) -> bool:
    """Last writer wins; a register stamped beyond the clock's bound (`newest`) cannot be real and never blocks."""
    return current is None or current < candidate or current[0] > newest


def register_replaces(
    current: ChannelRegister | CartRegister | FrictionRegister | None, candidate: Stamp, newest: datetime
) -> bool:
    return replaces(None if current is None else current.stamp, candidate, newest)


def cart_register(event: CustomerEvent) -> CartRegister | None:
    """What the event says the customer's cart is now (None: it says nothing about a cart)."""
    if isinstance(event, PurchaseEvent):
        purchase = event.payload
        if not purchase.cart_id:
            return None
        return CartRegister(stamp(event), purchase.cart_id, "purchased", purchase.amount, purchase.currency, 0)
    if isinstance(event, CartUpdatedEvent):
        update = event.payload
        items = sum(item.quantity for item in update.items)
        return CartRegister(
            stamp(event), update.cart_id, "active" if items else "empty", update.value, update.currency, items
        )
    if isinstance(event, CartAbandonedEvent):
        abandoned = event.payload
        return CartRegister(
            stamp(event), abandoned.cart_id, "abandoned", abandoned.value, abandoned.currency, abandoned.item_count
        )
    return None


def friction_updates(event: CustomerEvent) -> list[FrictionUpdate]:
    """The friction points the event opens or closes."""
    register = cart_register(event)
    if register is not None:  # an abandonment opens its cart's friction; a purchase or a change closes it
        return [FrictionUpdate("abandoned_cart", register.cart_id, register.status == "abandoned")]
    if isinstance(event, ComplaintEvent):
        return [FrictionUpdate("complaint", event.payload.complaint_id, True)]
    if isinstance(event, ContactResolvedEvent):
        payload = event.payload
        updates = [FrictionUpdate("unresolved_contact", payload.contact_id, payload.outcome == "unresolved")]
        if payload.complaint_id and payload.outcome == "resolved":
            updates.append(FrictionUpdate("complaint", payload.complaint_id, False))
        return updates
    return []
