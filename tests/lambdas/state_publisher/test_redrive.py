"""The redrive over in-memory ports: the real fan-out, ordered processor and idempotency (memory adapters)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from omni_testing.state_publisher import InMemoryIdempotencyStore, RecordingPublisher
from omni_testing.stream_redrive import FakeQueue
from state_publisher.fanout import StateFanOut, idempotency_config
from state_publisher.redrive import RedriveStoppedError, failed_batch, publish_through, redrive
from state_publisher.redrive_aws import DynamoDBStreamReader
from stream_redrive.ports import (
    FailedBatch,
    InvalidFailureRecordError,
    RecordsUnavailableError,
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


class FakeStream:
    """The stream's records by (shard, first sequence); batches listed in `gone` have been trimmed."""

    def __init__(self) -> None:
        self.batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.gone: set[tuple[str, str]] = set()
        self.broken: set[tuple[str, str]] = set()  # reading these fails (an AWS error that stops the run)

    def holds(self, records: list[dict[str, Any]], shard: str = SHARD_A) -> str:
        self.batches[shard, sequence_of(records[0])] = records
        return on_failure_body(records, shard)

    def read(self, batch: FailedBatch) -> list[dict[str, Any]]:
        key = (batch.shard_id, batch.start_sequence)
        if key in self.broken:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetShardIterator")
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


def test_the_queue_is_taken_a_page_at_a_time_each_worked_through_before_the_next() -> None:
    # Given 23 messages
    stream = FakeStream()
    queue = FakeQueue(*(stream.holds([_insert(f"gc-{n}")]) for n in range(23)))
    # When redriven
    results = redrive(queue, stream, publish_through(_fanout(RecordingPublisher())), max_messages=100)
    # Then pages of at most 10 were received, each page's messages deleted before the next receive
    assert [entry for entry in queue.log if entry.startswith("receive")] == [
        "receive 10",
        "receive 10",
        "receive 3",
        "receive 0",
    ]
    second_receive = queue.log.index("receive 10", 1)
    assert queue.log[1:second_receive] == [f"delete m-{n}" for n in range(1, 11)]
    assert [result.status for result in results] == ["redriven"] * 23
    assert queue.messages == {}


def test_a_failed_batch_holds_back_its_shards_later_batches_on_later_pages() -> None:
    # Given gc-1's first batch on the first page (with nine others) and its later batch on the second page
    stream = FakeStream()
    first = stream.holds([_insert("gc-1", 1)])
    others = [stream.holds([_insert(f"gc-{n}")], SHARD_B) for n in range(10, 19)]
    later = stream.holds([_insert("gc-1", 2)])
    queue = FakeQueue(first, *others, later)
    publisher = RecordingPublisher(failing={"gc-1"})
    # When redriven
    results = {r.message_id: r for r in redrive(queue, stream, publish_through(_fanout(publisher)), max_messages=20)}
    # Then the later batch of that shard is held back although it came on another page
    assert results["m-1"].status == "publish-failed"
    assert results["m-11"].status == "held-back"
    assert sorted(queue.messages) == ["m-1", "m-11"]
    assert queue.hidden == set()


def test_a_run_stopped_by_an_error_reports_what_it_did_and_releases_the_rest() -> None:
    # Given three batches of one page, the second unreadable (an AWS error, not records gone), and a second page
    stream = FakeStream()
    records = [[_insert(f"gc-{n}")] for n in range(12)]
    queue = FakeQueue(*(stream.holds(batch) for batch in records))
    stream.broken.add((SHARD_A, sequence_of(records[1][0])))
    # When redriven
    with pytest.raises(RedriveStoppedError, match="AccessDeniedException") as stopped:
        redrive(queue, stream, publish_through(_fanout(RecordingPublisher())), max_messages=100)
    # Then the report names the one redriven and the ones not reached; those are visible again, none hidden
    statuses = {result.message_id: result.status for result in stopped.value.results}
    assert statuses["m-1"] == "redriven"
    assert {statuses[f"m-{n}"] for n in range(2, 11)} == {"not-reached"}
    assert len(statuses) == 10
    assert "not reached (the run stopped)" in stopped.value.results[-1].describe()
    assert queue.hidden == set()
    assert sorted(queue.released) == sorted(f"m-{n}" for n in range(2, 11))
    assert "m-1" not in queue.messages


def test_a_delete_the_queue_refuses_is_reported_and_the_run_goes_on() -> None:
    stream = FakeStream()
    queue = FakeQueue(stream.holds([_insert("gc-1")]), stream.holds([_insert("gc-2")]))
    queue.refuse_delete.add("m-1")
    results = {
        r.message_id: r for r in redrive(queue, stream, publish_through(_fanout(RecordingPublisher())), max_messages=10)
    }
    assert results["m-1"].status == "not-deleted"
    assert results["m-1"].kept
    assert "1 published" in results["m-1"].describe()
    assert "message NOT deleted (AccessDenied)" in results["m-1"].describe()
    assert results["m-2"].status == "redriven"
    assert list(queue.messages) == ["m-1"]
    assert queue.hidden == set()


