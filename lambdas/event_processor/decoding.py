"""Kinesis record -> customer event, or the dead letter that says why it can never be one."""

from __future__ import annotations

import base64
import binascii

from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

from event_processor.batch import DecodedRecord
from event_processor.ports import DeadLetter
from omni_domain.customer_events import InvalidEventError, parse_event


def decode_record(record: KinesisStreamRecord) -> DecodedRecord | DeadLetter:
    """Powertools' record handler: never raises for bad data, which is a result (a dead letter), not a failure."""
    kinesis = record.kinesis
    try:
        data = base64.b64decode(kinesis.data, validate=True)
        return DecodedRecord(
            kinesis.sequence_number,
            parse_event(data),
            data=kinesis.data,
            partition_key=kinesis.partition_key,
            event_source_arn=record.event_source_arn or "",
            arrived_at=kinesis.approximate_arrival_timestamp,
        )
    except binascii.Error:
        return _letter(record, "not base64", ())
    except InvalidEventError as error:
        return _letter(record, error.reason, tuple(error.errors))


def _letter(record: KinesisStreamRecord, reason: str, errors: tuple[str, ...]) -> DeadLetter:
    kinesis = record.kinesis
    return DeadLetter(
        sequence_number=kinesis.sequence_number,
        reason=reason,
        errors=errors,
        data=kinesis.data,
        partition_key=kinesis.partition_key,
        event_source_arn=record.event_source_arn or "",
        arrived_at=kinesis.approximate_arrival_timestamp,
    )
