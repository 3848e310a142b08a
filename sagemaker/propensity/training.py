"""Training with the shared feature definition: fit, score, cross-validate, save the artefacts.

`train.py` (SageMaker) and `omni propensity` (local) both call these, so the
model evaluated on a laptop is built exactly as the one the pipeline ships.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.model_selection import StratifiedKFold

from propensity.data import Row, check_columns, labels
from propensity.features import FeatureSpec
from propensity.metrics import evaluate

MODEL_FILE = "xgboost-model.json"
SPEC_FILE = "feature-spec.json"
METRICS_FILE = "metrics.json"
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
    seed: int = 7
    nthread: int = 0  # 0: every core

    def params(self) -> dict[str, Any]:
        values = asdict(self)
        del values["num_round"]
        if not values["nthread"]:
            del values["nthread"]
        return {"objective": "binary:logistic", "eval_metric": "auc", "tree_method": "hist", **values}


@dataclass(frozen=True)
class TrainedModel:
    booster: xgb.Booster
    spec: FeatureSpec

    def score(self, rows: Sequence[Row]) -> np.ndarray:
        matrix = xgb.DMatrix(self.spec.encode(rows), feature_names=self.spec.feature_names)
        return np.asarray(self.booster.predict(matrix), dtype=np.float64)


@dataclass(frozen=True)
class CrossValidation:
    fold_aucs: list[float]
    metrics: dict[str, Any]  # of the out-of-fold scores: every row scored by a model that never saw it


def fit(
    rows: Sequence[Row], *, target: str, drop: Sequence[str] = (), hyperparameters: Hyperparameters
) -> TrainedModel:
    check_columns(rows, [target, *drop])
    spec = FeatureSpec.fit(rows, target=target, drop=drop)
    matrix = xgb.DMatrix(spec.encode(rows), label=labels(rows, target), feature_names=spec.feature_names)
    booster = xgb.train(hyperparameters.params(), matrix, num_boost_round=hyperparameters.num_round)
    return TrainedModel(booster, spec)


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
    scores = np.zeros(len(rows))
    aucs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=hyperparameters.seed)
    for number, (train_index, test_index) in enumerate(splitter.split(np.zeros(len(rows)), y), start=1):
        model = fit([rows[i] for i in train_index], target=target, drop=drop, hyperparameters=hyperparameters)
        scores[test_index] = model.score([rows[i] for i in test_index])
        aucs.append(evaluate(y[test_index], scores[test_index])["auc"])
        progress(f"fold {number}/{folds}: AUC {aucs[-1]:.4f} ({len(train_index)} train, {len(test_index)} test rows)")
    return CrossValidation(fold_aucs=aucs, metrics=evaluate(y, scores))


def save(model: TrainedModel, model_dir: Path, metrics: dict[str, Any]) -> None:
    """The artefacts SageMaker packs into model.tar.gz: the booster, the feature definition, the metrics."""
    model_dir.mkdir(parents=True, exist_ok=True)
    model.booster.save_model(str(model_dir / MODEL_FILE))
    (model_dir / SPEC_FILE).write_text(model.spec.to_json(), encoding="utf-8")
    (model_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


def load(model_dir: Path) -> TrainedModel:
    booster = xgb.Booster()
    booster.load_model(str(model_dir / MODEL_FILE))
    return TrainedModel(booster, FeatureSpec.from_json((model_dir / SPEC_FILE).read_text(encoding="utf-8")))
