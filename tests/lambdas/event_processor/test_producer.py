"""The producer: batching within Kinesis limits, retrying only the failed records (botocore Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from omni_domain.event_producer import (
    MAX_BYTES_PER_CALL,
    Backoff,
    EventRecord,
    RecordTooLargeError,
    UndeliveredEventsError,
    batches,
    send_events,
    to_record,
)

from ..conftest import REGION
from .conftest import event


def _no_wait() -> tuple[Backoff, list[float]]:
    pauses: list[float] = []
    return Backoff(sleep=pauses.append, uniform=lambda low, high: high), pauses


def _ok(count: int) -> dict[str, Any]:
    return {"Records": [{"SequenceNumber": "1", "ShardId": "shardId-0"}] * count}


def test_batches_respect_the_record_and_byte_limits() -> None:
    small = [EventRecord(f"e{n}", b"x" * 100, "k") for n in range(1_201)]
    assert [len(batch) for batch in batches(small)] == [500, 500, 201]
    big = [EventRecord(f"e{n}", b"x" * (1024 * 1024 - 10), "k") for n in range(11)]
    sizes = [sum(record.size for record in batch) for batch in batches(big)]
    assert all(size <= MAX_BYTES_PER_CALL for size in sizes)
    assert [len(batch) for batch in batches(big)] == [5, 5, 1]


def test_an_oversized_event_is_refused_before_anything_is_sent() -> None:
    huge = event("app_event", properties={f"k{n}": "x" * 60_000 for n in range(18)})
    with pytest.raises(RecordTooLargeError, match="at most 1048576"):
        to_record(huge)


def test_only_failed_records_are_sent_again_with_backoff() -> None:
    # Given 3 events, the second throttled on the first call
    client = boto3.client("kinesis", region_name=REGION)
    events = [event("page_view", identity={"email": f"user{n}@example.com"}) for n in range(3)]
    records = [to_record(item) for item in events]
    stubber = Stubber(client)
    stubber.add_response(
        "put_records",
        {
            "FailedRecordCount": 1,
            "Records": [
                {"SequenceNumber": "1", "ShardId": "shardId-0"},
                {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"},
                {"SequenceNumber": "3", "ShardId": "shardId-1"},
            ],
        },
        {
            "StreamName": "s",
            "Records": [{"Data": record.data, "PartitionKey": record.partition_key} for record in records],
        },
    )
    # Then the retry carries the second record only
    stubber.add_response(
        "put_records",
        _ok(1),
        {"StreamName": "s", "Records": [{"Data": records[1].data, "PartitionKey": records[1].partition_key}]},
    )
    backoff, pauses = _no_wait()
    with stubber:
        summary = send_events(client, "s", events, backoff=backoff)
        stubber.assert_no_pending_responses()
    assert (summary.events, summary.calls, summary.retried) == (3, 2, 1)
    assert pauses == [0.1]


def test_the_partition_key_is_the_hashed_identity() -> None:
    one = to_record(event("page_view", identity={"email": "Ada@Example.com"}))
    two = to_record(event("purchase", identity={"email": "ada@example.com "}))
    assert one.partition_key == two.partition_key
    assert "ada" not in one.partition_key
    assert len(one.partition_key) == 64


def test_records_still_failing_after_the_last_attempt_are_raised_not_dropped() -> None:
    client = boto3.client("kinesis", region_name=REGION)
    stubber = Stubber(client)
    failure = {"FailedRecordCount": 1, "Records": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]}
    for _ in range(3):
        stubber.add_response("put_records", failure, {"StreamName": "s", "Records": ANY})
    backoff, pauses = _no_wait()
    item = event("page_view")
    with stubber, pytest.raises(UndeliveredEventsError) as raised:
        send_events(client, "s", [item], backoff=Backoff(max_attempts=3, sleep=pauses.append, uniform=backoff.uniform))
    assert [failed.event_id for failed in raised.value.failed] == [item.event_id]
    assert raised.value.failed[0].error_code == "InternalFailure"
    assert pauses == [0.1, 0.2]
