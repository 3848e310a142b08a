"""In-memory adapters: a recording publisher and an idempotency store with the DynamoDB layer's semantics.

The store implements Powertools' persistence-layer contract (a conditional put
that refuses a live record, update, delete), so the use case runs with the real
`idempotent_function` and no AWS at all: unit tests and the benchmark use it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from state_publisher.changes import CustomerStateChanged
from state_publisher.ports import PublishFailedError


class RecordingPublisher:
    """Keeps what was published; refuses the changes of the customers in `failing` (as a failed entry would)."""

    def __init__(self, failing: Collection[str] = ()) -> None:
        self.published: list[CustomerStateChanged] = []
        self.failing = set(failing)

    def publish(self, change: CustomerStateChanged) -> str:
        if change.customer_id in self.failing:
            raise PublishFailedError("InternalFailure")
        self.published.append(change)
        return f"event-{len(self.published)}"


class StoreThrottledError(Exception):
    """What a throttled write of the idempotency table looks like to Powertools: any exception of the store."""


class InMemoryIdempotencyStore(BasePersistenceLayer):
    """`refused_updates`: how many of the next completion writes fail as throttled (the record keeps its claim)."""

    def __init__(self, *, refused_updates: int = 0) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}
        self.refused_updates = refused_updates
        self._lock = threading.Lock()

    def _get_record(self, idempotency_key: str) -> DataRecord:
        record = self.records.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError(idempotency_key)
        return record

    def _put_record(self, data_record: DataRecord) -> None:
        with self._lock:
            held = self.records.get(data_record.idempotency_key)
            if held is not None and not _claimable(held):
                raise IdempotencyItemAlreadyExistsError(old_data_record=held)
            self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            if self.refused_updates > 0:
                self.refused_updates -= 1
                raise StoreThrottledError("ProvisionedThroughputExceededException")
            self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.records.pop(data_record.idempotency_key, None)


def _claimable(record: DataRecord) -> bool:
    """As the DynamoDB layer's condition: expired, or in progress past the in-progress expiry."""
    now = time.time()
    if record.expiry_timestamp is not None and record.expiry_timestamp < now:
        return True
    in_progress_expiry = record.in_progress_expiry_timestamp
    return record.status == "INPROGRESS" and in_progress_expiry is not None and in_progress_expiry < now * 1000
