"""The redrive over in-memory ports: the real fan-out, ordered processor and idempotency (memory adapters)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from state_publisher.fanout import StateFanOut, idempotency_config
from state_publisher.memory import InMemoryIdempotencyStore, RecordingPublisher
from state_publisher.redrive import (
    FailedBatch,
    InvalidFailureRecordError,
    QueuedMessage,
    RecordsUnavailableError,
    failed_batch,
    publish_through,
    redrive,
)

from .conftest import cart, live_state, profile, sequence_of, state_item, stream_record

ON_FAILURE = Path(__file__).parent / "events" / "dynamodb_stream_on_failure.json"
SHARD_A, SHARD_B = "shardId-00000001573689847184-864758bb", "shardId-00000001573689847184-99999999"


def on_failure_body(records: list[dict[str, Any]], shard: str = SHARD_A) -> str:
    """The stored on-failure record (AWS's documented shape) pointing at `records`."""
    body = json.loads(ON_FAILURE.read_text())
    body["DDBStreamBatchInfo"].update(
        shardId=shard,
        startSequenceNumber=sequence_of(records[0]),
        endSequenceNumber=sequence_of(records[-1]),
        batchSize=len(records),
        streamArn=records[0]["eventSourceARN"],
    )
    return json.dumps(body)


class FakeQueue:
    def __init__(self, *bodies: str) -> None:
        self.messages = {f"m-{n}": QueuedMessage(f"m-{n}", f"r-{n}", body) for n, body in enumerate(bodies, 1)}
        self.hidden: set[str] = set()
        self.released: list[str] = []

    def receive(self, limit: int) -> list[QueuedMessage]:
        visible = [m for m in self.messages.values() if m.message_id not in self.hidden][:limit]
        self.hidden.update(m.message_id for m in visible)
        return visible

    def delete(self, message: QueuedMessage) -> None:
        del self.messages[message.message_id]

    def release(self, message: QueuedMessage) -> None:
        self.hidden.discard(message.message_id)
        self.released.append(message.message_id)


class FakeStream:
    """The stream's records by (shard, first sequence); batches listed in `gone` have been trimmed."""

    def __init__(self) -> None:
        self.batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.gone: set[tuple[str, str]] = set()

    def holds(self, records: list[dict[str, Any]], shard: str = SHARD_A) -> str:
        self.batches[shard, sequence_of(records[0])] = records
        return on_failure_body(records, shard)

    def read(self, batch: FailedBatch) -> list[dict[str, Any]]:
        key = (batch.shard_id, batch.start_sequence)
        if key in self.gone:
            raise RecordsUnavailableError("TrimmedDataAccessException")
        return self.batches[key]


def _fanout(publisher: RecordingPublisher, store: InMemoryIdempotencyStore | None = None) -> StateFanOut:
    return StateFanOut(publisher, store or InMemoryIdempotencyStore(), idempotency_config(86_400))


def _insert(customer_id: str, version: int = 1) -> dict[str, Any]:
    return stream_record("INSERT", new=state_item(customer_id, live_state(version, cart=cart())))


def test_the_documented_on_failure_record_is_read_as_its_batch() -> None:
    batch = failed_batch(ON_FAILURE.read_text())
    assert batch == FailedBatch(
        stream_arn="arn:aws:dynamodb:eu-west-2:123456789012:table/test-customers/stream/2026-11-29T00:00:00.000",
        shard_id=SHARD_A,
        start_sequence="800000000003126276362",
        end_sequence="800000000003126276362",
        batch_size=1,
        condition="RetryAttemptsExhausted",
        first_arrival="2026-11-29T21:00:19Z",
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("not json", "not JSON"),
        ('{"requestContext": {}}', "no DDBStreamBatchInfo"),
        ('{"DDBStreamBatchInfo": {"shardId": "s", "streamArn": "a"}}', "startSequenceNumber, endSequenceNumber"),
        (
            '{"DDBStreamBatchInfo": {"shardId": "s", "streamArn": "a", "startSequenceNumber": "9",'
            ' "endSequenceNumber": "1"}}',
            "ascending",
        ),
    ],
)
def test_a_message_that_is_not_an_on_failure_record_says_what_it_lacks(body: str, named: str) -> None:
    with pytest.raises(InvalidFailureRecordError, match=named):
        failed_batch(body)


def test_batches_are_published_oldest_first_per_shard_and_their_messages_deleted() -> None:
    # Given two failed batches of one shard whose messages arrive newest first, and one of another shard
    stream = FakeStream()
    first, second, other = [_insert("gc-1", 1), _insert("gc-2", 1)], [_insert("gc-1", 2)], [_insert("gc-9")]
    queue = FakeQueue(stream.holds(second), stream.holds(other, SHARD_B), stream.holds(first))
    publisher = RecordingPublisher()
    # When redriven
    results = redrive(queue, stream, publish_through(_fanout(publisher)), max_messages=10)
    # Then gc-1's changes went out in stream order, every message is deleted and none is kept
    published = [(change.customer_id, change.version) for change in publisher.published]
    assert published.index(("gc-1", 1)) < published.index(("gc-1", 2))
    assert sorted(published) == [("gc-1", 1), ("gc-1", 2), ("gc-2", 1), ("gc-9", 1)]
    assert [change.change_id for change in publisher.published if change.customer_id == "gc-1"] == [
        first[0]["eventID"],
        second[0]["eventID"],
    ]
    assert queue.messages == {}
    assert [result.status for result in results] == ["redriven"] * 3
    assert all("message deleted" in result.describe() for result in results)


