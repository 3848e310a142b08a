"""The batch use case over in-memory fakes: coalescing, identities, conflicts, erasure, trigger failures."""

from __future__ import annotations

import base64
import itertools
import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from event_processor.batch import DecodedRecord
from event_processor.ledger import Ledger
from event_processor.ports import DeadLetter, StoreUnavailableError
from event_processor.rules import live_state
from omni_domain.customer_events import CustomerEvent, event_json
from omni_domain.identity_map import new_link
from omni_domain.models import LiveState
from omni_testing.event_processor import InMemoryStateStore

from .conftest import NOW, PAYLOADS, POLICY, decoded, event, fakes

TOLERANCE = timedelta(minutes=5)  # the policy's default


def test_writes_per_batch_equal_distinct_customers() -> None:
    # Given 300 events of 30 customers
    world = fakes()
    records = decoded(
        *(
            event("page_view", identity={"customer_id": f"gc-{n % 30}"}, at=NOW - timedelta(seconds=n))
            for n in range(300)
        )
    )
    # When applied
    report = world.batch.apply(records, [])
    # Then one write per customer
    assert world.states.writes == report.state_writes == report.customers == 30
    assert report.failed == set()


def test_a_version_conflict_is_retried_by_reading_and_applying_again() -> None:
    # Given a store where another batch writes the customer between our read and our write
    world = fakes()
    original_write = world.states.write
    raced = []

    def racing_write(customer_id: str, ledger: Ledger, state: LiveState, *, expected_version: int) -> None:
        if not raced:
            raced.append(True)
            other = Ledger(counters={"purchases": 5})
            original_write(customer_id, other, LiveState(version=1), expected_version=0)
        original_write(customer_id, ledger, state, expected_version=expected_version)

    world.states.write = racing_write  # type: ignore[method-assign]
    # When a purchase is applied
    report = world.batch.apply(decoded(event("purchase")), [])
    # Then the second attempt built on the other writer's state
    ledger, state = world.states.items["gc-1"]
    assert ledger.counters["purchases"] == 6
    assert state.version == 2
    assert report.write_conflicts == 1
    assert report.state_writes == 2


def test_unknown_identifiers_get_one_provisional_id_even_when_batches_race() -> None:
    # Given two processors sharing the identity map, both seeing a new e-mail; the second looked it up
    # before the first linked it
    first, second = fakes(), fakes()

    class StaleRead:
        def resolve_many(self, keys: object) -> dict[str, str]:
            return {}

        provision = first.resolver.provision

    second.batch.identities = StaleRead()
    second.batch.new_id = lambda: "gc-other"
    record = decoded(event("page_view", identity={"email": "ada@example.com"}))
    # When both apply it
    first.batch.apply(record, [])
    report = second.batch.apply(record, [])
    # Then the link is the first one's, with the event-processor origin, and the second adopted it
    link = first.resolver.identity_map.links["email#ada@example.com"]
    assert (link.customer_id, link.origin) == ("gc-p00001", "event-processor")
    assert "gc-p00001" in second.states.items
    assert "gc-other" not in second.states.items
    assert report.provisional_ids == 1  # it asked, and was told the winner


def test_a_linked_identifier_resolves_to_its_golden_customer() -> None:
    world = fakes()
    world.resolver.identity_map.put(new_link("device#app-installation-1", "gc-golden", origin="mdm", at=NOW))
    world.batch.apply(decoded(event("app_event", channel="app", identity={"device_id": "app-installation-1"})), [])
    assert list(world.states.items) == ["gc-golden"]


def test_erased_customers_are_skipped_and_counted() -> None:
    world = fakes()
    world.states.erased.add("gc-1")
    report = world.batch.apply(decoded(event("purchase"), event("page_view")), [])
    assert report.erased_skipped == 2
    assert world.states.items == {}
    assert report.failed == set()


def test_refused_triggers_fail_the_customer_records_and_nothing_is_written() -> None:
    # Given a bus that refuses the ComplaintLogged of gc-1 (trigger ids are deterministic: learn it first)
    complaint = event("complaint")
    probe = fakes()
    probe.batch.apply(decoded(complaint), [])
    world = fakes()
    world.publisher.rejected = {trigger.trigger_id for trigger in probe.publisher.published}
    records = decoded(complaint, event("page_view", identity={"customer_id": "gc-2"}))
    # When the batch is applied
    report = world.batch.apply(records, [])
    # Then gc-1's record is reported for retry and its state not written; gc-2 is applied
    assert report.failed == {records[0].sequence_number}
    assert list(world.states.items) == ["gc-2"]


