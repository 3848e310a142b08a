"""The stream poller behaves as Lambda's Kinesis event source mapping with ReportBatchItemFailures.

A failed record sends the batch again from the earliest failed record onward (later
records that succeeded included, so the handler sees duplicates); a batch still failing
after MaximumRetryAttempts goes to the mapping's on-failure destination as an on-failure
record; "no event lost" adds up from what moto holds.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from event_processor.aws import DynamoDBStateStore
from event_processor.ports import StoreUnavailableError
from sandbox.context import Progress, RunContext, Sizes
from sandbox.platform import LocalPlatform, local_platform
from sandbox.steps import journeys
from sandbox.templates import CloudAssembly


@pytest.fixture
def context(dev_templates: CloudAssembly, tmp_path: Path) -> Iterator[RunContext]:
    with local_platform(templates=dev_templates) as platform:
        yield RunContext(platform, Sizes(customers=0, journeys=0, seed=3), tmp_path, Progress(stream=None))


def _events(customers: list[str]) -> list[bytes]:
    """One complaint (additive: remembered in the ledger) and one page view per customer, in this order."""
    documents = []
    for number, customer in enumerate(customers):
        for kind, payload in (
            ("complaint", {"complaint_id": f"cp-{number}", "category": "billing", "severity": "low"}),
            ("page_view", {"page": "/help"}),
        ):
            event = {
                "event_id": f"ev-{number}-{kind}",
                "occurred_at": f"2025-01-01T10:{number:02d}:00Z",
                "event_type": kind,
                "channel": "web",
                "identity": {"customer_id": customer},
                "payload": payload,
            }
            documents.append(json.dumps(event).encode())
    return documents


def _failing_writes(monkeypatch: pytest.MonkeyPatch, failures: dict[str, int]) -> Counter[str]:
    """The state store refuses a customer's first `failures[customer]` writes (StoreUnavailableError)."""
    original = DynamoDBStateStore.write
    attempts: Counter[str] = Counter()

    def write(self: DynamoDBStateStore, customer_id: str, *args: Any, **kwargs: Any) -> None:
        attempts[customer_id] += 1
        if attempts[customer_id] <= failures.get(customer_id, 0):
            raise StoreUnavailableError("sandbox test")
        original(self, customer_id, *args, **kwargs)

    monkeypatch.setattr(DynamoDBStateStore, "write", write)
    return attempts


def _run(context: RunContext, customers: list[str]) -> journeys.JourneysResult:
    platform: LocalPlatform = context.platform
    journeys.put_on_stream(context, _events(customers))
    tally = journeys.StreamTally()
    journeys.consume(context, tally)
    messages, records = journeys.failed_batches(context)
    in_ledgers, items = journeys.additive_in_ledgers(context)
    dead_letters = platform.queue_depth(
        platform.function_environment(journeys.PROCESSOR)["EVENT_DEAD_LETTER_QUEUE_URL"]
    )
    return journeys.JourneysResult(
        journeys=Counter(),
        events_in=2 * len(customers),
        read_back=len(tally.read_back),
        invalid_sent=0,
        duplicates_sent=0,
        events_by_type=Counter(),
        tally=tally,
        dead_letter_messages=dead_letters,
        failed_batch_records=records,
        on_failure_messages=messages,
        additive_reported=sum(n for (kind, _), n in tally.applied.items() if kind in journeys.ADDITIVE_TYPES),
        additive_in_ledgers=in_ledgers,
        state_items=items,
        bus_events=Counter(),
        sample_triggers=[],
        events_per_second=0.0,
    )


def test_a_failed_record_resends_the_batch_from_it_onward(context: RunContext, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = _failing_writes(monkeypatch, {"gc-flaky": 1})
    result = _run(context, ["gc-first", "gc-flaky", "gc-later"])
    tally = result.tally
    assert tally.batches == 2
    assert attempts["gc-flaky"] == 2
    # Checkpointed before gc-flaky's records; those and gc-later's (already applied) are sent again.
    assert tally.retried_records == 4
    assert tally.duplicates == 2  # gc-later's complaint and page view, already in its ledger
    assert tally.counted_twice == 2  # those two, seen again
    assert result.read_back == result.accounted == result.events_in == 6
    assert result.additive_in_ledgers == result.additive_reported == 3
    assert result.failed_batch_records == result.on_failure_messages == 0
    assert result.consistent, result


def test_an_exhausted_batch_goes_to_the_on_failure_destination(
    context: RunContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = context.platform.event_sources(journeys.PROCESSOR)[0]
    retries = int(mapping.properties["MaximumRetryAttempts"])
    assert mapping.properties["BisectBatchOnFunctionError"]
    attempts = _failing_writes(monkeypatch, {"gc-broken": 1_000})
    result = _run(context, ["gc-fine", "gc-broken"])
    # Attempt 1 fails gc-broken's two records (a partial failure); the resend fails entirely (a function error),
    # so it is split in two and each half retried until the retries are spent.
    assert attempts["gc-broken"] == 2 + 2 * (retries - 1)
    assert result.on_failure_messages == 2
    assert result.failed_batch_records == result.tally.failed_after_retries == 2
    assert result.read_back == result.accounted == result.events_in == 4
    assert result.consistent, result
    queue = journeys.on_failure_queue(context)
    assert queue is not None
    assert "FailedBatches" in queue
    bodies = [json.loads(text) for text in context.platform.peek(queue)]
    assert {body["requestContext"]["condition"] for body in bodies} == {"RetryAttemptsExhausted"}
    assert {body["requestContext"]["approximateInvokeCount"] for body in bodies} == {retries + 1}
    assert sorted(body["KinesisBatchInfo"]["batchSize"] for body in bodies) == [1, 1]
    shards = context.platform.client("kinesis").list_shards(StreamName=context.platform.stream("customer-events"))
    for body in bodies:
        info = body["KinesisBatchInfo"]
        assert info["streamArn"] == context.platform.stream_arn("customer-events")
        assert info["shardId"] in {shard["ShardId"] for shard in shards["Shards"]}
        assert info["startSequenceNumber"] == info["endSequenceNumber"]