def test_a_release_the_queue_refuses_is_reported_and_the_others_are_released() -> None:
    stream = FakeStream()
    expired, other = [_insert("gc-1")], [_insert("gc-2")]
    queue = FakeQueue(stream.holds(expired), stream.holds(other))
    stream.gone.update({(SHARD_A, sequence_of(expired[0])), (SHARD_A, sequence_of(other[0]))})
    queue.refuse_release.add("m-1")
    results = redrive(queue, stream, publish_through(_fanout(RecordingPublisher())), max_messages=10)
    assert [result.status for result in results] == ["records-gone", "records-gone"]
    assert "not made visible again (AccessDenied)" in results[0].describe()
    assert results[1].release_error == ""
    assert queue.released == ["m-2"]


def test_a_kept_message_that_comes_back_is_hidden_again_and_released_under_its_newest_handle() -> None:
    # Given a kept message whose visibility timeout runs out while the run goes on
    stream = FakeStream()
    gone = [_insert("gc-1")]
    queue = FakeQueue(stream.holds(gone), *(stream.holds([_insert(f"gc-{n}")]) for n in range(2, 13)))
    stream.gone.add((SHARD_A, sequence_of(gone[0])))
    publish = publish_through(_fanout(RecordingPublisher()))

    def publish_slowly(event: dict[str, Any]) -> Any:
        queue.time_out("m-1")
        return publish(event)

    # When redriven
    results = redrive(queue, stream, publish_slowly, max_messages=100)
    # Then it is reported once, and made visible again at the end (its first handle is no longer in flight)
    assert [result.message_id for result in results].count("m-1") == 1
    assert results[0].status == "records-gone"
    assert results[0].release_error == ""
    assert queue.released == ["m-1"]
    assert list(queue.messages) == ["m-1"]


class FakeStreamsClient:
    """GetShardIterator/GetRecords over one shard's records, a page of `page` records; GetRecords answers
    ExpiredIteratorException for the iterators listed in `expired` (each once)."""

    def __init__(self, records: list[dict[str, Any]], *, page: int = 1) -> None:
        self.records = [{"eventID": r["eventID"], "dynamodb": dict(r["dynamodb"])} for r in records]
        self.page = page
        self.iterators: list[tuple[str, str]] = []
        self.expire_next = 0

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        kind, sequence = request["ShardIteratorType"], request["SequenceNumber"]
        self.iterators.append((kind, sequence))
        numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in self.records]
        at = next(n for n, s in enumerate(numbers) if s >= int(sequence) + (kind == "AFTER_SEQUENCE_NUMBER"))
        return {"ShardIterator": str(at)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803 - boto3's names
        if self.expire_next:
            self.expire_next -= 1
            error = {"Code": "ExpiredIteratorException", "Message": "Iterator expired"}
            raise ClientError({"Error": error}, "GetRecords")
        at = int(ShardIterator)
        return {"Records": self.records[at : at + self.page], "NextShardIterator": str(at + self.page)}


class ExpiringAfterFirstPage(FakeStreamsClient):
    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803 - boto3's names
        answer = super().get_records(ShardIterator, Limit)
        if ShardIterator == "0" and not self.iterators[1:]:
            self.expire_next = 1
        return answer


def _batch_of(records: list[dict[str, Any]]) -> FailedBatch:
    return failed_batch(on_failure_body(records))


def test_an_expired_iterator_is_renewed_after_the_last_record_read() -> None:
    # Given a three-record batch read a record at a time, the iterator expiring after the first page
    records = [_insert("gc-1"), _insert("gc-2"), _insert("gc-3")]
    client = ExpiringAfterFirstPage(records)
    # When read
    read = DynamoDBStreamReader(client).read(_batch_of(records))
    # Then a fresh iterator just after the first record read on: the whole batch, each record once
    assert [r["eventID"] for r in read] == [r["eventID"] for r in records]
    assert client.iterators == [
        ("AT_SEQUENCE_NUMBER", sequence_of(records[0])),
        ("AFTER_SEQUENCE_NUMBER", sequence_of(records[0])),
    ]


def test_an_iterator_expired_before_any_record_is_renewed_at_the_batchs_start() -> None:
    records = [_insert("gc-1")]
    client = FakeStreamsClient(records)
    client.expire_next = 1
    assert len(DynamoDBStreamReader(client).read(_batch_of(records))) == 1
    assert client.iterators == [("AT_SEQUENCE_NUMBER", sequence_of(records[0]))] * 2


def test_an_iterator_that_keeps_expiring_is_an_error_not_records_gone() -> None:
    records = [_insert("gc-1")]
    client = FakeStreamsClient(records)
    client.expire_next = 3
    with pytest.raises(ClientError, match="ExpiredIteratorException"):
        DynamoDBStreamReader(client, max_iterator_renewals=2).read(_batch_of(records))
    assert len(client.iterators) == 3


@pytest.mark.parametrize("code", ["TrimmedDataAccessException", "ResourceNotFoundException"])
def test_trimmed_or_deleted_records_are_gone(code: str) -> None:
    records = [_insert("gc-1")]

    class Gone(FakeStreamsClient):
        def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803 - boto3's names
            raise ClientError({"Error": {"Code": code, "Message": "gone"}}, "GetRecords")

    with pytest.raises(RecordsUnavailableError, match=code):
        DynamoDBStreamReader(Gone(records)).read(_batch_of(records))
