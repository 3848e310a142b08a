"""`omni propensity`: the subcommands through argparse, as the omni CLI wires them."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from infra.cli import CliError
from propensity import cli

from .conftest import FAST, SAMPLE


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="omni")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_given_a_csv_when_training_then_fold_progress_and_the_cross_validated_auc_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("propensity.training.Hyperparameters", lambda: FAST)  # the CLI builds the shipped defaults
    model_dir = tmp_path / "model"
    code = _run(
        [
            "propensity",
            "train",
            "--data",
            str(SAMPLE),
            "--target",
            "y",
            "--drop",
            "duration",
            "--model-dir",
            str(model_dir),
            "--folds",
            "3",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "fold 3/3: AUC" in out
    assert "3-fold cross-validated AUC: 0." in out
    assert (model_dir / "xgboost-model.json").is_file()

    assert _run(["propensity", "evaluate", "--model-dir", str(model_dir), "--data", str(SAMPLE), "--target", "y"]) == 0
    assert "3000 rows: AUC 0." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--data", "missing.csv", "--target", "y"], "no such file"),
        (["train", "--data", str(SAMPLE), "--target", "nope"], "unknown column(s): nope; columns: age"),
        (["train", "--data", str(SAMPLE), "--target", "y", "--drop", "nope"], "unknown column(s): nope"),
        (["train", "--data", str(SAMPLE), "--target", "y", "--folds", "1"], "--folds must be at least 2"),
        (["evaluate", "--model-dir", "nowhere", "--data", str(SAMPLE), "--target", "y"], "holds no xgboost-model.json"),
    ],
)
def test_user_errors_are_cli_errors(argv: list[str], message: str) -> None:
    with pytest.raises(CliError, match=re.escape(message)):
        _run(["propensity", *argv])
