"""Pure rules: fold one customer's events of a batch into the ledger, derive the live state and the triggers.

The result depends on the set of events and the clock, never on their order:
registers are last-writer-wins by `(occurred_at, event_id)`, additive facts are
sums applied once per event id, and triggers are derived from the state before
and after the batch (see `ledger`). The one exception is an event id delivered
more than once with different contents: the first copy delivered wins, whether
the copies share a batch or not; every later copy is a duplicate.

Every window is bounded at both ends by the clock: the past by the window's
length, the future by `future_tolerance` (an event further ahead is
dead-lettered before it gets here, see `batch`). A register or a day of spend
beyond that bound (written before the bound existed) neither counts nor blocks
a real, later event.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from event_processor.ledger import (
    MAX_APPLIED_IDS,
    MAX_SEEN_IDS,
    CartRegister,
    ChannelRegister,
    FrictionRegister,
    Ledger,
    Stamp,
)
from omni_domain import event_triggers as triggers
from omni_domain.customer_events import (
    DEFAULT_FUTURE_TOLERANCE,
    CartAbandonedEvent,
    CartUpdatedEvent,
    ComplaintEvent,
    ContactResolvedEvent,
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


@dataclass(frozen=True)
class Policy:
    spend_threshold: Decimal
    spend_currency: str = "GBP"
    dedup_hours: int = 72
    switch_window: timedelta = timedelta(minutes=30)
    tombstone_days: int = 30
    # How far after the clock an event may have happened (producers' clocks drift); see check_not_future.
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE


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


def _stamp(event: CustomerEvent) -> Stamp:
    return (event.occurred_at, event.event_id)


def trigger_id(customer_id: str, kind: str, cause: str) -> str:
    return hashlib.sha256(f"{customer_id}|{kind}|{cause}".encode()).hexdigest()[:32]


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

    def _replaces(self, current: ChannelRegister | CartRegister | FrictionRegister | None, stamp: Stamp) -> bool:
        """Last writer wins; a register stamped beyond the clock's bound cannot be real and never blocks."""
        return current is None or current.stamp < stamp or current.stamp[0] > self.newest

    def channel(self, event: CustomerEvent) -> None:
        current = self.ledger.channels.get(event.channel)
        if self._replaces(current, _stamp(event)):
            self.ledger.channels[event.channel] = ChannelRegister(_stamp(event), event.event_type)
            self.changed = True

    def cart(self, register: CartRegister) -> None:
        current = self.ledger.cart
        if self._replaces(current, register.stamp):
            self.ledger.cart = register
            self.changed = True

    def friction(self, event: CustomerEvent, kind: str, reference: str, *, is_open: bool) -> None:
        key = f"{kind}:{reference}"
        current = self.ledger.friction.get(key)
        if self._replaces(current, _stamp(event)):
            self.ledger.friction[key] = FrictionRegister(_stamp(event), kind, reference, event.channel, is_open)
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
        if isinstance(event, PurchaseEvent):
            self.count("purchases")
            self.spend(event, event.payload.amount, event.payload.currency)
            if event.payload.cart_id:
                cart_id = event.payload.cart_id
                self.cart(
                    CartRegister(_stamp(event), cart_id, "purchased", event.payload.amount, event.payload.currency, 0)
                )
                self.friction(event, "abandoned_cart", cart_id, is_open=False)
        elif isinstance(event, ReturnEvent):
            self.count("returns")
            self.spend(event, -event.payload.amount, event.payload.currency)
        elif isinstance(event, LoyaltyPointsEvent):
            self.count("loyalty_points", event.payload.points)
        elif isinstance(event, ContactStartedEvent):
            self.count("contacts")
        elif isinstance(event, ComplaintEvent):
            self.count("complaints")
            self.friction(event, "complaint", event.payload.complaint_id, is_open=True)
        elif isinstance(event, ContactResolvedEvent):
            payload = event.payload
            self.friction(event, "unresolved_contact", payload.contact_id, is_open=payload.outcome == "unresolved")
            if payload.complaint_id and payload.outcome == "resolved":
                self.friction(event, "complaint", payload.complaint_id, is_open=False)
        elif isinstance(event, CartUpdatedEvent):
            update = event.payload
            items = sum(item.quantity for item in update.items)
            status = "active" if items else "empty"
            self.cart(CartRegister(_stamp(event), update.cart_id, status, update.value, update.currency, items))
            self.friction(event, "abandoned_cart", update.cart_id, is_open=False)
        elif isinstance(event, CartAbandonedEvent):
            abandoned = event.payload
            self.cart(
                CartRegister(
                    _stamp(event),
                    abandoned.cart_id,
                    "abandoned",
                    abandoned.value,
                    abandoned.currency,
                    abandoned.item_count,
                )
            )
            self.friction(event, "abandoned_cart", abandoned.cart_id, is_open=True)

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


def spend_in_window(ledger: Ledger, now: datetime, days: int, policy: Policy) -> Decimal:
    """Net spend (purchases less returns) of the last `days` days, never below zero.

    Bounded at both ends: a day past the clock's tolerance holds no real spend yet.
    """
    first = (now - timedelta(days=days)).date().isoformat()
    last = (now + policy.future_tolerance).date().isoformat()
    amounts = (amount for day, amount in ledger.spend_by_day.items() if first < day <= last)
    return max(Decimal(0), sum(amounts, Decimal(0)))


