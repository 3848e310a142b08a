"""`omni propensity`: train and evaluate the propensity model locally with the code SageMaker runs.

xgboost and scikit-learn are imported inside the handlers so `omni --help` stays fast.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from infra.cli import CliError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    propensity = subparsers.add_parser("propensity", help="propensity model: cross-validate, train, evaluate")
    commands = propensity.add_subparsers(dest="propensity_command", required=True, metavar="PROPENSITY_COMMAND")

    train = commands.add_parser("train", help="k-fold cross-validated AUC; with --model-dir, also save a model")
    train.add_argument("--data", required=True, type=Path, help="CSV (plain or .gz, ',' or ';' separated)")
    train.add_argument("--target", required=True, help="the label column (yes/no or 1/0)")
    train.add_argument("--drop", action="append", default=[], metavar="COL", help="leave a column out (repeatable)")
    train.add_argument("--model-dir", type=Path, help="save the model trained on every row, as SageMaker would")
    train.add_argument("--folds", type=int, default=5)
    train.set_defaults(func=_train)

    evaluate = commands.add_parser("evaluate", help="score a held-out CSV with a saved model")
    evaluate.add_argument("--model-dir", required=True, type=Path)
    evaluate.add_argument("--data", required=True, type=Path)
    evaluate.add_argument("--target", required=True)
    evaluate.set_defaults(func=_evaluate)


def _progress(started: float) -> Any:
    def report(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", flush=True)

    return report


def _train(args: argparse.Namespace) -> int:
    from propensity.data import DataError, read_dataset
    from propensity.features import FeatureError
    from propensity.training import Hyperparameters, cross_validate, fit, save

    if args.folds < 2:
        raise CliError("--folds must be at least 2")
    started = time.perf_counter()
    progress = _progress(started)
    hyperparameters = Hyperparameters()
    try:
        rows = _read(args.data, read_dataset)
        progress(f"read {len(rows)} rows from {args.data}")
        validation = cross_validate(
            rows,
            target=args.target,
            drop=args.drop,
            folds=args.folds,
            hyperparameters=hyperparameters,
            progress=progress,
        )
        aucs = validation.fold_aucs
        print(
            f"{args.folds}-fold cross-validated AUC: {statistics.mean(aucs):.4f} "
            f"(sd {statistics.stdev(aucs):.4f}); out-of-fold: {_summary(validation.metrics)}"
        )
        if args.model_dir is not None:
            model = fit(rows, target=args.target, drop=args.drop, hyperparameters=hyperparameters)
            save(model, args.model_dir, {**validation.metrics, "evaluation": f"{args.folds}-fold", "fold_aucs": aucs})
            progress(f"model, feature definition and metrics written to {args.model_dir}")
    except (DataError, FeatureError) as error:
        raise CliError(str(error)) from None
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


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
    for band in metrics["reliability"]:
        print(
            f"  {band['lower']:.1f}-{band['upper']:.1f}: {band['count']:6d}  "
            f"{band['mean_score']:.3f}  {band['positive_rate']:.3f}"
        )
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
