"""`omni propensity`: the subcommands through argparse, as the omni CLI wires them."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from omni_cli import propensity as cli
from omni_cli.main import CliError

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


def test_given_a_search_when_training_then_the_chosen_parameters_and_calibration_before_and_after_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("propensity.training.Hyperparameters", lambda: FAST)
    model_dir = tmp_path / "model"
    argv = ["propensity", "train", "--data", str(SAMPLE), "--target", "y", "--drop", "duration", "--folds", "3"]
    assert _run([*argv, "--candidates", "2", "--model-dir", str(model_dir)]) == 0
    out = capsys.readouterr().out
    assert "candidate 2/2: AUC 0." in out
    assert re.search(r"search: 2 of 2 candidates; chosen: max_depth \d+, eta [0-9.]+, .*num_round \d+", out)
    assert re.search(r"calibration \(Platt, a [0-9.-]+, b [0-9.-]+\).*: Brier 0\.\d+ -> 0\.\d+", out)
    assert "reliability before calibration" in out
    assert "reliability after calibration" in out
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["tuning"]["tried"] == 2
    assert {"calibration.json", "feature_baseline.json"} <= {p.name for p in model_dir.iterdir()}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--data", "missing.csv", "--target", "y"], "no such file"),
        (["train", "--data", str(SAMPLE), "--target", "nope"], "unknown column(s): nope; columns: age"),
        (["train", "--data", str(SAMPLE), "--target", "y", "--drop", "nope"], "unknown column(s): nope"),
        (["train", "--data", str(SAMPLE), "--target", "y", "--folds", "1"], "--folds must be at least 2"),
        (["train", "--data", str(SAMPLE), "--target", "y", "--candidates", "-1"], "--candidates must be 0"),
        (["train", "--data", str(SAMPLE), "--target", "y", "--time-budget", "0"], "--time-budget must be a positive"),
        (["evaluate", "--model-dir", "nowhere", "--data", str(SAMPLE), "--target", "y"], "holds no xgboost-model.json"),
    ],
)
def test_user_errors_are_cli_errors(argv: list[str], message: str) -> None:
    with pytest.raises(CliError, match=re.escape(message)):
        _run(["propensity", *argv])


def _pipeline_run(client: Any, name: str) -> None:
    tags = [{"Key": "omni:pipeline", "Value": "omni-cx-dev-propensity-retraining"}]
    client.create_model(
        ModelName=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/training",
        PrimaryContainer={"Image": "xgboost", "ModelDataUrl": "s3://bucket/model.tar.gz"},
        Tags=tags,
    )
    client.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "primary",
                "ModelName": name,
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2},
            }
        ],
        Tags=tags,
    )


@mock_aws
def test_cleanup_lists_then_removes_what_no_endpoint_uses_beyond_the_kept_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = boto3.client("sagemaker", region_name="eu-west-2")
    for week in range(1, 5):
        _pipeline_run(client, f"propensity-run-{week}")
    client.create_endpoint(EndpointName="omni-cx-dev-propensity", EndpointConfigName="propensity-run-4")

    assert _run(["propensity", "cleanup", "--env", "dev", "--keep", "1", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "omni-cx-dev-propensity-retraining in eu-west-2: 8 models and endpoint configs" in out
    assert "keep    endpoint-config/propensity-run-4 (in use)" in out
    assert "would remove  endpoint-config/propensity-run-1" in out
    assert "6 to remove (dry run: nothing removed)" in out
    assert len(client.list_models()["Models"]) == 4

    assert _run(["propensity", "cleanup", "--env", "dev", "--keep", "1"]) == 0
    assert "6 removed" in capsys.readouterr().out
    assert [m["ModelName"] for m in client.list_models()["Models"]] == ["propensity-run-4"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--keep", "-1"], "--keep = '-1': must be a whole number from 0 to 100"),
        (["--keep", "many"], "--keep = 'many': must be a whole number from 0 to 100"),
        (["--env", "nowhere"], "--env: "),
    ],
)
def test_cleanup_refuses_bad_options_naming_them(argv: list[str], message: str) -> None:
    with pytest.raises(CliError, match=re.escape(message)):
        _run(["propensity", "cleanup", *argv])
