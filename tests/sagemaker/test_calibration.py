"""Platt calibration: fitted on held-out log-odds, it makes scores mean what they say, and never reorders them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from propensity import inference
from propensity.calibration import IDENTITY, Calibration, fit_platt
from propensity.data import Row, labels
from propensity.metrics import calibration_error, evaluate
from propensity.trainer import train
from propensity.training import CALIBRATION_FILE, TrainedModel, load, save

from .conftest import FAST


def _overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Margins whose sigmoid overstates the odds: the truth is sigmoid(0.5 * margin - 1)."""
    rng = np.random.default_rng(seed)
    margins = rng.normal(0.0, 3.0, n)
    truth = 1.0 / (1.0 + np.exp(-(0.5 * margins - 1.0)))
    return margins, (rng.random(n) < truth).astype(float)


def test_platt_recovers_the_true_stretch_and_shift() -> None:
    margins, outcomes = _overconfident(20_000, seed=1)
    fitted = fit_platt(margins, outcomes)
    assert fitted.a == pytest.approx(0.5, abs=0.05)
    assert fitted.b == pytest.approx(-1.0, abs=0.08)
    assert fitted.rows == 20_000


def test_on_held_out_rows_calibrated_scores_are_more_reliable_than_raw_ones() -> None:
    margins, outcomes = _overconfident(4000, seed=2)
    held_out_margins, held_out = _overconfident(4000, seed=3)
    calibration = fit_platt(margins, outcomes)
    raw, calibrated = IDENTITY.apply(held_out_margins), calibration.apply(held_out_margins)
    before, after = evaluate(held_out, raw), evaluate(held_out, calibrated)
    assert after["brier_score"] < before["brier_score"] - 0.01
    assert calibration_error(held_out, calibrated) < calibration_error(held_out, raw) / 2
    assert after["auc"] == before["auc"]  # strictly increasing: the ranking is untouched


def test_a_saved_calibration_is_applied_by_score_and_survives_loading(
    trained: TrainedModel, rows: list[Row], tmp_path: Path
) -> None:
    calibrated = replace(trained, calibration=Calibration(a=0.5, b=-1.0, rows=10))
    margins = trained.margins(rows[:50])
    np.testing.assert_allclose(calibrated.score(rows[:50]), 1 / (1 + np.exp(-(0.5 * margins - 1.0))))
    np.testing.assert_allclose(trained.score(rows[:50]), 1 / (1 + np.exp(-margins)), rtol=1e-6)
    save(calibrated, tmp_path, {"auc": 0.5})
    assert json.loads((tmp_path / CALIBRATION_FILE).read_text())["method"] == "platt"
    np.testing.assert_array_equal(load(tmp_path).score(rows[:50]), calibrated.score(rows[:50]))


def test_a_model_saved_before_calibration_existed_serves_its_boosters_probabilities(
    model_dir: Path, trained: TrainedModel, rows: list[Row], tmp_path: Path
) -> None:
    save(trained, tmp_path, {"auc": 0.5})
    (tmp_path / CALIBRATION_FILE).unlink()
    assert load(tmp_path).calibration == IDENTITY
    np.testing.assert_array_equal(load(tmp_path).score(rows[:20]), trained.score(rows[:20]))


@pytest.mark.parametrize("text", ['{"format": "other", "a": 1, "b": 0}', '{"format": "omni-propensity-calibration/1"}'])
def test_a_file_that_is_not_a_platt_calibration_is_refused(text: str) -> None:
    with pytest.raises((ValueError, KeyError)):
        Calibration.from_json(text)


def test_training_reports_brier_and_reliability_before_and_after_on_rows_the_calibration_never_saw(
    rows: list[Row],
) -> None:
    trained = train(rows[:2000], target="y", drop=["duration"], hyperparameters=FAST, folds=3)
    report = trained.metrics["calibration"]
    assert report["method"] == "platt"
    assert (report["a"], report["b"]) == (trained.model.calibration.a, trained.model.calibration.b)
    assert trained.model.calibration.rows == 2000  # every training row's out-of-fold prediction
    assert "each fold calibrated on the others" in report["measured_on"]
    for side in ("before", "after"):
        assert {"brier_score", "calibration_error", "reliability"} <= set(report[side])
        assert sum(band["count"] for band in report[side]["reliability"]) == 2000
    # The top-level metrics are those of the calibrated scores, the ones the endpoint serves.
    assert trained.metrics["brier_score"] == report["after"]["brier_score"]
    y = labels(rows[:2000], "y")
    assert evaluate(y, trained.model.score(rows[:2000]))["auc"] > 0.5


def test_the_served_version_changes_with_the_calibration(trained: TrainedModel, tmp_path: Path) -> None:
    save(trained, tmp_path / "a", {"auc": 0.5})
    save(replace(trained, calibration=Calibration(a=0.9, b=-0.2, rows=5)), tmp_path / "b", {"auc": 0.5})
    assert inference.model_version(tmp_path / "a") != inference.model_version(tmp_path / "b")
