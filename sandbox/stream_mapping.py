"""A stream's event source mapping as Lambda runs it, for the Kinesis and the DynamoDB-stream steps alike.

With `ReportBatchItemFailures`, Lambda checkpoints before the earliest record the
function reports failed and sends the batch again from there, later records that
had succeeded included. A function error (it raised, crashed or timed out) fails
the whole batch; with `BisectBatchOnFunctionError` the batch is split in two and
each half retried with the retries left. After `MaximumRetryAttempts` (-1: until
the records expire) the batch is given up: Lambda sends its metadata, not its
records, to the on-failure destination (`KinesisBatchInfo` or
`DDBStreamBatchInfo`: shard, first and last sequence numbers, batch size) and
goes on with the shard. Every setting comes from the mapping in the template.

`MaximumRecordAgeInSeconds` never binds here: a sandbox run lasts seconds, far
less than any mapping's age limit, so the retries are what run out.

What each attempt did is counted on the step's tally (`MappingTally`); the
faults that failed the batch are settled by what settled it: the retry, the
bisection, or the on-failure destination.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sandbox.faults import FaultInjector, FunctionTimedOut
from sandbox.platform import LocalPlatform
from sandbox.templates import EventSource

UNTIL_EXPIRED = 10_000  # attempts standing in for MaximumRetryAttempts -1 (the records expire long after)


@dataclass(frozen=True)
class StreamKind:
    """What differs between a Kinesis and a DynamoDB stream's records, as the mapping handles them."""

    batch_info: str  # the on-failure record's key for the batch's metadata
    sequence: Callable[[dict[str, Any]], str]  # the record's sequence number (the batch item failure's identifier)
    arrival: Callable[[dict[str, Any]], Any]  # when the record reached the stream


KINESIS = StreamKind(
    "KinesisBatchInfo",
    lambda record: str(record["SequenceNumber"]),
    lambda record: record.get("ApproximateArrivalTimestamp"),
)
DYNAMODB = StreamKind(
    "DDBStreamBatchInfo",
    lambda record: str(record["dynamodb"]["SequenceNumber"]),
    lambda record: record["dynamodb"].get("ApproximateCreationDateTime"),
)


@dataclass(frozen=True)
class Poll:
    """Where a batch comes from and where it goes: the function, its event source mapping and the shard."""

    handler: str
    mapping: EventSource
    kind: StreamKind
    shard_id: str
    stream_arn: str
    on_failure_queue: str | None  # the mapping's on-failure destination (None: the mapping has none)
    event: Callable[[list[dict[str, Any]]], dict[str, Any]]  # the Lambda event of a batch


class MappingTally(Protocol):
    """The counts a step keeps of the mapping's work (its own tally has these fields)."""

    retried_records: int  # records sent again (from the earliest failed record onward, or a bisected half)
    failed_after_retries: int  # records of batches given up to the on-failure destination
    counted_twice: int  # settled records the function saw again (a resend, or an exhausted batch's last attempt)
    crashed_invocations: int  # invocations that died before answering
    handler_seconds: float


def on_failure_queue(platform: LocalPlatform, mapping: EventSource) -> str | None:
    """The queue of the mapping's on-failure destination (None: the mapping has none)."""
    destination = mapping.properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if destination is None:
        return None
    return platform.queue_url_of(str(platform.resolver.resolve(destination, platform.function(mapping.handler).stack)))


def deliver(
    platform: LocalPlatform,
    batch: list[dict[str, Any]],
    poll: Poll,
    tally: MappingTally,
    *,
    faults: FaultInjector | None = None,
    answered: Callable[[Any], None] = lambda response: None,  # each answer the function gave (not a crash's)
) -> bool:
    """One batch until every record settled (True) or the retries ran out and it went to the on-failure destination."""
    retries = int(poll.mapping.properties.get("MaximumRetryAttempts", -1))
    attempts = retries + 1 if retries >= 0 else UNTIL_EXPIRED
    return _attempt(platform, batch, poll, tally, faults=faults, answered=answered, attempts_left=attempts)