def test_a_change_published_before_is_not_published_again() -> None:
    # Given a batch whose first change the function had published before giving up on the second
    stream, store = FakeStream(), InMemoryIdempotencyStore()
    records = [_insert("gc-1"), _insert("gc-2")]
    earlier = RecordingPublisher(failing={"gc-2"})
    publish_through(_fanout(earlier, store))({"Records": records})
    queue = FakeQueue(stream.holds(records))
    # When redriven over the same idempotency store
    publisher = RecordingPublisher()
    [result] = redrive(queue, stream, publish_through(_fanout(publisher, store)), max_messages=10)
    # Then only the change never published goes out
    assert [change.customer_id for change in publisher.published] == ["gc-2"]
    assert result.outcome is not None
    assert (result.outcome.published, result.outcome.replayed, result.status) == (1, 1, "redriven")


def test_a_batch_whose_records_left_the_stream_is_kept_and_named() -> None:
    # Given two batches, the first trimmed from the stream
    stream = FakeStream()
    expired, fresh = [_insert("gc-1")], [_insert("gc-2")]
    queue = FakeQueue(stream.holds(expired), stream.holds(fresh))
    stream.gone.add((SHARD_A, sequence_of(expired[0])))
    publisher = RecordingPublisher()
    # When redriven
    results = redrive(queue, stream, publish_through(_fanout(publisher)), max_messages=10)
    # Then the expired one is kept (visible again) and named with its pointers; the other is redriven
    [kept] = [result for result in results if result.kept]
    assert kept.status == "records-gone"
    line = kept.describe()
    assert line.startswith("KEPT m-1 ")
    assert sequence_of(expired[0]) in line
    assert "TrimmedDataAccessException" in line
    assert list(queue.messages) == ["m-1"]
    assert queue.released == ["m-1"]
    assert [change.customer_id for change in publisher.published] == ["gc-2"]


def test_a_batch_that_fails_again_is_kept_and_holds_back_the_shards_later_batches() -> None:
    # Given two batches of one shard (gc-1's changes in both) and one of another shard; the bus refuses gc-1
    stream = FakeStream()
    first, second, other = [_insert("gc-1", 1)], [_insert("gc-1", 2)], [_insert("gc-9")]
    queue = FakeQueue(stream.holds(first), stream.holds(second), stream.holds(other, SHARD_B))
    publisher = RecordingPublisher(failing={"gc-1"})
    # When redriven
    results = {
        result.message_id: result
        for result in redrive(queue, stream, publish_through(_fanout(publisher)), max_messages=10)
    }
    # Then the failed batch and the later one of its shard are kept; the other shard's is redriven
    assert {key: result.status for key, result in results.items()} == {
        "m-1": "publish-failed",
        "m-2": "held-back",
        "m-3": "redriven",
    }
    assert sorted(queue.messages) == ["m-1", "m-2"]
    assert [change.customer_id for change in publisher.published] == ["gc-9"]
    assert "run the redrive again" in results["m-1"].describe()


def test_a_dry_run_publishes_and_deletes_nothing() -> None:
    stream = FakeStream()
    insert = _insert("gc-1")
    unchanged = stream_record("MODIFY", old=profile(), new={**profile(version=2), "updated_at": "2026-11-30T08:00:00Z"})
    queue = FakeQueue(stream.holds([insert, unchanged]))
    publisher = RecordingPublisher()
    [result] = redrive(queue, stream, publish_through(_fanout(publisher)), max_messages=10, dry_run=True)
    assert (result.status, result.records, result.changes) == ("would-redrive", 2, 1)
    assert publisher.published == []
    assert list(queue.messages) == ["m-1"]
    assert queue.released == ["m-1"]
    assert not result.kept


def test_an_unreadable_message_is_kept_and_the_others_go_on() -> None:
    stream = FakeStream()
    queue = FakeQueue('{"hello": "world"}', stream.holds([_insert("gc-1")]))
    results = redrive(queue, stream, publish_through(_fanout(RecordingPublisher())), max_messages=10)
    assert {result.message_id: result.status for result in results} == {"m-1": "invalid", "m-2": "redriven"}
    assert "no DDBStreamBatchInfo" in results[0].describe()
    assert list(queue.messages) == ["m-1"]


def test_no_more_than_max_messages_are_taken() -> None:
    stream = FakeStream()
    queue = FakeQueue(*(stream.holds([_insert(f"gc-{n}")]) for n in range(25)))
    results = redrive(queue, stream, publish_through(_fanout(RecordingPublisher())), max_messages=12)
    assert len(results) == 12
    assert len(queue.messages) == 13
