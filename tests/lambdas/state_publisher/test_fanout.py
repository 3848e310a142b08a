"""The use case and the ordered batch processor over in-memory adapters (real Powertools idempotency and
batch processing, no AWS)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import process_partial_response

from omni_testing.state_publisher import InMemoryIdempotencyStore, RecordingPublisher
from state_publisher.fanout import StateFanOut, idempotency_config
from state_publisher.processor import CustomerOrderedProcessor

from ..conftest import FakeLambdaContext
from .conftest import cart, live_state, profile, sequence_of, state_item, stream_event, stream_record


def _fanout(publisher: RecordingPublisher, store: InMemoryIdempotencyStore | None = None) -> StateFanOut:
    return StateFanOut(publisher, store or InMemoryIdempotencyStore(), idempotency_config(86_400))


def _run(fanout: StateFanOut, event: dict[str, Any]) -> tuple[list[str], CustomerOrderedProcessor]:
    fanout.start_batch(FakeLambdaContext(function_name="state-publisher"))
    processor = CustomerOrderedProcessor()
    response = process_partial_response(event=event, record_handler=fanout.handle, processor=processor)
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]], processor


def _insert(customer_id: str, version: int = 1) -> dict[str, Any]:
    return stream_record("INSERT", new=state_item(customer_id, live_state(version, cart=cart())))


def test_the_same_record_publishes_once_across_deliveries() -> None:
    publisher, store = RecordingPublisher(), InMemoryIdempotencyStore()
    event = stream_event(_insert("gc-1"), _insert("gc-2"))
    fanout = _fanout(publisher, store)
    _run(fanout, event)
    assert (fanout.report.published, fanout.report.replayed) == (2, 0)
    # A new execution environment (another fan-out over the same store) sees the same records again
    again = _fanout(publisher, store)
    failed, _ = _run(again, event)
    assert failed == []
    assert (again.report.published, again.report.replayed) == (0, 2)
    assert [change.customer_id for change in publisher.published] == ["gc-1", "gc-2"]


def test_distinct_records_of_identical_content_are_distinct_changes() -> None:
    # Two writes can produce the same diff; the stream's eventID tells them apart, so both are published.
    publisher = RecordingPublisher()
    first, second = _insert("gc-1"), _insert("gc-1")
    _run(_fanout(publisher), stream_event(first, second))
    assert len(publisher.published) == 2


@pytest.mark.parametrize("failing_position", [0, 1, 3])
def test_after_a_failure_the_customers_later_records_are_held_back(failing_position: int) -> None:
    # Given gc-1's changes at positions 0, 2, 3 and gc-2's at 1 and 4
    customers = ["gc-1", "gc-2", "gc-1", "gc-1", "gc-2"]
    records = [_insert(customer, version) for version, customer in enumerate(customers, start=1)]
    failing = customers[failing_position]
    publisher = RecordingPublisher(failing={failing})
    # When the failing customer's first change is refused
    failed, processor = _run(_fanout(publisher), stream_event(*records))
    # Then every record of that customer is failed (from its first, the rest held back), none of them published
    expected = [sequence_of(record) for record, customer in zip(records, customers, strict=True) if customer == failing]
    assert failed == expected
    assert processor.held_back == len(expected) - 1
    assert {change.customer_id for change in publisher.published} == set(customers) - {failing}


def test_a_held_back_customer_is_published_in_order_on_the_retry() -> None:
    publisher, store = RecordingPublisher(failing={"gc-1"}), InMemoryIdempotencyStore()
    records = [_insert("gc-1", 1), _insert("gc-2", 1), _insert("gc-1", 2)]
    _run(_fanout(publisher, store), stream_event(*records))
    publisher.failing.clear()
    failed, _ = _run(_fanout(publisher, store), stream_event(*records))
    assert failed == []
    assert [(c.customer_id, c.version) for c in publisher.published] == [("gc-2", 1), ("gc-1", 1), ("gc-1", 2)]


def test_a_failure_releases_the_idempotency_claim() -> None:
    store = InMemoryIdempotencyStore()
    _run(_fanout(RecordingPublisher(failing={"gc-1"}), store), stream_event(_insert("gc-1")))
    assert store.records == {}


def test_unchanged_records_write_no_idempotency_record() -> None:
    store = InMemoryIdempotencyStore()
    old = profile()
    new = {**profile(version=2), "updated_at": "later"}
    fanout = _fanout(RecordingPublisher(), store)
    failed, _ = _run(fanout, stream_event(stream_record("MODIFY", old=old, new=new)))
    assert (failed, fanout.report.unchanged, store.records) == ([], 1, {})


def test_the_ledger_is_not_even_deserialized() -> None:
    # A STATE item's ledger can hold thousands of ids and is never published: decoding skips it, so even an
    # attribute the deserializer would refuse there changes nothing.
    record = _insert("gc-1")
    record["dynamodb"]["NewImage"]["ledger"] = {"UNKNOWN_TYPE": "x"}
    publisher = RecordingPublisher()
    failed, _ = _run(_fanout(publisher), stream_event(record))
    assert failed == []
    assert [change.customer_id for change in publisher.published] == ["gc-1"]


def test_a_published_change_whose_completion_write_is_throttled_is_completed_again_not_failed() -> None:
    # Given an idempotency table that throttles the first completion write
    publisher, store = RecordingPublisher(), InMemoryIdempotencyStore(refused_updates=1)
    event = stream_event(_insert("gc-1"))
    fanout = _fanout(publisher, store)
    # When the change is published
    failed, _ = _run(fanout, event)
    # Then the record is not failed, its completion is written on the second attempt, and a new environment replays it
    assert failed == []
    assert [record.status for record in store.records.values()] == ["COMPLETED"]
    again = _fanout(publisher, store)
    assert _run(again, event)[0] == []
    assert (again.report.published, again.report.replayed) == (0, 1)
    assert len(publisher.published) == 1


def test_a_change_whose_completion_cannot_be_recorded_is_replayed_by_the_environment_that_published_it() -> None:
    # Given an idempotency table refusing both completion writes: the record keeps its in-progress claim
    publisher, store = RecordingPublisher(), InMemoryIdempotencyStore(refused_updates=2)
    event = stream_event(_insert("gc-1"), _insert("gc-2"))
    fanout = _fanout(publisher, store)
    failed, _ = _run(fanout, event)
    assert failed == []
    assert (fanout.report.published, fanout.report.unrecorded) == (2, 1)
    assert sorted(record.status for record in store.records.values()) == ["COMPLETED", "INPROGRESS"]
    # When Lambda delivers the batch again to the same environment (a later record failed, say)
    failed, _ = _run(fanout, event)
    # Then both answer as replays, nothing is published twice, and the completion is written this time
    assert failed == []
    assert (fanout.report.published, fanout.report.replayed) == (0, 2)
    assert len(publisher.published) == 2
    assert [record.status for record in store.records.values()] == ["COMPLETED", "COMPLETED"]


def test_another_environment_meets_an_unrecorded_claim_as_in_progress_and_fails_the_record_for_a_retry() -> None:
    publisher, store = RecordingPublisher(), InMemoryIdempotencyStore(refused_updates=2)
    event = stream_event(_insert("gc-1"))
    _run(_fanout(publisher, store), event)
    failed, processor = _run(_fanout(publisher, store), event)
    assert failed == [sequence_of(event["Records"][0])]
    assert processor.failure_reasons == {"IdempotencyAlreadyInProgressError": 1}
    assert len(publisher.published) == 1


def test_a_change_not_published_is_failed_even_when_its_claim_cannot_be_released() -> None:
    # The publish fails and so does releasing the claim: nothing was published, so the record must be retried
    class Unreleasable(InMemoryIdempotencyStore):
        def _delete_record(self, data_record: Any) -> None:
            raise RuntimeError("throttled")

    publisher = RecordingPublisher(failing={"gc-1"})
    event = stream_event(_insert("gc-1"))
    fanout = _fanout(publisher, Unreleasable())
    failed, _ = _run(fanout, event)
    assert failed == [sequence_of(event["Records"][0])]
    assert (fanout.report.published, fanout.report.unrecorded) == (0, 0)
