"""DynamoDB stream record (Lambda's event shape) -> `ItemChange`, or why it cannot be one.

The function needs both images to tell what changed: a stream configured with
another view type is a deployment error, reported as a failed record (so the
batch stops and alarms) rather than published as a change with no fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, StreamViewType

from omni_domain.constants import CUSTOMER_PARTITION_KEY, CUSTOMER_SORT_KEY
from state_publisher.changes import ItemChange, StreamEventName


class InvalidStreamRecordError(Exception):
    """The record lacks what a change needs (ids, keys, both images): it is retried, then dead-lettered."""


def decode_change(record: DynamoDBRecord) -> ItemChange:
    stream = record.dynamodb
    if stream is None or record.event_id is None or record.event_name is None:
        raise InvalidStreamRecordError("not a DynamoDB stream record")
    if stream.stream_view_type != StreamViewType.NEW_AND_OLD_IMAGES:
        raise InvalidStreamRecordError("the stream must carry NEW_AND_OLD_IMAGES")
    keys = stream.keys
    customer_id, sort_key = keys.get(CUSTOMER_PARTITION_KEY), keys.get(CUSTOMER_SORT_KEY)
    created = stream.approximate_creation_date_time
    if not isinstance(customer_id, str) or not isinstance(sort_key, str):
        raise InvalidStreamRecordError("the record's keys are not the customer table's")
    if stream.sequence_number is None or created is None:
        raise InvalidStreamRecordError("the record has no sequence number or creation time")
    return ItemChange(
        change_id=record.event_id,
        customer_id=customer_id,
        sort_key=sort_key,
        event_name=cast(StreamEventName, record.event_name.name),
        sequence=stream.sequence_number,
        occurred_at=datetime.fromtimestamp(created, UTC),
        old_image=stream.old_image,
        new_image=stream.new_image,
    )


def customer_of(raw: dict[str, object]) -> str | None:
    """The customer id of a raw (undecoded) record, for ordering; None when it has none."""
    try:
        return str(raw["dynamodb"]["Keys"][CUSTOMER_PARTITION_KEY]["S"])  # type: ignore[index]
    except (KeyError, TypeError):
        return None
