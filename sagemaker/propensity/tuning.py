"""The local hyperparameter search of `omni propensity train`: a few seeded candidates, each cross-validated.

Candidates: the shipped `Hyperparameters` first (so the search can only keep or
beat them), then `candidates - 1` random points of `propensity.search_space`
(seeded by `Hyperparameters.seed`, the same every run). Each is scored by
stratified k-fold cross-validation (`xgb.cv`, default 3 folds) with early stopping
on the held-out folds' mean log-loss (`early_stopping_rounds`, up to `max_rounds`),
which picks its number of rounds; its score is the held-out folds' mean AUC at that
round. The best mean AUC wins.

Bounded in time: once `time_budget_s` has passed, no further candidate starts (the
first always runs), and the report says how many were tried.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import xgboost as xgb

from propensity.data import Row, check_columns, labels
from propensity.features import FeatureSpec
from propensity.search_space import SEARCH_SPACE, sample_candidates
from propensity.training import Hyperparameters, Progress

DEFAULT_CANDIDATES = 8
DEFAULT_FOLDS = 3
DEFAULT_EARLY_STOPPING_ROUNDS = 30
DEFAULT_MAX_ROUNDS = 1000


@dataclass(frozen=True)
class TuningOptions:
    candidates: int = DEFAULT_CANDIDATES
    folds: int = DEFAULT_FOLDS
    time_budget_s: float | None = None
    early_stopping_rounds: int = DEFAULT_EARLY_STOPPING_ROUNDS
    max_rounds: int = DEFAULT_MAX_ROUNDS

    def __post_init__(self) -> None:
        if self.candidates < 1:
            raise ValueError("the search needs at least 1 candidate")
        if self.folds < 2:
            raise ValueError("the search needs at least 2 folds")
        if self.time_budget_s is not None and self.time_budget_s <= 0:
            raise ValueError("the time budget must be positive")


@dataclass(frozen=True)
class Trial:
    parameters: dict[str, float | int]
    auc: float  # mean AUC of the held-out folds at the round early stopping chose
    rounds: int
    seconds: float


@dataclass(frozen=True)
class Tuning:
    best: Hyperparameters  # the winner, `num_round` set to its early-stopped rounds
    trials: list[Trial]
    planned: int  # candidates the options asked for (fewer were tried when the time budget ran out)

    def report(self) -> dict[str, Any]:
        """For metrics.json: the chosen parameters and every candidate's score."""
        return {
            "chosen": searched(self.best) | {"num_round": self.best.num_round},
            "tried": len(self.trials),
            "planned": self.planned,
            "trials": [
                {**trial.parameters, "auc": trial.auc, "rounds": trial.rounds, "seconds": trial.seconds}
                for trial in self.trials
            ],
        }


def searched(hyperparameters: Hyperparameters) -> dict[str, float | int]:
    """The values of the searched parameters."""
    values: dict[str, float | int] = {item.name: getattr(hyperparameters, item.name) for item in SEARCH_SPACE}
    return values


def tune(
    rows: Sequence[Row],
    *,
    target: str,
    drop: Sequence[str] = (),
    base: Hyperparameters,
    options: TuningOptions,
    progress: Progress = lambda _: None,
) -> Tuning:
    check_columns(rows, [target, *drop])
    spec = FeatureSpec.fit(rows, target=target, drop=drop)
    matrix = xgb.DMatrix(spec.encode(rows), label=labels(rows, target), feature_names=spec.feature_names)
    candidates = [searched(base), *sample_candidates(options.candidates - 1, seed=base.seed)]
    started = time.perf_counter()
    trials: list[Trial] = []
    best: Hyperparameters | None = None
    for number, parameters in enumerate(candidates, start=1):
        if trials and options.time_budget_s is not None and time.perf_counter() - started >= options.time_budget_s:
            progress(f"time budget of {options.time_budget_s:.0f}s spent: {len(trials)} of {len(candidates)} tried")
            break
        candidate = replace(base, **parameters)  # type: ignore[arg-type]
        trial_started = time.perf_counter()
        history: dict[str, Any] = xgb.cv(
            candidate.params(),
            matrix,
            num_boost_round=options.max_rounds,
            nfold=options.folds,
            stratified=True,
            early_stopping_rounds=options.early_stopping_rounds,
            seed=base.seed,
            as_pandas=False,
        )
        aucs = list(history["test-auc-mean"])  # cut by early stopping at the best log-loss round
        trial = Trial(parameters, round(float(aucs[-1]), 4), len(aucs), round(time.perf_counter() - trial_started, 1))
        trials.append(trial)
        progress(
            f"candidate {number}/{len(candidates)}: AUC {trial.auc:.4f} at {trial.rounds} rounds "
            f"({_describe(parameters)})"
        )
        if best is None or trial.auc > max(t.auc for t in trials[:-1]):
            best = replace(candidate, num_round=trial.rounds)
    if best is None:  # unreachable: the first candidate always runs
        raise RuntimeError("the search tried no candidate")
    return Tuning(best=best, trials=trials, planned=len(candidates))


def _describe(parameters: dict[str, float | int]) -> str:
    return ", ".join(f"{name} {value}" for name, value in parameters.items())
