"""The publisher's port; adapter: `aws` (EventBridge PutEvents); fakes: `omni_testing.state_publisher`."""

from __future__ import annotations

from typing import Protocol

from state_publisher.changes import CustomerStateChanged


class PublishFailedError(Exception):
    """The bus did not accept the event (PutEvents failed, or its entry failed): the record is retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChangePublisher(Protocol):
    def publish(self, change: CustomerStateChanged) -> str:
        """Put one CustomerStateChanged on the bus; the event id. Raises PublishFailedError."""
        ...
