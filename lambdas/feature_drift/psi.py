"""Population stability index of each model input: live values against the training baseline. Pure.

The baseline (`feature_baseline.json`, written by training beside the model) holds,
per input column, the training distribution:

- numeric: the 9 inner cut points of the training deciles (`edges`) and the share of
  training rows in each of the 10 bins; bin i holds edges[i-1] < v <= edges[i];
- categorical: the share of each category, and `__other__` for the rest.

Live values are binned the same way (missing values are left out on both sides),
and per feature PSI = sum over bins of (live - expected) * ln(live / expected), each
share floored at `FLOOR` so an empty bin counts as a large shift, not an infinity.
Rule of thumb: under 0.1 stable, 0.1-0.2 moving, above 0.2 (the default alert
threshold) a shift worth a look.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FLOOR = 1e-4
OTHER = "__other__"
VERSION = 1


class NumericBaseline(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["numeric"]
    edges: list[Annotated[float, Field(allow_inf_nan=False)]]
    proportions: list[Annotated[float, Field(ge=0, le=1)]]

    @model_validator(mode="after")
    def _bins(self) -> NumericBaseline:
        if len(self.proportions) != len(self.edges) + 1:
            raise ValueError(f"{len(self.edges)} edges need {len(self.edges) + 1} proportions")
        if any(right < left for left, right in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("edges must not decrease")
        return self

    def shares(self, values: Iterable[Any]) -> tuple[list[float], list[float], int]:
        """(expected, live) shares per bin, and how many live values were binned."""
        counts = [0] * len(self.proportions)
        for value in values:
            number = _number(value)
            if number is not None:
                counts[bisect_left(self.edges, number)] += 1
        total = sum(counts)
        return list(self.proportions), [count / total if total else 0.0 for count in counts], total


class CategoricalBaseline(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["categorical"]
    proportions: dict[str, Annotated[float, Field(ge=0, le=1)]]

    def shares(self, values: Iterable[Any]) -> tuple[list[float], list[float], int]:
        names = [name for name in self.proportions if name != OTHER]
        lowered = {name.lower(): name for name in names}
        counts: Counter[str] = Counter()
        for value in values:
            category = _category(value)
            if category is not None:
                # "True" in a training CSV and true in a JSON request are one category.
                counts[category if category in self.proportions else lowered.get(category.lower(), OTHER)] += 1
        total = sum(counts.values())
        keys = [*names, OTHER]
        expected = [self.proportions.get(key, 0.0) for key in keys]
        return expected, [counts[key] / total if total else 0.0 for key in keys], total


FeatureBaseline = Annotated[NumericBaseline | CategoricalBaseline, Field(discriminator="kind")]


class Baseline(BaseModel):
    """`feature_baseline.json`: the training distribution of every input column."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    version: Literal[1]
    features: dict[str, FeatureBaseline]


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float | None  # None: fewer live values than the minimum, too few to say
    rows: int


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of two distributions over the same bins (each share floored at FLOOR)."""
    if len(expected) != len(actual):
        raise ValueError("both distributions need the same bins")
    total = 0.0
    for share, observed in zip(expected, actual, strict=True):
        e, a = max(share, FLOOR), max(observed, FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def drift(baseline: Baseline, rows: Sequence[Mapping[str, Any]], *, min_rows: int) -> list[FeatureDrift]:
    """PSI of every baseline feature over the live rows, by feature name (a feature absent from a row is missing)."""
    results = []
    for name in sorted(baseline.features):
        expected, live, count = baseline.features[name].shares(row.get(name) for row in rows)
        results.append(FeatureDrift(name, round(psi(expected, live), 6) if count >= min_rows else None, count))
    return results


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def _number(value: Any) -> float | None:
    if _missing(value):
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None  # not a number: left out, as a missing value
    return None if math.isnan(number) else number


def _category(value: Any) -> str | None:
    # The same reading as the model's feature definition: true/false, 3 and "3" are one category.
    if _missing(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
