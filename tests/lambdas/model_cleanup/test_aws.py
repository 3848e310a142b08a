"""The clean-up against moto's SageMaker: only this pipeline's tagged artefacts, never what an endpoint uses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from model_cleanup import handler
from model_cleanup.aws import SageMakerArtefacts
from model_cleanup.constants import ENV_ENDPOINT, ENV_KEEP, ENV_PIPELINE, PIPELINE_TAG
from model_cleanup.errors import CleanupError
from model_cleanup.settings import CleanupSettings
from tests.lambdas.conftest import REGION

PIPELINE = "omni-cx-dev-propensity-retraining"
ENDPOINT = "omni-cx-dev-propensity"
ROLE = "arn:aws:iam::123456789012:role/training"


@pytest.fixture
def sagemaker() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


def run_of(client: Any, name: str, *, pipeline: str | None = PIPELINE) -> None:
    """A model and an endpoint config as the pipeline creates them (tagged), or untagged with pipeline=None."""
    tags = [{"Key": PIPELINE_TAG, "Value": pipeline}] if pipeline else []
    client.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "xgboost", "ModelDataUrl": "s3://b/m"},
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


def remaining(client: Any) -> set[str]:
    models = {f"model/{m['ModelName']}" for m in client.list_models()["Models"]}
    configs = {f"endpoint-config/{c['EndpointConfigName']}" for c in client.list_endpoint_configs()["EndpointConfigs"]}
    return models | configs


def settings(keep: int) -> CleanupSettings:
    return CleanupSettings.from_environment({ENV_PIPELINE: PIPELINE, ENV_ENDPOINT: ENDPOINT, ENV_KEEP: str(keep)})


def test_older_runs_are_removed_but_not_the_served_one_nor_anything_the_pipeline_did_not_make(sagemaker: Any) -> None:
    for week in range(1, 6):
        run_of(sagemaker, f"propensity-run-{week}")
    # the endpoint still serves run 2 (runs 3 to 5 were created then the endpoint was not moved)
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="propensity-run-2")
    run_of(sagemaker, "propensity-prod-run", pipeline="omni-cx-prod-propensity-retraining")
    run_of(sagemaker, "propensity-by-hand", pipeline=None)
    run_of(sagemaker, "churn-propensity-1")

    outcome = handler.run(settings(keep=2), sagemaker)

    assert sorted(outcome["removed"]) == [
        "endpoint-config/propensity-run-1",
        "endpoint-config/propensity-run-3",
        "model/propensity-run-1",
        "model/propensity-run-3",
    ]
    assert outcome["blocked_by"] == []
    assert remaining(sagemaker) == {
        f"{kind}/{name}"
        for kind in ("model", "endpoint-config")
        for name in (
            "propensity-run-2",
            "propensity-run-4",
            "propensity-run-5",
            "propensity-prod-run",
            "propensity-by-hand",
            "churn-propensity-1",
        )
    }


def test_the_first_run_finds_no_endpoint_and_keeps_its_own_artefacts(sagemaker: Any) -> None:
    run_of(sagemaker, "propensity-first")
    assert handler.run(settings(keep=1), sagemaker)["removed"] == []
    assert remaining(sagemaker) == {"model/propensity-first", "endpoint-config/propensity-first"}


def test_the_inventory_reads_what_every_endpoint_uses_when_none_is_named(sagemaker: Any) -> None:
    run_of(sagemaker, "propensity-a")
    run_of(sagemaker, "propensity-b")
    sagemaker.create_endpoint(EndpointName="another-team", EndpointConfigName="propensity-a")
    inventory = SageMakerArtefacts(sagemaker, pipeline=PIPELINE).inventory()
    assert inventory.configs_in_use == {"propensity-a"}
    assert inventory.models_in_use == {"propensity-a"}
    assert {a.name for a in inventory.artefacts} == {"propensity-a", "propensity-b"}


def test_an_artefact_already_gone_is_not_an_error(sagemaker: Any) -> None:
    run_of(sagemaker, "propensity-gone")
    artefacts = SageMakerArtefacts(sagemaker, pipeline=PIPELINE)
    (model,) = [a for a in artefacts.inventory([ENDPOINT]).artefacts if a.kind == "model"]
    sagemaker.delete_model(ModelName="propensity-gone")
    assert artefacts.remove(model) is False


class RefusingClient:
    def get_paginator(self, operation: str) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, operation)


def test_sagemaker_refusing_is_a_cleanup_error_naming_the_call() -> None:
    with pytest.raises(CleanupError, match=r"SageMaker list_models failed \(AccessDeniedException\)"):
        SageMakerArtefacts(RefusingClient(), pipeline=PIPELINE).inventory([ENDPOINT])


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({ENV_PIPELINE: PIPELINE, ENV_ENDPOINT: ENDPOINT, ENV_KEEP: "0"}, ENV_KEEP),
        ({ENV_PIPELINE: "bad name!", ENV_ENDPOINT: ENDPOINT, ENV_KEEP: "3"}, ENV_PIPELINE),
        ({ENV_PIPELINE: PIPELINE, ENV_KEEP: "3"}, ENV_ENDPOINT),
    ],
)
def test_bad_settings_fail_the_cold_start_naming_the_variable(variables: dict[str, str], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        CleanupSettings.from_environment(variables)
