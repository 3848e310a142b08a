"""Why a customer got their score: each input column's contribution, from XGBoost's own attribution.

`booster.predict(..., pred_contribs=True)` gives, per row, one log-odds contribution
per encoded feature plus the bias (TreeSHAP values: they sum to the raw margin).
A categorical column is several indicators, so its contribution is the sum of its
indicators'; the answer names the column the caller sent, with the value it sent
(null when absent or missing). The bias is left out: it is the same for everyone.

The endpoint and the sandbox's stand-in both call `top_contributions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import numpy as np

from propensity.features import FeatureSpec, _is_missing

TOP = 3


class Contribution(TypedDict):
    feature: str
    value: Any
    contribution: float


def column_contributions(spec: FeatureSpec, contributions: np.ndarray) -> np.ndarray:
    """Per-row contributions of each input column (rows x columns), from per-feature ones (bias last, dropped)."""
    width = len(spec.feature_names)
    if contributions.ndim != 2 or contributions.shape[1] != width + 1:
        raise ValueError(f"expected {width} feature contributions and the bias per row, got {contributions.shape}")
    sums = np.zeros((contributions.shape[0], len(spec.columns)), dtype=np.float64)
    offset = 0
    for index, column in enumerate(spec.columns):
        span = len(column.feature_names())
        if span:
            sums[:, index] = contributions[:, offset : offset + span].sum(axis=1)
        offset += span
    return sums


def top_contributions(
    spec: FeatureSpec, rows: Sequence[Mapping[str, Any]], contributions: np.ndarray, *, top: int = TOP
) -> list[list[Contribution]]:
    """For each row, its `top` columns by absolute contribution, largest first (ties: the feature definition's order)."""
    sums = column_contributions(spec, contributions)
    answer = []
    for row, values in zip(rows, sums, strict=True):
        order = sorted(range(len(values)), key=lambda i: -abs(values[i]))[:top]
        answer.append(
            [
                Contribution(
                    feature=spec.columns[i].name,
                    value=_raw(row.get(spec.columns[i].name)),
                    contribution=round(float(values[i]), 6),
                )
                for i in order
            ]
        )
    return answer


def _raw(value: Any) -> Any:
    return None if _is_missing(value) else value
