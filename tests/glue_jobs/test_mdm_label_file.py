from __future__ import annotations

from pathlib import Path

import pytest

from glue_jobs.label_file import RECORD_COLUMNS, LabelFileError, check_label_file

HEADER = ",".join(("labeling_set_id", "label", *RECORD_COLUMNS))


def row(labeling_set: str, label: str, key: str) -> str:
    system, source_id = key.split(":")
    values = {column: "" for column in RECORD_COLUMNS} | {
        "source_key": key,
        "source_system": system,
        "source_id": source_id,
    }
    return ",".join((labeling_set, label, *values.values()))


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_given_a_valid_file_when_checked_then_summary(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, row("set-1", "A", "crm:1"), row("set-1", "A", "pos:2"), row("set-2", "B", "crm:3"))
    summary = check_label_file(path)
    assert (summary.records, summary.labeling_sets) == (3, 2)


def test_given_label_columns_not_first_when_checked_then_header_error_on_line_1(tmp_path: Path) -> None:
    path = write(tmp_path, "label,labeling_set_id," + ",".join(RECORD_COLUMNS), row("s", "A", "crm:1"))
    with pytest.raises(LabelFileError, match=r"line 1: header must start with labeling_set_id,label"):
        check_label_file(path)


def test_given_missing_and_unknown_columns_when_checked_then_each_is_named(tmp_path: Path) -> None:
    columns = [c for c in RECORD_COLUMNS if c != "email"] + ["shoe_size"]
    path = write(tmp_path, ",".join(("labeling_set_id", "label", *columns)))
    with pytest.raises(LabelFileError) as caught:
        check_label_file(path)
    assert "line 1, column email: source column missing" in str(caught.value)
    assert "line 1, column shoe_size: not a column" in str(caught.value)


def test_given_bad_rows_when_checked_then_line_and_column_are_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        row("set-1", "", "crm:1"),
        row("set-1", "A", "crm:1"),
        "set-1,A,too,few",
    )
    with pytest.raises(LabelFileError) as caught:
        check_label_file(path)
    message = str(caught.value)
    assert "line 2, column label: empty" in message
    assert "line 3, column source_key: crm:1 appears twice in labeling set set-1" in message
    assert "line 4: 4 fields" in message


def test_given_header_only_when_checked_then_no_records_error(tmp_path: Path) -> None:
    with pytest.raises(LabelFileError, match="no labelled records"):
        check_label_file(write(tmp_path, HEADER))
