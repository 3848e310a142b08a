"""The validation set split in two: rows that stop the training early, and the comparison holdout.

Early stopping chooses the challenger's number of trees on the rows it watches, so
an AUC measured on those rows flatters the challenger against the champion, whose
trees were never chosen on them. The validation channel is therefore split,
stratified by the target and with a fixed seed, into an early-stopping part and a
comparison holdout that nothing in training touches (neither early stopping nor
the calibration, which is fitted on the training rows' out-of-fold predictions).
`validation:auc`, `validation:brier` and `champion:auc` are measured on the holdout.

The seed is a constant, not `Hyperparameters.seed`: every training job of a tuning
run, and every run on the same prepared data, compares on the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from propensity.data import DataError, Row, labels

SEED = 7
COMPARISON_SHARE = 0.5  # half the validation rows are the holdout; the other half stops the training


@dataclass(frozen=True)
class ValidationSplit:
    early_stopping: list[Row]  # watched by early stopping: they choose the number of trees
    comparison: list[Row]  # the holdout: challenger and champion are scored on these rows only


def split_validation(rows: Sequence[Row], *, target: str) -> ValidationSplit:
    """The same split for the same rows in the same order, each class shared between the two parts."""
    y = labels(rows, target)
    counts = np.bincount(y.astype(np.int64), minlength=2)
    if counts.min() < 2:
        raise DataError(
            f"the validation set has {int(counts[1])} positive and {int(counts[0])} negative rows of {target!r}: "
            "at least 2 of each are needed to split it into early-stopping and comparison rows"
        )
    stopping, comparison = train_test_split(
        np.arange(len(rows)), test_size=COMPARISON_SHARE, stratify=y, random_state=SEED
    )
    # In file order, so the holdout reads like the channel it came from.
    return ValidationSplit([rows[i] for i in sorted(stopping)], [rows[i] for i in sorted(comparison)])
