"""The FindMatches labeling workflow: thin boto3 wrappers with typed errors.

A data steward generates a labeling set, labels it, imports the labels (replacing
or adding to earlier ones), then runs an evaluation and reads the transform's
quality. Every call takes the Glue client as an argument so tests can stub it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

FINISHED_OK = "SUCCEEDED"
FINISHED_BADLY = frozenset({"FAILED", "STOPPED", "TIMEOUT"})


class FindMatchesError(Exception):
    """A labeling-workflow call could not be completed."""


class TransformNotFoundError(FindMatchesError):
    def __init__(self, transform_id: str) -> None:
        super().__init__(f"ML transform {transform_id} does not exist in this account and region")


class TaskRunFailedError(FindMatchesError):
    def __init__(self, transform_id: str, task_run_id: str, status: str, reason: str) -> None:
        self.status = status
        super().__init__(
            f"task run {task_run_id} of transform {transform_id} ended {status}: {reason or 'no reason given'}"
        )


class TaskRunTimedOutError(FindMatchesError):
    def __init__(self, task_run_id: str, waited_seconds: float) -> None:
        super().__init__(f"task run {task_run_id} still running after {waited_seconds:.0f} s")


def _call(transform_id: str, operation: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    try:
        return operation(**kwargs)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "EntityNotFoundException":
            raise TransformNotFoundError(transform_id) from error
        raise


def start_labeling_set_generation(glue: Any, transform_id: str, output_s3: str) -> str:
    """Start writing a labeling set (CSV files to label) under `output_s3`; returns the task run id."""
    response = _call(
        transform_id, glue.start_ml_labeling_set_generation_task_run, TransformId=transform_id, OutputS3Path=output_s3
    )
    return str(response["TaskRunId"])


def start_import_labels(glue: Any, transform_id: str, input_s3: str, *, replace: bool) -> str:
    """Start importing labels from `input_s3`; `replace` drops every earlier label first."""
    response = _call(
        transform_id,
        glue.start_import_labels_task_run,
        TransformId=transform_id,
        InputS3Path=input_s3,
        ReplaceAllLabels=replace,
    )
    return str(response["TaskRunId"])


def start_evaluation(glue: Any, transform_id: str) -> str:
    """Start estimating the transform's quality against the imported labels."""
    response = _call(transform_id, glue.start_ml_evaluation_task_run, TransformId=transform_id)
    return str(response["TaskRunId"])


def wait_for_task_run(
    glue: Any,
    transform_id: str,
    task_run_id: str,
    *,
    poll_seconds: float = 30.0,
    timeout_seconds: float = 3 * 3600.0,
    sleep: Callable[[float], None] = time.sleep,
    on_status: Callable[[str], None] = lambda _status: None,
) -> dict[str, Any]:
    """Poll `get_ml_task_run` until the run finishes; raises `TaskRunFailedError` unless it succeeded."""
    waited = 0.0
    while True:
        run = _call(transform_id, glue.get_ml_task_run, TransformId=transform_id, TaskRunId=task_run_id)
        status = str(run["Status"])
        on_status(status)
        if status == FINISHED_OK:
            return run
        if status in FINISHED_BADLY:
            raise TaskRunFailedError(transform_id, task_run_id, status, str(run.get("ErrorString", "")))
        if waited >= timeout_seconds:
            raise TaskRunTimedOutError(task_run_id, waited)
        sleep(poll_seconds)
        waited += poll_seconds


@dataclass(frozen=True, slots=True)
class TransformQuality:
    """The FindMatches metrics of the latest evaluation."""

    precision: float | None
    recall: float | None
    f1: float | None
    area_under_pr_curve: float | None
    confusion_matrix: dict[str, int]
    column_importances: list[tuple[str, float]]

    def report(self) -> str:
        def figure(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.4f}"

        lines = [
            f"precision            {figure(self.precision)}",
            f"recall               {figure(self.recall)}",
            f"F1                   {figure(self.f1)}",
            f"area under PR curve  {figure(self.area_under_pr_curve)}",
            "confusion matrix",
            *(f"  {name:<18} {count}" for name, count in self.confusion_matrix.items()),
            "column importances",
            *(f"  {column:<18} {importance:.4f}" for column, importance in self.column_importances),
        ]
        return "\n".join(lines)


def transform_quality(glue: Any, transform_id: str) -> TransformQuality:
    """The transform's evaluation metrics (`get_ml_transform`); raises if it was never evaluated."""
    transform = _call(transform_id, glue.get_ml_transform, TransformId=transform_id)
    metrics = transform.get("EvaluationMetrics", {}).get("FindMatchesMetrics")
    if not metrics:
        raise FindMatchesError(f"transform {transform_id} has no evaluation metrics yet: run `omni mdm evaluate` first")
    matrix = metrics.get("ConfusionMatrix", {})
    importances = sorted(
        (
            (str(item["ColumnName"]), float(item.get("Importance", 0.0)))
            for item in metrics.get("ColumnImportances", [])
        ),
        key=lambda item: -item[1],
    )
    return TransformQuality(
        precision=metrics.get("Precision"),
        recall=metrics.get("Recall"),
        f1=metrics.get("F1"),
        area_under_pr_curve=metrics.get("AreaUnderPRCurve"),
        confusion_matrix={
            "true positives": int(matrix.get("NumTruePositives", 0)),
            "false positives": int(matrix.get("NumFalsePositives", 0)),
            "true negatives": int(matrix.get("NumTrueNegatives", 0)),
            "false negatives": int(matrix.get("NumFalseNegatives", 0)),
        },
        column_importances=importances,
    )
