"""SageMaker script-mode training entry point (XGBoost framework container, or locally).

SageMaker passes hyperparameters as `--name value` arguments and the locations
as `SM_*` environment variables, the defaults of `parse_args`:

    train:       SM_CHANNEL_TRAIN       CSV files with a header (the data preparation job's `train/`)
    validation:  SM_CHANNEL_VALIDATION  optional; split in two (`propensity.holdout`): half stops the
                                        training early, the metrics come from the other half (the
                                        comparison holdout); without it the metrics are k-fold
                                        out-of-fold scores
    champion:    SM_CHANNEL_CHAMPION    optional: the approved model's model.tar.gz, scored on the same
                                        comparison holdout (`champion:auc`)
    model dir:   SM_MODEL_DIR           xgboost-model.json, feature-spec.json, calibration.json,
                                        feature_baseline.json, metrics.json (model.tar.gz)
    output dir:  SM_OUTPUT_DATA_DIR     metrics.json and feature_baseline.json again (output.tar.gz)

The hyperparameters are those of `propensity.search_space` (what the tuning job
varies) plus `num_round` (the most rounds), `seed` and `nthread`; the tuning job's
own `_tuning_objective_metric` is accepted and ignored. `--baseline-uri s3://...`
also writes the feature baseline there as its own object, for the drift job.

Each metric is also printed as `validation:<name>=<value>;` (and `champion:auc=<value>;`)
for the training job's metric definitions. Scores are calibrated (`propensity.calibration`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from propensity import baseline
from propensity.champion import load_champion
from propensity.champion import score as score_champion
from propensity.data import DataError, read_dataset
from propensity.trainer import train
from propensity.training import BASELINE_FILE, METRICS_FILE, Hyperparameters, save
from propensity.tuning import DEFAULT_EARLY_STOPPING_ROUNDS, TuningOptions

DEFAULT_TARGET = "y"
# name printed -> key of metrics.json; `validation:auc` is the pipeline's objective and gate.
PRINTED_METRICS = {
    "auc": "auc",
    "precision_at_top_decile": "precision_at_top_decile",
    "brier_score": "brier_score",
    "brier": "brier_score",
}
CHAMPION_AUC = "champion:auc"


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
    parser.add_argument("--champion", type=Path, default=_optional_path(env.get("SM_CHANNEL_CHAMPION")))
    parser.add_argument(
        "--folds", type=int, default=5, help="k-fold metrics without a validation channel, and the calibration's folds"
    )
    parser.add_argument(
        "--early-stopping-rounds",
        "--early_stopping_rounds",
        type=int,
        default=DEFAULT_EARLY_STOPPING_ROUNDS,
        help="stop when the log-loss of the validation set's early-stopping half has not improved for this many "
        "rounds (0: never; the whole validation set is then the comparison holdout)",
    )
    parser.add_argument(
        "--candidates", type=int, default=0, help="search this many candidates first (0: take the given parameters)"
    )
    parser.add_argument("--baseline-uri", "--baseline_uri", help="s3://bucket/key: also write the feature baseline")
    parser.add_argument("--_tuning_objective_metric", help=argparse.SUPPRESS)  # added by SageMaker's tuning jobs
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
    """Train, calibrate, evaluate and write the artefacts; returns the metrics."""
    rows = read_dataset(args.train)
    validation = read_dataset(args.validation) if args.validation is not None else None
    if args.champion is not None and validation is None:
        raise DataError("a champion channel needs a validation channel: both models are scored on the same rows")
    trained = train(
        rows,
        target=args.target,
        drop=args.drop,
        hyperparameters=hyperparameters(args),
        folds=args.folds,
        tuning=TuningOptions(candidates=args.candidates) if args.candidates else None,
        validation=validation,
        early_stopping_rounds=args.early_stopping_rounds or None,
        progress=print,
    )
    metrics = trained.metrics
    if args.champion is not None and trained.holdout is not None:
        # The challenger's metrics come from these rows: the two models are scored on exactly the same ones.
        with tempfile.TemporaryDirectory() as workdir:
            metrics["champion"] = score_champion(
                load_champion(args.champion, Path(workdir)), trained.holdout, target=args.target
            )
    save(trained.model, args.model_dir, metrics, feature_baseline=trained.baseline)
    if args.output_data_dir is not None:
        args.output_data_dir.mkdir(parents=True, exist_ok=True)
        (args.output_data_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        (args.output_data_dir / BASELINE_FILE).write_text(baseline.to_json(trained.baseline), encoding="utf-8")
    if args.baseline_uri:
        _upload(args.baseline_uri, baseline.to_json(trained.baseline))
    for printed, key in PRINTED_METRICS.items():
        print(f"validation:{printed}={metrics[key]};")  # noqa: T201 - read by the training job's metric definitions
    champion = metrics.get("champion", {})
    if "auc" in champion:
        print(f"{CHAMPION_AUC}={champion['auc']};")  # noqa: T201 - read by the training job's metric definitions
    elif "error" in champion:
        print(f"champion not compared: {champion['error']}")  # noqa: T201 - the training job's log
    return metrics


def _upload(uri: str, text: str) -> None:
    """The baseline as its own S3 object (the bucket's default encryption applies)."""
    if not uri.startswith("s3://") or "/" not in uri.removeprefix("s3://").strip("/"):
        raise DataError(f"--baseline-uri {uri!r}: expected s3://bucket/key")
    import boto3  # noqa: PLC0415 - the training image has it; only this option needs it

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType="application/json")


if __name__ == "__main__":
    run(parse_args(sys.argv[1:]))
