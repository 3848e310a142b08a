"""Pure rules of the live state: last writer wins, exactly-once additive facts, triggers (no mocks)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from event_processor.ledger import Ledger, ledger_document, ledger_from_document
from event_processor.rules import apply_events, live_state
from omni_domain.customer_events import CustomerEvent
from omni_domain.models import LiveState

from .conftest import NOW, POLICY, event


def _fold(events: list[CustomerEvent], ledger: Ledger | None = None) -> tuple[Ledger, LiveState, list[str]]:
    outcome = apply_events("gc-1", ledger or Ledger(), events, policy=POLICY, now=NOW)
    state = live_state(outcome.ledger, previous=LiveState(), version=1, policy=POLICY, now=NOW)
    return outcome.ledger, state, [trigger.detail_type for trigger in outcome.triggers]


def test_a_late_event_never_overwrites_newer_state() -> None:
    # Given a cart bought at 11:00
    ledger, _, _ = _fold([event("purchase", at=NOW - timedelta(hours=1), cart_id="c-1")])
    # When its abandonment from 10:00 arrives late
    _, state, triggers = _fold([event("cart_abandoned", at=NOW - timedelta(hours=2))], ledger)
    # Then the cart stays purchased, no friction opens and no CartAbandoned fires
    assert state.cart is not None
    assert state.cart.status == "purchased"
    assert state.friction_points == []
    assert triggers == []


def test_the_same_event_twice_counts_once() -> None:
    purchase = event("purchase")
    ledger, _, _ = _fold([purchase, purchase])
    _, state, _ = _fold([purchase], ledger)
    assert state.counters["purchases"] == 1
    assert state.rolling_spend.last_30_days == Decimal("40.00")


def test_rolling_spend_windows_and_returns() -> None:
    _, state, _ = _fold(
        [
            event("purchase", at=NOW - timedelta(days=3), amount="30.00"),
            event("purchase", at=NOW - timedelta(days=40), amount="200.00", order_id="o-2"),
            event("return", at=NOW - timedelta(days=1), amount="10.00"),
            event("purchase", at=NOW - timedelta(days=400), amount="999.00", order_id="o-3"),
            event("purchase", amount="7.00", currency="EUR", order_id="o-4"),
        ]
    )
    assert state.rolling_spend.last_30_days == Decimal("20.00")
    assert state.rolling_spend.last_365_days == Decimal("220.00")
    assert state.counters == {"purchases": 4, "returns": 1}


def test_threshold_fires_once_per_crossing_and_again_after_falling_below() -> None:
    # Given a spend crossing 100 (fires), staying above (silent)
    ledger, _, first = _fold([event("purchase", amount="120.00")])
    ledger, _, second = _fold([event("purchase", amount="5.00", order_id="o-2")], ledger)
    # When a return brings it below, then a purchase crosses again
    ledger, _, third = _fold([event("return", amount="50.00")], ledger)
    _, _, fourth = _fold([event("purchase", amount="60.00", order_id="o-3")], ledger)
    assert (first, second, third, fourth) == (["SpendingThresholdCrossed"], [], [], ["SpendingThresholdCrossed"])


def test_complaints_open_friction_until_a_contact_settles_them() -> None:
    ledger, state, triggers = _fold([event("complaint", channel="contact_centre")])
    assert triggers == ["ComplaintLogged"]
    assert [(point.kind, point.reference) for point in state.friction_points] == [("complaint", "cp-1")]
    assert state.journey_stage == "at_risk"
    _, state, _ = _fold(
        [event("contact_resolved", at=NOW + timedelta(minutes=5), complaint_id="cp-1", channel="contact_centre")],
        ledger,
    )
    assert state.friction_points == []
    assert state.counters["complaints"] == 1


def test_a_switch_of_channel_within_the_window_fires_channel_switched() -> None:
    ledger, _, _ = _fold([event("page_view", at=NOW - timedelta(minutes=10))])
    _, _, triggers = _fold([event("contact_started", channel="contact_centre")], ledger)
    assert triggers == ["ChannelSwitched"]
    # An interaction hours later is a new visit, not a switch
    _, _, later = _fold([event("contact_started", at=NOW + timedelta(hours=3), channel="contact_centre")], ledger)
    assert later == []


def test_the_ledger_survives_its_stored_form() -> None:
    ledger, _, _ = _fold(
        [event("cart_abandoned"), event("complaint"), event("purchase"), event("app_event", channel="app")]
    )
    assert ledger.seen  # the ids of the non-additive events are stored too
    assert ledger_from_document(ledger_document(ledger)) == ledger


def test_a_ledger_stored_before_non_additive_ids_were_remembered_still_loads() -> None:
    ledger, _, _ = _fold([event("purchase"), event("page_view")])
    document = ledger_document(ledger)
    del document["seen"]
    assert ledger_from_document(document) == replace(ledger, seen={})


def test_copies_of_an_event_id_in_one_batch_count_once_and_the_first_copy_wins() -> None:
    # Given a purchase delivered twice in one batch, the second copy holding another amount and time
    first = event("purchase", amount="40.00", event_id="evt-twice-0001")
    second = event("purchase", amount="99.00", at=NOW + timedelta(minutes=1), event_id="evt-twice-0001")
    # When folded
    outcome = apply_events("gc-1", Ledger(), [first, second], policy=POLICY, now=NOW)
    state = live_state(outcome.ledger, previous=LiveState(), version=1, policy=POLICY, now=NOW)
    # Then the first copy is applied once, the second counted as a duplicate
    assert sum(outcome.applied_by.values()) == 1
    assert outcome.duplicates == 1
    assert state.rolling_spend.last_30_days == Decimal("40.00")
    assert state.last_interaction["web"].at == NOW


def test_a_page_view_delivered_again_in_a_later_batch_is_a_duplicate_and_the_first_copy_wins() -> None:
    # Given a page view on the web, applied
    view = event("page_view", event_id="evt-view-0001")
    ledger, _, _ = _fold([view])
    # When Lambda delivers it again in a later batch, and a copy claiming a later time on the app arrives too
    again = apply_events("gc-1", ledger, [view], policy=POLICY, now=NOW)
    other = event("page_view", channel="app", at=NOW + timedelta(minutes=1), event_id="evt-view-0001")
    copy = apply_events("gc-1", again.ledger, [other], policy=POLICY, now=NOW)
    state = live_state(copy.ledger, previous=LiveState(), version=2, policy=POLICY, now=NOW)
    # Then neither is applied: both are duplicates, nothing changes, and the first copy stands
    assert (sum(again.applied_by.values()), again.duplicates, again.changed) == (0, 1, False)
    assert (sum(copy.applied_by.values()), copy.duplicates, copy.changed) == (0, 1, False)
    assert list(state.last_interaction) == ["web"]


def test_a_ledger_holding_future_dated_facts_neither_counts_them_nor_lets_them_block_real_events() -> None:
    # Given a ledger written before occurred_at was bounded: a purchase and a web page view dated 2099
    far = NOW.replace(year=2099)
    poisoned, _, _ = _fold([event("purchase", at=far, amount="500.00"), event("page_view", at=far)])
    # When real events follow: an app visit, then the web two minutes later, then a purchase crossing 100
    ledger, state, on_app = _fold([event("page_view", channel="app", at=NOW - timedelta(minutes=3))], poisoned)
    ledger, state, on_web = _fold([event("page_view", at=NOW - timedelta(minutes=1))], ledger)
    _, state, bought = _fold([event("purchase", amount="150.00", order_id="o-real")], ledger)
    # Then the future spend counts in no window, the real web visit is the last one, and every trigger fires
    assert state.rolling_spend.last_30_days == state.rolling_spend.last_365_days == Decimal("150.00")
    assert state.last_interaction["web"].at == NOW
    assert (on_app, on_web, bought) == ([], ["ChannelSwitched"], ["SpendingThresholdCrossed"])


EVENT_MIX = [
    ("page_view", {}),
    ("purchase", {"amount": "30.00"}),
    ("purchase", {"amount": "80.00", "order_id": "o-2", "cart_id": "c-1"}),
    ("return", {"amount": "20.00"}),
    ("cart_updated", {}),
    ("cart_abandoned", {}),
    ("complaint", {}),
    ("contact_resolved", {"complaint_id": "cp-1"}),
    ("contact_resolved", {"contact_id": "k-2", "outcome": "unresolved"}),
    ("loyalty_points", {"points": -20}),
    ("app_event", {}),
]
CHANNELS = ["web", "app", "store", "contact_centre"]
EVENTS = [
    event(kind, at=NOW - timedelta(minutes=7 * index), channel=CHANNELS[index % 4], **payload)
    for index, (kind, payload) in enumerate(EVENT_MIX * 2)
]


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(EVENTS), split=st.integers(min_value=0, max_value=len(EVENTS)))
def test_any_order_and_any_split_into_batches_gives_the_same_state(order: list[CustomerEvent], split: int) -> None:
    # Given the reference: every event in one batch, in time order
    _, expected, _ = _fold(EVENTS)
    # When the events arrive shuffled, in two batches, with the second batch replayed
    ledger, _, _ = _fold(order[:split])
    ledger, state, _ = _fold(order[split:], ledger)
    _, replayed, _ = _fold(order[split:], ledger)
    # Then the live state is the same
    assert state == expected
    assert replayed == expected


def test_a_switch_inside_a_customers_first_batch_fires_channel_switched() -> None:
    """The customer's first interactions arrive together: a switch between them is still a switch."""
    _, _, triggers = _fold(
        [
            event("app_event", at=NOW - timedelta(minutes=2), channel="app"),
            event("page_view", channel="web"),
        ]
    )
    assert triggers == ["ChannelSwitched"]


