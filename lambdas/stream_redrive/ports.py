"""The redrive's ports: the on-failure record it is given, and what it needs from the queue and the stream.

When a batch exhausts its retries (or its records grow too old), Lambda sends the
on-failure queue a record of *where* the batch was, not the batch itself: under
`DDBStreamBatchInfo` (a DynamoDB stream) or `KinesisBatchInfo` (a Kinesis
stream), the shard, first and last sequence numbers and stream ARN.
`BatchSource.failed_batch` reads that pointer; a `FailureQueue` hands out and
deletes the messages, a `StreamReader` reads the batch's records back from the
stream. The AWS adapters are in `stream_redrive.aws`, the run in `stream_redrive.run`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol


class InvalidFailureRecordError(Exception):
    """The message is not the stream's on-failure record (no batch info with its pointers)."""


class QueueOperationError(Exception):
    """A delete or a release the queue refused (the message stays as it was); `reason` names the error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecordsUnavailableError(Exception):
    """The stream no longer holds every record of the batch (past its retention, or its shard deleted)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FailedBatch:
    """Where a batch the stream mapping gave up on lies in the stream (the batch info of the message)."""

    stream_arn: str
    shard_id: str
    start_sequence: str
    end_sequence: str
    batch_size: int
    condition: str  # RetryAttemptsExhausted, RecordAgeExceeded, ...
    first_arrival: str | None

    @property
    def shard(self) -> tuple[str, str]:
        return self.stream_arn, self.shard_id


@dataclass(frozen=True, slots=True)
class BatchSource:
    """The kind of stream an on-failure record points into: its batch info's key, and its name for messages."""

    batch_info: str  # DDBStreamBatchInfo, KinesisBatchInfo
    name: str  # "a DynamoDB stream", "a Kinesis stream"

    def failed_batch(self, body: str) -> FailedBatch:
        """The batch an on-failure message points at; InvalidFailureRecordError naming what is missing."""
        try:
            record = json.loads(body)
        except ValueError:
            raise InvalidFailureRecordError("the body is not JSON") from None
        key = self.batch_info
        info = record.get(key) if isinstance(record, dict) else None
        if not isinstance(info, dict):
            raise InvalidFailureRecordError(f"no {key} (not {self.name} on-failure record)")
        fields = ("streamArn", "shardId", "startSequenceNumber", "endSequenceNumber")
        missing = [name for name in fields if not isinstance(info.get(name), str) or not info[name]]
        if missing:
            raise InvalidFailureRecordError(f"{key} lacks {', '.join(missing)}")
        start, end = info["startSequenceNumber"], info["endSequenceNumber"]
        if not (start.isdigit() and end.isdigit()) or int(start) > int(end):
            raise InvalidFailureRecordError(f"sequence numbers {start}..{end} are not an ascending range of digits")
        context = record.get("requestContext")
        return FailedBatch(
            stream_arn=info["streamArn"],
            shard_id=info["shardId"],
            start_sequence=start,
            end_sequence=end,
            batch_size=int(info.get("batchSize") or 0),
            condition=str(context.get("condition", "unknown")) if isinstance(context, dict) else "unknown",
            first_arrival=info.get("approximateArrivalOfFirstRecord"),
        )


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    message_id: str
    receipt_handle: str
    body: str


class FailureQueue(Protocol):
    def receive(self, limit: int) -> list[QueuedMessage]:
        """Up to `limit` messages (at most 10), hidden from other readers for a while."""
        ...

    def delete(self, message: QueuedMessage) -> None:
        """Delete the message (by its receipt handle); QueueOperationError when refused."""
        ...

    def release(self, message: QueuedMessage) -> None:
        """Make a kept message visible again at once; QueueOperationError when refused."""
        ...


class StreamReader(Protocol):
    def read(self, batch: FailedBatch) -> list[dict[str, Any]]:
        """The batch's records in Lambda's event shape, in stream order. Raises RecordsUnavailableError."""
        ...
