"""Local checks of a FindMatches label file, before a data steward uploads it.

FindMatches imports labels as CSV: `labeling_set_id,label` first, then the columns
of the transform's input table (`source_key` and the customer schema). Records of
one labeling set that share a label are the same customer. A malformed file fails
the import task run minutes later with a vague message; checking locally names the
line and column at once.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from glue_jobs.customer_schema import SOURCE_COLUMNS

LABEL_COLUMNS: tuple[str, ...] = ("labeling_set_id", "label")
PRIMARY_KEY = "source_key"
"""The FindMatches primary key: `source_system:source_id`, added by the FindMatches job's preparation step."""
RECORD_COLUMNS: tuple[str, ...] = (PRIMARY_KEY, *SOURCE_COLUMNS)


@dataclass(frozen=True, slots=True)
class LabelProblem:
    """One defect, located as a spreadsheet user would look for it (1-based line, column name)."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class LabelFileError(ValueError):
    """The label file has defects; `problems` lists them all."""

    def __init__(self, path: str, problems: list[LabelProblem]) -> None:
        self.problems = problems
        shown = "; ".join(str(problem) for problem in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{path}: {shown}{more}")


@dataclass(frozen=True, slots=True)
class LabelSummary:
    labeling_sets: int
    records: int


def _header_problems(header: list[str], record_columns: tuple[str, ...]) -> list[LabelProblem]:
    if tuple(header[:2]) != LABEL_COLUMNS:
        return [LabelProblem(1, None, f"header must start with labeling_set_id,label; found {','.join(header[:2])}")]
    problems = []
    seen = header[2:]
    for column in record_columns:
        if column not in seen:
            problems.append(LabelProblem(1, column, "source column missing from the header"))
    for column in seen:
        if column not in record_columns:
            problems.append(LabelProblem(1, column, "not a column of the transform's input table"))
    duplicates = {column for column in header if header.count(column) > 1}
    problems.extend(LabelProblem(1, column, "column appears more than once") for column in sorted(duplicates))
    return problems


def check_label_rows(rows: Iterable[list[str]], record_columns: tuple[str, ...] = RECORD_COLUMNS) -> LabelSummary:
    """Validate parsed CSV rows (header first); raises `LabelFileError` naming every defect."""
    iterator = iter(rows)
    header = next(iterator, None)
    if header is None:
        raise LabelFileError("label file", [LabelProblem(1, None, "file is empty")])
    problems = _header_problems(header, record_columns)
    if problems:
        raise LabelFileError("label file", problems)
    key_index = header.index(PRIMARY_KEY) if PRIMARY_KEY in header else None
    keys_per_set: dict[str, set[str]] = {}
    records = 0
    for line, row in enumerate(iterator, start=2):
        if not any(cell.strip() for cell in row):
            continue
        records += 1
        if len(row) != len(header):
            problems.append(LabelProblem(line, None, f"{len(row)} fields, the header has {len(header)}"))
            continue
        labeling_set, label = row[0].strip(), row[1].strip()
        if not labeling_set:
            problems.append(LabelProblem(line, "labeling_set_id", "empty"))
        if not label:
            problems.append(LabelProblem(line, "label", "empty: every record needs a label"))
        if key_index is not None:
            key = row[key_index].strip()
            keys = keys_per_set.setdefault(labeling_set, set())
            if not key:
                problems.append(LabelProblem(line, PRIMARY_KEY, "empty primary key"))
            elif key in keys:
                problems.append(LabelProblem(line, PRIMARY_KEY, f"{key} appears twice in labeling set {labeling_set}"))
            keys.add(key)
    if records == 0:
        problems.append(LabelProblem(2, None, "no labelled records"))
    if problems:
        raise LabelFileError("label file", problems)
    return LabelSummary(labeling_sets=len(keys_per_set), records=records)


def check_label_file(path: Path, record_columns: tuple[str, ...] = RECORD_COLUMNS) -> LabelSummary:
    """Validate a label file on disk; the error message starts with the file's path."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return check_label_rows(csv.reader(handle), record_columns)
    except LabelFileError as error:
        raise LabelFileError(str(path), error.problems) from None
    except UnicodeDecodeError as error:
        raise LabelFileError(str(path), [LabelProblem(1, None, f"not UTF-8 text ({error.reason})")]) from None
