from __future__ import annotations

import pandas as pd
import pytest

from glue_jobs.customer_schema import SOURCE_COLUMNS
from glue_jobs.synthetic_customers import SOURCE_SYSTEMS, TRUTH_COLUMN, generate_customers


def test_given_a_seed_when_generated_twice_then_identical_records() -> None:
    pd.testing.assert_frame_equal(generate_customers(300, seed=5), generate_customers(300, seed=5))
    assert not generate_customers(300, seed=5).equals(generate_customers(300, seed=6))


def test_given_generated_records_when_inspected_then_schema_truth_and_unique_keys_hold() -> None:
    frame = generate_customers(500, seed=1)
    assert list(frame.columns) == [*SOURCE_COLUMNS, TRUTH_COLUMN]
    assert len(frame) == 500
    assert not frame.duplicated(["source_system", "source_id"]).any()
    assert set(frame["source_system"]) == set(SOURCE_SYSTEMS)
    per_entity = frame.groupby(TRUTH_COLUMN)["source_system"]
    assert per_entity.size().max() <= 4
    # Copies of one customer sit in different systems.
    assert (per_entity.nunique() == per_entity.size()).all()
    assert (per_entity.size() > 1).sum() > 100


def test_given_duplicates_when_compared_then_real_world_damage_is_present() -> None:
    frame = generate_customers(2000, seed=2)
    groups = [g for _, g in frame.groupby(TRUTH_COLUMN) if len(g) > 1]
    assert frame["email"].isna().sum() > 0
    assert frame["phone"].str.startswith("0").sum() > 0  # national format
    assert frame["phone"].str.startswith("+").sum() > 0  # international format
    assert any(g["first_name"].str.lower().nunique() > 1 for g in groups)  # typos or nicknames
    assert any(g["postcode"].str.upper().nunique() > 1 for g in groups)  # moved house
    swapped = any(
        (g["first_name"].str.lower().iloc[0] == g["last_name"].str.lower()).any()
        for g in groups
        if g["first_name"].notna().all()
    )
    assert swapped


def test_given_three_systems_when_generated_then_only_they_appear_and_each_copy_sits_in_another() -> None:
    systems = ("crm", "ecommerce", "store_pos")
    frame = generate_customers(900, seed=4, systems=systems)
    assert len(frame) == 900
    assert set(frame["source_system"]) == set(systems)
    per_entity = frame.groupby(TRUTH_COLUMN)["source_system"]
    assert per_entity.size().max() == 3
    assert (per_entity.nunique() == per_entity.size()).all()
    assert not frame.duplicated(["source_system", "source_id"]).any()


def test_given_the_default_systems_when_named_explicitly_then_the_records_are_unchanged() -> None:
    pd.testing.assert_frame_equal(
        generate_customers(300, seed=5), generate_customers(300, seed=5, systems=SOURCE_SYSTEMS)
    )


@pytest.mark.parametrize(
    ("systems", "message"),
    [((), "at least one"), (("crm", "pos"), "unknown source system 'pos'"), (("crm", "crm"), "named twice")],
)
def test_given_bad_systems_when_generated_then_error(systems: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_customers(10, systems=systems)
