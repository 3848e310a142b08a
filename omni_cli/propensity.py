"""`omni propensity`: train and evaluate the propensity model locally with the code SageMaker runs, and
clean up the models and endpoint configs the retraining pipeline left behind.

xgboost, scikit-learn and boto3 are imported inside the handlers so `omni --help` stays fast.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from omni_cli.main import CliError

MAX_KEEP = 100


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    propensity = subparsers.add_parser(
        "propensity", help="propensity model: cross-validate, train, evaluate, clean up old models"
    )
    commands = propensity.add_subparsers(dest="propensity_command", required=True, metavar="PROPENSITY_COMMAND")

    train = commands.add_parser(
        "train",
        help="search the parameters, k-fold cross-validated AUC, calibration; with --model-dir, also save a model",
    )
    train.add_argument("--data", required=True, type=Path, help="CSV (plain or .gz, ',' or ';' separated)")
    train.add_argument("--target", required=True, help="the label column (yes/no or 1/0)")
    train.add_argument("--drop", action="append", default=[], metavar="COL", help="leave a column out (repeatable)")
    train.add_argument("--model-dir", type=Path, help="save the model trained on every row, as SageMaker would")
    train.add_argument("--folds", type=int, default=5)
    train.add_argument(
        "--candidates",
        type=int,
        default=8,
        help="parameter sets the search tries, the shipped ones first (default 8; 0: no search)",
    )
    train.add_argument(
        "--time-budget", type=float, default=None, metavar="SECONDS", help="start no further candidate after this"
    )
    train.set_defaults(func=_train)

    evaluate = commands.add_parser("evaluate", help="score a held-out CSV with a saved model")
    evaluate.add_argument("--model-dir", required=True, type=Path)
    evaluate.add_argument("--data", required=True, type=Path)
    evaluate.add_argument("--target", required=True)
    evaluate.set_defaults(func=_evaluate)

    cleanup = commands.add_parser(
        "cleanup",
        help="list and remove the retraining pipeline's models and endpoint configs that no endpoint uses",
        description=(
            "Remove what the environment's retraining pipeline made (models and endpoint configs named "
            "propensity-<run>, tagged with the pipeline) except the newest --keep runs' and whatever any "
            "endpoint of the region uses. Nothing is removed while an endpoint is being created or updated."
        ),
    )
    cleanup.add_argument("--env", default=None, help="environment from cdk.json (default: dev)")
    cleanup.add_argument(
        "--keep",
        default=None,
        help=f"newest runs to keep, 0-{MAX_KEEP} (default: the environment's propensity.keep_models; "
        "0 when the stack is gone)",
    )
    cleanup.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")
    cleanup.add_argument("--region", default=None, help="AWS region (default: the environment's)")
    cleanup.set_defaults(func=_cleanup)


def _progress(started: float) -> Any:
    def report(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", flush=True)

    return report


def _train(args: argparse.Namespace) -> int:
    from propensity.data import DataError, read_dataset
    from propensity.features import FeatureError
    from propensity.trainer import train
    from propensity.training import Hyperparameters, save
    from propensity.tuning import TuningOptions

    if args.folds < 2:
        raise CliError("--folds must be at least 2")
    if args.candidates < 0:
        raise CliError("--candidates must be 0 (no search) or more")
    if args.time_budget is not None and args.time_budget <= 0:
        raise CliError("--time-budget must be a positive number of seconds")
    started = time.perf_counter()
    progress = _progress(started)
    tuning = TuningOptions(candidates=args.candidates, time_budget_s=args.time_budget) if args.candidates else None
    try:
        rows = _read(args.data, read_dataset)
        progress(f"read {len(rows)} rows from {args.data}")
        trained = train(
            rows,
            target=args.target,
            drop=args.drop,
            hyperparameters=Hyperparameters(),
            folds=args.folds,
            tuning=tuning,
            progress=progress,
        )
    except (DataError, FeatureError) as error:
        raise CliError(str(error)) from None
    metrics = trained.metrics
    aucs = metrics["fold_aucs"]
    if trained.tuning is not None:
        report = trained.tuning.report()
        print(f"search: {report['tried']} of {report['planned']} candidates; chosen: {_parameters(report['chosen'])}")
    print(
        f"{args.folds}-fold cross-validated AUC: {statistics.mean(aucs):.4f} "
        f"(sd {statistics.stdev(aucs):.4f}); out-of-fold, calibrated: {_summary(metrics)}"
    )
    _print_calibration(metrics["calibration"])
    if args.model_dir is not None:
        save(trained.model, args.model_dir, metrics, feature_baseline=trained.baseline)
        progress(f"model, feature definition, calibration, baseline and metrics written to {args.model_dir}")
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


def _parameters(values: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value}" for name, value in values.items())


def _print_calibration(report: dict[str, Any]) -> None:
    before, after = report["before"], report["after"]
    print(
        f"calibration (Platt, a {report['a']:.3f}, b {report['b']:.3f}), measured on {report['measured_on']}: "
        f"Brier {before['brier_score']:.4f} -> {after['brier_score']:.4f}, "
        f"calibration error {before['calibration_error']:.4f} -> {after['calibration_error']:.4f}"
    )
    for name, table in (("before", before["reliability"]), ("after", after["reliability"])):
        print(f"reliability {name} calibration (score band: rows, mean score, observed rate):")
        _print_reliability(table)


def _print_reliability(table: list[dict[str, Any]]) -> None:
    for band in table:
        print(
            f"  {band['lower']:.1f}-{band['upper']:.1f}: {band['count']:6d}  "
            f"{band['mean_score']:.3f}  {band['positive_rate']:.3f}"
        )


def _evaluate(args: argparse.Namespace) -> int:
    from propensity.data import DataError, labels, read_dataset
    from propensity.features import FeatureError
    from propensity.metrics import evaluate
    from propensity.training import MODEL_FILE, load

    if not (args.model_dir / MODEL_FILE).is_file():
        raise CliError(f"{args.model_dir} holds no {MODEL_FILE}: train with --model-dir first")
    try:
        model = load(args.model_dir)
        rows = _read(args.data, read_dataset)
        metrics = evaluate(labels(rows, args.target), model.score(rows))
    except (DataError, FeatureError) as error:
        raise CliError(str(error)) from None
    print(f"{len(rows)} rows: {_summary(metrics)}")
    print("reliability (score band: rows, mean score, observed rate):")
    _print_reliability(metrics["reliability"])
    return 0


def _keep(value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.strip().isdigit() or int(value) > MAX_KEEP:
        raise CliError(f"--keep = {value!r}: must be a whole number from 0 to {MAX_KEEP}")
    return int(value)


def _cleanup(args: argparse.Namespace) -> int:
    from infra.config import DEFAULT_ENV, ConfigError, config_for
    from model_cleanup.constants import ENDPOINT_SUFFIX, PIPELINE_SUFFIX

    try:
        config = config_for(args.env or DEFAULT_ENV)
    except ConfigError as error:
        raise CliError(f"--env: {error}") from None
    keep = _keep(args.keep, config.environment.propensity.keep_models)
    pipeline = config.resource_name(PIPELINE_SUFFIX)
    region = args.region or config.region

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from model_cleanup.aws import SageMakerArtefacts
    from model_cleanup.cleanup import plan
    from model_cleanup.errors import CleanupError

    artefacts = SageMakerArtefacts(boto3.client("sagemaker", region_name=region), pipeline=pipeline)
    try:
        decided = plan(artefacts.inventory(), keep=keep)
        print(
            f"{pipeline} in {region}: {len(decided.keep) + len(decided.remove)} models and endpoint configs; "
            f"keeping the newest {keep} runs' and what endpoints use (its endpoint: "
            f"{config.resource_name(ENDPOINT_SUFFIX)})"
        )
        for artefact in decided.keep:
            print(f"  keep    {artefact.kind}/{artefact.name}{' (in use)' if artefact in decided.in_use else ''}")
        if decided.blocked_by:
            raise CliError(
                f"endpoint {', '.join(decided.blocked_by)} is being created or updated: nothing removed; "
                "run again once it is InService"
            )
        removed = 0
        for artefact in decided.remove:
            if args.dry_run:
                print(f"  would remove  {artefact.kind}/{artefact.name}")
                continue
            gone = artefacts.remove(artefact)
            removed += 1
            print(f"  removed {artefact.kind}/{artefact.name}{'' if gone else ' (already gone)'}")
    except CleanupError as error:
        raise CliError(str(error)) from None
    except (BotoCoreError, ClientError) as error:
        raise CliError(f"SageMaker in {region}: {error}") from None
    print(f"{len(decided.remove)} to remove (dry run: nothing removed)" if args.dry_run else f"{removed} removed")
    return 0


def _read(path: Path, reader: Any) -> Any:
    if not path.exists():
        raise CliError(f"{path}: no such file or folder")
    return reader(path)


def _summary(metrics: dict[str, Any]) -> str:
    return (
        f"AUC {metrics['auc']:.4f}, precision in the top decile {metrics['precision_at_top_decile']:.4f} "
        f"(base rate {metrics['base_rate']:.4f}), Brier {metrics['brier_score']:.4f}"
    )


if __name__ == "__main__":
    sys.exit("run through `omni propensity`")
