"""The Entity Resolution matching pipeline as Step Functions runs it: the synthesized definition executed by
moto's ASL interpreter, its data flow (the step function's answers, the computed waits, the choices) checked.

The step function (Lambda needs Docker) and the prepare job (.sync) are given mocked responses through the
interpreter's mocked-response support (the model of Step Functions Local's mock configuration); the step
function's answers are the shapes `matching_pipeline` returns (its own tests run it against botocore's Stubber).
The failure path's alert goes to moto's SNS. Waits are recorded, not slept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.platform_app import synthesize
from tests.infra.full_context import full_context

from .conftest import load_templates
from .state_machine_harness import ACCOUNT, REGION, AlertQueue, Interpreter, Response, interpreter

PIPELINE = "omni-cx-dev-customer-matching"
ALERTS = "omni-cx-dev-alerts"
JOB_ID = "0123456789abcdef0123456789abcdef"
RUN_ID = "20261201T020003Z"


def _resolve(value: Any) -> str:
    """A template value with each intrinsic replaced by what CloudFormation would put there in moto's account."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_resolve(part) for part in parts)
    name = value["Ref"]  # a pseudo parameter, or the step function's alias
    pseudo = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": REGION}
    return pseudo.get(name, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:matching-pipeline:live")


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    context = full_context()
    context["omni:environments"]["dev"]["mdm"]["engine"] = "entity-resolution"
    outdir: Path = tmp_path_factory.mktemp("matching-pipeline")
    synthesize("dev", 2, str(outdir), context=context)
    template = next(t for name, t in load_templates(outdir).items() if name.endswith("customer-domain"))
    (machine,) = (r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    return dict(json.loads(_resolve(machine["Properties"]["DefinitionString"])))


def step(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A mocked answer of the step function, as Lambda's Invoke returns it."""
    return {"Return": {"StatusCode": 200, "Payload": dict(answer)}}


STARTED = {"started": True, "job_id": JOB_ID, "run_id": RUN_ID, "status": "QUEUED", "attempt": 0, "wait_seconds": 60}


def polled(status: str, attempt: int, wait: int | None = None, **extra: Any) -> dict[str, Any]:
    answer = {"started": True, "job_id": JOB_ID, "run_id": RUN_ID, "status": status, "attempt": attempt, **extra}
    if wait is not None:
        answer["wait_seconds"] = wait
    return step(answer)


CLAIMED = [step({"proceed": True, "reason": "no other run in progress"})]
PREPARED = [{"Return": {"JobRunState": "SUCCEEDED"}}]


@dataclass
class Run:
    status: str
    error: str | None
    cause: str | None
    entered: list[str]
    inputs: dict[str, list[dict[str, Any]]]  # the payloads each Task state sent, in order
    waits: list[int]
    alerts: list[str]


class Pipeline:
    def __init__(self, machine_definition: dict[str, Any], interpreter: Interpreter) -> None:
        self.interpreter = interpreter
        self.alerts = AlertQueue(ALERTS)
        self.arn = interpreter.create(PIPELINE, machine_definition)

    def run(self, name: str, responses: Mapping[str, list[Response]]) -> Run:
        execution = self.interpreter.execute(self.arn, name, responses)
        return Run(
            status=execution.described["status"],
            error=execution.described.get("error"),
            cause=execution.described.get("cause"),
            entered=execution.entered,
            inputs=execution.scheduled(),
            waits=execution.waits,
            alerts=self.alerts.received(),
        )


@pytest.fixture
def pipeline(definition: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    # The poll loop enters LookAtMatchingJob again and again: its answers are taken in order of invocation.
    with interpreter(monkeypatch, answers_by_invocation=True) as running:
        yield Pipeline(definition, running)


def test_a_claimed_run_prepares_starts_follows_the_job_with_the_computed_waits_and_publishes(
    pipeline: Pipeline,
) -> None:
    run = pipeline.run(
        "nightly",
        {
            "ClaimTheRun": CLAIMED,
            "PrepareInput": PREPARED,
            "StartMatchingJob": [step(STARTED)],
            "LookAtMatchingJob": [
                polled("QUEUED", 1, 120),
                polled("RUNNING", 2, 240),
                polled("SUCCEEDED", 2, publication_run_id="jr_1", records=250, records_not_processed=0),
            ],
        },
    )
    assert (run.status, run.error) == ("SUCCEEDED", None)
    assert run.entered[:4] == ["ClaimTheRun", "RunClaimed", "PrepareInput", "StartMatchingJob"]
    assert run.entered[-2:] == ["MatchingJobStatus", "PublicationStarted"]
    assert run.waits == [60, 120, 240]  # each wait the one the step computed
    # The claim names the execution and its start; each look names the job, the run and the looks so far.
    (claim,) = run.inputs["ClaimTheRun"]
    assert claim["Payload"]["step"] == "claim"
    assert claim["Payload"]["execution"].endswith(":nightly")
    assert "started_at" in claim["Payload"]
    assert [p["Payload"] for p in run.inputs["LookAtMatchingJob"]] == [
        {"step": "poll", "job_id": JOB_ID, "run_id": RUN_ID, "attempt": attempt} for attempt in (0, 1, 2)
    ]
    assert run.alerts == []


def test_when_the_schedule_fires_twice_the_second_execution_ends_before_preparing_anything(pipeline: Pipeline) -> None:
    busy = step({"proceed": False, "reason": "execution nightly of the pipeline started first and is still running"})
    run = pipeline.run("nightly-again", {"ClaimTheRun": [busy]})
    assert run.status == "SUCCEEDED"
    assert run.entered == ["ClaimTheRun", "RunClaimed", "AnotherRunInProgress"]
    assert run.alerts == []


def test_a_job_started_meanwhile_ends_the_run_without_a_second_job(pipeline: Pipeline) -> None:
    conflict = step({"started": False, "reason": "omni-cx-dev-customer-matching already has a job in progress"})
    run = pipeline.run("raced", {"ClaimTheRun": CLAIMED, "PrepareInput": PREPARED, "StartMatchingJob": [conflict]})
    assert run.status == "SUCCEEDED"
    assert run.entered[-2:] == ["JobStarted", "AnotherRunInProgress"]
    assert "LookAtMatchingJob" not in run.entered


def test_a_failed_job_fails_the_run_with_the_services_reason(pipeline: Pipeline) -> None:
    reason = f"Customer matching job {JOB_ID} of {PIPELINE} (run {RUN_ID}) failed: Insufficient permissions"
    run = pipeline.run(
        "failed-job",
        {
            "ClaimTheRun": CLAIMED,
            "PrepareInput": PREPARED,
            "StartMatchingJob": [step(STARTED)],
            "LookAtMatchingJob": [polled("FAILED", 0, error=reason)],
        },
    )
    assert (run.status, run.error, run.cause) == ("FAILED", "MatchingJobFailed", reason)
    # The step already alerted the platform team with the reason; the state machine does not alert twice.
    assert "AlertPlatformTeam" not in run.entered
    assert run.alerts == []


@pytest.mark.parametrize(
    ("state", "error", "cause"),
    [
        ("ClaimTheRun", "StepInputError", "pipeline step event: claim.execution: String should match pattern"),
        ("PrepareInput", "Glue.EntityNotFoundException", "job not found"),
        ("LookAtMatchingJob", "Lambda.Unknown", "the function timed out"),
    ],
)
def test_an_error_a_step_cannot_recover_from_alerts_the_platform_team_and_fails_the_run(
    pipeline: Pipeline, state: str, error: str, cause: str
) -> None:
    responses: dict[str, list[dict[str, Any]]] = {
        "ClaimTheRun": CLAIMED,
        "PrepareInput": PREPARED,
        "StartMatchingJob": [step(STARTED)],
        state: [{"Throw": {"Error": error, "Cause": cause}}],
    }
    run = pipeline.run("broken", responses)
    assert (run.status, run.error, run.cause) == ("FAILED", "MatchingPipelineFailed", f"{error}: {cause}")
    assert run.entered[-2:] == ["AlertPlatformTeam", "PipelineFailed"]
    (alert,) = run.alerts
    assert f"Customer matching pipeline run broken failed with {error}: {cause}" in alert


def test_a_step_that_keeps_failing_transiently_is_retried_then_alerts(pipeline: Pipeline) -> None:
    transient = {
        "Throw": {"Error": "PipelineError", "Cause": "Entity Resolution GetMatchingJob failed (ThrottlingException)"}
    }
    run = pipeline.run(
        "throttled",
        {
            "ClaimTheRun": CLAIMED,
            "PrepareInput": PREPARED,
            "StartMatchingJob": [step(STARTED)],
            "LookAtMatchingJob": [transient, transient, polled("SUCCEEDED", 0, publication_run_id="jr_2")],
        },
    )
    assert run.status == "SUCCEEDED"
    assert len(run.inputs["LookAtMatchingJob"]) == 3