def test_dead_letters_refused_by_the_queue_are_failures() -> None:
    world = fakes()
    world.dead_letters.rejected = {"2"}
    letters = [DeadLetter(str(n), "not JSON", (), "eA==", "pk", "arn", 0.0) for n in (1, 2)]
    report = world.batch.apply([], letters)
    assert report.failed == {"2"}
    assert report.dead_lettered == 1
    assert [letter.sequence_number for letter in world.dead_letters.letters] == ["1"]


CUSTOMERS = [{"customer_id": "gc-a"}, {"email": "b@example.com"}, {"phone": "+447700900001"}]
KINDS = ["purchase", "cart_updated", "cart_abandoned", "complaint", "page_view", "return", "loyalty_points"] * 3


def _batch(customers: list[dict[str, str]]) -> list[CustomerEvent]:
    return [
        event(kind, identity=customers[n % 3], at=NOW - timedelta(minutes=n), channel=("web", "app", "store")[n % 3])
        for n, kind in enumerate(KINDS)
    ]


BATCH = _batch(CUSTOMERS)
# The same events for customers known by id: a provisional id (and so a trigger id) depends on allocation order.
KNOWN = _batch([{"customer_id": f"gc-{n}"} for n in range(3)])


def _final(*batches: list[DecodedRecord]) -> tuple[dict[str, LiveState], list[str]]:
    world = fakes()
    for records in batches:
        world.batch.apply(records, [])
    for records in batches:
        world.batch.apply(records, [])  # replayed by Lambda
    states = {customer: state for customer, (_, state) in world.states.items.items()}
    return states, sorted(trigger.trigger_id for trigger in world.publisher.published)


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(BATCH))
def test_a_shuffled_and_replayed_batch_gives_the_identical_state(order: list) -> None:
    assert _final(decoded(*order))[0] == _final(decoded(*BATCH))[0]


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(KNOWN), cuts=st.sets(st.integers(min_value=1, max_value=len(KNOWN) - 1)))
def test_the_triggers_follow_the_order_delivered_wherever_the_batches_are_cut(order: list, cuts: set[int]) -> None:
    records = decoded(*order)
    bounds = [0, *sorted(cuts), len(records)]
    batches = [records[start:end] for start, end in itertools.pairwise(bounds)]
    assert _final(*batches)[1] == _final(records)[1]


def test_the_projection_carries_propensity_and_its_model_version_over() -> None:
    previous = LiveState(propensity={"churn": 0.4}, propensity_model="xgb-0123456789abcdef", propensity_scored_at=NOW)
    state = live_state(Ledger(), previous=previous, version=3, policy=POLICY, now=NOW)
    assert state.propensity == {"churn": 0.4}
    assert state.propensity_model == "xgb-0123456789abcdef"
    assert state.propensity_scored_at == NOW
    assert state.version == 3
    assert isinstance(InMemoryStateStore().load_many(["x"])["x"].ledger, Ledger)


def test_revenue_is_reported_per_channel_and_currency_once_per_purchase() -> None:
    # Given purchases on two channels and in two currencies, one of them delivered twice
    world = fakes()
    repeated = event("purchase", channel="app", amount="5.25")
    records = decoded(
        event("purchase", amount="40.00"),
        event("purchase", amount="10.00", identity={"customer_id": "gc-2"}),
        event("purchase", channel="store", amount="7.00", currency="EUR"),
        repeated,
        repeated,
        event("page_view"),
    )
    # When applied
    report = world.batch.apply(records, [])
    # Then revenue counts each purchase once, by channel and currency, and nothing else
    assert dict(report.revenue) == {
        ("web", "GBP"): Decimal("50.00"),
        ("store", "EUR"): Decimal("7.00"),
        ("app", "GBP"): Decimal("5.25"),
    }


