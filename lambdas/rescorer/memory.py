"""In-memory adapters of the rescorer's ports, with the guarantees of the AWS ones (conditional writes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from omni_domain.memory_store import InMemoryCustomerRepository
from rescorer.ports import ModelScores, StaleStateError


class InMemoryDebouncer:
    def __init__(self) -> None:
        self.claims: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def claim(self, customer_id: str, *, now: datetime, window: timedelta) -> bool:
        with self._lock:
            last = self.claims.get(customer_id)
            if last is not None and now - last < window:
                return False
            self.claims[customer_id] = now
            return True

    def release(self, customer_id: str, *, claimed_at: datetime) -> None:
        with self._lock:
            if self.claims.get(customer_id) == claimed_at:
                del self.claims[customer_id]


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
