"""The Entity Resolution matching pipeline as Step Functions runs it: the synthesized definition executed by
moto's ASL interpreter, its data flow (the step function's answers, the computed waits, the choices) checked.

The step function (Lambda needs Docker) and the prepare job (.sync) are given mocked responses through the
interpreter's mocked-response support (the model of Step Functions Local's mock configuration); the step
function's answers are the shapes `matching_pipeline` returns (its own tests run it against botocore's Stubber).
The failure path's alert goes to moto's SNS. Waits are recorded, not slept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.platform_app import synthesize
from tests.infra.full_context import full_context

from .conftest import load_templates

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-2"
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
    def __init__(self, machine_definition: dict[str, Any], waits: list[int], calls: dict[str, int]) -> None:
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name=ALERTS)["TopicArn"]
        self.queue = sqs.create_queue(QueueName="platform-team")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        self.sqs = sqs
        self.arn = self.sfn.create_state_machine(
            name=PIPELINE, definition=json.dumps(machine_definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/pipeline"
        )["stateMachineArn"]
        self.waits = waits
        self.calls = calls
        self.case: Any = None

    def run(self, name: str, responses: Mapping[str, list[dict[str, Any]]]) -> Run:
        from moto.stepfunctions.parser.mocking.mock_config import (
            MockedResponseReturn,
            MockedResponseThrow,
            MockTestCase,
            StateMockedResponses,
        )

        self.case = MockTestCase(
            PIPELINE,
            name,
            [
                StateMockedResponses(
                    state,
                    f"{state}-{name}",
                    [
                        MockedResponseReturn(n, n, r["Return"])
                        if "Return" in r
                        else MockedResponseThrow(n, n, r["Throw"]["Error"], r["Throw"]["Cause"])
                        for n, r in enumerate(answers)
                    ],
                )
                for state, answers in responses.items()
            ],
        )
        self.waits.clear()
        self.calls.clear()
        execution = self.sfn.start_execution(stateMachineArn=self.arn, name=name, input="{}")["executionArn"]
        deadline = time.monotonic() + 30
        while (described := self.sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                self.sfn.stop_execution(executionArn=execution)
                raise AssertionError(f"execution {name} still running after 30 s")
            time.sleep(0.05)
        history = self.sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        inputs: dict[str, list[dict[str, Any]]] = {}
        current = None
        for event in history:
            if "stateEnteredEventDetails" in event:
                current = event["stateEnteredEventDetails"]["name"]
            if event["type"] == "TaskScheduled" and current is not None:
                inputs.setdefault(current, []).append(json.loads(event["taskScheduledEventDetails"]["parameters"]))
        messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        return Run(
            status=described["status"],
            error=described.get("error"),
            cause=described.get("cause"),
            entered=[e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e],
            inputs=inputs,
            waits=list(self.waits),
            alerts=[m["Body"] for m in messages],
        )


@pytest.fixture
def pipeline(definition: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_unsupported as unsupported,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.backend import execution as executions

    waits: list[int] = []
    calls: dict[str, int] = {}
    holder: list[Pipeline] = []
    start_worker: Callable[..., Any] = executions.Execution._get_start_execution_worker

    def worker_with_mocks(self: Any) -> Any:
        worker = start_worker(self)
        worker._mock_test_case = holder[0].case  # the worker's documented mock_test_case, set per run
        return worker

    monkeypatch.setattr(executions.Execution, "_get_start_execution_worker", worker_with_mocks)

    def by_invocation(self: Any) -> Any:
        """moto picks a state's mocked response by retry count, so a state entered again (the poll loop) would
        repeat its first answer: take them in order of invocation instead, retries and re-entries alike."""
        state = self.next_state_name
        answers = self.mock_test_case.state_mocked_responses.get(state)
        if answers is None:
            raise RuntimeError(f"No mocked response definition for state '{state}'")
        number = calls[state] = calls.get(state, -1) + 1
        if number >= len(answers.mocked_responses):
            raise RuntimeError(
                f"state '{state}' invoked {number + 1} times, {len(answers.mocked_responses)} answers given"
            )
        return answers.mocked_responses[number]

    monkeypatch.setattr(Environment, "get_current_mocked_response", by_invocation)
    # A mocked .sync state never reaches Glue, so it may run (moto has no .sync poller for every integration).
    monkeypatch.setattr(
        unsupported, "_SUPPORTED_INTEGRATION_PATTERNS", {ResourceCondition.WaitForTaskToken, ResourceCondition.Sync}
    )
    monkeypatch.setattr(
        wait_function.WaitFunction, "_wait_interval", lambda self, env, wait_seconds: waits.append(int(wait_seconds))
    )
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda seconds: None))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        holder.append(Pipeline(definition, waits, calls))
        yield holder[0]


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
