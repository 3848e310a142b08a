"""The training data's feature distributions (`feature_baseline.json`), the reference the drift job compares live scoring with.

Format (version 1), one entry per input column of the feature definition:

- numeric: `{"kind": "numeric", "edges": [e1, ..., e9], "proportions": [p0, ..., p9]}`: the
  9 inner cut points are the training values' deciles; bin i holds the values with
  `edges[i-1] < v <= edges[i]` (bin 0 everything up to e1, bin 9 everything above e9);
- categorical: `{"kind": "categorical", "proportions": {"<category>": p, ..., "__other__": p}}`:
  the share of each category seen in training; `__other__` (0 in training) is where
  the drift job counts categories the model never saw.

Missing values are left out of both (the proportions are of present values and sum
to 1). A column with no value at all in training is left out: there is nothing to drift from.
The drift job computes the population stability index per column,
`sum((a - e) * ln(a / e))`, each proportion floored at 1e-4.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from propensity.features import FeatureSpec, _category, _is_missing, _number

VERSION = 1
BINS = 10
OTHER = "__other__"
FILE = "feature_baseline.json"


def numeric_bin(value: float, edges: Sequence[float]) -> int:
    """The bin of `value`: i such that edges[i-1] < value <= edges[i]."""
    return int(np.searchsorted(np.asarray(edges, dtype=np.float64), value, side="left"))


def feature_baseline(rows: Sequence[Mapping[str, Any]], spec: FeatureSpec) -> dict[str, Any]:
    """The baseline of `rows` (the training rows), for the columns of `spec`."""
    features: dict[str, Any] = {}
    for column in spec.columns:
        present = [row.get(column.name) for row in rows if not _is_missing(row.get(column.name))]
        if not present:
            continue
        if column.kind == "numeric":
            values = np.array([_number(value, column.name) for value in present], dtype=np.float64)
            edges = [round(float(e), 6) for e in np.quantile(values, np.arange(1, BINS) / BINS)]
            counts = np.bincount(np.searchsorted(np.asarray(edges), values, side="left"), minlength=BINS)
            features[column.name] = {
                "kind": "numeric",
                "edges": edges,
                "proportions": [round(float(c) / len(values), 6) for c in counts],
            }
        else:
            counts_by_category = Counter(_category(value) for value in present)
            proportions = {
                category: round(counts_by_category[category] / len(present), 6) for category in column.categories
            }
            features[column.name] = {"kind": "categorical", "proportions": {**proportions, OTHER: 0.0}}
    return {"version": VERSION, "features": features}


def to_json(baseline: Mapping[str, Any]) -> str:
    return json.dumps(baseline, indent=2) + "\n"
