"""The in-memory fake of the MDM loader's storage port, over the customer domain's in-memory adapters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mdm_loader.store import Claim, MergedRecord
from omni_domain.identity_map import IdentityLink
from omni_domain.models import CustomerProfile
from omni_domain.repositories import StoredCustomer
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap


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
