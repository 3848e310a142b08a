"""The rescorer's ports; adapters: `aws` (DynamoDB, SageMaker runtime, SQS); fakes: `omni_testing.rescorer`.

Customers are read through `omni_domain.repositories.CustomerRepository`'s `get`
(any repository of that port fits `CustomerReader`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from omni_domain.repositories import StoredCustomer


class StaleStateError(Exception):
    """The STATE item is not at the version read (changed meanwhile, or gone)."""


@dataclass(frozen=True, slots=True)
class TrailingRescore:
    """The delayed message of a debounced change: rescore the customer once the window claimed at
    `window_started_at` is over. `change_id` names the change that scheduled it (for the logs only)."""

    customer_id: str
    window_started_at: datetime
    change_id: str


@dataclass(frozen=True, slots=True)
class ModelScores:
    """The endpoint's answer: one score per feature row, in order, and the model version that produced them."""

    scores: tuple[float, ...]
    model_version: str


class CustomerReader(Protocol):
    def get(self, customer_id: str) -> StoredCustomer: ...


class Debouncer(Protocol):
    def claim(self, customer_id: str, *, now: datetime, window: timedelta) -> bool:
        """Claim the customer's rescore at `now` unless one was claimed less than `window` before (False)."""
        ...

    def release(self, customer_id: str, *, claimed_at: datetime) -> None:
        """Forget the claim made at `claimed_at` (the rescore failed), unless another claim replaced it."""
        ...

    def mark_pending(self, customer_id: str) -> datetime | None:
        """Mark the customer's current claim as having its trailing rescore scheduled, and return the time it
        was claimed at; None when it already has one (or there is no claim). A new claim clears the mark."""
        ...

    def unmark_pending(self, customer_id: str, *, claimed_at: datetime) -> None:
        """Undo `mark_pending` (the trailing rescore could not be scheduled), unless another claim replaced it."""
        ...


class DelayQueue(Protocol):
    def send(self, rescore: TrailingRescore, *, delay_seconds: int) -> None:
        """Deliver `rescore` back to the rescorer in `delay_seconds` (0..MAX_DELAY_SECONDS), at least once."""
        ...


class PropensityScorer(Protocol):
    def score(self, rows: Sequence[Mapping[str, Any]]) -> ModelScores:
        """Scores of the feature rows (one request), or eligibility.scoring.ScoringUnavailable."""
        ...


class PropensityWriter(Protocol):
    def write(
        self,
        customer_id: str,
        scores: Mapping[str, float],
        *,
        model_version: str,
        scored_at: datetime,
        expected_version: int,
    ) -> None:
        """Replace the live state's scores and bump its version, if it is still at `expected_version`.

        Raises StaleStateError otherwise (also when the STATE item no longer exists: it is never created here).
        """
        ...
