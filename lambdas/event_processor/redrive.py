"""Redrive of the customer events the event processor's stream mapping gave up on, from its on-failure queue.

When a batch exhausts `events.max_retries` (bisected down to the records that
fail), Lambda sends the queue `FailedBatches` a record of *where* the batch was,
not the batch itself:

    {"requestContext": {"condition": "RetryAttemptsExhausted", ...}, "version": "1.0", "timestamp": ...,
     "KinesisBatchInfo": {"shardId": ..., "startSequenceNumber": ..., "endSequenceNumber": ...,
                          "approximateArrivalOfFirstRecord": ..., "approximateArrivalOfLastRecord": ...,
                          "batchSize": ..., "streamArn": ...}}

The records stay in the stream for its retention period (`events.retention_hours`).
The redrive reads them back, rebuilds the Kinesis event Lambda delivers and has
the deployed function apply it (a synchronous invoke: the deployed code with its
own configuration and permissions). Its answer is the ReportBatchItemFailures
shape; a batch is settled when the invocation succeeded and named no failed
record. Applying a batch again is safe: the processor remembers the event ids
it applied, so those come back as duplicates and change nothing.

The run (a page of the queue at a time, deleting a message only once its batch
is settled, keeping and naming the others) is `stream_redrive.run`'s, shared
with the state publisher's redrive. The Kinesis reader and the Lambda invoker
are in `event_processor.redrive_aws`; `omni events redrive` (`omni_cli.events`)
parses the arguments and wires them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from event_processor.batch import DecodedRecord
from event_processor.decoding import decode_record
from stream_redrive.ports import BatchSource, FailedBatch
from stream_redrive.run import RedriveKind

KINESIS_STREAM = BatchSource("KinesisBatchInfo", "a Kinesis stream")

# An error type as Lambda reports it (`BatchProcessingError`, `Sandbox.Timedout`, `Runtime.ExitError`); anything
# else in the payload is the function's own text, which may hold customer data, and is never reported.
_ERROR_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:]{0,79}$")


def failed_batch(body: str) -> FailedBatch:
    """The batch an event processor on-failure message points at (its KinesisBatchInfo)."""
    return KINESIS_STREAM.failed_batch(body)


@dataclass(frozen=True, slots=True)
class InvokeAnswer:
    """A synchronous invocation's answer: Lambda's FunctionError (None when the handler returned) and the payload."""

    function_error: str | None
    payload: bytes


class FunctionInvoker(Protocol):
    def invoke(self, event: dict[str, Any]) -> InvokeAnswer:
        """Run the event processor on the event and wait for its answer (AWS errors raise)."""
        ...


@dataclass(frozen=True, slots=True)
class Invocation:
    """What the function answered for a batch: how many records it reported failed, or the error it raised."""

    records: int
    failed: int = 0  # records named in batchItemFailures
    error: str = ""  # the function failed: FunctionError and the error's type, never its message

    @property
    def settled(self) -> bool:
        return not self.failed and not self.error

    def summary(self) -> str:
        return "none failed (events applied before are answered as duplicates, not applied again)"

    def failure(self) -> str:
        if self.error:
            return f"the function failed ({self.error}), nothing of the batch is known applied"
        return f"{self.failed} of {self.records} record(s) failed again (batchItemFailures)"


BatchApplier = Callable[[dict[str, Any]], Invocation]


def invocation(answer: InvokeAnswer, records: int) -> Invocation:
    """The function's answer read: a FunctionError by its type only, else the batch item failures."""
    try:
        body = json.loads(answer.payload or b"null")
    except ValueError:
        body = None
    if answer.function_error:
        error_type = body.get("errorType") if isinstance(body, dict) else None
        named = f": {error_type}" if isinstance(error_type, str) and _ERROR_TYPE.match(error_type) else ""
        return Invocation(records, error=f"{answer.function_error}{named}")
    failures = body.get("batchItemFailures") if isinstance(body, dict) else None
    if not isinstance(failures, list):
        return Invocation(records, error="an answer without batchItemFailures")
    return Invocation(records, failed=len(failures))


def apply_through(invoker: FunctionInvoker) -> BatchApplier:
    """Each batch applied by the event processor function, its answer read."""

    def apply(event: dict[str, Any]) -> Invocation:
        return invocation(invoker.invoke(event), len(event["Records"]))

    return apply


def _events(records: list[dict[str, Any]]) -> int:
    """How many records hold a customer event (the others the function would dead-letter)."""
    return sum(isinstance(decode_record(KinesisStreamRecord(record)), DecodedRecord) for record in records)


# The run is `stream_redrive.run.redrive(EVENTS, queue, reader, apply_through(invoker), ...)`.
EVENTS = RedriveKind(source=KINESIS_STREAM, noun="event", done="applied", failed_status="apply-failed", count=_events)
