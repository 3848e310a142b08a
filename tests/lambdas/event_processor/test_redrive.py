"""The event redrive over in-memory ports: the batches read back from a fake stream, applied by the real
handler in-process (the invoker the deployed function stands in for) over the in-memory adapters."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from event_processor.redrive import EVENTS, InvokeAnswer, apply_through, failed_batch, invocation
from event_processor.redrive_aws import KinesisStreamReader, lambda_record
from omni_testing.stream_redrive import FakeQueue
from stream_redrive.ports import FailedBatch, InvalidFailureRecordError, RecordsUnavailableError
from stream_redrive.run import redrive

from .conftest import NOW, Fakes, InProcessInvoker, event_dict, fakes

ON_FAILURE = Path(__file__).parent / "events" / "kinesis_on_failure.json"
STREAM_ARN = "arn:aws:kinesis:eu-west-2:123456789012:stream/test-customer-events"
ROLE = "arn:aws:iam::123456789012:role/test-event-processor"
SHARD_A, SHARD_B = "shardId-000000000000", "shardId-000000000001"
_sequences = itertools.count(1)


def raw_record(line: bytes, partition_key: str = "gc-1") -> dict[str, Any]:
    """A record as Kinesis GetRecords returns it (boto3's types)."""
    return {
        "SequenceNumber": f"4959{next(_sequences):052d}",
        "ApproximateArrivalTimestamp": NOW - timedelta(seconds=30),
        "Data": line,
        "PartitionKey": partition_key,
    }


def raw_events(*events: dict[str, Any]) -> list[dict[str, Any]]:
    return [raw_record(json.dumps(event).encode(), event["identity"]["customer_id"]) for event in events]


def on_failure_body(records: list[dict[str, Any]], shard: str = SHARD_A) -> str:
    """The stored on-failure record (AWS's documented shape) pointing at `records`."""
    body = json.loads(ON_FAILURE.read_text())
    body["KinesisBatchInfo"].update(
        shardId=shard,
        startSequenceNumber=records[0]["SequenceNumber"],
        endSequenceNumber=records[-1]["SequenceNumber"],
        batchSize=len(records),
        streamArn=STREAM_ARN,
    )
    return json.dumps(body)


class FakeStream:
    """The stream's records by (shard, first sequence), in Lambda's shape; batches in `gone` have expired."""

    def __init__(self) -> None:
        self.batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.gone: set[tuple[str, str]] = set()

    def holds(self, records: list[dict[str, Any]], shard: str = SHARD_A) -> str:
        body = on_failure_body(records, shard)
        batch = failed_batch(body)
        self.batches[shard, records[0]["SequenceNumber"]] = [
            lambda_record(raw, stream_arn=batch.stream_arn, shard_id=batch.shard_id, invoke_identity_arn=ROLE)
            for raw in records
        ]
        return body

    def read(self, batch: FailedBatch) -> list[dict[str, Any]]:
        key = (batch.shard_id, batch.start_sequence)
        if key in self.gone:
            raise RecordsUnavailableError("the batch's first record is no longer in the stream")
        return self.batches[key]


@pytest.fixture
def world() -> Fakes:
    return fakes()


@pytest.fixture
def invoker(world: Fakes) -> Iterator[InProcessInvoker]:
    from event_processor import dependencies
    from event_processor import handler as module
    from event_processor.processor import CoalescingKinesisProcessor

    dependencies.use(CoalescingKinesisProcessor(world.batch))
    yield InProcessInvoker(module)
    dependencies.use(None)


def _purchase(customer_id: str, order_id: str, amount: str = "40.00") -> dict[str, Any]:
    return event_dict("purchase", identity={"customer_id": customer_id}, order_id=order_id, amount=amount)


def _state(world: Fakes, customer_id: str) -> Any:
    return world.states.items[customer_id][1]


def test_the_documented_on_failure_record_is_read_as_its_batch() -> None:
    batch = failed_batch(ON_FAILURE.read_text())
    assert batch == FailedBatch(
        stream_arn=STREAM_ARN,
        shard_id=SHARD_A,
        start_sequence="49590338271490256608559692538361571095921575989136588898",
        end_sequence="49590338271490256608559692540925702759324208523137515618",
        batch_size=2,
        condition="RetryAttemptsExhausted",
        first_arrival="2026-11-23T12:00:04.835Z",
    )


def test_a_dynamodb_stream_on_failure_record_is_not_a_kinesis_batch() -> None:
    ddb = Path(__file__).parents[1] / "state_publisher" / "events" / "dynamodb_stream_on_failure.json"
    with pytest.raises(InvalidFailureRecordError, match="no KinesisBatchInfo"):
        failed_batch(ddb.read_text())


def test_the_rebuilt_event_is_the_kinesis_event_lambda_delivers() -> None:
    [raw] = raw_events(event_dict("page_view"))
    batch = failed_batch(on_failure_body([raw]))
    record = lambda_record(raw, stream_arn=batch.stream_arn, shard_id=batch.shard_id, invoke_identity_arn=ROLE)
    assert record == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "gc-1",
            "sequenceNumber": raw["SequenceNumber"],
            "data": base64.b64encode(raw["Data"]).decode(),
            "approximateArrivalTimestamp": raw["ApproximateArrivalTimestamp"].timestamp(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{SHARD_A}:{raw['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": ROLE,
        "awsRegion": "eu-west-2",
        "eventSourceARN": STREAM_ARN,
    }


def test_batches_are_applied_oldest_first_per_shard_and_their_messages_deleted(
    world: Fakes, invoker: InProcessInvoker
) -> None:
    # Given two failed batches of one shard whose messages arrive newest first, and one of another shard
    stream = FakeStream()
    first = raw_events(_purchase("gc-1", "o-1"), _purchase("gc-2", "o-2"))
    second = raw_events(_purchase("gc-1", "o-3"))
    other = raw_events(_purchase("gc-9", "o-4"))
    queue = FakeQueue(stream.holds(second), stream.holds(other, SHARD_B), stream.holds(first))
    # When redriven
    results = redrive(EVENTS, queue, stream, apply_through(invoker), max_messages=10)
    # Then the function got the older batch of the shard first, every purchase is in its customer's state
    # and every message is deleted
    firsts = [event["Records"][0]["kinesis"]["sequenceNumber"] for event in invoker.events]
    assert firsts.index(first[0]["SequenceNumber"]) < firsts.index(second[0]["SequenceNumber"])
    assert _state(world, "gc-1").counters["purchases"] == 2
    assert _state(world, "gc-9").counters["purchases"] == 1
    assert "gc-2" in world.states.items
    assert queue.messages == {}
    assert [result.status for result in results] == ["redriven"] * 3
    assert all(line.describe().endswith("message deleted") for line in results)


def test_a_batch_applied_before_is_answered_with_duplicates_and_changes_nothing(
    world: Fakes, invoker: InProcessInvoker
) -> None:
    # Given a batch already applied (the function failed after writing, then gave up)
    stream = FakeStream()
    records = raw_events(_purchase("gc-1", "o-1"), _purchase("gc-1", "o-2"))
    body = stream.holds(records)
    redrive(EVENTS, FakeQueue(body), stream, apply_through(invoker), max_messages=10)
    state, writes = _state(world, "gc-1"), world.states.writes
    # When the same on-failure record is redriven again
    queue = FakeQueue(body)
    [result] = redrive(EVENTS, queue, stream, apply_through(invoker), max_messages=10)
    # Then nothing is written, the state is as it was and the message is deleted
    assert result.status == "redriven"
    assert world.states.writes == writes
    assert _state(world, "gc-1") == state
    assert queue.messages == {}


def test_a_batch_whose_records_left_the_stream_is_kept_and_named(world: Fakes, invoker: InProcessInvoker) -> None:
    stream = FakeStream()
    expired, fresh = raw_events(_purchase("gc-1", "o-1")), raw_events(_purchase("gc-2", "o-2"))
    queue = FakeQueue(stream.holds(expired), stream.holds(fresh))
    stream.gone.add((SHARD_A, expired[0]["SequenceNumber"]))
    results = redrive(EVENTS, queue, stream, apply_through(invoker), max_messages=10)
    [kept] = [result for result in results if result.kept]
    assert kept.status == "records-gone"
    line = kept.describe()
    assert line.startswith("KEPT m-1 ")
    assert expired[0]["SequenceNumber"] in line
    assert "records no longer in the stream (the batch's first record is no longer in the stream)" in line
    assert "these events cannot be redriven" in line
    assert list(queue.messages) == ["m-1"]
    assert queue.released == ["m-1"]
    assert set(world.states.items) == {"gc-2"}


def test_a_batch_the_function_reports_failed_is_kept_and_holds_back_the_shards_later_batches(
    world: Fakes, invoker: InProcessInvoker
) -> None:
    # Given a batch with an invalid record whose dead letter the queue refuses (the function reports it
    # failed), a later batch of the same shard, and one of another shard
    stream = FakeStream()
    first = [*raw_events(_purchase("gc-1", "o-1")), raw_record(b"not json")]
    bad = first[-1]
    later, other = raw_events(_purchase("gc-1", "o-2")), raw_events(_purchase("gc-9", "o-3"))
    queue = FakeQueue(stream.holds(first), stream.holds(later), stream.holds(other, SHARD_B))
    world.dead_letters.rejected.add(bad["SequenceNumber"])
    # When redriven
    results = {r.message_id: r for r in redrive(EVENTS, queue, stream, apply_through(invoker), max_messages=10)}
    # Then the failed batch and the later one of its shard are kept; the other shard's is redriven
    assert {key: result.status for key, result in results.items()} == {
        "m-1": "apply-failed",
        "m-2": "held-back",
        "m-3": "redriven",
    }
    assert sorted(queue.messages) == ["m-1", "m-2"]
    assert "1 of 2 record(s) failed again (batchItemFailures); run the redrive again" in results["m-1"].describe()
    assert "an earlier batch of shardId-000000000000 was not applied" in results["m-2"].describe()
    assert queue.hidden == set()


def test_a_function_error_is_kept_and_reported_by_its_type_only(world: Fakes, invoker: InProcessInvoker) -> None:
    # Given a batch whose every record fails (Powertools then raises, naming the records in its message)
    stream = FakeStream()
    records = [raw_record(b'{"customer_id": "gc-secret"}')]
    world.dead_letters.rejected.add(records[0]["SequenceNumber"])
    queue = FakeQueue(stream.holds(records))
    # When redriven
    [result] = redrive(EVENTS, queue, stream, apply_through(invoker), max_messages=10)
    # Then the message is kept, the line names the error's type and nothing of the payload
    assert result.status == "apply-failed"
    line = result.describe()
    assert "the function failed (Unhandled: BatchProcessingError)" in line
    assert "gc-secret" not in line
    assert records[0]["SequenceNumber"] not in line.split(": ", 1)[1]
    assert list(queue.messages) == ["m-1"]


def test_the_answer_is_read_without_its_text() -> None:
    secret = json.dumps({"errorType": "Customer gc-1 said: no", "errorMessage": "gc-1"}).encode()
    assert invocation(InvokeAnswer("Unhandled", secret), 3).error == "Unhandled"
    timed_out = json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"}).encode()
    assert invocation(InvokeAnswer("Unhandled", timed_out), 3).error == "Unhandled: Sandbox.Timedout"
    assert invocation(InvokeAnswer(None, b'"done"'), 3).error == "an answer without batchItemFailures"
    answer = invocation(InvokeAnswer(None, b'{"batchItemFailures": [{"itemIdentifier": "1"}]}'), 3)
    assert (answer.failed, answer.settled) == (1, False)
    assert invocation(InvokeAnswer(None, b'{"batchItemFailures": []}'), 3).settled


def test_a_dry_run_applies_and_deletes_nothing(world: Fakes, invoker: InProcessInvoker) -> None:
    stream = FakeStream()
    queue = FakeQueue(stream.holds([*raw_events(_purchase("gc-1", "o-1")), raw_record(b"not json")]))
    [result] = redrive(EVENTS, queue, stream, apply_through(invoker), max_messages=10, dry_run=True)
    assert (result.status, result.records, result.changes) == ("would-redrive", 2, 1)
    assert result.describe().endswith("2 record(s), 1 event(s)")
    assert invoker.events == []
    assert world.states.items == {}
    assert list(queue.messages) == ["m-1"]
    assert queue.released == ["m-1"]
    assert not result.kept


def test_an_unreadable_message_is_kept_and_the_others_go_on(world: Fakes, invoker: InProcessInvoker) -> None:
    stream = FakeStream()
    queue = FakeQueue('{"hello": "world"}', stream.holds(raw_events(_purchase("gc-1", "o-1"))))
    results = redrive(EVENTS, queue, stream, apply_through(invoker), max_messages=10)
    assert {result.message_id: result.status for result in results} == {"m-1": "invalid", "m-2": "redriven"}
    assert "no KinesisBatchInfo (not a Kinesis stream on-failure record)" in results[0].describe()
    assert list(queue.messages) == ["m-1"]


def test_no_more_than_max_messages_are_taken(world: Fakes, invoker: InProcessInvoker) -> None:
    stream = FakeStream()
    queue = FakeQueue(*(stream.holds(raw_events(_purchase(f"gc-{n}", f"o-{n}"))) for n in range(25)))
    results = redrive(EVENTS, queue, stream, apply_through(invoker), max_messages=12)
    assert len(results) == 12
    assert len(queue.messages) == 13
    assert len(world.states.items) == 12


class FakeKinesisClient:
    """GetShardIterator/GetRecords over one shard's records, a record a page; an AT_SEQUENCE_NUMBER iterator
    starts at the first record at or after the number (where a trimmed record's iterator starts)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.requests: list[dict[str, Any]] = []

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        start = int(request["StartingSequenceNumber"]) + (request["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER")
        at = next((n for n, r in enumerate(self.records) if int(r["SequenceNumber"]) >= start), len(self.records))
        return {"ShardIterator": str(at)}

    def get_records(self, ShardIterator: str, Limit: int, StreamARN: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        assert StreamARN == STREAM_ARN
        at = int(ShardIterator)
        return {"Records": self.records[at : at + 1], "NextShardIterator": str(at + 1)}


def test_the_reader_reads_a_batch_by_the_stream_arn_up_to_its_last_record() -> None:
    records = raw_events(_purchase("gc-1", "o-1"), _purchase("gc-2", "o-2"), _purchase("gc-3", "o-3"))
    client = FakeKinesisClient(records)
    read = KinesisStreamReader(client, invoke_identity_arn=ROLE).read(failed_batch(on_failure_body(records[:2])))
    assert [record["kinesis"]["sequenceNumber"] for record in read] == [r["SequenceNumber"] for r in records[:2]]
    assert client.requests == [
        {
            "StreamARN": STREAM_ARN,
            "ShardId": SHARD_A,
            "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "StartingSequenceNumber": records[0]["SequenceNumber"],
        }
    ]


def test_a_batch_whose_first_record_expired_is_gone() -> None:
    records = raw_events(_purchase("gc-1", "o-1"), _purchase("gc-2", "o-2"))
    batch = failed_batch(on_failure_body(records))
    with pytest.raises(RecordsUnavailableError, match="first record is no longer in the stream"):
        KinesisStreamReader(FakeKinesisClient(records[1:]), invoke_identity_arn=ROLE).read(batch)


def test_a_deleted_stream_is_gone() -> None:
    records = raw_events(_purchase("gc-1", "o-1"))

    class Deleted(FakeKinesisClient):
        def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
            error = {"Code": "ResourceNotFoundException", "Message": "Stream not found"}
            raise ClientError({"Error": error}, "GetShardIterator")

    with pytest.raises(RecordsUnavailableError, match="ResourceNotFoundException"):
        KinesisStreamReader(Deleted(records), invoke_identity_arn=ROLE).read(failed_batch(on_failure_body(records)))
