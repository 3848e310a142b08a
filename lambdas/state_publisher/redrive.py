"""Redrive of the changes the publisher gave up on, from the stream mapping's on-failure queue.

When a batch exhausts its retries (or its records grow too old), Lambda sends the
on-failure queue a record of *where* the batch was, not the batch itself:

    {"requestContext": {"condition": "RetryAttemptsExhausted", ...}, "version": "1.0", "timestamp": ...,
     "DDBStreamBatchInfo": {"shardId": ..., "startSequenceNumber": ..., "endSequenceNumber": ...,
                            "approximateArrivalOfFirstRecord": ..., "approximateArrivalOfLastRecord": ...,
                            "batchSize": ..., "streamArn": ...}}

The records themselves stay in the stream for 24 hours only. The redrive reads
them back (GetShardIterator AT_SEQUENCE_NUMBER, GetRecords until past the end),
rebuilds the event Lambda would have delivered and runs it through the same
fan-out, ordered processor and idempotency table as the function: a change
published before is answered from the table, not put on the bus again.

Redriven changes arrive late and out of order: by the time a batch is given up
on, the stream mapping has moved past it and published the same customers'
later changes. Channels put them in order by `sequence`/`version` and
de-duplicate on `change_id` (docs/channel-subscriptions.md); the redrive only
avoids adding disorder of its own (oldest batch of a shard first, within what
it has received, and a shard's later batches held back behind one that failed).

The queue is taken one page (at most 10 messages) at a time: a page is received,
worked through and its redriven messages deleted before the next is received,
so no receipt handle is used long after it was received. A message is deleted
only once every record of its batch is published; one whose records have left
the stream, or whose publish failed, is kept in the queue and named in the
report. Kept messages stay hidden until the run ends (so a later page does not
take them again) and are then made visible again, as is any message the run did
not reach when it stopped on an error.

This module is the run; the on-failure record and the ports it works through are
in `state_publisher.redrive_ports`, their SQS and DynamoDB Streams adapters in
`state_publisher.redrive_aws`, and `omni state-changes redrive` (`omni_cli.state`)
parses the arguments and wires them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from state_publisher.changes import state_change
from state_publisher.decoding import InvalidStreamRecordError, decode_change
from state_publisher.fanout import StateFanOut
from state_publisher.processor import publish_batch
from state_publisher.redrive_ports import (
    FailedBatch,
    FailureQueue,
    InvalidFailureRecordError,
    QueuedMessage,
    QueueOperationError,
    RecordsUnavailableError,
    StreamReader,
    failed_batch,
)


class RedriveStoppedError(Exception):
    """The run stopped on an error; `results` is the report of every message it had taken until then."""

    def __init__(self, cause: BaseException, results: list[MessageResult]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.results = results


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    published: int = 0
    replayed: int = 0  # published before (by the function or an earlier redrive): not put on the bus again
    unchanged: int = 0
    failed: int = 0  # records reported failed (or held back behind a failed change of the same customer)


BatchPublisher = Callable[[dict[str, Any]], BatchOutcome]

Status = Literal[
    "redriven",
    "would-redrive",
    "records-gone",
    "publish-failed",
    "held-back",
    "invalid",
    "not-deleted",
    "not-reached",
]
KEPT: frozenset[Status] = frozenset(
    {"records-gone", "publish-failed", "held-back", "invalid", "not-deleted", "not-reached"}
)


@dataclass(frozen=True, slots=True)
class MessageResult:
    message_id: str
    status: Status
    batch: FailedBatch | None = None
    records: int = 0
    changes: int = 0  # dry run: the records that would publish a change (some may be replays)
    outcome: BatchOutcome | None = None
    reason: str = ""
    release_error: str = ""  # the queue refused to make the message visible again (it reappears by itself)

    @property
    def kept(self) -> bool:
        return self.status in KEPT

    def describe(self) -> str:
        """One line for the operator: ids, pointers and counts only (never an image)."""
        line = self._describe()
        if self.release_error:
            line += f"; not made visible again ({self.release_error}): it reappears when its visibility timeout ends"
        return line

    def _describe(self) -> str:
        where = ""
        if self.batch is not None:
            where = f" {self.batch.shard_id} {self.batch.start_sequence}..{self.batch.end_sequence}"
        o = self.outcome
        if self.status == "redriven" and o is not None:
            return (
                f"redriven {self.message_id}{where}: {self.records} record(s), {o.published} published, "
                f"{o.replayed} already published, {o.unchanged} unchanged; message deleted"
            )
        if self.status == "not-deleted" and o is not None:
            return (
                f"KEPT {self.message_id}{where}: {self.records} record(s), {o.published} published, "
                f"{o.replayed} already published, {o.unchanged} unchanged; message NOT deleted ({self.reason}):"
                " a later run finds its changes already published"
            )
        if self.status == "would-redrive":
            return f"would redrive {self.message_id}{where}: {self.records} record(s), {self.changes} change(s)"
        if self.status == "publish-failed" and o is not None:
            return (
                f"KEPT {self.message_id}{where}: {o.failed} record(s) not published ({o.published} published, "
                f"{o.replayed} already published); run the redrive again"
            )
        return f"KEPT {self.message_id}{where}: {self.reason}"


# How long a change's idempotency claim lasts if the redrive dies while publishing it: after that the function
# (or the next redrive) may publish it, instead of waiting for the claim's 48-hour expiry.
CLAIM_SECONDS = 60


class _ClaimWindow:
    """Stands in for the Lambda context Powertools reads the in-progress expiry from (there is none here)."""

    def get_remaining_time_in_millis(self) -> int:
        return CLAIM_SECONDS * 1000


def publish_through(fanout: StateFanOut) -> BatchPublisher:
    """The function's own path: the ordered batch processor over the fan-out and its idempotency table."""

    def publish(event: dict[str, Any]) -> BatchOutcome:
        response, report, _ = publish_batch(fanout, event, cast(LambdaContext, _ClaimWindow()))
        return BatchOutcome(report.published, report.replayed, report.unchanged, len(response["batchItemFailures"]))

    return publish


