"""The drift job on moto: the schedule's event, the serving model's artefacts, decisions as the service records them."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from eligibility.constants import (
    DECISION_PARTITION_KEY,
    DECISION_SORT_KEY,
    ENV_DECISIONS_TABLE,
    ENV_PROPENSITY_ENDPOINT,
)
from eligibility.decisions import DecisionRecord, EligibilityDecision
from eligibility.storage import DynamoDBDecisionLog
from feature_drift.constants import ENV_MIN_ROWS, ENV_THRESHOLD, METRIC_FEATURE, METRIC_MAX, METRIC_ROWS
from tests.lambdas.conftest import REGION, FakeLambdaContext

EVENT = json.loads(
    (Path(__file__).resolve().parents[3] / "sample_events/feature-drift/scheduled_drift_check.json").read_text()
)
SCHEDULED = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
TABLE = "test-eligibility-decisions"
ENDPOINT = "omni-cx-test-propensity"
BUCKET = "curated-test"
MODEL_DATA = f"s3://{BUCKET}/propensity/runs/run-1/model/propensity-run-1/output/model.tar.gz"
BASELINE = {
    "version": 1,
    "features": {
        "purchases": {"kind": "numeric", "edges": [0.0, 1.0, 2.0], "proportions": [0.4, 0.3, 0.2, 0.1]},
        "journey_stage": {
            "kind": "categorical",
            "proportions": {"loyal": 0.5, "new": 0.3, "at_risk": 0.2, "__other__": 0.0},
        },
    },
}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        ENV_DECISIONS_TABLE: TABLE,
        ENV_PROPENSITY_ENDPOINT: ENDPOINT,
        ENV_THRESHOLD: "0.2",
        ENV_MIN_ROWS: "50",
        "POWERTOOLS_SERVICE_NAME": "feature-drift",
    }.items():
        monkeypatch.setenv(name, value)


def model_tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    from feature_drift import handler

    handler.wiring.reset()  # the handler's clients and settings are rebuilt inside this moto and environment
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": DECISION_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": DECISION_SORT_KEY, "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": DECISION_PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": DECISION_SORT_KEY, "AttributeType": "S"},
            ],
        )
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield {"dynamodb": dynamodb, "s3": s3, "sagemaker": boto3.client("sagemaker", region_name=REGION)}


def serve(aws: dict[str, Any], artefacts: dict[str, bytes]) -> None:
    """The endpoint serving a model whose artefacts are `artefacts`, as the retraining pipeline leaves it."""
    bucket, _, key = MODEL_DATA.removeprefix("s3://").partition("/")
    aws["s3"].put_object(Bucket=bucket, Key=key, Body=model_tar(artefacts))
    sagemaker = aws["sagemaker"]
    sagemaker.create_model(
        ModelName="propensity-run-1",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/training",
        PrimaryContainer={"Image": "xgboost", "ModelDataUrl": MODEL_DATA},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="propensity-run-1",
        ProductionVariants=[
            {
                "VariantName": "primary",
                "ModelName": "propensity-run-1",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2},
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="propensity-run-1")


def record(aws: dict[str, Any], number: int, *, at: datetime, purchases: float, stage: str) -> None:
    """A decision as the eligibility service records it (its audit item)."""
    decision = EligibilityDecision(
        customer_id=f"gc-{number:020d}",
        eligible=True,
        offers=["BB-LOYAL-20"],
        reasons=["BB-LOYAL-20: all 2 conditions met"],
        rule_set_version="2026-11-a",
        score=0.4,
        score_source="model",
        decision_id=f"{at.isoformat()}#req-{number}",
        decided_at=at,
    )
    DynamoDBDecisionLog(aws["dynamodb"], TABLE).record(
        DecisionRecord(
            decision=decision,
            product="broadband",
            offer_code=None,
            inputs={"purchases": purchases, "journey_stage": stage, "spend_30d": 12.5},
            fallback_reason=None,
            expires_at=int((at + timedelta(days=90)).timestamp()),
        )
    )


def population(aws: dict[str, Any], *, shifted: bool, at: datetime, start: int = 0) -> None:
    # The training shares exactly (purchases 0/1/2/3+: 40/30/20/10 %, loyal/new/at_risk 50/30/20 %), or
    # a population of many-time buyers, all at risk.
    for i in range(100):
        purchases = 5.0 if shifted else float(min(3, [0, 0, 0, 0, 1, 1, 1, 2, 2, 3][i % 10]))
        stage = "at_risk" if shifted else ["loyal"] * 5 + ["new"] * 3 + ["at_risk"] * 2
        record(aws, start + i, at=at, purchases=purchases, stage=stage if shifted else stage[i % 10])  # type: ignore[arg-type]


def run(capsys: pytest.CaptureFixture[str], event: Any = EVENT) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from feature_drift.handler import lambda_handler

    capsys.readouterr()
    result = lambda_handler(event, FakeLambdaContext(function_name="feature-drift"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return result, [line for line in lines if "_aws" in line]


def emitted(blobs: list[dict[str, Any]], name: str, **dimensions: str) -> list[float]:
    """The values of metric `name` in the EMF output (a blob holds one value or a list of them)."""
    values: list[float] = []
    for blob in blobs:
        if name in blob and all(blob.get(key) == value for key, value in dimensions.items()):
            value = blob[name]
            values.extend(float(v) for v in (value if isinstance(value, list) else [value]))
    return values


def test_a_population_like_the_training_data_is_stable(aws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    serve(aws, {"xgboost-model.json": b"{}", "feature_baseline.json": json.dumps(BASELINE).encode()})
    population(aws, shifted=False, at=SCHEDULED - timedelta(days=1))
    result, blobs = run(capsys)
    assert (result["status"], result["rows"], result["drifted"]) == ("stable", 100, [])
    assert result["features"]["purchases"] == {"psi": 0.0, "rows": 100}
    assert result["model_data"] == MODEL_DATA
    assert emitted(blobs, METRIC_MAX) == [0.0]
    assert emitted(blobs, METRIC_ROWS) == [100.0]
    assert emitted(blobs, METRIC_FEATURE, Feature="journey_stage", service="feature-drift") == [0.0]


def test_a_shifted_population_drifts_and_the_largest_psi_is_emitted_for_the_alarm(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(aws, {"feature_baseline.json": json.dumps(BASELINE).encode()})
    population(aws, shifted=True, at=SCHEDULED - timedelta(days=2))
    result, blobs = run(capsys)
    assert result["status"] == "drifted"
    assert set(result["drifted"]) == {"purchases", "journey_stage"}
    [largest] = emitted(blobs, METRIC_MAX)
    assert largest == max(f["psi"] for f in result["features"].values()) > 0.2
    # A feature the baseline does not know (spend_30d) is not compared; product too has no baseline here.
    assert set(result["features"]) == {"purchases", "journey_stage"}


def test_only_the_window_is_read(aws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    serve(aws, {"feature_baseline.json": json.dumps(BASELINE).encode()})
    population(aws, shifted=True, at=SCHEDULED - timedelta(days=30))  # before the 7-day window
    population(aws, shifted=False, at=SCHEDULED - timedelta(hours=3), start=1000)
    result, _ = run(capsys)
    assert (result["status"], result["rows"]) == ("stable", 100)


def test_too_few_decisions_measure_nothing_and_emit_no_largest(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(aws, {"feature_baseline.json": json.dumps(BASELINE).encode()})
    for i in range(10):
        record(aws, i, at=SCHEDULED - timedelta(hours=1), purchases=9.0, stage="at_risk")
    result, blobs = run(capsys)
    assert result["features"]["purchases"] == {"psi": None, "rows": 10}
    assert (result["status"], emitted(blobs, METRIC_MAX)) == ("stable", [])


@pytest.mark.parametrize(
    ("artefacts", "reason"),
    [
        (None, f"endpoint {ENDPOINT}"),
        ({"xgboost-model.json": b"{}"}, "holds no feature_baseline.json"),
        ({"feature_baseline.json": b"{not json"}, "unreadable"),
        ({"feature_baseline.json": b'{"version": 2, "features": {}}'}, "is not a baseline"),
    ],
)
def test_without_a_readable_baseline_the_run_says_why_and_does_not_fail(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str], artefacts: dict[str, bytes] | None, reason: str
) -> None:
    if artefacts is not None:
        serve(aws, artefacts)
    result, blobs = run(capsys)
    assert result["status"] == "no-baseline"
    assert reason in result["reason"]
    assert emitted(blobs, "FeatureDriftNoBaseline") == [1.0]


def test_a_bad_scheduled_time_is_an_error_naming_the_field(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from feature_drift.handler import BadEventError

    with pytest.raises(BadEventError, match="scheduled_time"):
        run(capsys, {"scheduled_time": "next tuesday"})
