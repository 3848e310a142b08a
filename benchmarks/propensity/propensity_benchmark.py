"""Propensity benchmark: 5-fold cross-validated AUC and training time on the full bank marketing data.

Run: `PYTHONPATH=.:lambdas:sagemaker .venv/bin/python -m benchmarks.propensity.propensity_benchmark [CSV]`
(default CSV: ../shared/data/bank-additional-full.csv.gz, target y, `duration` dropped: it is only known after
the call). The same code as `omni propensity train` and the SageMaker training job, shipped hyperparameters.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from propensity.data import read_dataset
from propensity.training import Hyperparameters, cross_validate, fit

BANK_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "bank-additional-full.csv.gz"


@dataclass(frozen=True)
class Figures:
    rows: int
    mean_fold_auc: float
    out_of_fold_auc: float
    precision_at_top_decile: float
    brier_score: float
    cross_validation_s: float
    final_fit_s: float


def run(data: Path = BANK_DATA, *, folds: int = 5) -> Figures:
    rows = read_dataset(data)
    started = time.perf_counter()
    validation = cross_validate(rows, target="y", drop=["duration"], folds=folds, hyperparameters=Hyperparameters())
    cross_validation_s = time.perf_counter() - started
    started = time.perf_counter()
    fit(rows, target="y", drop=["duration"], hyperparameters=Hyperparameters())
    return Figures(
        rows=len(rows),
        mean_fold_auc=round(statistics.mean(validation.fold_aucs), 4),
        out_of_fold_auc=validation.metrics["auc"],
        precision_at_top_decile=validation.metrics["precision_at_top_decile"],
        brier_score=validation.metrics["brier_score"],
        cross_validation_s=round(cross_validation_s, 1),
        final_fit_s=round(time.perf_counter() - started, 1),
    )


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]) if len(sys.argv) > 1 else BANK_DATA).__dict__, indent=2))  # noqa: T201
