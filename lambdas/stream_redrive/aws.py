"""The redrive's AWS adapters: the on-failure queue on SQS, and a batch read back from its shard.

`ShardReader` is the read-back both streams share (GetShardIterator AT the batch's
first sequence number, GetRecords until past its last); each stream's reader
says how its client names the stream, where a record's sequence number is, and
the record's shape in the event Lambda delivers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from stream_redrive.ports import FailedBatch, QueuedMessage, QueueOperationError, RecordsUnavailableError

# GetRecords' answer when the iterator has expired: transient, a fresh iterator reads on.
EXPIRED_ITERATOR = "ExpiredIteratorException"


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
            raise QueueOperationError(error_code(error)) from error

    def release(self, message: QueuedMessage) -> None:
        try:
            self._client.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
            )
        except (ClientError, BotoCoreError) as error:
            raise QueueOperationError(error_code(error)) from error


def error_code(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__


class ShardReader(ABC):
    """Reads a batch back from the stream: an iterator AT its first sequence number, pages until past its last.

    GetRecords may answer empty pages before it reaches records (and always at an open shard's tip), so
    `max_empty_pages` in a row end the read; a read that never reaches the batch's last record, or does not
    start at its first, is incomplete and reported as such rather than applied in part. An iterator expires
    minutes after GetShardIterator (15 on a DynamoDB stream, 5 on Kinesis; ExpiredIteratorException): the
    records are still there, so a fresh one is taken where the read had got to, up to `max_iterator_renewals`
    times.
    """

    # The error codes of GetShardIterator/GetRecords that mean the records are gone.
    GONE_ERROR_CODES: frozenset[str] = frozenset()

    def __init__(
        self, client: Any, *, page_size: int = 1000, max_empty_pages: int = 5, max_iterator_renewals: int = 3
    ) -> None:
        self._client = client
        self._page_size = page_size
        self._max_empty_pages = max_empty_pages
        self._max_renewals = max_iterator_renewals

    @abstractmethod
    def _iterator_request(self, batch: FailedBatch, kind: str, sequence: str) -> dict[str, Any]:
        """GetShardIterator's parameters for an iterator of `kind` at `sequence` of the batch's shard."""

    def _records_request(self, batch: FailedBatch) -> dict[str, Any]:
        """GetRecords' parameters besides the iterator and the limit (none by default)."""
        return {}

    @abstractmethod
    def _sequence(self, raw: dict[str, Any]) -> str:
        """A GetRecords record's sequence number."""

    @abstractmethod
    def _lambda_record(self, raw: dict[str, Any], batch: FailedBatch) -> dict[str, Any]:
        """A GetRecords record in the shape Lambda delivers it."""

    def read(self, batch: FailedBatch) -> list[dict[str, Any]]:
        try:
            return self._read(batch)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in self.GONE_ERROR_CODES:
                raise RecordsUnavailableError(code) from None
            raise

    def _iterator(self, batch: FailedBatch, after: str | None) -> str | None:
        """At the batch's first record, or just after the last record read."""
        request = (
            self._iterator_request(batch, "AFTER_SEQUENCE_NUMBER", after)
            if after is not None
            else self._iterator_request(batch, "AT_SEQUENCE_NUMBER", batch.start_sequence)
        )
        answer = self._client.get_shard_iterator(**request)
        return cast("str | None", answer.get("ShardIterator"))

    def _read(self, batch: FailedBatch) -> list[dict[str, Any]]:
        iterator = self._iterator(batch, None)
        start, end = int(batch.start_sequence), int(batch.end_sequence)
        records: list[dict[str, Any]] = []
        first, last = None, None  # the sequence numbers of the first and the last record read
        empty_pages, renewals = 0, 0
        while iterator and empty_pages < self._max_empty_pages:
            try:
                page = self._client.get_records(
                    ShardIterator=iterator, Limit=self._page_size, **self._records_request(batch)
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != EXPIRED_ITERATOR or renewals >= self._max_renewals:
                    raise
                renewals += 1
                iterator = self._iterator(batch, last)
                continue
            for raw in page.get("Records", []):
                sequence = self._sequence(raw)
                if int(sequence) > end:
                    return _complete(records, first, start)
                records.append(self._lambda_record(raw, batch))
                first, last = first or sequence, sequence
                if int(sequence) == end:
                    return _complete(records, first, start)
            empty_pages = 0 if page.get("Records") else empty_pages + 1
            iterator = page.get("NextShardIterator")
        raise RecordsUnavailableError("the stream ended before the batch's last record")


def _complete(records: list[dict[str, Any]], first: str | None, start: int) -> list[dict[str, Any]]:
    if first is None or int(first) != start:
        raise RecordsUnavailableError("the batch's first record is no longer in the stream")
    return records
