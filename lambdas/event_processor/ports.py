"""The processor's ports; adapters: `aws` (DynamoDB, SQS, EventBridge); fakes: `omni_testing.event_processor`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from event_processor.ledger import Ledger
from omni_domain.event_triggers import Trigger
from omni_domain.models import LiveState


class StoreUnavailableError(Exception):
    """A storage call failed after the SDK's own retries: the records it concerns are retried by Lambda."""


class StaleVersionError(Exception):
    """The STATE item changed since it was read (or was created meanwhile)."""


class ErasedCustomerError(Exception):
    """The customer was erased meanwhile: its state must not come back."""


@dataclass(frozen=True, slots=True)
class StoredState:
    """A customer's STATE item as read; `version` 0 and no ledger when it has none yet."""

    version: int
    ledger: Ledger
    live_state: LiveState
    erased: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event that can never be applied, with what is needed to inspect or replay it."""

    sequence_number: str
    reason: str
    errors: tuple[str, ...]
    data: str  # the record's data exactly as received (base64)
    partition_key: str
    event_source_arn: str
    arrived_at: float


class IdentityResolver(Protocol):
    def resolve_many(self, keys: Collection[str]) -> dict[str, str]:
        """Identity map key -> customer id, for the keys that are known."""
        ...

    def provision(self, key: str, customer_id: str, *, at: datetime) -> str:
        """Link an unknown key to `customer_id` unless someone linked it first; the id that won."""
        ...


class StateStore(Protocol):
    def load_many(self, customer_ids: Collection[str]) -> dict[str, StoredState]:
        """The state of every id (consistent reads); an id with nothing stored gets version 0."""
        ...

    def write(self, customer_id: str, ledger: Ledger, live_state: LiveState, *, expected_version: int) -> None:
        """One conditional write replacing version `expected_version` (0: create, unless erased).

        Raises StaleVersionError, ErasedCustomerError or StoreUnavailableError.
        """
        ...


class TriggerPublisher(Protocol):
    def publish(self, triggers: Sequence[Trigger]) -> set[str]:
        """Put triggers on the bus; the ids of those still not accepted after retries."""
        ...


class DeadLetterSink(Protocol):
    def send(self, letters: Sequence[DeadLetter]) -> set[str]:
        """Send letters to the dead-letter queue; the sequence numbers of those not accepted."""
        ...
