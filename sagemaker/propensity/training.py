"""Training with the shared feature definition: fit, score, cross-validate, calibrate, save the artefacts.

`train.py` (SageMaker) and `omni propensity` (local) both call these, so the
model evaluated on a laptop is built exactly as the one the pipeline ships.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.model_selection import StratifiedKFold

from propensity import baseline
from propensity.calibration import IDENTITY, Calibration, fit_platt
from propensity.data import Row, check_columns, labels
from propensity.explain import TOP, Contribution, top_contributions
from propensity.features import FeatureSpec
from propensity.metrics import evaluate

MODEL_FILE = "xgboost-model.json"
SPEC_FILE = "feature-spec.json"
METRICS_FILE = "metrics.json"
CALIBRATION_FILE = "calibration.json"
BASELINE_FILE = baseline.FILE
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Hyperparameters:
    """Shallow trees and a small learning rate: on the bank data deeper trees overfit the few positives."""

    num_round: int = 300
    max_depth: int = 4
    eta: float = 0.05
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    min_child_weight: float = 5.0
    reg_lambda: float = 1.0  # L2 on leaf weights; 1 is XGBoost's own default
    seed: int = 7
    nthread: int = 0  # 0: every core

    def params(self) -> dict[str, Any]:
        values = asdict(self)
        del values["num_round"]
        if not values["nthread"]:
            del values["nthread"]
        # Early stopping watches the last metric: log-loss, the objective itself, which improves smoothly;
        # AUC moves in steps on a few hundred positives and can peak after one tree by chance.
        return {"objective": "binary:logistic", "eval_metric": ["auc", "logloss"], "tree_method": "hist", **values}


@dataclass(frozen=True)
class TrainedModel:
    booster: xgb.Booster
    spec: FeatureSpec
    calibration: Calibration = IDENTITY

    def _matrix(self, rows: Sequence[Row]) -> xgb.DMatrix:
        return xgb.DMatrix(self.spec.encode(rows), feature_names=self.spec.feature_names)

    def margins(self, rows: Sequence[Row]) -> np.ndarray:
        """The booster's raw log-odds, before calibration."""
        return np.asarray(self.booster.predict(self._matrix(rows), output_margin=True), dtype=np.float64)

    def score(self, rows: Sequence[Row]) -> np.ndarray:
        """Calibrated probabilities: what the endpoint answers and the eligibility rules compare with thresholds."""
        return self.calibration.apply(self.margins(rows))

    def explain(self, rows: Sequence[Row], *, top: int = TOP) -> list[list[Contribution]]:
        """Each row's `top` input columns by absolute log-odds contribution (`propensity.explain`)."""
        contributions = np.asarray(self.booster.predict(self._matrix(rows), pred_contribs=True), dtype=np.float64)
        return top_contributions(self.spec, rows, contributions, top=top)


@dataclass(frozen=True)
class CrossValidation:
    fold_aucs: list[float]
    metrics: dict[str, Any]  # of the out-of-fold scores: every row scored by a model that never saw it
    margins: np.ndarray  # the out-of-fold log-odds, one per row (the calibration's held-out predictions)
    labels: np.ndarray
    fold_of: np.ndarray  # which fold held each row out


def fit(
    rows: Sequence[Row],
    *,
    target: str,
    drop: Sequence[str] = (),
    hyperparameters: Hyperparameters,
    validation: Sequence[Row] | None = None,
    early_stopping_rounds: int | None = None,
) -> TrainedModel:
    """Train on `rows`; with `validation` and `early_stopping_rounds`, stop when its log-loss stops improving.

    The model returned then holds the best round's trees only (up to `num_round`).
    """
    check_columns(rows, [target, *drop])
    spec = FeatureSpec.fit(rows, target=target, drop=drop)
    matrix = xgb.DMatrix(spec.encode(rows), label=labels(rows, target), feature_names=spec.feature_names)
    if validation is None or not early_stopping_rounds:
        booster = xgb.train(hyperparameters.params(), matrix, num_boost_round=hyperparameters.num_round)
        return TrainedModel(booster, spec)
    held_out = xgb.DMatrix(spec.encode(validation), label=labels(validation, target), feature_names=spec.feature_names)
    booster = xgb.train(
        hyperparameters.params(),
        matrix,
        num_boost_round=hyperparameters.num_round,
        evals=[(held_out, "validation")],
        early_stopping_rounds=early_stopping_rounds,
        verbose_eval=False,
    )
    return TrainedModel(booster[: booster.best_iteration + 1], spec)


