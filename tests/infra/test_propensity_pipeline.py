"""The retraining pipeline as Step Functions runs it: its definition checked by an Amazon States Language
validator (statelint), every Task's retries and catch, and its data flow executed by moto's ASL interpreter.

The executions run the synthesized definition itself, with the template's intrinsics filled in for moto's
account. The SageMaker SDK calls (the model registry: find the champion, describe and register model packages;
create the model, the endpoint config and the endpoint, list and describe endpoints) and the alerts go to
moto's SageMaker and SNS; the states moto cannot run are given mocked responses through its interpreter's
mocked-response support (the model of Step Functions Local's mock configuration): the Glue job and the tuning
job (.sync), the best training job's description (its job only exists in the mocked tuning), UpdateEndpoint
(moto has no such call) and the two functions (Lambda needs Docker): the promotion function's answer is the
real `model_promotion` code run on the event the state machine is checked to send. Waits and retry delays
are recorded, not slept.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from statelint.config import Config as LintConfig
from statelint.linter import Linter
from statelint.problem import ProblemType

from infra.constructs.state_machine_failures import ALERT_TRANSIENT, RETRY_ATTEMPTS
from infra.stacks.propensity_stack import (
    GLUE_TRANSIENT,
    LAMBDA_TRANSIENT,
    SAGEMAKER_JOB_TRANSIENT,
    SAGEMAKER_SDK_TRANSIENT,
)
from infra.stages import Stage
from model_cleanup.constants import PIPELINE_TAG
from model_promotion.handler import run as decide_promotion

from .conftest import ENVIRONMENTS, Synthesis
from .state_machine_harness import ACCOUNT, REGION, AlertQueue, Execution, Interpreter, Response, interpreter

PIPELINE = "omni-cx-dev-propensity-retraining"
ENDPOINT = "omni-cx-dev-propensity"
GROUP = "omni-cx-dev-propensity"  # the model package group
ALERTS = "omni-cx-dev-alerts"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000"
MODEL_DATA = "s3://omni-cx-dev-curated/propensity/runs/run/model/output/model.tar.gz"
CHAMPION_DATA = "s3://omni-cx-dev-curated/propensity/runs/earlier/model/output/model.tar.gz"
BEST_JOB = "propensity-0a1b2c3d4e5f-007-1a2b3c4d"


def _resolve(value: Any) -> str:
    """A template value with each intrinsic replaced by what CloudFormation would put there in moto's account."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_resolve(part) for part in parts)
    if "Fn::Sub" in value:
        return str(value["Fn::Sub"]).replace("${AWS::AccountId}", ACCOUNT).replace("${AWS::Region}", REGION)
    if "Fn::GetStackOutput" in value:  # the platform key, from the foundation stack
        return KEY_ARN
    # a role's Arn, the clean-up function's alias (Ref), or a pseudo parameter
    logical_id = value["Fn::GetAtt"][0] if "Fn::GetAtt" in value else value["Ref"]
    arn = (
        f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
        if "Role" in logical_id
        else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"
    )
    return {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": REGION}.get(logical_id, arn)


def definition(synthesis: Synthesis) -> dict[str, Any]:
    template = synthesis.template("propensity")
    (machine,) = (r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    return dict(json.loads(_resolve(machine["Properties"]["DefinitionString"])))


def lint(candidate: Mapping[str, Any]) -> list[str]:
    """statelint's findings. FLOAT is statelint's own switch for numbers JSON cannot type (CDK writes
    BackoffRate 2.0 as 2, which Step Functions accepts)."""
    return list(Linter.validate(copy.deepcopy(dict(candidate)), LintConfig({ProblemType.FLOAT})))


def test_the_definition_is_valid_amazon_states_language(dev5: Synthesis, prod5: Synthesis) -> None:
    for synthesis in (dev5, prod5):
        assert lint(definition(synthesis)) == []


def test_the_validator_reports_what_step_functions_would_refuse(dev5: Synthesis) -> None:
    broken = definition(dev5)
    broken["States"]["TuneModel"]["Retry"][0]["JitterStrategy"] = "PARTIAL"
    broken["States"]["Promotion"]["Default"] = "Nowhere"
    del broken["States"]["RemoveOldModels"]["Retry"][0]["ErrorEquals"]
    problems = " | ".join(lint(broken))
    assert 'JitterStrategy is "PARTIAL"' in problems
    assert 'No state found named "Nowhere"' in problems
    assert 'does not have required field "ErrorEquals"' in problems


TRANSIENT_BY_RESOURCE = {
    ":states:::glue:startJobRun.sync": GLUE_TRANSIENT,
    ":states:::sagemaker:createHyperParameterTuningJob.sync": SAGEMAKER_JOB_TRANSIENT,
    ":states:::aws-sdk:sagemaker:": SAGEMAKER_SDK_TRANSIENT,
    ":states:::lambda:invoke": LAMBDA_TRANSIENT,
    ":states:::sns:publish": ALERT_TRANSIENT,
}


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("stage", [Stage.ORCHESTRATED, Stage.SEAMLESS])
def test_every_task_retries_transient_errors_with_backoff_and_jitter_and_alerts_on_the_rest(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str, stage: Stage
) -> None:
    states = definition(syntheses[env, stage])["States"]
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert len(tasks) == 18
    for name, task in tasks.items():
        (transient,) = [errors for suffix, errors in TRANSIENT_BY_RESOURCE.items() if suffix in task["Resource"]]
        (retry,) = task["Retry"]
        assert retry["ErrorEquals"] == list(transient), name
        assert retry["JitterStrategy"] == "FULL", name
        assert retry["BackoffRate"] >= 2, name
        assert retry["MaxAttempts"] == RETRY_ATTEMPTS, name
        assert 0 < retry["IntervalSeconds"] <= retry["MaxDelaySeconds"] <= 300, name
        (catch,) = task["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        if name == "AlertPlatformTeam":
            assert catch["Next"] == task["Next"] == "RunFailed"
        else:
            assert (catch["Next"], catch["ResultPath"]) == ("AlertPlatformTeam", "$.failure"), name
    # the failure path: the alert names the run and the error, then the run fails with that error
    alert = states["AlertPlatformTeam"]
    assert alert["Parameters"]["TopicArn"].endswith(f":omni-cx-{env}-alerts")
    assert "$.failure.Error" in alert["Parameters"]["Message.$"]
    assert states["RunFailed"] == {
        "Type": "Fail",
        "Error": "RetrainingFailed",
        "CausePath": "States.Format('{}: {}', $.failure.Error, $.failure.Cause)",
    }
    for gate in ("BelowThreshold", "EndpointFailed"):
        assert {key.removesuffix(".$") for key in states[gate]["Parameters"]} == {"Error", "Cause"}
        assert (states[gate]["ResultPath"], states[gate]["Next"]) == ("$.failure", "AlertPlatformTeam")


# ---- executions on moto -------------------------------------------------------------------------------


def _best_job(auc: float | None, champion: float | None = None) -> dict[str, Any]:
    """What DescribeTrainingJob answers for the tuning job's best training job."""
    metrics: list[dict[str, Any]] = [{"MetricName": "validation:brier", "Value": 0.081}]
    if auc is not None:
        metrics.append({"MetricName": "validation:auc", "Value": auc})
    if champion is not None:
        metrics.append({"MetricName": "champion:auc", "Value": champion})
    return {
        "TrainingJobName": BEST_JOB,
        "TrainingJobStatus": "Completed",
        "FinalMetricDataList": metrics,
        "ModelArtifacts": {"S3ModelArtifacts": MODEL_DATA},
    }


def _promotion_event(best: dict[str, Any], champions: list[str], *, manual_approval: bool = False) -> dict[str, Any]:
    """The event the pipeline must send the promotion function (checked against what it sent)."""
    return {
        "metrics": best["FinalMetricDataList"],
        "champions": champions,
        "training_job": BEST_JOB,
        "floor": 0.78,
        "margin": 0.005,
        "manual_approval": manual_approval,
    }


def _trained(
    auc: float | None, champion: float | None = None, *, champions: tuple[str, ...] = (), **policy: Any
) -> dict[str, list[Response]]:
    """Mocked answers of the tuning and the promotion function; the decision is the real code's."""
    best = _best_job(auc, champion)
    decision = decide_promotion(_promotion_event(best, list(champions), **policy))
    return {
        "DescribeBestTrainingJob": [{"Return": best}],
        "DecidePromotion": [{"Return": {"StatusCode": 200, "Payload": decision}}],
    }


SUCCESSFUL = {
    "PrepareData": [{"Return": {"JobRunState": "SUCCEEDED"}}],
    "TuneModel": [
        {"Return": {"HyperParameterTuningJobStatus": "Completed", "BestTrainingJob": {"TrainingJobName": BEST_JOB}}}
    ],
    **_trained(0.81),
    "UpdateEndpoint": [{"Return": {"EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}"}}],
    "RemoveOldModels": [{"Return": {"StatusCode": 200, "Payload": {"kept": [], "removed": [], "blocked_by": []}}}],
}


@dataclass
class Run:
    status: str
    error: str | None
    cause: str | None
    entered: list[str]
    execution: Execution
    alerts: list[str]
    delays: list[float] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)

    def sent(self, state: str) -> dict[str, Any]:
        """The parameters a Task state sent (its last attempt)."""
        scheduled = self.execution.scheduled().get(state)
        assert scheduled, f"{state} was not run"
        return dict(scheduled[-1])

    def failures_of(self, state: str) -> list[str]:
        """The errors of each failed attempt of a Task state."""
        return [
            event["taskFailedEventDetails"]["error"]
            for event in self.execution.task_events("TaskFailed").get(state, [])
        ]


class Pipeline:
    def __init__(self, machine_definition: dict[str, Any], interpreter: Interpreter, env: str = "dev") -> None:
        self.interpreter = interpreter
        self.sagemaker = boto3.client("sagemaker", region_name=REGION)
        self.group = GROUP.replace("-dev-", f"-{env}-")
        self.endpoint = ENDPOINT.replace("-dev-", f"-{env}-")
        self.sagemaker.create_model_package_group(ModelPackageGroupName=self.group)
        self.alerts = AlertQueue(ALERTS.replace("-dev-", f"-{env}-"))
        self.arn = interpreter.create(PIPELINE.replace("-dev-", f"-{env}-"), machine_definition)

    def existing_endpoint(self) -> None:
        """An endpoint serving an earlier run's model, as the first successful run leaves it."""
        self.sagemaker.create_model(
            ModelName="propensity-earlier",
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/training",
            PrimaryContainer={"Image": "image", "ModelDataUrl": MODEL_DATA},
        )
        self.sagemaker.create_endpoint_config(
            EndpointConfigName="propensity-earlier",
            ProductionVariants=[
                {
                    "VariantName": "primary",
                    "ModelName": "propensity-earlier",
                    "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2},
                }
            ],
        )
        self.sagemaker.create_endpoint(EndpointName=self.endpoint, EndpointConfigName="propensity-earlier")

    def champion(self, status: str = "Approved") -> str:
        """A model package an earlier run registered (the champion when approved)."""
        return str(
            self.sagemaker.create_model_package(
                ModelPackageGroupName=self.group,
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [{"Image": "image", "ModelDataUrl": CHAMPION_DATA}],
                    "SupportedContentTypes": ["application/json"],
                    "SupportedResponseMIMETypes": ["application/json"],
                },
            )["ModelPackageArn"]
        )

    def packages(self) -> list[dict[str, Any]]:
        """The group's versions, oldest first, described."""
        summaries = self.sagemaker.list_model_packages(ModelPackageGroupName=self.group)["ModelPackageSummaryList"]
        return [
            self.sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            for summary in sorted(summaries, key=lambda summary: summary["ModelPackageVersion"])
        ]

    def run(self, name: str, responses: Mapping[str, list[Response]], given: Mapping[str, Any] | None = None) -> Run:
        execution = self.interpreter.execute(self.arn, name, responses, given)
        return Run(
            status=execution.described["status"],
            error=execution.described.get("error"),
            cause=execution.described.get("cause"),
            entered=execution.entered,
            execution=execution,
            alerts=self.alerts.received(),
            delays=execution.delays,
            output=json.loads(execution.described.get("output") or "{}"),
        )


def _pipeline(synthesis: Synthesis, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with interpreter(monkeypatch) as running:
        yield Pipeline(definition(synthesis), running, synthesis.env)


@pytest.fixture
def pipeline(dev5: Synthesis, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    yield from _pipeline(dev5, monkeypatch)


@pytest.fixture
def prod_pipeline(prod5: Synthesis, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """Production requires a person to approve a promoted model."""
    yield from _pipeline(prod5, monkeypatch)


def test_a_first_model_is_tuned_registered_approved_and_served_tagged_then_old_runs_are_removed(
    pipeline: Pipeline,
) -> None:
    run = pipeline.run("first-run", SUCCESSFUL)
    assert (run.status, run.error) == ("SUCCEEDED", None)
    assert run.entered[run.entered.index("HasChampion") :][:2] == ["HasChampion", "FirstModel"]
    assert "DescribeChampion" not in run.entered
    # the tuning job: a short name fixed for the run, the prepared sets and no champion channel
    tuning = run.sent("TuneModel")
    assert re.fullmatch(r"propensity-[0-9a-f]{12}", tuning["HyperParameterTuningJobName"])
    channels = tuning["TrainingJobDefinition"]["InputDataConfig"]
    assert [c["ChannelName"] for c in channels] == ["train", "validation"]
    assert channels[0]["DataSource"]["S3DataSource"]["S3Uri"].endswith("/propensity/runs/first-run/data/train/")
    assert run.sent("DescribeBestTrainingJob") == {"TrainingJobName": BEST_JOB}
    assert run.sent("DecidePromotion")["Payload"] == _promotion_event(_best_job(0.81), [])
    (package,) = pipeline.packages()
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == MODEL_DATA
    assert package["CustomerMetadataProperties"]["validation_auc"] == "0.810000"
    assert package["ModelPackageDescription"].startswith("first model: challenger AUC 0.8100 reaches the floor")
    assert "CreateEndpoint" in run.entered
    assert "UpdateEndpoint" not in run.entered
    assert run.entered[-2:] == ["RemoveOldModels", "Serving"]
    endpoint = pipeline.sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointConfigName"] == "propensity-first-run"
    model = pipeline.sagemaker.describe_model(ModelName="propensity-first-run")
    assert model["PrimaryContainer"]["ModelDataUrl"] == MODEL_DATA  # the best training job's artefact
    for arn in (
        model["ModelArn"],
        pipeline.sagemaker.describe_endpoint_config(EndpointConfigName="propensity-first-run")["EndpointConfigArn"],
    ):
        assert {"Key": PIPELINE_TAG, "Value": PIPELINE} in pipeline.sagemaker.list_tags(ResourceArn=arn)["Tags"]
    assert run.alerts == []


def test_a_challenger_better_than_the_champion_on_the_same_holdout_replaces_it(pipeline: Pipeline) -> None:
    pipeline.existing_endpoint()
    pipeline.champion(status="Approved")
    newest = pipeline.champion(status="Approved")
    pipeline.champion(status="Rejected")  # a later rejected version is never the champion
    run = pipeline.run("better", {**SUCCESSFUL, **_trained(0.83, 0.80, champions=(newest,))})
    assert (run.status, run.error) == ("SUCCEEDED", None)
    # the newest approved version's artefact goes to every training job as its champion channel
    channels = run.sent("TuneModel")["TrainingJobDefinition"]["InputDataConfig"]
    assert channels[-1] == {
        "ChannelName": "champion",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": CHAMPION_DATA,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
    }
    assert run.sent("DecidePromotion")["Payload"] == _promotion_event(_best_job(0.83, 0.80), [newest])
    challenger = pipeline.packages()[-1]
    assert challenger["ModelApprovalStatus"] == "Approved"
    assert challenger["CustomerMetadataProperties"]["champion_auc"] == "0.800000"
    assert "UpdateEndpoint" in run.entered
    assert run.sent("UpdateEndpoint") == {"EndpointName": ENDPOINT, "EndpointConfigName": "propensity-better"}
    assert run.entered[-1] == "Serving"


def test_a_challenger_not_better_by_the_margin_is_rejected_and_the_champion_kept_with_the_reason(
    pipeline: Pipeline,
) -> None:
    pipeline.existing_endpoint()
    champion = pipeline.champion()
    run = pipeline.run("no-better", {**SUCCESSFUL, **_trained(0.801, 0.8, champions=(champion,))})
    assert (run.status, run.entered[-2:]) == ("SUCCEEDED", ["ReportChampionKept", "ChampionKept"])
    assert "CreateModel" not in run.entered
    assert pipeline.sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == "propensity-earlier"
    challenger = pipeline.packages()[-1]
    assert challenger["ModelApprovalStatus"] == "Rejected"
    reason = (
        "champion kept: challenger AUC 0.8010 does not beat champion AUC 0.8000 by the margin 0.005 "
        "(needs 0.8050) on the same holdout"
    )
    assert challenger["ModelPackageDescription"] == reason
    assert run.output["decision"]["reason"] == reason  # the execution's output says why
    (notice,) = run.alerts
    assert f"run no-better kept the approved model: {reason} (model package {challenger['ModelPackageArn']})" in notice


def test_in_production_a_better_challenger_waits_for_approval_and_the_approval_deploys_it(
    prod_pipeline: Pipeline,
) -> None:
    run = prod_pipeline.run("weekly", {**SUCCESSFUL, **_trained(0.82, champions=(), manual_approval=True)})
    assert run.sent("DecidePromotion")["Payload"]["manual_approval"] is True
    assert (run.status, run.entered[-2:]) == ("SUCCEEDED", ["AskForApproval", "AwaitingApproval"])
    assert "CreateModel" not in run.entered
    (package,) = prod_pipeline.packages()
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    (notice,) = run.alerts
    assert "registered a better model" in notice
    assert "awaiting manual approval" in notice
    # a person approves it: the approval rule starts the pipeline with the package, which is deployed
    approved = prod_pipeline.run(
        "approved",
        {"RemoveOldModels": SUCCESSFUL["RemoveOldModels"]},
        given={"approved_package": package["ModelPackageArn"]},
    )
    assert (approved.status, approved.error) == ("SUCCEEDED", None)
    assert approved.entered[:3] == ["ApprovedOrScheduled", "DescribeApprovedPackage", "CreateModel"]
    assert "PrepareData" not in approved.entered
    model = prod_pipeline.sagemaker.describe_model(ModelName="propensity-approved")
    assert model["PrimaryContainer"]["ModelDataUrl"] == MODEL_DATA
    endpoint = prod_pipeline.sagemaker.describe_endpoint(EndpointName="omni-cx-prod-propensity")
    assert endpoint["EndpointConfigName"] == "propensity-approved"


def test_a_model_under_the_floor_is_registered_rejected_alerts_and_fails_leaving_the_endpoint_untouched(
    pipeline: Pipeline,
) -> None:
    pipeline.existing_endpoint()
    champion = pipeline.champion()
    run = pipeline.run("gated", {**SUCCESSFUL, **_trained(0.6, 0.55, champions=(champion,))})
    assert (run.status, run.error) == ("FAILED", "RetrainingFailed")
    assert run.cause is not None
    assert run.cause.startswith("ModelBelowThreshold: validation AUC 0.6000 is under the floor 0.78")
    assert run.entered[-3:] == ["BelowThreshold", "AlertPlatformTeam", "RunFailed"]
    assert "CreateModel" not in run.entered
    assert pipeline.packages()[-1]["ModelApprovalStatus"] == "Rejected"
    assert pipeline.sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == "propensity-earlier"
    (alert,) = run.alerts
    assert "run gated failed with ModelBelowThreshold: validation AUC 0.6000 is under the floor 0.78" in alert


def test_a_model_without_a_validation_auc_never_reaches_the_endpoint(pipeline: Pipeline) -> None:
    pipeline.existing_endpoint()
    run = pipeline.run("unmeasured", {**SUCCESSFUL, **_trained(None)})
    assert (run.status, run.error) == ("FAILED", "RetrainingFailed")
    assert run.cause == "ModelBelowThreshold: the training job reported no validation AUC: the model is not served"
    assert "CreateModel" not in run.entered
    assert pipeline.sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == "propensity-earlier"
    assert len(run.alerts) == 1


def test_a_throttled_call_is_retried_with_growing_jittered_delays(pipeline: Pipeline) -> None:
    throttled = {
        "Throw": {"Error": "SageMaker.AmazonSageMakerException", "Cause": "Rate exceeded (ThrottlingException)"}
    }
    run = pipeline.run("throttled", {**SUCCESSFUL, "TuneModel": [throttled, throttled, *SUCCESSFUL["TuneModel"]]})
    assert run.status == "SUCCEEDED"
    assert run.failures_of("TuneModel") == ["SageMaker.AmazonSageMakerException"] * 2
    # full jitter: each wait is drawn between 0 and the backoff (5 s, then 10 s)
    assert len(run.delays) == 2
    assert 0 <= run.delays[0] <= 5
    assert 0 <= run.delays[1] <= 10


@pytest.mark.parametrize(
    ("state", "answers", "error"),
    [
        # an error that is not transient is not retried (it would fail the same way again)
        (
            "TuneModel",
            [{"Throw": {"Error": "SageMaker.ValidationException", "Cause": "invalid hyperparameter range"}}],
            "SageMaker.ValidationException",
        ),
        # SageMaker kept refusing: retried RETRY_ATTEMPTS times, then the failure path
        (
            "TuneModel",
            [{"Throw": {"Error": "SageMaker.AmazonSageMakerException", "Cause": "ResourceLimitExceeded"}}]
            * (RETRY_ATTEMPTS + 1),
            "SageMaker.AmazonSageMakerException",
        ),
        (
            "PrepareData",
            [{"Throw": {"Error": "Glue.EntityNotFoundException", "Cause": "job not found"}}],
            "Glue.EntityNotFoundException",
        ),
        (
            "DecidePromotion",
            [{"Throw": {"Error": "Lambda.Unknown", "Cause": "ValidationError: champions"}}],
            "Lambda.Unknown",
        ),
        ("RemoveOldModels", [{"Throw": {"Error": "Lambda.Unknown", "Cause": "CleanupError"}}], "Lambda.Unknown"),
    ],
    ids=["tuning-refused", "sagemaker-keeps-refusing", "preparation-refused", "decision-failed", "cleanup-failed"],
)
def test_an_unrecovered_error_alerts_the_platform_team_and_fails_the_run_with_it(
    pipeline: Pipeline, state: str, answers: list[Response], error: str
) -> None:
    run = pipeline.run("broken", {**SUCCESSFUL, state: answers})
    assert (run.status, run.error, run.cause) == (
        "FAILED",
        "RetrainingFailed",
        f"{error}: {answers[-1]['Throw']['Cause']}",
    )
    assert len(run.failures_of(state)) == len(answers)
    assert run.entered[-2:] == ["AlertPlatformTeam", "RunFailed"]
    (alert,) = run.alerts
    assert f"run broken failed with {error}: {answers[-1]['Throw']['Cause']}" in alert


def test_an_endpoint_that_fails_to_serve_the_new_model_alerts_and_fails_without_cleaning_up(pipeline: Pipeline) -> None:
    run = pipeline.run("unservable", {**SUCCESSFUL, "EndpointStatus": [{"Return": {"EndpointStatus": "Failed"}}]})
    assert (run.status, run.error) == ("FAILED", "RetrainingFailed")
    assert run.cause == "EndpointFailed: the endpoint did not reach InService with the new model"
    assert "RemoveOldModels" not in run.entered
    (alert,) = run.alerts
    assert "failed with EndpointFailed" in alert
