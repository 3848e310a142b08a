"""The loader's storage port (its in-memory fake is `omni_testing.mdm_loader.InMemoryLoaderStore`).

Profiles go through the customer domain's own repository (`omni_domain`), so the
PROFILE item has one definition and creation checks the erasure tombstone the
same way for every writer. Identity links and MERGED records are the loader's own.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from omni_domain.identity_map import IdentityLink
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