def cross_validate(
    rows: Sequence[Row],
    *,
    target: str,
    drop: Sequence[str] = (),
    folds: int = 5,
    hyperparameters: Hyperparameters,
    progress: Progress = lambda _: None,
) -> CrossValidation:
    """Stratified k-fold; the feature definition is learnt inside each fold, as it would be in production."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    check_columns(rows, [target, *drop])
    y = labels(rows, target)
    margins = np.zeros(len(rows))
    fold_of = np.zeros(len(rows), dtype=np.int64)
    aucs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=hyperparameters.seed)
    for number, (train_index, test_index) in enumerate(splitter.split(np.zeros(len(rows)), y), start=1):
        model = fit([rows[i] for i in train_index], target=target, drop=drop, hyperparameters=hyperparameters)
        margins[test_index] = model.margins([rows[i] for i in test_index])
        fold_of[test_index] = number
        aucs.append(evaluate(y[test_index], IDENTITY.apply(margins[test_index]))["auc"])
        progress(f"fold {number}/{folds}: AUC {aucs[-1]:.4f} ({len(train_index)} train, {len(test_index)} test rows)")
    scores = IDENTITY.apply(margins)
    return CrossValidation(fold_aucs=aucs, metrics=evaluate(y, scores), margins=margins, labels=y, fold_of=fold_of)


def cross_fitted_calibration(validation: CrossValidation) -> np.ndarray:
    """Calibrated out-of-fold scores, each fold's by a calibration fitted on the other folds' predictions only.

    Measures calibration on rows the calibration never saw, as `calibrate_on` does for a validation set.
    """
    scores = np.zeros(len(validation.margins))
    for fold in np.unique(validation.fold_of):
        held_out = validation.fold_of == fold
        calibration = fit_platt(validation.margins[~held_out], validation.labels[~held_out])
        scores[held_out] = calibration.apply(validation.margins[held_out])
    return scores


def calibration_report(
    calibration: Calibration, labels_: np.ndarray, before: np.ndarray, after: np.ndarray, *, held_out: str
) -> dict[str, Any]:
    """What the calibration did: Brier score, calibration error and reliability table before and after it."""

    def summary(scores: np.ndarray) -> dict[str, Any]:
        metrics = evaluate(labels_, scores)
        return {name: metrics[name] for name in ("brier_score", "calibration_error", "reliability")}

    return {
        "method": "platt",
        "a": calibration.a,
        "b": calibration.b,
        "fitted_on": f"{calibration.rows} out-of-fold predictions of the training rows",
        "measured_on": held_out,
        "before": summary(before),
        "after": summary(after),
    }


def save(
    model: TrainedModel,
    model_dir: Path,
    metrics: dict[str, Any],
    *,
    feature_baseline: dict[str, Any] | None = None,
) -> None:
    """The artefacts SageMaker packs into model.tar.gz: the booster, the feature definition, the metrics,
    the calibration, and (when given) the training data's feature baseline for the drift job."""
    model_dir.mkdir(parents=True, exist_ok=True)
    model.booster.save_model(str(model_dir / MODEL_FILE))
    (model_dir / SPEC_FILE).write_text(model.spec.to_json(), encoding="utf-8")
    (model_dir / CALIBRATION_FILE).write_text(model.calibration.to_json(), encoding="utf-8")
    (model_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    if feature_baseline is not None:
        (model_dir / BASELINE_FILE).write_text(baseline.to_json(feature_baseline), encoding="utf-8")


def load(model_dir: Path) -> TrainedModel:
    """The saved model; one saved before calibration existed serves its booster's probabilities unchanged."""
    booster = xgb.Booster()
    booster.load_model(str(model_dir / MODEL_FILE))
    spec = FeatureSpec.from_json((model_dir / SPEC_FILE).read_text(encoding="utf-8"))
    calibration_file = model_dir / CALIBRATION_FILE
    calibration = (
        Calibration.from_json(calibration_file.read_text(encoding="utf-8")) if calibration_file.is_file() else IDENTITY
    )
    return TrainedModel(booster, spec, calibration)


def with_rounds(hyperparameters: Hyperparameters, rounds: int) -> Hyperparameters:
    return replace(hyperparameters, num_round=rounds)
