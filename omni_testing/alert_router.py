"""In-memory adapters of the router's ports, with the guarantees of the AWS ones (atomic conditional claims)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from alert_router.errors import PublishError
from alert_router.messages import Notification
from alert_router.ports import Claim


@dataclass
class _Entry:
    claim: Claim
    published: bool = False
    resolved_by: str | None = None
    resolution_published: bool = False


class InMemoryLedger:
    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def claim(self, claim: Claim) -> bool:
        with self._lock:
            held = self.entries.get(claim.alarm_name)
            retry = held is not None and held.claim.event_id == claim.event_id and not held.published
            if held is not None and held.claim.suppress_until > claim.at and not retry:
                return False
            self.entries[claim.alarm_name] = _Entry(claim)
            return True

    def confirm(self, alarm_name: str, event_id: str) -> None:
        with self._lock:
            held = self.entries.get(alarm_name)
            if held is not None and held.claim.event_id == event_id:
                held.published = True

    def resolve(self, alarm_name: str, event_id: str, at: datetime) -> datetime | None:
        with self._lock:
            held = self.entries.get(alarm_name)
            if held is None or not held.published or held.claim.at > at:
                return None
            if held.resolved_by not in (None, event_id) or held.resolution_published:
                return None
            held.resolved_by = event_id
            return held.claim.at

    def confirm_resolution(self, alarm_name: str, event_id: str) -> None:
        with self._lock:
            held = self.entries.get(alarm_name)
            if held is not None and held.resolved_by == event_id:
                held.resolution_published = True


@dataclass
class RecordingPublisher:
    """Keeps what was published per topic; topics outside `known_topics` (when given) are refused like SNS would."""

    known_topics: frozenset[str] | None = None
    published: list[tuple[str, Notification]] = field(default_factory=list)

    def publish(self, topic_arn: str, notification: Notification) -> str:
        if self.known_topics is not None and topic_arn not in self.known_topics:
            raise PublishError(f"topic {topic_arn} does not exist")
        self.published.append((topic_arn, notification))
        return f"message-{len(self.published)}"
