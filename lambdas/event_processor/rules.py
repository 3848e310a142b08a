"""Pure rules: fold one customer's events of a batch into the ledger, derive the live state and the triggers.

The state depends on the set of events and the clock, never on their order:
registers are last-writer-wins by `(occurred_at, event_id)` and additive facts
are sums applied once per event id (see `ledger`). The one exception is an event
id delivered more than once with different contents: the first copy delivered
wins, whether the copies share a batch or not; every later copy is a duplicate.

The triggers are judged as each event is delivered (see `trigger_rules`), so
they never depend on where batches end: a retry resends or bisects a batch anywhere.

Every window is bounded at both ends by the clock: the past by the window's
length, the future by `future_tolerance` (an event further ahead is
dead-lettered before it gets here, see `batch`). A register or a day of spend
beyond that bound (written before the bound existed) neither counts nor blocks
a real, later event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from event_processor.facts import FrictionUpdate, cart_register, friction_updates, register_replaces, stamp
from event_processor.ledger import (
    MAX_APPLIED_IDS,
    MAX_SEEN_IDS,
    CartRegister,
    ChannelRegister,
    FrictionRegister,
    Ledger,
    Stamp,
)
from event_processor.policy import Policy, spend_in_window
from event_processor.trigger_rules import (
    NewestKnown,
    carts_abandoned,
    channels_switched,
    complaints_logged,
    thresholds_crossed,
)
from omni_domain import event_triggers as triggers
from omni_domain.customer_events import (
    ComplaintEvent,
    ContactStartedEvent,
    CustomerEvent,
    LoyaltyPointsEvent,
    PurchaseEvent,
    ReturnEvent,
)
from omni_domain.models import (
    CartState,
    ChannelInteraction,
    FrictionPoint,
    JourneyStage,
    LiveState,
    RollingSpend,
)

ADDITIVE_TYPES = frozenset({"purchase", "return", "loyalty_points", "complaint", "contact_started"})
AT_RISK_FRICTION = frozenset({"complaint", "unresolved_contact"})


@dataclass
class Outcome:
    ledger: Ledger
    changed: bool
    triggers: list[triggers.Trigger] = field(default_factory=list)
    applied_by: Counter[tuple[str, str]] = field(default_factory=Counter)  # (event_type, channel) -> events
    # (channel, currency) -> amount of the purchases applied: the revenue the anomaly alerts watch
    revenue_by: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    duplicates: int = 0
    foreign_currency: int = 0


class _Fold:
    """One customer's batch applied to a copy of its ledger."""

    def __init__(self, ledger: Ledger, policy: Policy, now: datetime) -> None:
        self.ledger = ledger.copy()
        self.policy = policy
        self.now = now
        self.changed = False
        self.foreign_currency = 0
        self.oldest_day = (now - timedelta(days=365)).date()
        self.newest = now + policy.future_tolerance
        self.newest_day = self.newest.date()

    def _replaces(self, current: ChannelRegister | CartRegister | FrictionRegister | None, at: Stamp) -> bool:
        return register_replaces(current, at, self.newest)

    def channel(self, event: CustomerEvent) -> None:
        current = self.ledger.channels.get(event.channel)
        if self._replaces(current, stamp(event)):
            self.ledger.channels[event.channel] = ChannelRegister(stamp(event), event.event_type)
            self.changed = True

    def cart(self, register: CartRegister) -> None:
        if self._replaces(self.ledger.cart, register.stamp):
            self.ledger.cart = register
            self.changed = True

    def friction(self, event: CustomerEvent, update: FrictionUpdate) -> None:
        current = self.ledger.friction.get(update.key)
        if self._replaces(current, stamp(event)):
            self.ledger.friction[update.key] = FrictionRegister(
                stamp(event), update.kind, update.reference, event.channel, update.is_open
            )
            self.changed = True

    def count(self, name: str, by: int = 1) -> None:
        self.ledger.counters[name] = self.ledger.counters.get(name, 0) + by
        self.changed = True

    def spend(self, event: CustomerEvent, amount: Decimal, currency: str) -> None:
        # Amounts in another currency count as purchases but not as spend: no exchange rate here.
        if currency != self.policy.spend_currency:
            self.foreign_currency += 1
            return
        day = event.occurred_at.date()
        if self.oldest_day <= day <= self.newest_day:
            key = day.isoformat()
            self.ledger.spend_by_day[key] = self.ledger.spend_by_day.get(key, Decimal(0)) + amount

    def apply(self, event: CustomerEvent) -> None:
        self.channel(event)
        register = cart_register(event)
        if register is not None:
            self.cart(register)
        for update in friction_updates(event):
            self.friction(event, update)
        if isinstance(event, PurchaseEvent):
            self.count("purchases")
            self.spend(event, event.payload.amount, event.payload.currency)
        elif isinstance(event, ReturnEvent):
            self.count("returns")
            self.spend(event, -event.payload.amount, event.payload.currency)
        elif isinstance(event, LoyaltyPointsEvent):
            self.count("loyalty_points", event.payload.points)
        elif isinstance(event, ContactStartedEvent):
            self.count("contacts")
        elif isinstance(event, ComplaintEvent):
            self.count("complaints")

    def remember(self, event: CustomerEvent, at: int) -> None:
        """Record the event's id, so any later copy is a duplicate: remembering it is a change worth a write."""
        ids = self.ledger.applied if event.event_type in ADDITIVE_TYPES else self.ledger.seen
        ids[event.event_id] = at
        self.changed = True

    def prune(self) -> None:
        """Forget what can no longer matter; pruning alone is not a change worth a write."""
        ledger = self.ledger
        horizon = int((self.now - timedelta(hours=self.policy.dedup_hours)).timestamp())
        ledger.applied = _recent(ledger.applied, horizon, MAX_APPLIED_IDS)
        ledger.seen = _recent(ledger.seen, horizon, MAX_SEEN_IDS)
        oldest = self.oldest_day.isoformat()
        ledger.spend_by_day = {day: amount for day, amount in ledger.spend_by_day.items() if day >= oldest}
        tombstone_horizon = self.now - timedelta(days=self.policy.tombstone_days)
        ledger.friction = {
            key: item for key, item in ledger.friction.items() if item.open or item.stamp[0] >= tombstone_horizon
        }


