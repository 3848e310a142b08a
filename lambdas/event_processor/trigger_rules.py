"""The triggers of a customer's batch, judged as each event is delivered.

A trigger, once published, is not taken back, and Lambda resends or bisects a
batch anywhere when it retries one. So each trigger is decided at the event
that causes it, from what was known when that event was delivered: the ledger
before the batch and the batch's earlier events. The same events in the same
order then raise the same triggers (by `trigger_id`) however they are cut
into batches. The state does not depend on the order (see `rules`); the
triggers follow the stream's order, which is fixed per customer.

- ComplaintLogged: a complaint that is the newest fact of its complaint when
  delivered (one delivered after the contact that settled it is no longer news);
- CartAbandoned: an abandonment that is the newest fact of the cart when
  delivered; a purchase delivered after it closes the cart's friction in the
  state, it does not take back the trigger;
- ChannelSwitched: an interaction on another channel than the newest known one,
  within the switch window (an interaction older than the newest known is late);
- SpendingThresholdCrossed: the purchase that takes the 30-day net spend to the
  threshold from below; it fires again only after the spend fell below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from event_processor.facts import cart_register, friction_updates, replaces, stamp
from event_processor.ledger import Ledger, Stamp
from event_processor.policy import THRESHOLD_WINDOW_DAYS, Policy, net_spend, spend_change
from omni_domain import event_triggers as triggers
from omni_domain.customer_events import ComplaintEvent, CustomerEvent

CART = "cart"


def trigger_id(customer_id: str, kind: str, cause: str) -> str:
    return hashlib.sha256(f"{customer_id}|{kind}|{cause}".encode()).hexdigest()[:32]


class NewestKnown:
    """The newest stamp of each register (the cart, each friction point) as the batch's events are delivered."""

    def __init__(self, stored: dict[str, Stamp], newest: datetime) -> None:
        self._stamps = dict(stored)
        self._newest = newest  # the clock's bound: a stored stamp beyond it is not real and never blocks

    @classmethod
    def of(cls, ledger: Ledger, newest: datetime) -> NewestKnown:
        stored = {key: register.stamp for key, register in ledger.friction.items()}
        if ledger.cart is not None:
            stored[CART] = ledger.cart.stamp
        return cls(stored, newest)

    def copy(self) -> NewestKnown:
        return NewestKnown(self._stamps, self._newest)

    def arrives(self, key: str, candidate: Stamp) -> bool:
        """Whether a fact stamped `candidate` is the newest of its register when delivered (it is noted if so)."""
        if not replaces(self._stamps.get(key), candidate, self._newest):
            return False
        self._stamps[key] = candidate
        return True


def complaints_logged(
    customer_id: str, known: NewestKnown, delivered: Iterable[CustomerEvent], *, open_complaints: int
) -> list[triggers.Trigger]:
    found: list[triggers.Trigger] = []
    for event in delivered:
        for update in friction_updates(event):
            if not known.arrives(update.key, stamp(event)) or not isinstance(event, ComplaintEvent):
                continue
            found.append(
                triggers.ComplaintLogged(
                    trigger_id=trigger_id(customer_id, "ComplaintLogged", event.event_id),
                    customer_id=customer_id,
                    complaint_id=event.payload.complaint_id,
                    category=event.payload.category,
                    severity=event.payload.severity,
                    channel=event.channel,
                    occurred_at=event.occurred_at,
                    open_complaints=open_complaints,
                )
            )
    return found


def carts_abandoned(customer_id: str, known: NewestKnown, delivered: Iterable[CustomerEvent]) -> list[triggers.Trigger]:
    found: list[triggers.Trigger] = []
    for event in delivered:
        register = cart_register(event)
        if register is None or not known.arrives(CART, register.stamp) or register.status != "abandoned":
            continue
        found.append(
            triggers.CartAbandoned(
                trigger_id=trigger_id(customer_id, "CartAbandoned", event.event_id),
                customer_id=customer_id,
                cart_id=register.cart_id,
                value=register.value,
                currency=register.currency,
                item_count=register.item_count,
                channel=event.channel,
                abandoned_at=event.occurred_at,
            )
        )
    return found


def channels_switched(
    customer_id: str,
    latest: tuple[str, Stamp] | None,
    delivered: Iterable[CustomerEvent],
    policy: Policy,
    newest: datetime,
) -> list[triggers.Trigger]:
    """`latest`: the channel and stamp of the newest interaction known before the batch (None: none yet).

    With none known, the first interaction delivered is where the customer starts. An interaction
    beyond the clock's bound (`newest`) is not a real one, as in the state: it neither switches nor
    becomes the newest known.
    """
    found: list[triggers.Trigger] = []
    for event in delivered:
        if event.occurred_at > newest:
            continue
        if latest is None:
            latest = (event.channel, stamp(event))
            continue
        channel, previous = latest
        if stamp(event) <= previous:
            continue  # late: it happened before what is already known
        gap = event.occurred_at - previous[0]
        if event.channel != channel and gap <= policy.switch_window:
            found.append(
                triggers.ChannelSwitched(
                    trigger_id=trigger_id(customer_id, "ChannelSwitched", event.event_id),
                    customer_id=customer_id,
                    from_channel=channel,
                    to_channel=event.channel,
                    switched_at=event.occurred_at,
                    gap_seconds=int(gap.total_seconds()),
                    event_type=event.event_type,
                )
            )
        latest = (event.channel, stamp(event))
    return found


def thresholds_crossed(
    customer_id: str, before: Ledger, delivered: Sequence[CustomerEvent], policy: Policy, now: datetime
) -> tuple[list[triggers.Trigger], bool]:
    """The crossings of the batch and whether the spend ends at or above the threshold.

    The net spend is followed event by event from the ledger's, at this batch's clock. The clock
    alone can take it across before the batch's events (a return leaving the window): that crossing
    is named by the day it was seen, so a retry of the batch gives it the same id.
    """
    above = before.above_threshold
    spend = net_spend(before, now, THRESHOLD_WINDOW_DAYS, policy)
    found: list[triggers.Trigger] = []

    def crossing(cause: str) -> triggers.Trigger:
        return triggers.SpendingThresholdCrossed(
            trigger_id=trigger_id(customer_id, "SpendingThresholdCrossed", cause),
            customer_id=customer_id,
            threshold=policy.spend_threshold,
            last_30_days=spend,
            currency=policy.spend_currency,
            crossed_at=now,
        )

    if spend >= policy.spend_threshold and not above:
        found.append(crossing(f"clock:{now.date().isoformat()}"))
    above = spend >= policy.spend_threshold
    for event in delivered:
        change = spend_change(event, now, THRESHOLD_WINDOW_DAYS, policy)
        if change is None:
            continue
        spend += change
        reached = spend >= policy.spend_threshold
        if reached and not above:
            found.append(crossing(event.event_id))
        above = reached
    return found, above
