"""The hyperparameter search space, as data: one definition for the local search and SageMaker's tuner.

`omni propensity train` samples its candidates from `SEARCH_SPACE` (`propensity.tuning`);
the retraining pipeline builds the hyperparameter tuning job's `ParameterRanges` from
`parameter_ranges()`. Both therefore search the same ranges, under the names
`propensity/train.py` accepts (`--max_depth`, `--eta`, ...).

This module imports nothing outside the standard library: the CDK app imports it
without xgboost or scikit-learn.

Why these ranges: the bank data has few positives (11 %) and many weak, correlated
columns, so the space leans to shallow trees, a moderate learning rate and row and
column subsampling; `min_child_weight` and `reg_lambda` regularise leaves that would
otherwise chase a handful of positives. The number of rounds is not searched:
early stopping on the validation fold picks it for each candidate.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

Scale = Literal["Linear", "Logarithmic"]

OBJECTIVE_METRIC = "validation:auc"  # printed by train.py; maximised by the tuner and by the local search
OBJECTIVE_TYPE = "Maximize"


@dataclass(frozen=True)
class ParameterRange:
    """One hyperparameter: its name as train.py takes it, integer or continuous, bounds, and how to sample."""

    name: str
    integer: bool
    low: float
    high: float
    scale: Scale = "Linear"

    def sample(self, rng: random.Random) -> float | int:
        if self.scale == "Logarithmic":
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        if self.integer:
            return min(int(self.high), max(int(self.low), round(value)))
        return round(value, 4)


SEARCH_SPACE: tuple[ParameterRange, ...] = (
    ParameterRange("max_depth", integer=True, low=2, high=7),
    ParameterRange("eta", integer=False, low=0.02, high=0.2, scale="Logarithmic"),
    ParameterRange("min_child_weight", integer=False, low=1.0, high=30.0, scale="Logarithmic"),
    ParameterRange("subsample", integer=False, low=0.6, high=1.0),
    ParameterRange("colsample_bytree", integer=False, low=0.4, high=1.0),
    ParameterRange("reg_lambda", integer=False, low=0.5, high=20.0, scale="Logarithmic"),
)


def sample_candidates(count: int, *, seed: int) -> list[dict[str, float | int]]:
    """`count` random points of the space, the same for the same seed (the local search's candidates)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible candidates, not cryptography
    return [{item.name: item.sample(rng) for item in SEARCH_SPACE} for _ in range(count)]


def parameter_ranges() -> dict[str, list[dict[str, str]]]:
    """The space as a SageMaker tuning job's `ParameterRanges` (values are strings in that API)."""
    ranges: dict[str, list[dict[str, str]]] = {"IntegerParameterRanges": [], "ContinuousParameterRanges": []}
    for item in SEARCH_SPACE:
        key = "IntegerParameterRanges" if item.integer else "ContinuousParameterRanges"
        ranges[key].append(
            {
                "Name": item.name,
                "MinValue": str(int(item.low) if item.integer else item.low),
                "MaxValue": str(int(item.high) if item.integer else item.high),
                "ScalingType": item.scale,
            }
        )
    return ranges