def _trigger_ids(batches: list[list[CustomerEvent]]) -> list[tuple[str, str]]:
    ledger, found = Ledger(), []
    for batch in batches:
        outcome = apply_events("gc-1", ledger, batch, policy=POLICY, now=NOW)
        ledger = outcome.ledger
        found += [(trigger.detail_type, trigger.trigger_id) for trigger in outcome.triggers]
    return found


@settings(max_examples=150, deadline=None)
@given(order=st.permutations(EVENTS), cuts=st.sets(st.integers(min_value=1, max_value=len(EVENTS) - 1), max_size=6))
def test_the_triggers_do_not_depend_on_where_the_batches_are_cut(order: list[CustomerEvent], cuts: set[int]) -> None:
    """A retry resends or bisects a batch anywhere: the same deliveries raise the same triggers, once each."""
    bounds = [0, *sorted(cuts), len(order)]
    batches = [order[start:end] for start, end in itertools.pairwise(bounds)]
    assert sorted(_trigger_ids(batches)) == sorted(_trigger_ids([order]))


def test_an_abandonment_delivered_before_the_purchase_of_its_cart_fires_even_in_the_same_batch() -> None:
    # Given a cart abandoned at 11:50 and bought at 11:55, delivered in that order
    abandoned = event("cart_abandoned", at=NOW - timedelta(minutes=10))
    bought = event("purchase", at=NOW - timedelta(minutes=5), cart_id="c-1")
    # When both arrive in one batch, or in two
    _, state, together = _fold([abandoned, bought])
    # Then the abandonment fired when it was delivered, as it does across batches, and the cart is bought
    assert together.count("CartAbandoned") == 1
    assert _trigger_ids([[abandoned, bought]]) == _trigger_ids([[abandoned], [bought]])
    assert state.cart is not None
    assert state.cart.status == "purchased"
    assert state.friction_points == []


