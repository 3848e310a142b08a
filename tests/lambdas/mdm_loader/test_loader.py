"""The load over its ports' fakes: a real local run read from its folder into the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mdm_loader.errors import ProfileContentionError
from mdm_loader.loader import load_run
from mdm_loader.run_reader import LocalRunReader
from omni_domain.errors import VersionConflictError
from omni_domain.identifiers import identifier_key
from omni_domain.identity_map import IdentityLink
from omni_domain.models import CustomerProfile, ErasureRecord, ProfileAttributes
from omni_testing.mdm_loader import InMemoryLoaderStore
from tests.lambdas.mdm_loader.conftest import PublishedRun

NOW = datetime(2026, 11, 4, 13, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


def _load(run: PublishedRun, store: InMemoryLoaderStore) -> dict[str, object]:
    return load_run(LocalRunReader(run.folder), store, run.manifest_key, clock=_clock).as_log()


def test_given_a_run_when_loaded_twice_then_the_second_load_changes_nothing(published_run: PublishedRun) -> None:
    store = InMemoryLoaderStore()
    _load(published_run, store)
    profiles, links = dict(store.customers.profiles), dict(store.identity_map.links)

    again = _load(published_run, store)

    assert (store.customers.profiles, store.identity_map.links) == (profiles, links)
    assert again["profiles"] == {"created": 0, "filled": 0, "unchanged": len(profiles), "erased": 0}
    assert all(link.updated_at == "2026-11-04T12:00:00+00:00" for link in links.values())


def test_given_an_erased_customer_when_its_golden_record_is_loaded_then_nothing_of_it_comes_back(
    published_run: PublishedRun,
) -> None:
    store = InMemoryLoaderStore()
    erased = published_run.result.golden_records[0]
    store.customers.erasures[erased.golden_id] = ErasureRecord(
        customer_id=erased.golden_id,
        erased_at=NOW,
        removed_profile=True,
        removed_live_state=False,
        removed_identifiers={},
    )

    summary = _load(published_run, store)

    assert erased.golden_id not in store.customers.profiles
    assert store.identity_map.links_of(erased.golden_id) == frozenset()
    assert summary["profiles"] == {
        "created": len(published_run.result.golden_records) - 1,
        "filled": 0,
        "unchanged": 0,
        "erased": 1,
    }
    assert summary["links_of_erased_customers"] == sum(
        link.golden_id == erased.golden_id for link in published_run.result.links.links
    )


def test_given_a_channel_phone_of_the_same_customer_when_loaded_then_it_stays_the_channels(
    published_run: PublishedRun,
) -> None:
    link = next(link for link in published_run.result.links.links if link.identifier_type == "phone")
    key = identifier_key("phone", link.identifier)
    store = InMemoryLoaderStore()
    store.identity_map.put(IdentityLink(key, link.golden_id, "profile-service", NOW.isoformat()))

    summary = _load(published_run, store)

    assert store.identity_map.links[key].origin == "profile-service"
    assert (summary["links_kept"], summary["link_conflicts"]) == (1, 0)


class _BusyStore(InMemoryLoaderStore):
    """A profile a channel keeps rewriting: the first `conflicts` saves lose the race."""

    def __init__(self, conflicts: int) -> None:
        super().__init__()
        self.conflicts = conflicts

    def save_profile(self, profile: CustomerProfile, *, expected_version: int | None) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise VersionConflictError("changed", field="If-Match")
        super().save_profile(profile, expected_version=expected_version)


def test_given_a_version_conflict_when_filling_then_the_profile_is_read_again_and_filled(
    published_run: PublishedRun,
) -> None:
    store = _BusyStore(conflicts=2)
    golden_id = published_run.result.golden_records[0].golden_id
    store.customers.profiles[golden_id] = CustomerProfile(
        customer_id=golden_id,
        attributes=ProfileAttributes(first_name="Channelname"),
        version=7,
        created_at=NOW,
        updated_at=NOW,
    )

    summary = _load(published_run, store)

    assert summary["profile_retries"] == 2
    assert store.customers.profiles[golden_id].version == 8
    assert store.customers.profiles[golden_id].attributes.first_name == "Channelname"


def test_given_a_profile_that_changes_on_every_attempt_when_loaded_then_the_load_fails(
    published_run: PublishedRun,
) -> None:
    with pytest.raises(ProfileContentionError, match="changed on each of 5 attempts"):
        _load(published_run, _BusyStore(conflicts=10**6))
