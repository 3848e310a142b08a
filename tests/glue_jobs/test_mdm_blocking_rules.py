"""The prediction blocking rules form pairs in proportion to the records, not to their square.

Counted with Splink's own blocking analysis on synthetic customers: a single-column key (a
birth date, a postcode, a city with two letters of the surname) pairs every customer sharing
it, so its pairs per record double each time the data doubles; that made a million records
spill tens of gigabytes.
"""

from __future__ import annotations

import duckdb
import pytest
from splink import DuckDBAPI
from splink.blocking_analysis import count_comparisons_from_blocking_rules

from glue_jobs.matching_model import prediction_blocking_rules
from glue_jobs.normalise import normalise_frame
from glue_jobs.synthetic_customers import TRUTH_COLUMN, generate_customers


def pairs_scored(records: int) -> int:
    customers = generate_customers(records, seed=7).drop(columns=TRUTH_COLUMN)
    table = DuckDBAPI(duckdb.connect()).register(normalise_frame(customers))
    counts = count_comparisons_from_blocking_rules(
        table, blocking_rules=prediction_blocking_rules(), link_type="dedupe_only", record_sample_proportion=1.0
    )
    return counts[-1]["cumulative_comparison_count"]


@pytest.fixture(scope="module")
def pairs() -> dict[int, int]:
    return {records: pairs_scored(records) for records in (20_000, 40_000)}


def test_given_synthetic_customers_when_blocked_then_about_one_pair_is_scored_per_record(pairs: dict[int, int]) -> None:
    # Rules with single-column keys scored 15.6 pairs per record here, 30 at twice the records.
    assert pairs[20_000] <= 20_000, pairs


def test_given_twice_the_records_when_blocked_then_pairs_grow_far_less_than_fourfold(pairs: dict[int, int]) -> None:
    # The square law gives 4x (single-column keys: 3.9x); linear growth gives 2x.
    assert pairs[40_000] <= 2.6 * pairs[20_000], pairs
