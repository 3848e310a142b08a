"""The router's ports; adapters: `aws` (DynamoDB, SNS); fakes: `omni_testing.alert_router`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from alert_router.messages import Notification


@dataclass(frozen=True, slots=True)
class Claim:
    """The right of one ALARM event to notify its alarm, until `suppress_until` (the flapping window)."""

    alarm_name: str
    event_id: str
    at: datetime
    suppress_until: datetime
    expires_at: datetime


class NotificationLedger(Protocol):
    def claim(self, claim: Claim) -> bool:
        """Atomically take the alarm's window for this event.

        True when no other event notified the alarm within its window, or when this same
        event claimed it before without publishing (a retry after a failed publish).
        """
        ...

    def confirm(self, alarm_name: str, event_id: str) -> None:
        """Record that the event's notification was published (a later OK may then announce the resolution)."""
        ...

    def resolve(self, alarm_name: str, event_id: str, at: datetime) -> datetime | None:
        """Take the resolution of the alarm's published notification for this OK event: when its ALARM began.

        None when no notification is open: none was published, or another OK event resolved it,
        or this event already published its resolution. A retry of this event after a failed
        publish may take it again.
        """
        ...

    def confirm_resolution(self, alarm_name: str, event_id: str) -> None:
        """Record that the event's "resolved" message was published."""
        ...


class Publisher(Protocol):
    def publish(self, topic_arn: str, notification: Notification) -> str:
        """Publish to the topic; the message id. Raises PublishError."""
        ...