def _current_channels(channels: dict[str, ChannelRegister], newest: datetime) -> dict[str, ChannelRegister]:
    """The channel registers up to the clock's bound: one stamped beyond it is not a real interaction."""
    return {channel: register for channel, register in channels.items() if register.stamp[0] <= newest}


def _latest(channels: dict[str, ChannelRegister], newest: datetime) -> tuple[str, ChannelRegister] | None:
    return max(_current_channels(channels, newest).items(), key=lambda item: item[1].stamp, default=None)


def apply_events(
    customer_id: str, ledger: Ledger, events: Iterable[CustomerEvent], *, policy: Policy, now: datetime
) -> Outcome:
    """Fold a customer's events, in the order delivered, into its ledger; derive the triggers.

    Each event id is applied once: a copy of an id this batch already delivered, or that the
    ledger remembers from an earlier batch, is counted as a duplicate and changes nothing.
    """
    fold = _Fold(ledger, policy, now)
    fold.prune()
    before_latest = _latest(ledger.channels, fold.newest)
    before_cart = ledger.cart
    applied_at = int(now.timestamp())
    outcome = Outcome(ledger=fold.ledger, changed=False)
    fresh: list[CustomerEvent] = []
    for event in events:
        if fold.ledger.knows(event.event_id):
            outcome.duplicates += 1
            continue
        fold.remember(event, applied_at)
        fresh.append(event)
    fresh.sort(key=_stamp)
    for event in fresh:
        fold.apply(event)
    outcome.applied_by = Counter((event.event_type, event.channel) for event in fresh)
    for event in fresh:
        if isinstance(event, PurchaseEvent):
            key = (event.channel, event.payload.currency)
            outcome.revenue_by[key] = outcome.revenue_by.get(key, Decimal(0)) + event.payload.amount
    outcome.foreign_currency = fold.foreign_currency
    outcome.triggers += _complaints(customer_id, fold.ledger, fresh)
    outcome.triggers += _abandoned_cart(customer_id, fold.ledger, before_cart, fresh)
    outcome.triggers += _switches(customer_id, before_latest, fresh, policy)
    outcome.triggers += _threshold(customer_id, fold, fresh)
    outcome.changed = fold.changed
    return outcome


def _complaints(customer_id: str, ledger: Ledger, fresh: Sequence[CustomerEvent]) -> list[triggers.Trigger]:
    open_complaints = sum(1 for item in ledger.friction.values() if item.kind == "complaint" and item.open)
    found: list[triggers.Trigger] = []
    for event in fresh:
        if not isinstance(event, ComplaintEvent):
            continue
        register = ledger.friction.get(f"complaint:{event.payload.complaint_id}")
        # A complaint that arrives after the contact that settled it is counted, but no longer news.
        if register is None or not register.open:
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


def _abandoned_cart(
    customer_id: str, ledger: Ledger, before: CartRegister | None, fresh: Sequence[CustomerEvent]
) -> list[triggers.Trigger]:
    cart = ledger.cart
    if cart is None or cart.status != "abandoned" or (before is not None and before.stamp == cart.stamp):
        return []
    channel = next(event.channel for event in fresh if _stamp(event) == cart.stamp)
    return [
        triggers.CartAbandoned(
            trigger_id=trigger_id(customer_id, "CartAbandoned", cart.stamp[1]),
            customer_id=customer_id,
            cart_id=cart.cart_id,
            value=cart.value,
            currency=cart.currency,
            item_count=cart.item_count,
            channel=channel,
            abandoned_at=cart.stamp[0],
        )
    ]


def _switches(
    customer_id: str,
    before: tuple[str, ChannelRegister] | None,
    fresh: Sequence[CustomerEvent],
    policy: Policy,
) -> list[triggers.Trigger]:
    """A switch is a change of channel between consecutive interactions newer than the stored latest one.

    With no stored interaction yet, the first fresh one is where the customer starts: a switch after it
    in the same batch counts, as it would if the batch had been split there (a retry's bisection does that).
    """
    if before is None:
        if not fresh:
            return []
        channel: str = fresh[0].channel
        previous_stamp = _stamp(fresh[0])
        fresh = fresh[1:]
    else:
        channel, previous_stamp = before[0], before[1].stamp
    found: list[triggers.Trigger] = []
    for event in fresh:
        if _stamp(event) <= previous_stamp:
            continue  # late: it happened before what the state already knows
        gap = event.occurred_at - previous_stamp[0]
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
        channel, previous_stamp = event.channel, _stamp(event)
    return found


def _threshold(customer_id: str, fold: _Fold, fresh: Sequence[CustomerEvent]) -> list[triggers.Trigger]:
    ledger, policy = fold.ledger, fold.policy
    spend = spend_in_window(ledger, fold.now, 30, policy)
    above = spend >= policy.spend_threshold
    if above == ledger.above_threshold:
        return []
    ledger.above_threshold = above
    fold.changed = True
    if not above:
        return []
    cause = max((_stamp(event) for event in fresh), default=(fold.now, "clock"))[1]
    return [
        triggers.SpendingThresholdCrossed(
            trigger_id=trigger_id(customer_id, "SpendingThresholdCrossed", cause),
            customer_id=customer_id,
            threshold=policy.spend_threshold,
            last_30_days=spend,
            currency=policy.spend_currency,
            crossed_at=fold.now,
        )
    ]


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
