"""The state-change redrive's DynamoDB Streams reader: a batch read back in the shape Lambda delivers it.
The on-failure queue's SQS adapter and the shard read-back are `stream_redrive.aws`'s."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from stream_redrive.aws import ShardReader
from stream_redrive.ports import FailedBatch


def lambda_record(raw: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record (as boto3 returns it) in the shape Lambda delivers it: epoch-second creation time,
    binary values in base64, the stream's ARN as eventSourceARN. The eventID is kept: it is the change_id and
    the idempotency key, so a change published before is recognised."""
    dynamodb = {name: _json_value(value) for name, value in raw["dynamodb"].items()}
    created = raw["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    record = {name: _json_value(value) for name, value in raw.items() if name != "dynamodb"}
    return {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn}


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, Mapping):
        return {name: _json_value(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value


class DynamoDBStreamReader(ShardReader):
    """A batch of the customer table's stream (`dynamodbstreams` client)."""

    # Trimmed after 24 hours, or the shard itself deleted (a closed shard is removed once its records expired).
    GONE_ERROR_CODES = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})

    def _iterator_request(self, batch: FailedBatch, kind: str, sequence: str) -> dict[str, Any]:
        return {
            "StreamArn": batch.stream_arn,
            "ShardId": batch.shard_id,
            "ShardIteratorType": kind,
            "SequenceNumber": sequence,
        }

    def _sequence(self, raw: dict[str, Any]) -> str:
        return str(raw["dynamodb"]["SequenceNumber"])

    def _lambda_record(self, raw: dict[str, Any], batch: FailedBatch) -> dict[str, Any]:
        return lambda_record(raw, batch.stream_arn)
