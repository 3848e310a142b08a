"""The processor's policy (threshold, windows, tolerances) and the spend windows it is judged on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from event_processor.ledger import Ledger
from omni_domain.customer_events import DEFAULT_FUTURE_TOLERANCE, CustomerEvent, PurchaseEvent, ReturnEvent

THRESHOLD_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Policy:
    spend_threshold: Decimal
    spend_currency: str = "GBP"
    dedup_hours: int = 72
    switch_window: timedelta = timedelta(minutes=30)
    tombstone_days: int = 30
    # How far after the clock an event may have happened (producers' clocks drift); see check_not_future.
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE


def _window(now: datetime, days: int, policy: Policy) -> tuple[str, str]:
    """The days (exclusive, inclusive) a window of `days` covers: bounded ahead by the clock's tolerance."""
    return (now - timedelta(days=days)).date().isoformat(), (now + policy.future_tolerance).date().isoformat()


def net_spend(ledger: Ledger, now: datetime, days: int, policy: Policy) -> Decimal:
    """Purchases less returns of the last `days` days; below zero when returns outweigh purchases."""
    first, last = _window(now, days, policy)
    return sum((amount for day, amount in ledger.spend_by_day.items() if first < day <= last), Decimal(0))


def spend_in_window(ledger: Ledger, now: datetime, days: int, policy: Policy) -> Decimal:
    """Net spend (purchases less returns) of the last `days` days, never below zero.

    Bounded at both ends: a day past the clock's tolerance holds no real spend yet.
    """
    return max(Decimal(0), net_spend(ledger, now, days, policy))


def spend_change(event: CustomerEvent, now: datetime, days: int, policy: Policy) -> Decimal | None:
    """What the event adds to the net spend of the last `days` days (None: it does not count there)."""
    if isinstance(event, PurchaseEvent):
        amount, currency = event.payload.amount, event.payload.currency
    elif isinstance(event, ReturnEvent):
        amount, currency = -event.payload.amount, event.payload.currency
    else:
        return None
    first, last = _window(now, days, policy)
    if currency != policy.spend_currency or not first < event.occurred_at.date().isoformat() <= last:
        return None
    return amount
