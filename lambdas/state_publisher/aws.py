"""EventBridge adapter: one PutEvents call per change, its entry's failure handled as the record's failure.

PutEvents answers 200 even when its entry is refused (throttling, an internal
failure): the entry then carries an ErrorCode and FailedEntryCount is 1. Such
an entry was not accepted, so sending it again cannot duplicate it; it is tried
`MAX_ATTEMPTS` times with jittered backoff before the record is reported failed.
A failed call (botocore has already retried it) is not repeated here: it may
have been accepted, and the stream's retry (with the idempotency record
released) is the one place that decides to send again.

One change per call keeps the idempotency record, the event and the stream
record one-to-one; a customer's changes are put in stream order.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from omni_domain.constants import STATE_CHANGE_SOURCE, STATE_CHANGED_DETAIL_TYPE
from state_publisher.changes import CustomerStateChanged
from state_publisher.ports import PublishFailedError

MAX_ATTEMPTS = 3


def change_entry(change: CustomerStateChanged, *, bus_name: str) -> dict[str, Any]:
    """The PutEvents entry of a change; Resources is empty (the customer id is in the detail only)."""
    return {
        "Source": STATE_CHANGE_SOURCE,
        "DetailType": STATE_CHANGED_DETAIL_TYPE,
        "Detail": change.model_dump_json(),
        "EventBusName": bus_name,
    }


class EventBridgeChangePublisher:
    def __init__(self, client: Any, bus_name: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._bus = bus_name
        self._sleep = sleep

    def publish(self, change: CustomerStateChanged) -> str:
        entry = change_entry(change, bus_name=self._bus)
        reason = "no attempt"
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self._sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not cryptography
            try:
                response = self._client.put_events(Entries=[entry])
            except (ClientError, BotoCoreError) as error:
                raise PublishFailedError(type(error).__name__) from error
            answered = response["Entries"][0] if response.get("Entries") else {}
            if not response.get("FailedEntryCount") and "EventId" in answered:
                return str(answered["EventId"])
            reason = str(answered.get("ErrorCode", "no entry in the answer"))
        raise PublishFailedError(reason)
