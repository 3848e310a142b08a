"""The loader's storage port and its in-memory fake.

Profiles go through the customer domain's own repository (`omni_domain`), so the
PROFILE item has one definition and creation checks the erasure tombstone the
same way for every writer. Identity links and MERGED records are the loader's own.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from omni_domain.identity_map import IdentityLink
from omni_domain.memory_store import InMemoryCustomerRepository, InMemoryIdentityMap
from omni_domain.models import CustomerProfile
from omni_domain.repositories import StoredCustomer


class Claim(enum.Enum):
    """What happened to an e-mail or phone link a run publishes."""

    WRITTEN = "written"
    # A channel captured it for the same customer: already resolves correctly, and stays the channel's.
    KEPT = "kept"
    # A channel captured it for another customer: the channel's link wins.
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class MergedRecord:
    """Left under a golden id a run merged away, so a reader holding the old id can follow it."""

    customer_id: str
    merged_into: str
    run_id: str
    merged_at: str


class LoaderStore(Protocol):
    def customer(self, customer_id: str) -> StoredCustomer: ...

    def save_profile(self, profile: CustomerProfile, *, expected_version: int | None) -> None:
        """Create (None) or replace the profile at `expected_version`.

        Raises VersionConflictError when the stored version differs, ConflictError
        when creating an id that was erased.
        """
        ...

    def put_links(self, links: Sequence[IdentityLink]) -> None:
        """Write links unconditionally (batched); UnwrittenItemsError if some could not be written."""
        ...

    def claim_link(self, link: IdentityLink) -> Claim:
        """Write `link` unless a channel-captured link already holds its identifier."""
        ...

    def links_of(self, customer_id: str) -> frozenset[str]: ...

    def repoint_link(self, identifier: str, *, old: str, new: str, updated_at: str) -> bool:
        """Point `identifier` at `new` if it still points at `old`; False when it no longer does."""
        ...

    def put_merged(self, records: Sequence[MergedRecord]) -> None:
        """Write MERGED records unconditionally (batched); UnwrittenItemsError if some could not be written."""
        ...


@dataclass
class InMemoryLoaderStore:
    """The fake of `LoaderStore` over the customer domain's in-memory adapters (tests and the sandbox)."""

    identity_map: InMemoryIdentityMap = field(default_factory=InMemoryIdentityMap)
    customers: InMemoryCustomerRepository = field(init=False)
    merged: dict[str, MergedRecord] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.customers = InMemoryCustomerRepository(self.identity_map)

    def customer(self, customer_id: str) -> StoredCustomer:
        return self.customers.get(customer_id)

    def save_profile(self, profile: CustomerProfile, *, expected_version: int | None) -> None:
        self.customers.save(profile, expected_version=expected_version)

    def put_links(self, links: Sequence[IdentityLink]) -> None:
        for link in links:
            self.identity_map.put(link)

    def claim_link(self, link: IdentityLink) -> Claim:
        held = self.identity_map.links.get(link.identifier)
        if held is not None and held.origin == "profile-service":
            return Claim.KEPT if held.customer_id == link.customer_id else Claim.CONFLICT
        self.identity_map.put(link)
        return Claim.WRITTEN

    def links_of(self, customer_id: str) -> frozenset[str]:
        return self.identity_map.links_of(customer_id)

    def repoint_link(self, identifier: str, *, old: str, new: str, updated_at: str) -> bool:
        held = self.identity_map.links.get(identifier)
        if held is None or held.customer_id != old:
            return False
        self.identity_map.put(IdentityLink(identifier, new, held.origin, updated_at))
        return True

    def put_merged(self, records: Sequence[MergedRecord]) -> None:
        for record in records:
            self.merged[record.customer_id] = record