def _recent(ids: dict[str, int], horizon: int, limit: int) -> dict[str, int]:
    """The ids applied since `horizon`, the newest `limit` of them."""
    kept = {event_id: at for event_id, at in ids.items() if at >= horizon}
    if len(kept) > limit:
        kept = dict(sorted(kept.items(), key=lambda item: (item[1], item[0]))[-limit:])
    return kept


def _current_channels(channels: dict[str, ChannelRegister], newest: datetime) -> dict[str, ChannelRegister]:
    """The channel registers up to the clock's bound: one stamped beyond it is not a real interaction."""
    return {channel: register for channel, register in channels.items() if register.stamp[0] <= newest}


def _latest(channels: dict[str, ChannelRegister], newest: datetime) -> tuple[str, Stamp] | None:
    """The channel and stamp of the newest interaction up to the clock's bound."""
    current = _current_channels(channels, newest)
    if not current:
        return None
    channel, register = max(current.items(), key=lambda item: item[1].stamp)
    return channel, register.stamp


def apply_events(
    customer_id: str, ledger: Ledger, events: Iterable[CustomerEvent], *, policy: Policy, now: datetime
) -> Outcome:
    """Fold a customer's events into its ledger (in time order) and judge the triggers (in the order delivered).

    Each event id is applied once: a copy of an id this batch already delivered, or that the
    ledger remembers from an earlier batch, is counted as a duplicate and changes nothing.
    """
    fold = _Fold(ledger, policy, now)
    fold.prune()
    # What the triggers are judged from: the registers before this batch's events (pruned as the state is).
    known = NewestKnown.of(fold.ledger, fold.newest)
    latest = _latest(fold.ledger.channels, fold.newest)
    applied_at = int(now.timestamp())
    outcome = Outcome(ledger=fold.ledger, changed=False)
    delivered: list[CustomerEvent] = []  # the fresh events, in the order delivered
    for event in events:
        if fold.ledger.knows(event.event_id):
            outcome.duplicates += 1
            continue
        fold.remember(event, applied_at)
        delivered.append(event)
    for event in sorted(delivered, key=stamp):
        fold.apply(event)
    outcome.applied_by = Counter((event.event_type, event.channel) for event in delivered)
    for event in delivered:
        if isinstance(event, PurchaseEvent):
            key = (event.channel, event.payload.currency)
            outcome.revenue_by[key] = outcome.revenue_by.get(key, Decimal(0)) + event.payload.amount
    outcome.foreign_currency = fold.foreign_currency
    outcome.triggers = _triggers(customer_id, ledger, fold, delivered, known=known, latest=latest)
    outcome.changed = fold.changed
    return outcome


