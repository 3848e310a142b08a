"""`omni mdm` through the real `omni` entry point, with this module registered for the test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
from botocore.stub import Stubber

from glue_jobs.label_file import RECORD_COLUMNS
from omni_cli import main as cli
from omni_cli import mdm


def test_omni_lists_the_mdm_commands() -> None:
    assert "omni_cli.mdm" in cli.SUBCOMMAND_MODULES


def test_given_generate_then_dedupe_when_run_then_outputs_and_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "customers.csv"
    assert cli.main(["mdm", "generate", "--records", "150", "--output", str(csv_path), "--seed", "3"]) == 0
    assert (
        cli.main(["mdm", "dedupe", "--input", str(csv_path), "--output", str(tmp_path / "out"), "--run-id", "r1"]) == 0
    )
    captured = capsys.readouterr()
    assert "golden records" in captured.out
    assert "normalising 150 records" in captured.err
    assert (tmp_path / "out/runs/run_id=r1/manifest.json").is_file()


def test_given_systems_when_generate_then_only_those_systems_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "customers.csv"
    argv = ["mdm", "generate", "--records", "120", "--output", str(csv_path), "--systems", "crm, ecommerce,store_pos"]
    assert cli.main(argv) == 0
    assert "in 3 source systems" in capsys.readouterr().out
    assert set(pd.read_csv(csv_path)["source_system"]) == {"crm", "ecommerce", "store_pos"}


@pytest.mark.parametrize(("systems", "message"), [("crm,pos", "'pos'"), (",", "at least one"), ("crm,crm", "twice")])
def test_given_bad_systems_when_generate_then_one_line_error_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], systems: str, message: str
) -> None:
    csv_path = tmp_path / "customers.csv"
    assert cli.main(["mdm", "generate", "--records", "10", "--output", str(csv_path), "--systems", systems]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "--systems" in error
    assert message in error
    assert not csv_path.exists()


def test_given_missing_input_when_dedupe_then_user_error_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["mdm", "dedupe", "--input", str(tmp_path / "nope.csv"), "--output", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_given_csv_without_truth_column_when_evaluated_locally_then_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("source_system,source_id\ncrm,1\n")
    assert cli.main(["mdm", "evaluate-local", "--input", str(csv_path), "--truth-column", "entity"]) == 2
    assert "no column 'entity'" in capsys.readouterr().err


def test_given_febrl1_when_evaluated_locally_then_scores_and_wall_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mdm", "evaluate-local", "--dataset", "febrl1"]) == 0
    out = capsys.readouterr().out
    assert "f1=" in out
    assert "clusters=" in out
    assert "wall_time=" in out


def test_given_malformed_label_file_when_checked_then_exit_2_with_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("label,labeling_set_id\n")
    assert cli.main(["mdm", "labels", "check", str(labels)]) == 2
    assert "line 1" in capsys.readouterr().err
    labels.write_text(
        ",".join(("labeling_set_id", "label", *RECORD_COLUMNS)) + "\n" + "s,A,crm:1,crm,1" + "," * 10 + "\n"
    )
    assert cli.main(["mdm", "labels", "check", str(labels)]) == 0


def stubbed_glue(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    client = boto3.client("glue", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.activate()
    monkeypatch.setattr(mdm, "_glue_client", lambda _region: client)
    return stubber


def test_given_evaluate_with_wait_when_run_then_metrics_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stubber = stubbed_glue(monkeypatch)
    stubber.add_response("start_ml_evaluation_task_run", {"TaskRunId": "run-1"}, {"TransformId": "tfm-1"})
    stubber.add_response(
        "get_ml_task_run",
        {"TransformId": "tfm-1", "TaskRunId": "run-1", "Status": "SUCCEEDED"},
        {"TransformId": "tfm-1", "TaskRunId": "run-1"},
    )
    metrics: dict[str, Any] = {"Precision": 0.9, "Recall": 0.8, "F1": 0.85, "AreaUnderPRCurve": 0.88}
    stubber.add_response(
        "get_ml_transform",
        {"TransformId": "tfm-1", "EvaluationMetrics": {"TransformType": "FIND_MATCHES", "FindMatchesMetrics": metrics}},
        {"TransformId": "tfm-1"},
    )
    assert cli.main(["mdm", "evaluate", "--transform-id", "tfm-1", "--wait", "--poll-seconds", "0"]) == 0
    out = capsys.readouterr().out
    assert "recall               0.8000" in out
    stubber.assert_no_pending_responses()


def test_given_missing_transform_when_labels_imported_then_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stubber = stubbed_glue(monkeypatch)
    stubber.add_client_error("start_import_labels_task_run", service_error_code="EntityNotFoundException")
    code = cli.main(["mdm", "labels", "import", "--transform-id", "tfm-x", "--input-s3", "s3://b/l.csv", "--replace"])
    assert code == 2
    assert "tfm-x does not exist" in capsys.readouterr().err


def test_given_local_path_when_labels_generated_then_s3_uri_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["mdm", "labels", "generate", "--transform-id", "t", "--output-s3", "labels/"]) == 2
    assert "s3://" in capsys.readouterr().err


def test_given_the_spark_engine_and_a_missing_input_when_deduped_then_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.csv"
    assert cli.main(["mdm", "dedupe", "--engine", "spark", "--input", str(missing), "--output", str(tmp_path)]) == 2
    assert f"{missing}: no such file or folder" in capsys.readouterr().err


def test_given_an_input_format_with_the_embedded_engine_when_deduped_then_it_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("source_system,source_id\n")
    command = [
        "mdm",
        "dedupe",
        "--input",
        str(csv_path),
        "--output",
        str(tmp_path / "out"),
        "--input-format",
        "parquet",
    ]
    assert cli.main(command) == 2
    assert "--input-format applies to --engine spark only" in capsys.readouterr().err
