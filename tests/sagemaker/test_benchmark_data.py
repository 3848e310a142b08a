"""The propensity benchmark's bank data is in the repository, whole: the benchmark never depends on a file elsewhere."""

from __future__ import annotations

from pathlib import Path

from propensity.data import labels, read_dataset

BANK = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "bank-additional-full.csv.gz"


def test_the_bank_data_is_the_published_set() -> None:
    rows = read_dataset(BANK)
    assert len(rows) == 41_188
    assert len(rows[0]) == 21  # 20 inputs and the target
    assert {"duration", "y", "euribor3m", "job"} <= set(rows[0])
    assert int(labels(rows, "y").sum()) == 4_640