def _triggers(
    customer_id: str,
    before: Ledger,
    fold: _Fold,
    delivered: list[CustomerEvent],
    *,
    known: NewestKnown,
    latest: tuple[str, Stamp] | None,
) -> list[triggers.Trigger]:
    """The batch's triggers, judged from what was known before it (see `trigger_rules`); the fold keeps the threshold."""
    after = fold.ledger
    open_complaints = sum(1 for item in after.friction.values() if item.kind == "complaint" and item.open)
    found = complaints_logged(customer_id, known.copy(), delivered, open_complaints=open_complaints)
    found += carts_abandoned(customer_id, known.copy(), delivered)
    found += channels_switched(customer_id, latest, delivered, fold.policy, fold.newest)
    crossings, above = thresholds_crossed(customer_id, before, delivered, fold.policy, fold.now)
    found += crossings
    if above != after.above_threshold:
        after.above_threshold = above
        fold.changed = True
    return found


def journey_stage(ledger: Ledger) -> JourneyStage:
    open_kinds = {item.kind for item in ledger.friction.values() if item.open}
    purchases = ledger.counters.get("purchases", 0)
    if open_kinds & AT_RISK_FRICTION:
        return "at_risk"
    if purchases >= 2:
        return "loyal"
    if purchases == 1:
        return "customer"
    if ledger.cart is not None and ledger.cart.status in ("active", "abandoned"):
        return "considering"
    return "exploring" if ledger.channels else "new"


def live_state(ledger: Ledger, *, previous: LiveState, version: int, policy: Policy, now: datetime) -> LiveState:
    """The projection channels read, over the previous state: the fields this processor owns are set here;
    the others (the propensity and its model version, written by the rescorer) are carried over as they were."""
    cart = ledger.cart
    channels = _current_channels(ledger.channels, now + policy.future_tolerance)
    owned = LiveState(
        last_interaction={
            channel: ChannelInteraction(at=register.stamp[0], event_type=register.event_type)
            for channel, register in sorted(channels.items())
        },
        rolling_spend=RollingSpend(
            currency=policy.spend_currency,
            last_30_days=spend_in_window(ledger, now, 30, policy),
            last_365_days=spend_in_window(ledger, now, 365, policy),
        ),
        counters=dict(sorted(ledger.counters.items())),
        friction_points=[
            FrictionPoint(kind=item.kind, channel=item.channel, at=item.stamp[0], reference=item.reference)
            for item in sorted(ledger.friction.values(), key=lambda item: item.stamp)
            if item.open
        ],
        cart=(
            CartState(
                cart_id=cart.cart_id,
                status=cart.status,
                value=cart.value,
                currency=cart.currency,
                item_count=cart.item_count,
                at=cart.stamp[0],
            )
            if cart
            else None
        ),
        journey_stage=journey_stage(ledger),
        version=version,
        updated_at=now,
    )
    return previous.model_copy(update={name: getattr(owned, name) for name in owned.model_fields_set})
