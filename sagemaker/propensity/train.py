"""SageMaker script-mode training entry point (XGBoost framework container, or locally).

SageMaker passes hyperparameters as `--name value` arguments and the locations
as `SM_*` environment variables, the defaults of `parse_args`:

    train:       SM_CHANNEL_TRAIN       CSV files with a header (the data preparation job's `train/`)
    validation:  SM_CHANNEL_VALIDATION  optional; without it the metrics are k-fold out-of-fold scores
    model dir:   SM_MODEL_DIR           xgboost-model.json, feature-spec.json, metrics.json (model.tar.gz)
    output dir:  SM_OUTPUT_DATA_DIR     metrics.json again (output.tar.gz)

Each metric is also printed as `validation:<name>=<value>;` for the training
job's metric definitions. The model that ships is trained on every training row.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from propensity.data import labels, read_dataset
from propensity.metrics import evaluate
from propensity.training import METRICS_FILE, Hyperparameters, cross_validate, fit, save

DEFAULT_TARGET = "y"
PRINTED_METRICS = ("auc", "precision_at_top_decile", "brier_score")


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None


def parse_args(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> argparse.Namespace:
    env = dict(os.environ if environ is None else environ)
    parser = argparse.ArgumentParser(description="Train the propensity model (SageMaker script mode).")
    parser.add_argument("--model-dir", "--model_dir", type=Path, default=_optional_path(env.get("SM_MODEL_DIR")))
    parser.add_argument("--train", type=Path, default=_optional_path(env.get("SM_CHANNEL_TRAIN")))
    parser.add_argument("--validation", type=Path, default=_optional_path(env.get("SM_CHANNEL_VALIDATION")))
    parser.add_argument(
        "--output-data-dir", "--output_data_dir", type=Path, default=_optional_path(env.get("SM_OUTPUT_DATA_DIR"))
    )
    parser.add_argument("--target", default=DEFAULT_TARGET, help="the label column (yes/no or 1/0)")
    parser.add_argument(
        "--drop", action="append", default=[], help="columns to leave out; repeat it or separate with commas"
    )
    parser.add_argument("--folds", type=int, default=5, help="k-fold metrics when there is no validation channel")
    defaults = Hyperparameters()
    for item in fields(Hyperparameters):
        # SageMaker passes hyperparameters under their own names (`--num_round`); people type `--num-round`.
        flags = dict.fromkeys([f"--{item.name.replace('_', '-')}", f"--{item.name}"])
        parser.add_argument(*flags, dest=item.name, type=type(getattr(defaults, item.name)))
    args = parser.parse_args(argv)
    if args.model_dir is None or args.train is None:
        parser.error("--model-dir and --train are required (or SM_MODEL_DIR and SM_CHANNEL_TRAIN)")
    args.drop = [column.strip() for value in args.drop for column in value.split(",") if column.strip()]
    return args


def hyperparameters(args: argparse.Namespace) -> Hyperparameters:
    given = {item.name: getattr(args, item.name) for item in fields(Hyperparameters)}
    return Hyperparameters(**{name: value for name, value in given.items() if value is not None})


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Train, evaluate and write the artefacts; returns the metrics."""
    rows = read_dataset(args.train)
    chosen = hyperparameters(args)
    if args.validation is not None:
        model = fit(rows, target=args.target, drop=args.drop, hyperparameters=chosen)
        held_out = read_dataset(args.validation)
        metrics = {**evaluate(labels(held_out, args.target), model.score(held_out)), "evaluation": "validation"}
    else:
        validation = cross_validate(
            rows, target=args.target, drop=args.drop, folds=args.folds, hyperparameters=chosen, progress=print
        )
        metrics = {**validation.metrics, "evaluation": f"{args.folds}-fold", "fold_aucs": validation.fold_aucs}
        model = fit(rows, target=args.target, drop=args.drop, hyperparameters=chosen)
    metrics["hyperparameters"] = chosen.params() | {"num_round": chosen.num_round}
    save(model, args.model_dir, metrics)
    if args.output_data_dir is not None:
        args.output_data_dir.mkdir(parents=True, exist_ok=True)
        (args.output_data_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    for name in PRINTED_METRICS:
        print(f"validation:{name}={metrics[name]};")  # noqa: T201 - read by the training job's metric definitions
    return metrics


if __name__ == "__main__":
    run(parse_args(sys.argv[1:]))
