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
avoids adding disorder of its own.

The run (a page of the queue at a time, deleting a message only once every
record of its batch is published, keeping and naming the others) is
`stream_redrive.run`'s, shared with the event processor's redrive; this module
says what is particular to the state publisher: the DynamoDB stream's on-failure
record, publishing a batch through the fan-out, and the dry run's count. The
DynamoDB Streams reader is in `state_publisher.redrive_aws`, and
`omni state-changes redrive` (`omni_cli.state`) parses the arguments and wires them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from state_publisher.changes import state_change
from state_publisher.decoding import InvalidStreamRecordError, decode_change
from state_publisher.fanout import StateFanOut
from state_publisher.processor import publish_batch
from stream_redrive import run
from stream_redrive.ports import BatchSource, FailedBatch, FailureQueue, StreamReader
from stream_redrive.run import MessageResult, RedriveKind, RedriveStoppedError

__all__ = ["BatchOutcome", "MessageResult", "RedriveStoppedError", "failed_batch", "publish_through", "redrive"]

DYNAMODB_STREAM = BatchSource("DDBStreamBatchInfo", "a DynamoDB stream")


def failed_batch(body: str) -> FailedBatch:
    """The batch a state-change on-failure message points at (its DDBStreamBatchInfo)."""
    return DYNAMODB_STREAM.failed_batch(body)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    published: int = 0
    replayed: int = 0  # published before (by the function or an earlier redrive): not put on the bus again
    unchanged: int = 0
    failed: int = 0  # records reported failed (or held back behind a failed change of the same customer)

    @property
    def settled(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return f"{self.published} published, {self.replayed} already published, {self.unchanged} unchanged"

    def failure(self) -> str:
        return f"{self.failed} record(s) not published ({self.published} published, {self.replayed} already published)"


BatchPublisher = Callable[[dict[str, Any]], BatchOutcome]


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


def _changes(records: list[dict[str, Any]]) -> int:
    """How many records would publish a change (an undecodable record counts: it would fail, not vanish)."""
    count = 0
    for record in records:
        try:
            count += state_change(decode_change(DynamoDBRecord(record))) is not None
        except InvalidStreamRecordError:
            count += 1
    return count


STATE_CHANGES = RedriveKind(
    source=DYNAMODB_STREAM, noun="change", done="published", failed_status="publish-failed", count=_changes
)


def redrive(
    queue: FailureQueue,
    reader: StreamReader,
    publish: BatchPublisher,
    *,
    max_messages: int,
    dry_run: bool = False,
) -> list[MessageResult]:
    """Publish up to `max_messages` given-up batches of state changes (`stream_redrive.run.redrive`)."""
    return run.redrive(STATE_CHANGES, queue, reader, publish, max_messages=max_messages, dry_run=dry_run)
