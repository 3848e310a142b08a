"""pytest-benchmark wrapper (`make bench`): the trainer against HistGradientBoosting and LogisticRegression, per set."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from benchmarks.propensity.propensity_benchmark import DATA_SETS, measure, table


@pytest.mark.parametrize("name", list(DATA_SETS))
def test_five_fold_auc_against_the_baselines(benchmark: Any, name: str) -> None:
    data = DATA_SETS[name]()
    figures = benchmark.pedantic(measure, args=(data,), rounds=1, iterations=1)
    benchmark.extra_info.update(asdict(figures))
    print(f"\n{table([figures])}")  # noqa: T201 - the figures for the closing notes
    # Measured, not assumed: every row in the folds, one search per outer fold, three real AUCs.
    if figures.rows != len(data.rows) or len(figures.chosen) != 5:
        pytest.fail(f"{name}: {figures.rows} rows and {len(figures.chosen)} searches measured")
    aucs = (figures.trainer_auc, figures.hgb_auc, figures.lr_auc)
    if not all(0.5 < auc <= 1.0 for auc in aucs):
        pytest.fail(f"{name}: AUCs {aucs} are not those of a model that learnt anything")
