"""The trainer: optional search, cross-validation, calibration, the final fit, the feature baseline and the report.

`omni propensity train` and the SageMaker training script (`train.py`) both run
`train`, so the model judged locally is built the way the pipeline builds it:

1. search (`propensity.tuning`, when asked): the parameters and number of rounds;
2. k-fold cross-validation with them: every training row scored by a model that
   never saw it (its out-of-fold log-odds);
3. Platt calibration fitted on those out-of-fold log-odds (`propensity.calibration`);
4. the model that ships: trained on every training row, or, with a validation
   set and early stopping, on the training rows with early stopping on the
   log-loss of half the validation rows (`propensity.holdout`; the rounds it keeps
   then also drive step 2);
5. the metrics of calibrated scores on rows that neither training, early stopping
   nor the calibration saw: the validation set's comparison holdout (the whole
   validation set when nothing stops early), or without one the out-of-fold
   scores, each fold calibrated on the other folds only; with the Brier score,
   calibration error and reliability table before and after calibration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from propensity.baseline import feature_baseline
from propensity.calibration import IDENTITY, fit_platt
from propensity.data import Row, labels
from propensity.holdout import split_validation
from propensity.metrics import evaluate
from propensity.training import (
    Hyperparameters,
    Progress,
    TrainedModel,
    calibration_report,
    cross_fitted_calibration,
    cross_validate,
    fit,
)
from propensity.tuning import Tuning, TuningOptions, tune


@dataclass(frozen=True)
class Trained:
    model: TrainedModel  # calibrated
    metrics: dict[str, Any]  # metrics.json
    baseline: dict[str, Any]  # feature_baseline.json
    hyperparameters: Hyperparameters  # as used, rounds included
    tuning: Tuning | None
    # The rows `metrics` measures (the comparison holdout of the validation set); None: out-of-fold scores.
    holdout: list[Row] | None = None


def train(
    rows: Sequence[Row],
    *,
    target: str,
    drop: Sequence[str] = (),
    hyperparameters: Hyperparameters,
    folds: int = 5,
    tuning: TuningOptions | None = None,
    validation: Sequence[Row] | None = None,
    early_stopping_rounds: int | None = None,
    progress: Progress = lambda _: None,
) -> Trained:
    searched: Tuning | None = None
    chosen = hyperparameters
    if tuning is not None:
        searched = tune(rows, target=target, drop=drop, base=hyperparameters, options=tuning, progress=progress)
        chosen = searched.best
        progress(f"chosen: {searched.report()['chosen']}")

    holdout: list[Row] | None = None
    if validation is not None:
        if early_stopping_rounds:
            # Measured on the rows that chose its number of trees, the challenger's AUC would be flattered.
            parts = split_validation(validation, target=target)
            stopping, holdout = parts.early_stopping, parts.comparison
            measured_on = (
                f"the {len(holdout)} comparison rows of the validation set "
                f"(its other {len(stopping)} rows stopped the training)"
            )
        else:
            stopping, holdout = None, list(validation)
            measured_on = f"the {len(holdout)} validation rows"
        model = fit(
            rows,
            target=target,
            drop=drop,
            hyperparameters=chosen,
            validation=stopping,
            early_stopping_rounds=early_stopping_rounds,
        )
        chosen = replace(chosen, num_round=model.booster.num_boosted_rounds())
        progress(f"trained on {len(rows)} rows: {chosen.num_round} rounds")
        cv = cross_validate(rows, target=target, drop=drop, folds=folds, hyperparameters=chosen, progress=progress)
        calibration = fit_platt(cv.margins, cv.labels)
        held_out = labels(holdout, target)
        margins = model.margins(holdout)
        before, after = IDENTITY.apply(margins), calibration.apply(margins)
        metrics = {**evaluate(held_out, after), "evaluation": "validation"}
        if stopping is not None:
            metrics["early_stopping_rows"] = len(stopping)
    else:
        cv = cross_validate(rows, target=target, drop=drop, folds=folds, hyperparameters=chosen, progress=progress)
        calibration = fit_platt(cv.margins, cv.labels)
        held_out = cv.labels
        before, after = IDENTITY.apply(cv.margins), cross_fitted_calibration(cv)
        metrics = {**evaluate(held_out, after), "evaluation": f"{folds}-fold", "fold_aucs": cv.fold_aucs}
        measured_on = f"the {len(rows)} out-of-fold scores, each fold calibrated on the others"
        model = fit(rows, target=target, drop=drop, hyperparameters=chosen)

    model = replace(model, calibration=calibration)
    metrics["calibration"] = calibration_report(calibration, held_out, before, after, held_out=measured_on)
    metrics["hyperparameters"] = chosen.params() | {"num_round": chosen.num_round}
    if searched is not None:
        metrics["tuning"] = searched.report()
    return Trained(model, metrics, feature_baseline(rows, model.spec), chosen, searched, holdout)
