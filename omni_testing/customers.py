"""In-memory adapters of the storage ports, with the same guarantees as DynamoDB's conditional transactions."""

from __future__ import annotations

import threading
from collections.abc import Collection

from omni_domain.errors import ConflictError, VersionConflictError
from omni_domain.identifiers import identifier_kind
from omni_domain.identity_map import IdentityLink
from omni_domain.models import CustomerProfile, ErasureRecord, LiveState
from omni_domain.repositories import StoredCustomer


class InMemoryIdentityMap:
    def __init__(self) -> None:
        self.links: dict[str, IdentityLink] = {}

    def resolve(self, identifier: str) -> str | None:
        link = self.links.get(identifier)
        return link.customer_id if link else None

    def links_of(self, customer_id: str) -> frozenset[str]:
        return frozenset(key for key, link in self.links.items() if link.customer_id == customer_id)

    def put(self, link: IdentityLink) -> None:
        """What the MDM loader does: publish a link."""
        self.links[link.identifier] = link


class InMemoryCustomerRepository:
    """Writes are checked and applied under one lock: all or nothing, like a DynamoDB transaction."""

    def __init__(self, identity_map: InMemoryIdentityMap) -> None:
        self.identity_map = identity_map
        self.profiles: dict[str, CustomerProfile] = {}
        self.live_states: dict[str, LiveState] = {}
        self.erasures: dict[str, ErasureRecord] = {}
        self.writes = 0
        self._lock = threading.Lock()

    def get(self, customer_id: str) -> StoredCustomer:
        return StoredCustomer(
            profile=self.profiles.get(customer_id),
            live_state=self.live_states.get(customer_id),
            erasure=self.erasures.get(customer_id),
        )

    def put_live_state(self, customer_id: str, state: LiveState) -> None:
        """What the event processor does: replace the live state."""
        self.live_states[customer_id] = state

    def save(
        self,
        profile: CustomerProfile,
        *,
        expected_version: int | None,
        add_links: Collection[IdentityLink] = (),
        remove_links: Collection[str] = (),
    ) -> None:
        customer_id = profile.customer_id
        links = self.identity_map.links
        with self._lock:
            stored = self.profiles.get(customer_id)
            if (stored.version if stored else None) != expected_version:
                raise VersionConflictError("the customer changed since it was read: read it again", field="If-Match")
            if expected_version is None and customer_id in self.erasures:
                raise ConflictError("this customer id was erased and is not reused", field="customer_id")
            for link in add_links:
                owner = links.get(link.identifier)
                if owner is not None and owner.customer_id != customer_id:
                    raise ConflictError(f"this {link.kind} belongs to another customer", field=link.kind)
            for key in remove_links:
                owner = links.get(key)
                if owner is not None and owner.customer_id != customer_id:
                    raise ConflictError("the identity map changed meanwhile: retry", field=identifier_kind(key))
            for key in remove_links:
                links.pop(key, None)
            for link in add_links:
                links[link.identifier] = link
            self.profiles[customer_id] = profile
            self.writes += 1

    def erase(self, record: ErasureRecord, *, links: Collection[str]) -> None:
        customer_id = record.customer_id
        owned = self.identity_map.links
        with self._lock:
            for key in links:
                owner = owned.get(key)
                if owner is not None and owner.customer_id != customer_id:
                    raise ConflictError("the identity map changed meanwhile: retry", field=identifier_kind(key))
            for key in links:
                owned.pop(key, None)
            self.profiles.pop(customer_id, None)
            self.live_states.pop(customer_id, None)
            self.erasures[customer_id] = record
            self.writes += 1
