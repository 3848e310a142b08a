"""The feature definition: which columns, how each is encoded, in which order.

It is learnt once from the training rows (`FeatureSpec.fit`), saved with the
model as JSON, and loaded by the inference script, so a customer's attributes
become the same vector at training and at serving time. Both paths go through
`encode`: training rows are CSV strings, serving rows are JSON values, and
`_number` / `_category` give them one meaning.

- numeric columns (every non-empty training value is a number): the value as a
  float; empty or null is missing (NaN), which XGBoost routes on its own;
- categorical columns: one indicator per category seen in training, in sorted
  order; a category never seen (or a missing value) sets no indicator.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

FORMAT = "omni-propensity-features/1"
Kind = Literal["numeric", "categorical"]
MISSING = float("nan")
FLOAT32_MAX = float(np.finfo(np.float32).max)


class FeatureError(ValueError):
    """A row cannot be encoded; `field` names the column (the inference endpoint answers it as a client error)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    categories: tuple[str, ...] = ()

    def feature_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={category}" for category in self.categories]


@dataclass(frozen=True)
class FeatureSpec:
    columns: tuple[Column, ...]
    target: str
    _index: dict[str, dict[str, int]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for column in self.columns:
            self._index[column.name] = {category: i for i, category in enumerate(column.categories)}

    @property
    def feature_names(self) -> list[str]:
        return [name for column in self.columns for name in column.feature_names()]

    @property
    def input_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @classmethod
    def fit(cls, rows: Sequence[Mapping[str, Any]], *, target: str, drop: Iterable[str] = ()) -> FeatureSpec:
        """Columns of the training rows (minus the target and `drop`), in the order of the first row."""
        if not rows:
            raise FeatureError("no training rows", field=target)
        excluded = {target, *drop}
        columns = []
        for name in rows[0]:
            if name in excluded:
                continue
            values = [row.get(name) for row in rows]
            present = [value for value in values if not _is_missing(value)]
            if all(_is_number(value) for value in present):
                columns.append(Column(name, "numeric"))
            else:
                categories = sorted({_category(value) for value in present})
                columns.append(Column(name, "categorical", tuple(categories)))
        return cls(tuple(columns), target)

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The feature matrix of `rows` (float32, one row each, columns in `feature_names` order).

        A column absent from a row is an error naming it; extra keys are ignored.
        """
        width = len(self.feature_names)
        matrix = np.zeros((len(rows), width), dtype=np.float32)
        for i, row in enumerate(rows):
            offset = 0
            for column in self.columns:
                if column.name not in row:
                    raise FeatureError("required attribute is missing", field=column.name)
                value = row[column.name]
                if column.kind == "numeric":
                    matrix[i, offset] = _number(value, column.name)
                    offset += 1
                else:
                    position = self._index[column.name].get(_category(value)) if not _is_missing(value) else None
                    if position is not None:
                        matrix[i, offset + position] = 1.0
                    offset += len(column.categories)
        return matrix

    def to_json(self) -> str:
        document = {
            "format": FORMAT,
            "target": self.target,
            "columns": [
                {
                    "name": c.name,
                    "kind": c.kind,
                    **({"categories": list(c.categories)} if c.kind == "categorical" else {}),
                }
                for c in self.columns
            ],
            "feature_names": self.feature_names,
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> FeatureSpec:
        document = json.loads(text)
        if document.get("format") != FORMAT:
            raise ValueError(f"not a feature definition of format {FORMAT}: {document.get('format')!r}")
        columns = tuple(
            Column(item["name"], item["kind"], tuple(item.get("categories", ()))) for item in document["columns"]
        )
        spec = cls(columns, document["target"])
        if spec.feature_names != document["feature_names"]:
            raise ValueError("the feature definition's names do not match its columns")
        return spec


def _is_missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _number(value: Any, name: str) -> float:
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise FeatureError(f"expected a number, got {type(value).__name__}", field=name) from None
    if math.isnan(number):
        return MISSING
    if not abs(number) <= FLOAT32_MAX:  # the model's inputs are float32: anything larger would become infinite
        raise FeatureError("the number is out of range", field=name)
    return number


def _category(value: Any) -> str:
    # JSON true/false and CSV "true"/"false" are one category; so are 3 and "3".
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
