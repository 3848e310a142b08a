"""How much the tuning job's choice flatters the winner's holdout AUC (the selection effect left after the holdout split).

Run: `PYTHONPATH=.:lambdas:sagemaker .venv/bin/python -m benchmarks.propensity.tuning_selection` (about 5 minutes).

On the bank data (`duration` dropped, rows shuffled with a fixed seed): 12 candidates,
the shipped `Hyperparameters` and 11 seeded random points of the search space (the
tuner's Bayesian search cannot run locally), each trained on 24,000 rows and
early-stopped on 4,120 others: the early-stopping half of the pipeline's 20 %
validation set. Then, 400 times, a random 4,120-row holdout is drawn from the
13,068 remaining rows; the candidate with the best holdout AUC is chosen, as the
tuning job chooses, and its holdout AUC is compared with its AUC on the remaining
rows outside that holdout (an unbiased estimate of what it will do).

Printed: the mean optimism of the chosen candidate's holdout AUC (what the promotion
decision reads, less what it is worth), its spread, and what the choice costs against
the candidate that is truly best on the remaining rows.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
from sklearn.metrics import roc_auc_score

from benchmarks.propensity.propensity_benchmark import BANK_DATA
from propensity.data import labels, read_dataset
from propensity.search_space import sample_candidates
from propensity.training import Hyperparameters, fit

TRAIN_ROWS, STOPPING_ROWS, HOLDOUT_ROWS = 24_000, 4_120, 4_120
CANDIDATES, DRAWS, SEED = 12, 400, 7


def measure() -> dict[str, float]:
    rows = read_dataset(BANK_DATA)
    random.Random(SEED).shuffle(rows)  # noqa: S311 - a reproducible shuffle, not cryptography
    train = rows[:TRAIN_ROWS]
    stopping = rows[TRAIN_ROWS : TRAIN_ROWS + STOPPING_ROWS]
    pool = rows[TRAIN_ROWS + STOPPING_ROWS :]
    y = labels(pool, "y")
    base = Hyperparameters(num_round=1000, nthread=1)
    points = sample_candidates(CANDIDATES - 1, seed=SEED)
    candidates = [base] + [replace(base, **point) for point in points]  # type: ignore[arg-type]
    margins = []
    for hyperparameters in candidates:
        model = fit(
            train, target="y", drop=["duration"], hyperparameters=hyperparameters, validation=stopping,
            early_stopping_rounds=30,
        )  # fmt: skip
        margins.append(model.margins(pool))
    rng = np.random.default_rng(SEED)
    optimism, cost = [], []
    for _ in range(DRAWS):
        order = rng.permutation(len(pool))
        holdout, rest = order[:HOLDOUT_ROWS], order[HOLDOUT_ROWS:]
        on_holdout = np.array([roc_auc_score(y[holdout], m[holdout]) for m in margins])
        on_rest = np.array([roc_auc_score(y[rest], m[rest]) for m in margins])
        chosen = int(on_holdout.argmax())
        optimism.append(on_holdout[chosen] - on_rest[chosen])
        cost.append(on_rest.max() - on_rest[chosen])
    return {
        "mean_optimism": round(float(np.mean(optimism)), 4),
        "optimism_sd": round(float(np.std(optimism)), 4),
        "mean_cost_of_choice": round(float(np.mean(cost)), 4),
    }


if __name__ == "__main__":
    print(measure())  # noqa: T201 - a benchmark's report
