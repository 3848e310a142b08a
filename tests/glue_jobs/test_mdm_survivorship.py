from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glue_jobs.survivorship import (
    DEFAULT_POLICY,
    MostFrequent,
    MostRecent,
    SourcePriority,
    SourceRecord,
    SurvivorshipPolicy,
    survive,
)

SYSTEMS = ("crm", "ecommerce", "store_pos", "loyalty")


def record(system: str, source_id: str, updated_at: str, **values: str | None) -> SourceRecord:
    return SourceRecord(source_system=system, source_id=source_id, updated_at=updated_at, values=values)


def test_given_records_when_most_recent_then_newest_non_null_value_wins_with_provenance() -> None:
    members = [
        record("crm", "1", "2024-01-01", email="old@x.com"),
        record("ecommerce", "2", "2025-06-01", email=None),
        record("loyalty", "3", "2025-01-01", email="new@x.com"),
    ]
    chosen = MostRecent().choose([m for m in members if m.values["email"]], "email")
    assert (chosen.source_system, chosen.source_id, chosen.values["email"]) == ("loyalty", "3", "new@x.com")


def test_given_records_when_most_frequent_then_majority_value_wins() -> None:
    members = [
        record("crm", "1", "2020-01-01", first_name="Robert"),
        record("loyalty", "2", "2021-01-01", first_name="Robert"),
        record("ecommerce", "3", "2025-01-01", first_name="Bob"),
    ]
    assert MostFrequent().choose(members, "first_name").values["first_name"] == "Robert"


def test_given_records_when_source_priority_then_trusted_system_wins_even_if_older() -> None:
    members = [
        record("store_pos", "1", "2025-01-01", date_of_birth="1980-01-02"),
        record("crm", "2", "2019-01-01", date_of_birth="1980-01-01"),
    ]
    chosen = SourcePriority(order=("crm", "store_pos")).choose(members, "date_of_birth")
    assert chosen.source_system == "crm"


def test_given_address_group_when_survived_then_address_fields_come_from_one_record() -> None:
    members = [
        record("crm", "1", "2020-01-01", address_line="1 Old Road", city="Leeds", postcode="LS1 1AA", country="GB"),
        record("loyalty", "2", "2025-01-01", address_line="9 New Street", city="York", postcode=None, country="GB"),
    ]
    survived = survive(members)
    assert survived.values["address_line"].value == "9 New Street"
    assert survived.values["city"].value == "York"
    # The newer home's postcode is unknown: the old home's postcode must not be mixed in.
    assert survived.values["postcode"].value is None


def test_given_no_value_anywhere_when_survived_then_field_is_null_without_provenance() -> None:
    survived = survive([record("crm", "1", "2020-01-01")])
    assert survived.values["email"].value is None
    assert survived.values["email"].source_system is None


def test_given_policy_missing_a_field_when_built_then_error_names_it() -> None:
    rules = dict(DEFAULT_POLICY.rules)
    del rules["phone"]
    with pytest.raises(ValueError, match="phone"):
        SurvivorshipPolicy(rules=rules)


member_strategy = st.builds(
    lambda system, number, day, email, name: record(
        system, str(number), f"2024-01-{day:02d}", email=email, first_name=name, date_of_birth=None
    ),
    st.sampled_from(SYSTEMS),
    st.integers(0, 5),
    st.integers(1, 28),
    st.one_of(st.none(), st.sampled_from(["a@x.com", "b@x.com", "c@x.com"])),
    st.one_of(st.none(), st.sampled_from(["Ann", "Anne", "Anna"])),
)
clusters = st.lists(member_strategy, min_size=1, max_size=8, unique_by=lambda m: m.key)


@given(clusters, st.randoms(use_true_random=False))
def test_property_survivorship_ignores_member_order(members: list[SourceRecord], rng: random.Random) -> None:
    shuffled = members[:]
    rng.shuffle(shuffled)
    assert survive(members) == survive(shuffled)


@given(clusters)
def test_property_every_golden_value_is_the_value_of_the_named_source_record(members: list[SourceRecord]) -> None:
    by_key = {m.key: m for m in members}
    for name, golden in survive(members).values.items():
        if golden.value is None:
            assert all(m.values.get(name) is None for m in members) or name in {"city", "postcode", "country"}
        else:
            source = by_key[f"{golden.source_system}:{golden.source_id}"]
            assert source.values[name] == golden.value


@given(clusters)
def test_property_most_frequent_value_has_the_highest_count(members: list[SourceRecord]) -> None:
    named = [m for m in members if m.values["first_name"] is not None]
    if not named:
        return
    chosen = MostFrequent().choose(named, "first_name").values["first_name"]
    counts = [sum(m.values["first_name"] == v for m in named) for v in {m.values["first_name"] for m in named}]
    assert sum(m.values["first_name"] == chosen for m in named) == max(counts)


@given(clusters)
def test_property_source_priority_never_prefers_a_lower_ranked_system(members: list[SourceRecord]) -> None:
    order = ("loyalty", "crm")
    chosen = SourcePriority(order=order).choose(members, "email")
    rank = {system: i for i, system in enumerate(order)}
    assert all(rank.get(chosen.source_system, 2) <= rank.get(m.source_system, 2) for m in members)