def test_an_event_dated_beyond_the_tolerance_is_dead_lettered_with_the_reason() -> None:
    # Given a purchase dated 6 minutes after the clock (tolerance 5) and a page view dated exactly 5 minutes after
    world = fakes()
    early = event("purchase", at=NOW + timedelta(minutes=6))
    records = decoded(early, event("page_view", at=NOW + TOLERANCE))
    # When applied
    report = world.batch.apply(records, [])
    # Then the purchase is in the dead-letter queue, with the reason, the field and its own JSON; the page view applied
    (letter,) = world.dead_letters.letters
    assert letter.reason == "occurred_at in the future"
    assert letter.errors == ("occurred_at: 360 seconds after it was received; at most 300 are tolerated",)
    assert letter.sequence_number == records[0].sequence_number
    assert json.loads(base64.b64decode(letter.data)) == json.loads(event_json(early))
    assert report.dead_lettered == 1
    assert dict(report.applied) == {("page_view", "web"): 1}
    ledger, state = world.states.items["gc-1"]
    assert ledger.counters == {}
    assert state.rolling_spend.last_30_days == 0
    assert report.accounted == report.records == 2


def test_a_refused_letter_for_a_future_event_is_a_failure_not_a_loss() -> None:
    world = fakes()
    records = decoded(event("page_view", at=NOW + timedelta(days=1)))
    world.dead_letters.rejected = {records[0].sequence_number}
    report = world.batch.apply(records, [])
    assert report.failed == {records[0].sequence_number}
    assert report.accounted == report.records == 1


# Any event, whatever its timestamp, before a customer's real journey: it must not stop the journey's events
# from updating the state or firing their triggers.
JOURNEY_START = NOW + timedelta(days=40)
JOURNEY = [
    (event("page_view", channel="app", at=JOURNEY_START), []),
    (event("page_view", at=JOURNEY_START + timedelta(minutes=2)), ["ChannelSwitched"]),
    (
        event("purchase", at=JOURNEY_START + timedelta(minutes=3), amount="150.00", order_id="o-real"),
        ["SpendingThresholdCrossed"],
    ),
    (event("cart_abandoned", at=JOURNEY_START + timedelta(minutes=4), cart_id="c-real"), ["CartAbandoned"]),
    (
        event("complaint", channel="contact_centre", at=JOURNEY_START + timedelta(minutes=5), complaint_id="cp-real"),
        ["ChannelSwitched", "ComplaintLogged"],
    ),
]
WITHIN_TOLERANCE = st.timedeltas(min_value=-TOLERANCE, max_value=TOLERANCE)
ANY_OFFSET = st.one_of(
    WITHIN_TOLERANCE,
    st.timedeltas(min_value=timedelta(days=-3650), max_value=timedelta(days=36500)),  # far past to far future
    st.timedeltas(min_value=TOLERANCE, max_value=timedelta(days=60)),  # just beyond, into the journey
)


@settings(max_examples=150, deadline=None)
@given(
    kind=st.sampled_from(sorted(PAYLOADS)),
    channel=st.sampled_from(["web", "app", "store", "contact_centre"]),
    offset=ANY_OFFSET,
    redelivered=st.booleans(),
)
def test_no_event_whatever_its_timestamp_stops_later_events_updating_the_state_or_firing(
    kind: str, channel: str, offset: timedelta, redelivered: bool
) -> None:
    # Given any event, dated anywhere from ten years back to a century ahead of its arrival, applied first
    # (and delivered again an hour later, when drawn so: Lambda resends records after a failure)
    world = fakes()
    odd = event(kind, channel=channel, at=NOW + offset, **({"amount": "900.00"} if kind == "purchase" else {}))
    record = DecodedRecord("1", odd, arrived_at=NOW.timestamp())
    first = world.batch.apply([record], [])
    if redelivered:
        world.batch.clock = lambda: NOW + timedelta(hours=1)
        again = world.batch.apply([record], [])
        # the same verdict: a duplicate of what was applied, or dead-lettered again
        assert (again.duplicates, again.dead_lettered) == (first.applied_total, first.dead_lettered)
    for real, expected in JOURNEY:
        # When each event of a real journey weeks later is applied a second after it happened
        world.batch.clock = lambda at=real.occurred_at: at + timedelta(seconds=1)
        published = len(world.publisher.published)
        report = world.batch.apply(decoded(real), [])
        # Then it updates the state and fires exactly its own triggers
        _, state = world.states.items["gc-1"]
        assert state.last_interaction[real.channel].at == real.occurred_at
        assert sorted(trigger.detail_type for trigger in world.publisher.published[published:]) == expected
        assert report.applied_total == report.records == 1
    assert state.rolling_spend.last_30_days == Decimal("150.00")


