"""DynamoDB stream record (Lambda's event shape) -> `ItemChange`, or why it cannot be one.

The function needs both images to tell what changed: a stream configured with
another view type is a deployment error, reported as a failed record (so the
batch stops and alarms) rather than published as a change with no fields.
The event processor's `ledger` (up to thousands of event ids per STATE item)
is never published, so it is not even deserialized.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, StreamViewType
from boto3.dynamodb.types import TypeDeserializer

from omni_domain.constants import CUSTOMER_PARTITION_KEY, CUSTOMER_SORT_KEY
from state_publisher.changes import ItemChange, StreamEventName

UNREAD_ATTRIBUTES = frozenset({"ledger"})
_deserializer = TypeDeserializer()


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
        old_image=_image(stream.get("OldImage")),
        new_image=_image(stream.get("NewImage")),
    )


def _image(image: Mapping[str, Any] | None) -> dict[str, Any]:
    """An image in DynamoDB JSON as Python values (numbers as Decimal), without the attributes never read."""
    return {
        name: _deserializer.deserialize(value) for name, value in (image or {}).items() if name not in UNREAD_ATTRIBUTES
    }


def customer_of(raw: dict[str, object]) -> str | None:
    """The customer id of a raw (undecoded) record, for ordering; None when it has none."""
    try:
        return str(raw["dynamodb"]["Keys"][CUSTOMER_PARTITION_KEY]["S"])  # type: ignore[index]
    except (KeyError, TypeError):
        return None
