"""The redrive run: the on-failure queue taken a page at a time, each batch read back and applied.

The records of a batch given up on stay in the stream for its retention period
only. The run reads them back (`StreamReader`), rebuilds the event Lambda would
have delivered and has it applied (`Apply`: the function's own path, in-process
or by invoking the deployed function); what it came to is an `Outcome`.

Redriven batches arrive late and out of order: by the time a batch is given up
on, the stream mapping has moved past it. The run only avoids adding disorder of
its own (oldest batch of a shard first, within what it has received, and a
shard's later batches held back behind one that failed).

The queue is taken one page (at most 10 messages) at a time: a page is received,
worked through and its redriven messages deleted before the next is received,
so no receipt handle is used long after it was received. A message is deleted
only once every record of its batch is settled; one whose records have left
the stream, or that failed again, is kept in the queue and named in the
report. Kept messages stay hidden until the run ends (so a later page does not
take them again) and are then made visible again, as is any message the run did
not reach when it stopped on an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from stream_redrive.ports import (
    BatchSource,
    FailedBatch,
    FailureQueue,
    InvalidFailureRecordError,
    QueuedMessage,
    QueueOperationError,
    RecordsUnavailableError,
    StreamReader,
)


class Outcome(Protocol):
    """What applying a batch came to."""

    @property
    def settled(self) -> bool:
        """Every record is applied (or was before): the message may be deleted."""
        ...

    def summary(self) -> str:
        """What was done, in counts (`3 published, 0 already published, 0 unchanged`)."""
        ...

    def failure(self) -> str:
        """Why the batch is not settled, in counts or an error type (never a record's content)."""
        ...


Apply = Callable[[dict[str, Any]], Outcome]

Status = Literal[
    "redriven",
    "would-redrive",
    "records-gone",
    "publish-failed",
    "apply-failed",
    "held-back",
    "invalid",
    "not-deleted",
    "not-reached",
]
KEPT: frozenset[Status] = frozenset(
    {"records-gone", "publish-failed", "apply-failed", "held-back", "invalid", "not-deleted", "not-reached"}
)


@dataclass(frozen=True, slots=True)
class RedriveKind:
    """What differs between the redrives besides the reader and what applies a batch: the on-failure record's
    stream, the words the report uses, and the dry run's count."""

    source: BatchSource
    noun: str  # what a record carries: "change", "event"
    done: str  # what applying one does: "published", "applied"
    failed_status: Status  # a batch that fails again
    count: Callable[[list[dict[str, Any]]], int]  # dry run: the records that would be applied


class RedriveStoppedError(Exception):
    """The run stopped on an error; `results` is the report of every message it had taken until then."""

    def __init__(self, cause: BaseException, results: list[MessageResult]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.results = results


@dataclass(frozen=True, slots=True)
class MessageResult:
    message_id: str
    status: Status
    batch: FailedBatch | None = None
    records: int = 0
    changes: int = 0  # dry run: the records that would be applied (`RedriveKind.count`)
    outcome: Any = None  # the Outcome of applying the batch (its kind's own type)
    reason: str = ""
    release_error: str = ""  # the queue refused to make the message visible again (it reappears by itself)
    kind: RedriveKind | None = None

    @property
    def kept(self) -> bool:
        return self.status in KEPT

    def describe(self) -> str:
        """One line for the operator: ids, pointers and counts only (never a record's content)."""
        line = self._describe()
        if self.release_error:
            line += f"; not made visible again ({self.release_error}): it reappears when its visibility timeout ends"
        return line

    def _describe(self) -> str:
        where = ""
        if self.batch is not None:
            where = f" {self.batch.shard_id} {self.batch.start_sequence}..{self.batch.end_sequence}"
        o: Outcome | None = self.outcome
        noun, done = (self.kind.noun, self.kind.done) if self.kind else ("record", "applied")
        if self.status == "redriven" and o is not None:
            return f"redriven {self.message_id}{where}: {self.records} record(s), {o.summary()}; message deleted"
        if self.status == "not-deleted" and o is not None:
            return (
                f"KEPT {self.message_id}{where}: {self.records} record(s), {o.summary()}; message NOT deleted"
                f" ({self.reason}): a later run finds its {noun}s already {done}"
            )
        if self.status == "would-redrive":
            return f"would redrive {self.message_id}{where}: {self.records} record(s), {self.changes} {noun}(s)"
        if self.kind is not None and self.status == self.kind.failed_status and o is not None:
            return f"KEPT {self.message_id}{where}: {o.failure()}; run the redrive again"
        return f"KEPT {self.message_id}{where}: {self.reason}"


# Pages in a row that bring back only messages the run has already taken (kept ones whose visibility ran out)
# before the run ends: they are hidden again each time, so the next page reaches further into the queue.
MAX_STALE_PAGES = 3


def redrive(
    kind: RedriveKind,
    queue: FailureQueue,
    reader: StreamReader,
    apply: Apply,
    *,
    max_messages: int,
    dry_run: bool = False,
) -> list[MessageResult]:
    """Redrive up to `max_messages` on-failure messages, a page (at most 10) at a time, oldest batch of each
    shard first within the page.

    A shard whose batch failed again holds back its later batches (kept), in this page and the ones after,
    so the redrive adds no disorder of its own; batches whose records are gone do not block (nothing of them
    can go). The kept messages, and any the run did not reach, are made visible again at the end whatever
    happens. An AWS error stops the run: RedriveStoppedError carries the report until then.
    """
    run = _Run(kind, queue, reader, apply, dry_run=dry_run)
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
    def __init__(
        self, kind: RedriveKind, queue: FailureQueue, reader: StreamReader, apply: Apply, *, dry_run: bool
    ) -> None:
        self._kind = kind
        self._queue = queue
        self._reader = reader
        self._apply = apply
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
                batches.append((self._kind.source.failed_batch(message.body), message))
            except InvalidFailureRecordError as error:
                self._results[message.message_id] = MessageResult(
                    message.message_id, "invalid", reason=f"not redriven: {error}", kind=self._kind
                )
        batches.sort(key=lambda pair: (pair[0].shard, int(pair[0].start_sequence)))
        for batch, message in batches:
            result = self._redrive_one(batch, message)
            if result.status == self._kind.failed_status:
                start = int(batch.start_sequence)
                self._blocked[batch.shard] = min(start, self._blocked.get(batch.shard, start))
            if result.status == "redriven":
                result = self._delete(result, self._held[message.message_id])
            self._results[message.message_id] = result

    def _redrive_one(self, batch: FailedBatch, message: QueuedMessage) -> MessageResult:
        kind = self._kind
        failed_at = self._blocked.get(batch.shard)
        if failed_at is not None and int(batch.start_sequence) > failed_at:
            reason = f"held back: an earlier batch of {batch.shard_id} was not {kind.done} (run the redrive again)"
            return MessageResult(message.message_id, "held-back", batch, reason=reason, kind=kind)
        try:
            records = self._reader.read(batch)
        except RecordsUnavailableError as error:
            reason = (
                f"records no longer in the stream ({error.reason}): these {kind.noun}s cannot be redriven; the"
                " message is kept for the record (see the runbook)"
            )
            return MessageResult(message.message_id, "records-gone", batch, reason=reason, kind=kind)
        if self._dry_run:
            return MessageResult(
                message.message_id, "would-redrive", batch, len(records), kind.count(records), kind=kind
            )
        outcome = self._apply({"Records": records})
        status: Status = "redriven" if outcome.settled else kind.failed_status
        return MessageResult(message.message_id, status, batch, len(records), outcome=outcome, kind=kind)

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
                message_id, "not-reached", reason="not reached (the run stopped); made visible again", kind=self._kind
            )
            try:
                self._queue.release(message)
            except QueueOperationError as error:
                result = replace(result, release_error=error.reason)
            self._results[message_id] = result
            del self._held[message_id]

    def report(self) -> list[MessageResult]:
        return list(self._results.values())
