"""The redrive's AWS adapters: the on-failure queue on SQS, and the batch read back from the DynamoDB stream
in the shape Lambda delivers it."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from state_publisher.redrive_ports import FailedBatch, QueuedMessage, QueueOperationError, RecordsUnavailableError

# The error codes of GetShardIterator/GetRecords that mean the records are gone: trimmed after 24 hours, or the
# shard itself deleted (a closed shard is removed once its records have all expired).
GONE_ERROR_CODES = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})
# GetRecords' answer when the iterator is older than 15 minutes: transient, a fresh iterator reads on.
EXPIRED_ITERATOR = "ExpiredIteratorException"


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


class SqsFailureQueue:
    """The on-failure queue. A received page stays hidden for `visibility_seconds`, ample for working through
    at most 10 batches; kept messages are hidden again whenever a later page brings them back, and made visible
    again at the end."""

    def __init__(self, client: Any, url: str, *, wait_seconds: int = 1, visibility_seconds: int = 300) -> None:
        self._client = client
        self._url = url
        self._wait = wait_seconds
        self._visibility = visibility_seconds

    def receive(self, limit: int) -> list[QueuedMessage]:
        answer = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=limit,
            WaitTimeSeconds=self._wait,
            VisibilityTimeout=self._visibility,
        )
        return [
            QueuedMessage(message["MessageId"], message["ReceiptHandle"], message["Body"])
            for message in answer.get("Messages", [])
        ]

    def delete(self, message: QueuedMessage) -> None:
        try:
            self._client.delete_message(QueueUrl=self._url, ReceiptHandle=message.receipt_handle)
        except (ClientError, BotoCoreError) as error:
            raise QueueOperationError(_error_code(error)) from error

    def release(self, message: QueuedMessage) -> None:
        try:
            self._client.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
            )
        except (ClientError, BotoCoreError) as error:
            raise QueueOperationError(_error_code(error)) from error


def _error_code(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__


class DynamoDBStreamReader:
    """Reads a batch back from the stream: an iterator AT its first sequence number, pages until past its last.

    GetRecords may answer empty pages before it reaches records (and always at an open shard's tip), so
    `max_empty_pages` in a row end the read; a read that never reaches the batch's last record, or does not
    start at its first, is incomplete and reported as such rather than published in part. An iterator expires
    15 minutes after GetShardIterator (ExpiredIteratorException): the records are still there, so a fresh one
    is taken where the read had got to, up to `max_iterator_renewals` times.
    """

    def __init__(
        self, client: Any, *, page_size: int = 1000, max_empty_pages: int = 5, max_iterator_renewals: int = 3
    ) -> None:
        self._client = client
        self._page_size = page_size
        self._max_empty_pages = max_empty_pages
        self._max_renewals = max_iterator_renewals

    def read(self, batch: FailedBatch) -> list[dict[str, Any]]:
        try:
            return self._read(batch)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in GONE_ERROR_CODES:
                raise RecordsUnavailableError(code) from None
            raise

    def _iterator(self, batch: FailedBatch, after: str | None) -> str | None:
        """At the batch's first record, or just after the last record read."""
        where = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after is not None
            else {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": batch.start_sequence}
        )
        answer = self._client.get_shard_iterator(StreamArn=batch.stream_arn, ShardId=batch.shard_id, **where)
        return cast("str | None", answer.get("ShardIterator"))

    def _read(self, batch: FailedBatch) -> list[dict[str, Any]]:
        iterator = self._iterator(batch, None)
        start, end = int(batch.start_sequence), int(batch.end_sequence)
        records: list[dict[str, Any]] = []
        empty_pages, renewals = 0, 0
        while iterator and empty_pages < self._max_empty_pages:
            try:
                page = self._client.get_records(ShardIterator=iterator, Limit=self._page_size)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != EXPIRED_ITERATOR or renewals >= self._max_renewals:
                    raise
                renewals += 1
                last = records[-1]["dynamodb"]["SequenceNumber"] if records else None
                iterator = self._iterator(batch, last)
                continue
            for raw in page.get("Records", []):
                sequence = int(raw["dynamodb"]["SequenceNumber"])
                if sequence > end:
                    return _complete(records, start)
                records.append(lambda_record(raw, batch.stream_arn))
                if sequence == end:
                    return _complete(records, start)
            empty_pages = 0 if page.get("Records") else empty_pages + 1
            iterator = page.get("NextShardIterator")
        raise RecordsUnavailableError("the stream ended before the batch's last record")


def _complete(records: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    if not records or int(records[0]["dynamodb"]["SequenceNumber"]) != start:
        raise RecordsUnavailableError("the batch's first record is no longer in the stream")
    return records
