"""pytest-benchmark wrapper (`make bench`); skipped when the shared bank data is not beside the repository."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.propensity.propensity_benchmark import BANK_DATA, run


@pytest.mark.skipif(not BANK_DATA.is_file(), reason="needs ../shared/data/bank-additional-full.csv.gz")
def test_five_fold_auc_on_the_bank_data(benchmark: Any) -> None:
    figures = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(figures.__dict__)
