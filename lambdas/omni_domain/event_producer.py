"""Put customer events on the stream: batched `put_records`, retrying only what failed.

Kinesis limits (PutRecords): at most 500 records and 5 MiB per call, 1 MiB per
record (data plus partition key). A call can succeed while some of its records
fail (throughput exceeded, internal error): those, and only those, are sent
again after an exponential backoff with full jitter, up to `max_attempts`.
Nothing is dropped silently: what is still unsent after the last attempt is
raised in `UndeliveredEventsError`, with the error code of each event.

Records of one identity keep their relative order within a call, but a retried
record lands after the ones that succeeded: the processor is order-tolerant
(last writer wins by `occurred_at`), so that is safe.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from omni_domain.customer_events import CustomerEvent, event_json

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024


@dataclass(frozen=True, slots=True)
class EventRecord:
    event_id: str
    data: bytes
    partition_key: str

    @property
    def size(self) -> int:
        # Kinesis counts the partition key (UTF-8) against both limits.
        return len(self.data) + len(self.partition_key.encode())


@dataclass(frozen=True, slots=True)
class FailedEvent:
    event_id: str
    error_code: str
    error_message: str


@dataclass
class SendSummary:
    events: int = 0
    calls: int = 0
    retried: int = 0
    attempts: int = 0
    shards: set[str] = field(default_factory=set)


class RecordTooLargeError(ValueError):
    def __init__(self, event_id: str, size: int) -> None:
        super().__init__(f"event {event_id} is {size} bytes; a Kinesis record holds at most {MAX_BYTES_PER_RECORD}")
        self.event_id = event_id


class UndeliveredEventsError(Exception):
    """Events still not accepted after the last attempt; `summary` counts what was sent."""

    def __init__(self, failed: Sequence[FailedEvent], summary: SendSummary) -> None:
        codes = sorted({failure.error_code for failure in failed})
        super().__init__(f"{len(failed)} event(s) not accepted after {summary.attempts} attempts ({', '.join(codes)})")
        self.failed = list(failed)
        self.summary = summary


def to_record(event: CustomerEvent) -> EventRecord:
    record = EventRecord(event.event_id, event_json(event), event.identity.partition_key)
    if record.size > MAX_BYTES_PER_RECORD:
        raise RecordTooLargeError(event.event_id, record.size)
    return record


def batches(records: Iterable[EventRecord]) -> Iterator[list[EventRecord]]:
    """Consecutive groups within both per-call limits, in the given order."""
    batch: list[EventRecord] = []
    size = 0
    for record in records:
        if batch and (len(batch) == MAX_RECORDS_PER_CALL or size + record.size > MAX_BYTES_PER_CALL):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += record.size
    if batch:
        yield batch


@dataclass(frozen=True)
class Backoff:
    """Full jitter: sleep a uniform time in [0, min(cap, base * 2**retry)] (AWS architecture blog)."""

    base_seconds: float = 0.1
    cap_seconds: float = 5.0
    max_attempts: int = 6
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = random.uniform

    def pause(self, retry: int) -> None:
        self.sleep(self.uniform(0, min(self.cap_seconds, self.base_seconds * 2**retry)))


def send_events(
    client: Any,
    stream_name: str,
    events: Iterable[CustomerEvent],
    *,
    backoff: Backoff | None = None,
    progress: Callable[[SendSummary], None] | None = None,
) -> SendSummary:
    """Put `events` on `stream_name`; returns the summary or raises UndeliveredEventsError.

    Every record is checked against the size limit before the first call, so an
    oversized event fails the run before anything is sent.
    """
    policy = backoff or Backoff()
    records = [to_record(event) for event in events]
    summary = SendSummary(events=len(records))
    failed: list[FailedEvent] = []
    for batch in batches(records):
        failed += _send_batch(client, stream_name, batch, policy, summary)
        if progress:
            progress(summary)
    if failed:
        raise UndeliveredEventsError(failed, summary)
    return summary


def _send_batch(
    client: Any, stream_name: str, batch: list[EventRecord], policy: Backoff, summary: SendSummary
) -> list[FailedEvent]:
    pending = batch
    failures: list[FailedEvent] = []
    for attempt in range(policy.max_attempts):
        if attempt:
            policy.pause(attempt - 1)
            summary.retried += len(pending)
        summary.calls += 1
        summary.attempts = max(summary.attempts, attempt + 1)
        response = client.put_records(
            StreamName=stream_name,
            Records=[{"Data": record.data, "PartitionKey": record.partition_key} for record in pending],
        )
        retry: list[EventRecord] = []
        failures = []
        # Results are positional: entry i answers record i of the request.
        for record, result in zip(pending, response["Records"], strict=True):
            if "ErrorCode" in result:
                retry.append(record)
                failures.append(FailedEvent(record.event_id, result["ErrorCode"], result.get("ErrorMessage", "")))
            else:
                summary.shards.add(result["ShardId"])
        if not retry:
            return []
        pending = retry
    return failures