# Accounting: the same events delivered any number of times, in any batches, with erased customers, failing
# writes and future-dated events: every record has exactly one outcome, and each event id is applied once.
POOL = [
    event("purchase", identity={"customer_id": "gc-a"}, event_id="evt-pool-0"),
    event("page_view", identity={"customer_id": "gc-a"}, event_id="evt-pool-1"),
    event("cart_updated", identity={"customer_id": "gc-a"}, event_id="evt-pool-2"),
    event("complaint", identity={"customer_id": "gc-b"}, event_id="evt-pool-3"),
    event("app_event", channel="app", identity={"customer_id": "gc-b"}, event_id="evt-pool-4"),
    event("loyalty_points", identity={"customer_id": "gc-gone"}, event_id="evt-pool-5"),
    event("page_view", identity={"customer_id": "gc-a"}, at=NOW + timedelta(days=1), event_id="evt-pool-6"),
    # the same id as evt-pool-1 with other contents: whichever copy comes first wins
    event("page_view", channel="store", identity={"customer_id": "gc-a"}, event_id="evt-pool-1"),
]


@settings(max_examples=120, deadline=None)
@given(
    deliveries=st.lists(
        st.tuples(st.lists(st.sampled_from(range(len(POOL))), min_size=1, max_size=12), st.booleans()),
        min_size=1,
        max_size=5,
    )
)
def test_every_record_of_every_batch_has_exactly_one_outcome(deliveries: list[tuple[list[int], bool]]) -> None:
    world = fakes()
    world.states.erased.add("gc-gone")
    original_write = world.states.write
    failing: set[str] = set()

    def write(customer_id: str, ledger: Ledger, state: LiveState, *, expected_version: int) -> None:
        if customer_id in failing:
            raise StoreUnavailableError(customer_id)
        original_write(customer_id, ledger, state, expected_version=expected_version)

    world.states.write = write  # type: ignore[method-assign]
    applied_ids: set[tuple[str, str]] = set()  # (customer, event id) the store holds
    first_view: str | None = None
    for indexes, b_fails in deliveries:
        failing.clear()
        if b_fails:
            failing.add("gc-b")
        events = [POOL[index] for index in indexes]
        # The expected outcome of each record, modelled: first the copies of each (customer, id) in the batch
        outcomes: list[str] = []
        in_batch: dict[tuple[str, str], Any] = {}
        for item in events:
            customer = str(item.identity.customer_id)
            key = (customer, item.event_id)
            if item.occurred_at > NOW + TOLERANCE:
                outcomes.append("dead_lettered")
            elif customer == "gc-gone":
                outcomes.append("erased_skipped")
            elif key in applied_ids or key in in_batch:
                outcomes.append(f"duplicates:{customer}")
            else:
                outcomes.append(f"applied:{customer}")
                in_batch[key] = item
        # then a failing write fails every record of its customer, when there was something new to write
        for customer in failing:
            if f"applied:{customer}" in outcomes:
                outcomes = [
                    "failed" if outcome in (f"applied:{customer}", f"duplicates:{customer}") else outcome
                    for outcome in outcomes
                ]
                in_batch = {key: item for key, item in in_batch.items() if key[0] != customer}
        expected = Counter(outcome.split(":")[0] for outcome in outcomes)
        report = world.batch.apply(decoded(*events), [])
        outcome = Counter(
            applied=report.applied_total,
            duplicates=report.duplicates,
            dead_lettered=report.dead_lettered,
            erased_skipped=report.erased_skipped,
            failed=len(report.failed),
        )
        assert +outcome == +expected
        assert report.accounted == report.records == len(events)
        applied_ids |= set(in_batch)
        # And of two copies of one id (web, store), the one applied is the first delivered
        view = in_batch.get(("gc-a", "evt-pool-1"))
        first_view = first_view or (view and view.channel)
        if first_view:
            _, state = world.states.items["gc-a"]
            assert ("store" in state.last_interaction) == (first_view == "store")
    # Each id applied once in all: the ledgers remember exactly the ids applied
    remembered = {
        (customer, event_id)
        for customer, (ledger, _) in world.states.items.items()
        for event_id in [*ledger.applied, *ledger.seen]
    }
    assert remembered == applied_ids


def test_the_default_tolerance_is_five_minutes() -> None:
    assert POLICY.future_tolerance == TOLERANCE
