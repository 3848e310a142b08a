"""The comparison holdout: validation rows that nothing in training sees, on which challenger and champion are scored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from propensity import train, trainer
from propensity.data import DataError, Row, labels
from propensity.holdout import split_validation
from propensity.trainer import Trained

from .test_champion import FEW_ROUNDS, _channel


def test_the_split_is_deterministic_disjoint_complete_and_stratified(rows: list[Row]) -> None:
    validation = rows[:1000]
    first = split_validation(validation, target="y")
    again = split_validation(validation, target="y")
    assert first == again
    stopping = {id(row) for row in first.early_stopping}
    comparison = {id(row) for row in first.comparison}
    assert not stopping & comparison
    assert stopping | comparison == {id(row) for row in validation}
    assert abs(len(stopping) - len(comparison)) <= 1
    positives = [labels(part, "y").sum() for part in (first.early_stopping, first.comparison)]
    assert abs(positives[0] - positives[1]) <= 1


def test_a_validation_set_too_small_to_split_is_refused_naming_the_counts(rows: list[Row]) -> None:
    positive = [row for row in rows if row["y"] == "yes"][:1]
    negatives = [row for row in rows if row["y"] == "no"][:50]
    with pytest.raises(DataError, match="1 positive and 50 negative rows of 'y': at least 2 of each"):
        split_validation([*positive, *negatives], target="y")


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, record: Callable[..., None]) -> None:
    """Calls `record(result, *args, **kwargs)` after each call of `module.name`."""
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        record(result, *args, **kwargs)
        return result

    monkeypatch.setattr(module, name, wrapper)


def test_training_never_sees_the_holdout_and_both_models_are_scored_on_exactly_it(
    rows: list[Row], model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    validation = rows[2000:]
    train_channel, validation_channel = _channel(tmp_path / "train", rows[:2000]), _channel(tmp_path / "v", validation)
    touched: list[int] = []  # every row object a training step was given
    stopped_on: list[int] = []
    champion_rows: list[int] = []
    returned: list[Trained] = []

    def fitted(_: object, rows: list[Row], **kwargs: Any) -> None:
        touched.extend(id(row) for row in rows)
        stopped_on.extend(id(row) for row in kwargs.get("validation") or [])

    _spy(monkeypatch, trainer, "fit", fitted)
    _spy(monkeypatch, trainer, "cross_validate", lambda _, rows, **__: touched.extend(id(row) for row in rows))
    _spy(monkeypatch, train, "train", lambda result, *_, **__: returned.append(result))
    _spy(monkeypatch, train, "score_champion", lambda _, __, rows, **___: champion_rows.extend(id(r) for r in rows))

    metrics = train.run(
        train.parse_args(
            [*FEW_ROUNDS, "--num_round", "200", "--validation", str(validation_channel), "--champion", str(model_dir)],
            {"SM_MODEL_DIR": str(tmp_path / "model"), "SM_CHANNEL_TRAIN": str(train_channel)},
        )
    )
    # Early stopping watched validation rows, none of those the champion is scored on; together they are the set.
    assert stopped_on
    assert not set(stopped_on) & set(champion_rows)
    assert len(set(stopped_on) | set(champion_rows)) == len(validation)
    # The champion is scored on the very rows the challenger's metrics come from.
    [trained] = returned
    assert trained.holdout is not None
    assert champion_rows == [id(row) for row in trained.holdout]
    assert metrics["rows"] == metrics["champion"]["rows"] == len(champion_rows)
    # Neither the final fit, the cross-validation that feeds the calibration, nor early stopping saw a holdout row.
    assert not set(touched) & set(champion_rows)
