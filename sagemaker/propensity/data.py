"""Training data: CSV files (plain or gzipped, `,` or `;` separated) read into rows of strings, and binary labels.

The data preparation job writes comma-separated `data.csv` files with a 1/0
target; the bank marketing file used locally is semicolon-separated, gzipped,
with a yes/no target. Both read the same way.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

Row = dict[str, str]
DELIMITERS = (",", ";", "|", "\t")
POSITIVE = frozenset({"1", "yes", "true", "y"})
NEGATIVE = frozenset({"0", "no", "false", "n"})


class DataError(ValueError):
    """The training data cannot be used; the message names the file, row or column."""


def read_csv(path: Path) -> list[Row]:
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8-sig")
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows = [dict(row) for row in reader]
    if not rows:
        raise DataError(f"{path}: no data rows")
    if any(None in row for row in rows):
        raise DataError(f"{path}: a row has more values than the header has columns")
    return rows


def read_dataset(location: Path) -> list[Row]:
    """One file, or every CSV file of a folder (a SageMaker channel), which must share their columns."""
    if location.is_file():
        return read_csv(location)
    files = sorted(p for p in location.iterdir() if p.is_file() and p.name.endswith((".csv", ".csv.gz")))
    if not files:
        raise DataError(f"{location}: no .csv or .csv.gz file")
    rows: list[Row] = []
    for path in files:
        part = read_csv(path)
        if rows and list(part[0]) != list(rows[0]):
            raise DataError(f"{path}: its columns differ from {files[0].name}'s")
        rows.extend(part)
    return rows


def labels(rows: Sequence[Row], target: str) -> np.ndarray:
    """The target as 1/0 (yes/no, true/false, y/n and 1/0 are understood, in any case)."""
    if target not in rows[0]:
        raise DataError(f"target column {target!r} not found; columns: {', '.join(rows[0])}")
    values = np.zeros(len(rows), dtype=np.float32)
    for line, row in enumerate(rows, start=2):
        label = (row[target] or "").strip().lower()
        if label in POSITIVE:
            values[line - 2] = 1.0
        elif label not in NEGATIVE:
            raise DataError(f"row {line}: target {target!r} is {row[target]!r}, expected yes/no or 1/0")
    if values.min() == values.max():
        raise DataError(f"target {target!r} has one class only: a propensity model needs both")
    return values


def check_columns(rows: Sequence[Row], names: Sequence[str]) -> None:
    unknown = [name for name in names if name not in rows[0]]
    if unknown:
        raise DataError(f"unknown column(s): {', '.join(unknown)}; columns: {', '.join(rows[0])}")