def _attempt(
    platform: LocalPlatform,
    batch: list[dict[str, Any]],
    poll: Poll,
    tally: MappingTally,
    *,
    faults: FaultInjector | None,
    answered: Callable[[Any], None],
    attempts_left: int,
    invocations: int = 0,
    retried_by: str = "retry (Lambda)",  # what absorbs a fault that failed this batch, should a later attempt settle it
) -> bool:
    sequence = [poll.kind.sequence(record) for record in batch]
    settled_before: frozenset[str] = frozenset()  # records of this batch a previous attempt settled
    while True:
        started = time.perf_counter()
        crashed = False
        try:
            response = platform.invoke(poll.handler, poll.event(batch))
            function_error = False
        except FunctionTimedOut:  # died mid-batch (an injected crash): no answer, its report lost with it
            response, function_error, crashed = {}, True, True
        except Exception:  # noqa: BLE001 - a function error: Lambda retries (Powertools raises when every record failed)
            response, function_error = {}, True
        tally.handler_seconds += time.perf_counter() - started
        invocations += 1
        attempts_left -= 1
        if crashed:
            tally.crashed_invocations += 1
        else:
            answered(response)
        tally.counted_twice += sum(1 for number in sequence if number in settled_before)
        if function_error:
            failed = set(sequence)
        else:
            failed = {failure["itemIdentifier"] for failure in (response or {}).get("batchItemFailures", [])}
        if not failed:
            _settle(faults, retried_by)
            return True
        settled_before = frozenset(number for number in sequence if number not in failed)
        if attempts_left <= 0:
            break
        if function_error and poll.mapping.properties.get("BisectBatchOnFunctionError") and len(batch) > 1:
            # The batch is split in two and each half retried, with the retries left.
            middle = len(batch) // 2
            settled = True
            for half in (batch[:middle], batch[middle:]):
                tally.retried_records += len(half)
                settled &= _attempt(
                    platform,
                    half,
                    poll,
                    tally,
                    faults=faults,
                    answered=answered,
                    attempts_left=attempts_left,
                    invocations=invocations,
                    retried_by="bisect",
                )
            return settled
        # Lambda checkpoints before the earliest failed record and sends the rest again, successes included.
        earliest = min(index for index, number in enumerate(sequence) if number in failed)
        batch, sequence = batch[earliest:], sequence[earliest:]
        tally.retried_records += len(batch)
        retried_by = "retry (Lambda)"
    # Retries exhausted: the records this last attempt settled are in its report and in the on-failure record.
    tally.counted_twice += len(settled_before)
    tally.failed_after_retries += len(batch)
    if poll.on_failure_queue is None:
        _settle(faults, "NOT absorbed: discarded (the mapping has no on-failure destination)")
        return False
    _settle(faults, "on-failure queue")
    _on_failure(platform, batch, poll, invocations)
    return False


def _settle(faults: FaultInjector | None, how: str) -> None:
    """The injected faults that failed the batch so far, absorbed by what settled it (or gave it up)."""
    if faults is not None:
        faults.settle_pending(how)


def _on_failure(platform: LocalPlatform, batch: list[dict[str, Any]], poll: Poll, attempts: int) -> None:
    """Lambda's on-failure record of an exhausted batch (its metadata, not its records) in the destination queue."""
    arrivals = [_stamp(poll.kind.arrival(record)) for record in batch]
    record = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": platform.context_for(poll.handler).invoked_function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "version": "1.0",
        "timestamp": _stamp(datetime.now(UTC)),
        poll.kind.batch_info: {
            "shardId": poll.shard_id,
            "startSequenceNumber": poll.kind.sequence(batch[0]),
            "endSequenceNumber": poll.kind.sequence(batch[-1]),
            "approximateArrivalOfFirstRecord": arrivals[0],
            "approximateArrivalOfLastRecord": arrivals[-1],
            "batchSize": len(batch),
            "streamArn": poll.stream_arn,
        },
    }
    platform.client("sqs").send_message(QueueUrl=str(poll.on_failure_queue), MessageBody=json.dumps(record))


def failed_batches(platform: LocalPlatform, mapping: EventSource, kind: StreamKind) -> tuple[int, int]:
    """The on-failure records waiting in the mapping's destination queue (moto) and the records they cover."""
    queue = on_failure_queue(platform, mapping)
    if queue is None:
        return 0, 0
    bodies = [json.loads(body) for body in platform.peek(queue)]
    return len(bodies), sum(int(body[kind.batch_info]["batchSize"]) for body in bodies)


def _stamp(value: Any) -> str:
    if isinstance(value, int | float):  # a DynamoDB stream record's creation time, in epoch seconds
        value = datetime.fromtimestamp(value, UTC)
    moment = value if isinstance(value, datetime) else datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
