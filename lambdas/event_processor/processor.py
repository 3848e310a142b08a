"""Powertools' Kinesis batch processor, in two phases so a batch can be coalesced per customer.

Phase 1 is Powertools' own per-record loop: `decode_record` turns each record
into an event or a dead letter. Phase 2 applies the whole batch at once
(`EventBatch`); the records it could not apply go through Powertools'
`failure_handler`, so the partial-failure response (`batchItemFailures`, for
`ReportBatchItemFailures`) and the entire-batch rule stay Powertools'.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from event_processor.batch import BatchReport, DecodedRecord, EventBatch
from event_processor.ports import DeadLetter


class NotAppliedError(Exception):
    """The record's customer could not be updated (or its dead letter was refused): Lambda retries it."""


class CoalescingKinesisProcessor(BatchProcessor):
    def __init__(self, batch: EventBatch) -> None:
        super().__init__(event_type=EventType.KinesisDataStreams)
        self.batch = batch
        self.report = BatchReport()

    def process(self) -> list[tuple[Any, ...]]:
        outcomes = super().process()
        decoded: list[DecodedRecord] = []
        rejected: list[DeadLetter] = []
        not_decoded: set[str] = set()
        for status, result, raw in outcomes:
            if status == "success" and isinstance(result, DecodedRecord):
                decoded.append(result)
            elif status == "success" and isinstance(result, DeadLetter):
                rejected.append(result)
            elif raw is not None:  # decoding raised (a bug, not bad data): Powertools reports it for retry
                not_decoded.add(_sequence_number(raw))
        self.report = self.batch.apply(decoded, rejected)
        # Received and failed, so the report still accounts for every record of the batch.
        self.report.records += len(not_decoded)
        self.report.failed |= not_decoded
        failed = self.report.failed
        if not failed:
            return outcomes
        self.success_messages = [raw for raw in self.success_messages if _sequence_number(raw) not in failed]
        results = []
        for outcome in outcomes:
            status, _result, raw = outcome
            if status == "success" and _sequence_number(raw) in failed:
                error = NotAppliedError("not applied; retried by Lambda")
                results.append(self.failure_handler(KinesisStreamRecord(raw), (NotAppliedError, error, None)))
            else:
                results.append(outcome)
        return results


def _sequence_number(raw: Any) -> str:
    # The raw record, or (for a record Powertools marked failed) its KinesisStreamRecord: both index alike.
    return str(raw["kinesis"]["sequenceNumber"])