def test_an_abandonment_delivered_after_a_newer_fact_of_the_cart_does_not_fire_even_in_the_same_batch() -> None:
    bought = event("purchase", at=NOW - timedelta(minutes=5), cart_id="c-1")
    late = event("cart_abandoned", at=NOW - timedelta(minutes=10))
    _, _, together = _fold([bought, late])
    assert "CartAbandoned" not in together


def test_a_complaint_delivered_after_the_contact_that_settled_it_is_not_news() -> None:
    complaint = event("complaint", at=NOW - timedelta(minutes=10))
    settled = event("contact_resolved", at=NOW - timedelta(minutes=5), complaint_id="cp-1")
    _, _, in_order = _fold([complaint, settled])
    _, state, late = _fold([settled, complaint])
    assert in_order.count("ComplaintLogged") == 1
    assert "ComplaintLogged" not in late
    assert state.friction_points == []


def test_a_purchase_crossing_the_threshold_fires_though_a_return_in_the_same_batch_takes_the_spend_below() -> None:
    bought = event("purchase", at=NOW - timedelta(minutes=10), amount="120.00")
    returned = event("return", at=NOW - timedelta(minutes=5), amount="50.00")
    ledger, state, together = _fold([bought, returned])
    assert together == ["SpendingThresholdCrossed"]
    assert _trigger_ids([[bought, returned]]) == _trigger_ids([[bought], [returned]])
    assert state.rolling_spend.last_30_days == Decimal("70.00")
    # Below again, so the next crossing fires again
    _, _, again = _fold([event("purchase", amount="40.00", order_id="o-3")], ledger)
    assert again == ["SpendingThresholdCrossed"]


_CHANNELS = st.sampled_from(["web", "app", "contact_centre"])


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.tuples(_CHANNELS, st.integers(min_value=1, max_value=40)), min_size=1, max_size=8),
    cut=st.integers(min_value=0, max_value=8),
)
def test_channel_switches_do_not_depend_on_where_the_batch_is_cut(steps: list[tuple[str, int]], cut: int) -> None:
    """A retry's bisection splits a batch anywhere: the switches found must be the same (by trigger id)."""
    at = NOW - timedelta(hours=2)
    events = []
    for channel, minutes in steps:
        at += timedelta(minutes=minutes)
        kind = {"web": "page_view", "app": "app_event", "contact_centre": "contact_started"}[channel]
        events.append(event(kind, at=at, channel=channel))

    def switches(batches: list[list[CustomerEvent]]) -> list[str]:
        ledger, found = Ledger(), []
        for batch in batches:
            outcome = apply_events("gc-1", ledger, batch, policy=POLICY, now=NOW)
            ledger = outcome.ledger
            found += [t.trigger_id for t in outcome.triggers if t.detail_type == "ChannelSwitched"]
        return found

    cut = min(cut, len(events))
    assert switches([events]) == switches([events[:cut], events[cut:]])


def test_a_complaint_whose_tombstone_was_pruned_opens_again_and_is_logged_as_the_state_says() -> None:
    # Given a complaint settled 40 days ago: its closed register is a tombstone for tombstone_days (30) only
    settled_at = NOW - timedelta(days=40)
    ledger, _, _ = _fold(
        [
            event("complaint", at=settled_at - timedelta(hours=1)),
            event("contact_resolved", at=settled_at, complaint_id="cp-1"),
        ]
    )
    # When a copy of the complaint under another id arrives, dated before the settlement
    _, state, found = _fold([event("complaint", at=settled_at - timedelta(minutes=30))], ledger)
    # Then the tombstone no longer blocks it: the state opens the complaint, and the trigger agrees
    assert [point.kind for point in state.friction_points] == ["complaint"]
    assert found == ["ComplaintLogged"]