# Pages in a row that bring back only messages the run has already taken (kept ones whose visibility ran out)
# before the run ends: they are hidden again each time, so the next page reaches further into the queue.
MAX_STALE_PAGES = 3


def redrive(
    queue: FailureQueue,
    reader: StreamReader,
    publish: BatchPublisher,
    *,
    max_messages: int,
    dry_run: bool = False,
) -> list[MessageResult]:
    """Redrive up to `max_messages` on-failure messages, a page (at most 10) at a time, oldest batch of each
    shard first within the page.

    A shard whose batch could not be published holds back its later batches (kept), in this page and the
    ones after, so the redrive adds no disorder of its own; batches whose records are gone do not block
    (nothing of them can go). The kept messages, and any the run did not reach, are made visible again at the
    end whatever happens. An AWS error stops the run: RedriveStoppedError carries the report until then.
    """
    run = _Run(queue, reader, publish, dry_run=dry_run)
    stopped: BaseException | None = None
    try:
        run.take(max_messages)
    except (ClientError, BotoCoreError) as error:
        stopped = error
    finally:
        run.release_held()
    if stopped is not None:
        raise RedriveStoppedError(stopped, run.report()) from stopped
    return run.report()


class _Run:
    def __init__(self, queue: FailureQueue, reader: StreamReader, publish: BatchPublisher, *, dry_run: bool) -> None:
        self._queue = queue
        self._reader = reader
        self._publish = publish
        self._dry_run = dry_run
        self._results: dict[str, MessageResult] = {}
        self._held: dict[str, QueuedMessage] = {}  # taken and still hidden: released at the end
        # Per shard, the first sequence number of the oldest batch that failed: later batches wait behind it.
        self._blocked: dict[tuple[str, str], int] = {}

    def take(self, max_messages: int) -> None:
        taken, stale = 0, 0
        while taken < max_messages and stale < MAX_STALE_PAGES:
            page = self._queue.receive(min(10, max_messages - taken))
            if not page:
                return
            fresh = self._fresh(page)
            stale = 0 if fresh else stale + 1
            taken += len(fresh)
            self._work_through(fresh)

    def _fresh(self, page: list[QueuedMessage]) -> list[QueuedMessage]:
        """The page's messages not taken before; one taken before is hidden again under its newest handle."""
        fresh: list[QueuedMessage] = []
        for message in page:
            if message.message_id in self._held:
                self._held[message.message_id] = message
            elif message.message_id in self._results:
                self._delete_again(message)
            elif all(message.message_id != other.message_id for other in fresh):
                fresh.append(message)
                self._held[message.message_id] = message
        return fresh

    def _delete_again(self, message: QueuedMessage) -> None:
        """A redriven message received again (SQS delivers at least once): delete it under this handle."""
        try:
            self._queue.delete(message)
        except QueueOperationError as error:
            self._held[message.message_id] = message
            earlier = self._results[message.message_id]
            self._results[message.message_id] = replace(earlier, status="not-deleted", reason=error.reason)

    def _work_through(self, page: list[QueuedMessage]) -> None:
        batches: list[tuple[FailedBatch, QueuedMessage]] = []
        for message in page:
            try:
                batches.append((failed_batch(message.body), message))
            except InvalidFailureRecordError as error:
                self._results[message.message_id] = MessageResult(
                    message.message_id, "invalid", reason=f"not redriven: {error}"
                )
        batches.sort(key=lambda pair: (pair[0].shard, int(pair[0].start_sequence)))
        for batch, message in batches:
            result = self._redrive_one(batch, message)
            if result.status == "publish-failed":
                start = int(batch.start_sequence)
                self._blocked[batch.shard] = min(start, self._blocked.get(batch.shard, start))
            if result.status == "redriven":
                result = self._delete(result, self._held[message.message_id])
            self._results[message.message_id] = result

    def _redrive_one(self, batch: FailedBatch, message: QueuedMessage) -> MessageResult:
        failed_at = self._blocked.get(batch.shard)
        if failed_at is not None and int(batch.start_sequence) > failed_at:
            reason = f"held back: an earlier batch of {batch.shard_id} was not published (run the redrive again)"
            return MessageResult(message.message_id, "held-back", batch, reason=reason)
        return _redrive_one(batch, message, self._reader, self._publish, dry_run=self._dry_run)

    def _delete(self, result: MessageResult, message: QueuedMessage) -> MessageResult:
        try:
            self._queue.delete(message)
        except QueueOperationError as error:
            return replace(result, status="not-deleted", reason=error.reason)
        del self._held[message.message_id]
        return result

    def release_held(self) -> None:
        """Make every message still hidden visible again; a refusal is noted on its line, the rest go on."""
        for message_id, message in list(self._held.items()):
            result = self._results.get(message_id) or MessageResult(
                message_id, "not-reached", reason="not reached (the run stopped); made visible again"
            )
            try:
                self._queue.release(message)
            except QueueOperationError as error:
                result = replace(result, release_error=error.reason)
            self._results[message_id] = result
            del self._held[message_id]

    def report(self) -> list[MessageResult]:
        return list(self._results.values())


def _redrive_one(
    batch: FailedBatch,
    message: QueuedMessage,
    reader: StreamReader,
    publish: BatchPublisher,
    *,
    dry_run: bool,
) -> MessageResult:
    try:
        records = reader.read(batch)
    except RecordsUnavailableError as error:
        reason = (
            f"records no longer in the stream ({error.reason}): these changes cannot be redriven; the message is"
            " kept for the record (see the runbook)"
        )
        return MessageResult(message.message_id, "records-gone", batch, reason=reason)
    if dry_run:
        return MessageResult(message.message_id, "would-redrive", batch, len(records), _changes(records))
    outcome = publish({"Records": records})
    status: Status = "publish-failed" if outcome.failed else "redriven"
    return MessageResult(message.message_id, status, batch, len(records), outcome=outcome)


def _changes(records: list[dict[str, Any]]) -> int:
    """How many records would publish a change (an undecodable record counts: it would fail, not vanish)."""
    count = 0
    for record in records:
        try:
            count += state_change(decode_change(DynamoDBRecord(record))) is not None
        except InvalidStreamRecordError:
            count += 1
    return count
