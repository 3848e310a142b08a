"""In-memory adapters of the rescorer's ports, with the guarantees of the AWS ones (conditional writes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from omni_testing.customers import InMemoryCustomerRepository
from rescorer.ports import ModelScores, StaleStateError, TrailingRescore


class InMemoryDebouncer:
    def __init__(self) -> None:
        self.claims: dict[str, datetime] = {}
        self.pending: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, customer_id: str, *, now: datetime, window: timedelta) -> bool:
        with self._lock:
            last = self.claims.get(customer_id)
            if last is not None and now - last < window:
                return False
            self.claims[customer_id] = now
            self.pending.discard(customer_id)
            return True

    def release(self, customer_id: str, *, claimed_at: datetime) -> None:
        with self._lock:
            if self.claims.get(customer_id) == claimed_at:
                del self.claims[customer_id]
                self.pending.discard(customer_id)

    def mark_pending(self, customer_id: str) -> datetime | None:
        with self._lock:
            claimed_at = self.claims.get(customer_id)
            if claimed_at is None or customer_id in self.pending:
                return None
            self.pending.add(customer_id)
            return claimed_at

    def unmark_pending(self, customer_id: str, *, claimed_at: datetime) -> None:
        with self._lock:
            if self.claims.get(customer_id) == claimed_at:
                self.pending.discard(customer_id)


@dataclass(frozen=True, slots=True)
class DelayedMessage:
    rescore: TrailingRescore
    delay_seconds: int


class InMemoryDelayQueue:
    """Keeps what was sent; a test delivers it (`take`) when its clock has moved past the delay.
    `fail_with`: the error every send raises (an SQS outage)."""

    def __init__(self) -> None:
        self.sent: list[DelayedMessage] = []
        self.fail_with: Exception | None = None

    def send(self, rescore: TrailingRescore, *, delay_seconds: int) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(DelayedMessage(rescore, delay_seconds))

    def take(self) -> DelayedMessage:
        """The oldest message not yet delivered."""
        return self.sent.pop(0)


class InMemoryPropensityWriter:
    """Writes into the live states of an in-memory customer repository; `before_write` simulates a racing writer."""

    def __init__(
        self, repository: InMemoryCustomerRepository, *, before_write: Callable[[str], None] | None = None
    ) -> None:
        self.repository = repository
        self.before_write = before_write
        self.writes = 0
        self._lock = threading.Lock()

    def write(
        self,
        customer_id: str,
        scores: Mapping[str, float],
        *,
        model_version: str,
        scored_at: datetime,
        expected_version: int,
    ) -> None:
        if self.before_write is not None:
            self.before_write(customer_id)
        with self._lock:
            self.writes += 1
            state = self.repository.live_states.get(customer_id)
            if state is None or state.version != expected_version:
                raise StaleStateError(customer_id)
            self.repository.live_states[customer_id] = state.model_copy(
                update={
                    "propensity": dict(scores),
                    "propensity_model": model_version,
                    "propensity_scored_at": scored_at,
                    "updated_at": scored_at,
                    "version": state.version + 1,
                }
            )


class ScriptedScorer:
    """Answers each request with the next scripted result: ModelScores, or an exception to raise."""

    def __init__(self, *answers: ModelScores | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[list[dict[str, Any]]] = []

    def score(self, rows: Sequence[Mapping[str, Any]]) -> ModelScores:
        self.requests.append([dict(row) for row in rows])
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer
