"""Storage ports of the customer domain; adapter: `dynamodb_store`; fakes: `omni_testing.customers`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from omni_domain.identity_map import IdentityLink
from omni_domain.models import CustomerProfile, CustomerView, ErasureRecord, LiveState


@dataclass(frozen=True, slots=True)
class StoredCustomer:
    """Everything stored under one customer id; any part may be absent."""

    profile: CustomerProfile | None
    live_state: LiveState | None
    erasure: ErasureRecord | None

    def view(self) -> CustomerView | None:
        if self.profile is None:
            return None
        return CustomerView(**dict(self.profile), live_state=self.live_state or LiveState())


class CustomerRepository(Protocol):
    def get(self, customer_id: str) -> StoredCustomer: ...

    def save(
        self,
        profile: CustomerProfile,
        *,
        expected_version: int | None,
        add_links: Collection[IdentityLink] = (),
        remove_links: Collection[str] = (),
    ) -> None:
        """Store `profile` and its identity link changes atomically.

        `expected_version` is the stored version the write replaces, None to create.
        Raises VersionConflictError when it is not current (or the customer was created
        meanwhile), ConflictError when the id was erased or an added link belongs to
        another customer.
        """
        ...

    def erase(self, record: ErasureRecord, *, links: Collection[str]) -> None:
        """Remove profile, live state and `links` (those still pointing at the customer); keep `record`."""
        ...


class IdentityMap(Protocol):
    def resolve(self, identifier: str) -> str | None:
        """The golden customer id of an identity map key, or None when it is unknown."""
        ...

    def links_of(self, customer_id: str) -> frozenset[str]:
        """Every identity map key pointing at a customer."""
        ...
