"""In-memory adapters of the processor's ports, with the guarantees of the AWS ones (conditional writes)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from datetime import datetime

from event_processor.ledger import Ledger
from event_processor.ports import DeadLetter, ErasedCustomerError, StaleVersionError, StoredState
from omni_domain.event_triggers import Trigger
from omni_domain.identity_map import IdentityLink, new_link
from omni_domain.models import LiveState
from omni_testing.customers import InMemoryIdentityMap


class InMemoryResolver:
    def __init__(self, identity_map: InMemoryIdentityMap | None = None) -> None:
        self.identity_map = identity_map or InMemoryIdentityMap()
        self._lock = threading.Lock()

    def resolve_many(self, keys: Collection[str]) -> dict[str, str]:
        links = self.identity_map.links
        return {key: links[key].customer_id for key in keys if key in links}

    def provision(self, key: str, customer_id: str, *, at: datetime) -> str:
        with self._lock:
            existing: IdentityLink | None = self.identity_map.links.get(key)
            if existing is not None:
                return existing.customer_id
            self.identity_map.put(new_link(key, customer_id, origin="event-processor", at=at))
            return customer_id


class InMemoryStateStore:
    def __init__(self) -> None:
        self.items: dict[str, tuple[Ledger, LiveState]] = {}
        self.erased: set[str] = set()
        self.writes = 0
        self._lock = threading.Lock()

    def load_many(self, customer_ids: Collection[str]) -> dict[str, StoredState]:
        found = {}
        for customer_id in customer_ids:
            ledger, state = self.items.get(customer_id, (Ledger(), LiveState()))
            found[customer_id] = StoredState(state.version, ledger.copy(), state, erased=customer_id in self.erased)
        return found

    def write(self, customer_id: str, ledger: Ledger, live_state: LiveState, *, expected_version: int) -> None:
        with self._lock:
            self.writes += 1
            if customer_id in self.erased:
                raise ErasedCustomerError(customer_id)
            stored = self.items.get(customer_id)
            if (stored[1].version if stored else 0) != expected_version:
                raise StaleVersionError(customer_id)
            self.items[customer_id] = (ledger.copy(), live_state)


class RecordingPublisher:
    def __init__(self, rejected: Collection[str] = ()) -> None:
        self.published: list[Trigger] = []
        self.rejected = set(rejected)

    def publish(self, triggers: Sequence[Trigger]) -> set[str]:
        self.published += [trigger for trigger in triggers if trigger.trigger_id not in self.rejected]
        return {trigger.trigger_id for trigger in triggers if trigger.trigger_id in self.rejected}


class RecordingDeadLetters:
    def __init__(self, rejected: Collection[str] = ()) -> None:
        self.letters: list[DeadLetter] = []
        self.rejected = set(rejected)

    def send(self, letters: Sequence[DeadLetter]) -> set[str]:
        self.letters += [letter for letter in letters if letter.sequence_number not in self.rejected]
        return {letter.sequence_number for letter in letters if letter.sequence_number in self.rejected}
