"""The batch use case over in-memory fakes: coalescing, identities, conflicts, erasure, trigger failures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from event_processor.batch import DecodedRecord
from event_processor.ledger import Ledger
from event_processor.memory import InMemoryStateStore
from event_processor.ports import DeadLetter
from event_processor.rules import live_state
from omni_domain.identity_map import new_link
from omni_domain.models import LiveState

from .conftest import NOW, POLICY, decoded, event, fakes


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
BATCH = [
    event(kind, identity=CUSTOMERS[n % 3], at=NOW - timedelta(minutes=n), channel=("web", "app", "store")[n % 3])
    for n, kind in enumerate(
        ["purchase", "cart_updated", "cart_abandoned", "complaint", "page_view", "return", "loyalty_points"] * 3
    )
]


def _final(records: list[DecodedRecord]) -> tuple[dict[str, LiveState], list[str]]:
    world = fakes()
    world.batch.apply(records, [])
    world.batch.apply(records, [])  # replayed by Lambda
    states = {customer: state for customer, (_, state) in world.states.items.items()}
    return states, sorted(trigger.trigger_id for trigger in world.publisher.published)


@settings(max_examples=40, deadline=None)
@given(order=st.permutations(BATCH))
def test_a_shuffled_and_replayed_batch_gives_the_identical_state_and_triggers(order: list) -> None:
    assert _final(decoded(*order)) == _final(decoded(*BATCH))


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
