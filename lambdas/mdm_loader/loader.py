"""Loading one published matching run into the customer table and the identity map.

A run (see `glue_jobs.run_layout`) is loaded in three passes, each streamed one
part file at a time, after `open_run` has checked the manifest names every data
set and each announced data set has part files:

1. Golden records -> the PROFILE record of customer `golden_id`. Absent: created
   at version 1. Present: only attributes empty in the stored profile are filled
   from the golden record (a channel's data is never overwritten), and the
   version is bumped only if something changed, conditional on the version read
   (optimistic concurrency, re-read and retried on conflict). A customer id that
   was erased is not recreated, and nothing of this run is linked to it. A golden
   value that fails validation (profile model, e-mail and phone normalisers) is
   skipped and counted by field name; an address missing a part is left out whole
   (counted apart: missing data is not invalid data).
2. Identity links -> identity map items (origin "mdm", `updated_at` = the run
   id's time). `source#` links are written unconditionally in batches. An e-mail
   or phone link is a conditional write that never takes over a link a channel
   captured (origin "profile-service"): for the same customer it is kept as is,
   for another customer it is a counted conflict.
3. Merges -> every identity link still pointing at `old_golden_id` (found through
   the `by-customer` index) is re-pointed to `new_golden_id` if it still points at
   the old id, and a MERGED record (merged_into, run_id, merged_at) is written
   under the old id so a reader holding it can follow it.

Every write is a put of the value the run determines or a conditional change
that is a no-op once applied, so loading the same run again changes nothing: the
load is idempotent, and EventBridge may safely deliver or retry an event twice.
Anything not written after retries raises a LoadError and fails the invocation.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mdm_loader.errors import ProfileContentionError
from mdm_loader.mapping import filled, link_key, profile_attributes
from mdm_loader.run_format import GoldenRecordLine, IdentityLinkLine, MergeLine, RunLocation
from mdm_loader.run_reader import Run, RunReader, open_run
from mdm_loader.store import Claim, LoaderStore, MergedRecord
from omni_domain.errors import ConflictError, VersionConflictError
from omni_domain.identity_map import IdentityLink, new_link
from omni_domain.models import ProfileAttributes
from omni_domain.profile_rules import created, replaced

# Source links are buffered and written in batches of this many (a multiple of BatchWriteItem's 25).
LINK_BUFFER = 100
MAX_PROFILE_ATTEMPTS = 5

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ProfileOutcome(enum.Enum):
    CREATED = "created"
    FILLED = "filled"
    UNCHANGED = "unchanged"
    ERASED = "erased"


@dataclass
class LoadSummary:
    """What a load did, in counts only: safe to log (no customer data)."""

    run_id: str
    profiles: Counter[ProfileOutcome] = field(default_factory=Counter)
    profile_retries: int = 0
    addresses_incomplete: int = 0
    links_written: int = 0
    links_kept: int = 0
    link_conflicts: int = 0
    links_of_erased_customers: int = 0
    merges_applied: int = 0
    merges_into_erased: int = 0
    links_repointed: int = 0
    # Unusable values by golden field (`email`) or published link type (`identity_link.phone`).
    invalid_values: Counter[str] = field(default_factory=Counter)

    @property
    def invalid_values_skipped(self) -> int:
        return sum(self.invalid_values.values())

    def as_log(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "profiles": {outcome.value: self.profiles[outcome] for outcome in ProfileOutcome},
            "profile_retries": self.profile_retries,
            "addresses_incomplete": self.addresses_incomplete,
            "links_written": self.links_written,
            "links_kept": self.links_kept,
            "link_conflicts": self.link_conflicts,
            "links_of_erased_customers": self.links_of_erased_customers,
            "merges_applied": self.merges_applied,
            "merges_into_erased": self.merges_into_erased,
            "links_repointed": self.links_repointed,
            "invalid_values": dict(sorted(self.invalid_values.items())),
        }


@dataclass
class _Load:
    run: Run
    store: LoaderStore
    clock: Clock
    summary: LoadSummary
    erased: set[str] = field(default_factory=set)

    @property
    def location(self) -> RunLocation:
        return self.run.location

    def profiles(self) -> None:
        for golden in self.run.records("golden_records", GoldenRecordLine):
            mapped = profile_attributes(golden)
            self.summary.invalid_values.update(mapped.invalid)
            self.summary.addresses_incomplete += mapped.address_incomplete
            outcome = self._upsert(golden.golden_id, mapped.attributes)
            self.summary.profiles[outcome] += 1
            if outcome is ProfileOutcome.ERASED:
                self.erased.add(golden.golden_id)

    def _upsert(self, customer_id: str, golden: ProfileAttributes) -> ProfileOutcome:
        for attempt in range(MAX_PROFILE_ATTEMPTS):
            if attempt:
                self.summary.profile_retries += 1
            stored = self.store.customer(customer_id)
            current = stored.profile
            try:
                if current is None:
                    if stored.erasure is not None:
                        return ProfileOutcome.ERASED
                    self.store.save_profile(created(customer_id, golden, now=self.clock()), expected_version=None)
                    return ProfileOutcome.CREATED
                attributes = filled(current.attributes, golden)
                if attributes == current.attributes:
                    return ProfileOutcome.UNCHANGED
                profile = replaced(current, attributes=attributes, now=self.clock())
                self.store.save_profile(profile, expected_version=current.version)
                return ProfileOutcome.FILLED
            except VersionConflictError:
                continue  # a channel wrote meanwhile: read its version and fill again
            except ConflictError:
                return ProfileOutcome.ERASED  # erased between our read and our write
        raise ProfileContentionError(
            f"profile {customer_id} changed on each of {MAX_PROFILE_ATTEMPTS} attempts to load run "
            f"{self.location.run_id}"
        )

    def links(self) -> None:
        batch: list[IdentityLink] = []
        for line in self.run.records("identity_links", IdentityLinkLine):
            if line.golden_id in self.erased:
                self.summary.links_of_erased_customers += 1
                continue
            key = link_key(line)
            if key is None:
                self.summary.invalid_values[f"identity_link.{line.identifier_type}"] += 1
                continue
            link = new_link(key, line.golden_id, origin="mdm", at=self.location.run_time)
            if line.identifier_type == "source":
                batch.append(link)
                if len(batch) >= LINK_BUFFER:
                    self._flush_links(batch)
            else:
                self._claim(link)
        self._flush_links(batch)

    def _flush_links(self, batch: list[IdentityLink]) -> None:
        if batch:
            self.store.put_links(batch)
            self.summary.links_written += len(batch)
            batch.clear()

    def _claim(self, link: IdentityLink) -> None:
        claim = self.store.claim_link(link)
        if claim is Claim.WRITTEN:
            self.summary.links_written += 1
        elif claim is Claim.KEPT:
            self.summary.links_kept += 1
        else:
            self.summary.link_conflicts += 1

    def merges(self) -> None:
        at = self.location.run_time.isoformat()
        records: list[MergedRecord] = []
        for merge in self.run.records("merges", MergeLine):
            if merge.new_golden_id in self.erased:
                # Re-pointing would link identifiers to a customer who asked to be forgotten.
                self.summary.merges_into_erased += 1
                continue
            for identifier in sorted(self.store.links_of(merge.old_golden_id)):
                if self.store.repoint_link(identifier, old=merge.old_golden_id, new=merge.new_golden_id, updated_at=at):
                    self.summary.links_repointed += 1
            records.append(MergedRecord(merge.old_golden_id, merge.new_golden_id, self.location.run_id, at))
            self.summary.merges_applied += 1
            if len(records) >= LINK_BUFFER:
                self.store.put_merged(records)
                records = []
        if records:
            self.store.put_merged(records)


def load_run(reader: RunReader, store: LoaderStore, manifest_key: str, *, clock: Clock = utc_now) -> LoadSummary:
    """Load the run whose manifest is at `manifest_key` (see the module docstring); returns its counts."""
    run = open_run(reader, manifest_key)
    load = _Load(run=run, store=store, clock=clock, summary=LoadSummary(run_id=run.location.run_id))
    load.profiles()
    load.links()
    load.merges()
    return load.summary
