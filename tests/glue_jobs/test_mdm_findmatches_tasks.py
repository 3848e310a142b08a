"""The labeling-workflow wrappers: botocore Stubber for the task-run APIs moto lacks, moto for transforms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from glue_jobs.findmatches_tasks import (
    FindMatchesError,
    TaskRunFailedError,
    TaskRunTimedOutError,
    TransformNotFoundError,
    start_evaluation,
    start_import_labels,
    start_labeling_set_generation,
    transform_quality,
    wait_for_task_run,
)

TRANSFORM = "tfm-0123456789abcdef"


@pytest.fixture
def glue() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("glue", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_given_transform_when_labeling_set_requested_then_task_run_id(glue: tuple[Any, Stubber]) -> None:
    client, stubber = glue
    stubber.add_response(
        "start_ml_labeling_set_generation_task_run",
        {"TaskRunId": "run-1"},
        {"TransformId": TRANSFORM, "OutputS3Path": "s3://bucket/labels/"},
    )
    assert start_labeling_set_generation(client, TRANSFORM, "s3://bucket/labels/") == "run-1"


@pytest.mark.parametrize("replace", [True, False])
def test_given_label_file_when_imported_then_replace_flag_is_passed(glue: tuple[Any, Stubber], replace: bool) -> None:
    client, stubber = glue
    stubber.add_response(
        "start_import_labels_task_run",
        {"TaskRunId": "run-2"},
        {"TransformId": TRANSFORM, "InputS3Path": "s3://bucket/l.csv", "ReplaceAllLabels": replace},
    )
    assert start_import_labels(client, TRANSFORM, "s3://bucket/l.csv", replace=replace) == "run-2"


def test_given_missing_transform_when_evaluated_then_transform_not_found(glue: tuple[Any, Stubber]) -> None:
    client, stubber = glue
    stubber.add_client_error(
        "start_ml_evaluation_task_run", service_error_code="EntityNotFoundException", http_status_code=400
    )
    with pytest.raises(TransformNotFoundError, match=TRANSFORM):
        start_evaluation(client, TRANSFORM)


def test_given_running_then_succeeded_when_waited_then_polls_until_done(glue: tuple[Any, Stubber]) -> None:
    client, stubber = glue
    for status in ("RUNNING", "RUNNING", "SUCCEEDED"):
        stubber.add_response(
            "get_ml_task_run",
            {"TransformId": TRANSFORM, "TaskRunId": "run-3", "Status": status},
            {"TransformId": TRANSFORM, "TaskRunId": "run-3"},
        )
    sleeps: list[float] = []
    run = wait_for_task_run(client, TRANSFORM, "run-3", poll_seconds=5, sleep=sleeps.append)
    assert run["Status"] == "SUCCEEDED"
    assert sleeps == [5, 5]


def test_given_failed_task_run_when_waited_then_error_carries_reason(glue: tuple[Any, Stubber]) -> None:
    client, stubber = glue
    stubber.add_response(
        "get_ml_task_run",
        {"TransformId": TRANSFORM, "TaskRunId": "run-4", "Status": "FAILED", "ErrorString": "labels malformed"},
        {"TransformId": TRANSFORM, "TaskRunId": "run-4"},
    )
    with pytest.raises(TaskRunFailedError, match="ended FAILED: labels malformed"):
        wait_for_task_run(client, TRANSFORM, "run-4", sleep=lambda _s: None)


def test_given_endless_run_when_waited_past_timeout_then_timed_out(glue: tuple[Any, Stubber]) -> None:
    client, stubber = glue
    for _ in range(3):
        stubber.add_response(
            "get_ml_task_run",
            {"TransformId": TRANSFORM, "TaskRunId": "run-5", "Status": "RUNNING"},
            {"TransformId": TRANSFORM, "TaskRunId": "run-5"},
        )
    with pytest.raises(TaskRunTimedOutError):
        wait_for_task_run(client, TRANSFORM, "run-5", poll_seconds=10, timeout_seconds=20, sleep=lambda _s: None)


def test_given_evaluated_transform_when_quality_read_then_all_metrics_reported(glue: tuple[Any, Stubber]) -> None:
    client, stubber = glue
    stubber.add_response(
        "get_ml_transform",
        {
            "TransformId": TRANSFORM,
            "EvaluationMetrics": {
                "TransformType": "FIND_MATCHES",
                "FindMatchesMetrics": {
                    "AreaUnderPRCurve": 0.93,
                    "Precision": 0.95,
                    "Recall": 0.9,
                    "F1": 0.924,
                    "ConfusionMatrix": {
                        "NumTruePositives": 90,
                        "NumFalsePositives": 5,
                        "NumTrueNegatives": 900,
                        "NumFalseNegatives": 10,
                    },
                    "ColumnImportances": [
                        {"ColumnName": "email", "Importance": 0.4},
                        {"ColumnName": "last_name", "Importance": 0.6},
                    ],
                },
            },
        },
        {"TransformId": TRANSFORM},
    )
    quality = transform_quality(client, TRANSFORM)
    report = quality.report()
    assert quality.column_importances[0] == ("last_name", 0.6)
    for text in ("precision            0.9500", "F1", "area under PR curve  0.9300", "false negatives", "email"):
        assert text in report


@mock_aws
def test_given_moto_transform_never_evaluated_when_quality_read_then_clear_error() -> None:
    client = boto3.client("glue", region_name="eu-west-1")
    transform_id = client.create_ml_transform(
        Name="customer-matches",
        InputRecordTables=[{"DatabaseName": "lake", "TableName": "prepared_customers"}],
        Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "source_key"}},
        Role="arn:aws:iam::123456789012:role/matching",
        GlueVersion="2.0",
    )["TransformId"]
    with pytest.raises(FindMatchesError, match="no evaluation metrics"):
        transform_quality(client, transform_id)


@mock_aws
def test_given_moto_without_the_transform_when_quality_read_then_transform_not_found() -> None:
    client = boto3.client("glue", region_name="eu-west-1")
    with pytest.raises(TransformNotFoundError):
        transform_quality(client, "tfm-missing")
