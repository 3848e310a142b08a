"""The Entity Resolution matching pipeline's steps against botocore's Stubber (moto has no Entity Resolution).

Every call is checked against the service models botocore ships: the request a step sends must be exactly the
one stubbed (`expected_params`) and every stubbed response must be a valid response of that operation, so the
steps speak the documented API. A call nobody stubbed fails the test, and so does a stubbed call never made.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from matching_pipeline import handler
from matching_pipeline.constants import (
    ENV_ALERT_TOPIC_ARN,
    ENV_FIRST_POLL_SECONDS,
    ENV_MAX_POLL_SECONDS,
    ENV_OUTPUT_PATH,
    ENV_PUBLICATION_JOB,
    ENV_STATE_MACHINE_ARN,
    ENV_WORKFLOW,
)
from matching_pipeline.errors import PipelineError, StepInputError
from matching_pipeline.pipeline import MatchingPipeline, backoff_seconds
from matching_pipeline.settings import PipelineSettings
from tests.lambdas.conftest import REGION, FakeLambdaContext

ACCOUNT = "111122223333"
WORKFLOW = "omni-cx-prod-customer-matching"
STATE_MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:omni-cx-prod-customer-matching"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:omni-cx-prod-alerts"
PUBLICATION_JOB = "omni-cx-prod-customer-er-publish"
OUTPUT_PATH = "s3://omni-cx-prod-curated-111122223333-eu-west-2/mdm/entity-resolution/"
JOB_ID = "0123456789abcdef0123456789abcdef"
OTHER_JOB_ID = "fedcba9876543210fedcba9876543210"
RUN_ID = "20261201T020003Z"
NIGHT = datetime(2026, 12, 1, 2, 0, 3, tzinfo=UTC)
ENVIRONMENT = {
    ENV_WORKFLOW: WORKFLOW,
    ENV_STATE_MACHINE_ARN: STATE_MACHINE,
    ENV_PUBLICATION_JOB: PUBLICATION_JOB,
    ENV_ALERT_TOPIC_ARN: TOPIC,
    ENV_OUTPUT_PATH: OUTPUT_PATH,
    ENV_FIRST_POLL_SECONDS: "60",
    ENV_MAX_POLL_SECONDS: "900",
}


def execution(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:omni-cx-prod-customer-matching:{name}"


@dataclass
class Stubs:
    pipeline: MatchingPipeline
    er: Stubber
    sfn: Stubber
    glue: Stubber
    sns: Stubber

    def all(self) -> tuple[Stubber, ...]:
        return (self.er, self.sfn, self.glue, self.sns)


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    clients = {name: session.client(name) for name in ("entityresolution", "stepfunctions", "glue", "sns")}
    stubbers = {name: Stubber(client) for name, client in clients.items()}
    pipeline = MatchingPipeline(
        PipelineSettings.from_environment(ENVIRONMENT),
        entity_resolution=clients["entityresolution"],
        step_functions=clients["stepfunctions"],
        glue=clients["glue"],
        sns=clients["sns"],
        clock=lambda: NIGHT,
    )
    stubs = Stubs(pipeline, stubbers["entityresolution"], stubbers["stepfunctions"], stubbers["glue"], stubbers["sns"])
    for stubber in stubs.all():
        stubber.activate()
    yield stubs
    for stubber in stubs.all():
        stubber.assert_no_pending_responses()  # every stubbed call was made
        stubber.deactivate()


def running(*executions: tuple[str, datetime]) -> dict[str, Any]:
    return {
        "executions": [
            {
                "executionArn": execution(name),
                "stateMachineArn": STATE_MACHINE,
                "name": name,
                "status": "RUNNING",
                "startDate": started,
            }
            for name, started in executions
        ]
    }


def expect_running_executions(stubs: Stubs, *executions: tuple[str, datetime]) -> None:
    stubs.sfn.add_response(
        "list_executions",
        running(*executions),
        {"stateMachineArn": STATE_MACHINE, "statusFilter": "RUNNING"},
    )


def expect_jobs(stubs: Stubs, *jobs: tuple[str, str]) -> None:
    stubs.er.add_response(
        "list_matching_jobs",
        {
            "jobs": [
                {"jobId": job_id, "status": status, "startTime": NIGHT - timedelta(days=1)} for job_id, status in jobs
            ]
        },
        {"workflowName": WORKFLOW},
    )


def claim(stubs: Stubs, name: str, started: datetime) -> dict[str, Any]:
    return stubs.pipeline.handle({"step": "claim", "execution": execution(name), "started_at": started.isoformat()})


def expect_job(stubs: Stubs, status: str, **extra: Any) -> None:
    stubs.er.add_response(
        "get_matching_job",
        {"jobId": JOB_ID, "status": status, "startTime": NIGHT, **extra},
        {"workflowName": WORKFLOW, "jobId": JOB_ID},
    )


def poll(stubs: Stubs, attempt: int) -> dict[str, Any]:
    return stubs.pipeline.handle({"step": "poll", "job_id": JOB_ID, "run_id": RUN_ID, "attempt": attempt})


# --- claim: one run at a time, whatever fires --------------------------------------------------------------


def test_given_no_other_run_when_the_schedule_fires_then_the_execution_claims_the_night(stubs: Stubs) -> None:
    expect_running_executions(stubs, ("nightly", NIGHT))  # itself
    expect_jobs(stubs, (OTHER_JOB_ID, "SUCCEEDED"), (JOB_ID, "FAILED"))  # earlier nights' jobs, all finished

    assert claim(stubs, "nightly", NIGHT) == {"proceed": True, "reason": "no other run in progress"}


def test_given_the_schedule_fired_twice_when_both_executions_claim_then_only_the_first_goes_on(stubs: Stubs) -> None:
    both = (("first", NIGHT), ("second", NIGHT + timedelta(seconds=2)))
    expect_running_executions(stubs, *both)
    expect_jobs(stubs)
    expect_running_executions(stubs, *both)

    first = claim(stubs, "first", NIGHT)
    second = claim(stubs, "second", NIGHT + timedelta(seconds=2))

    assert first["proceed"] is True
    assert second == {"proceed": False, "reason": "execution first of the pipeline started first and is still running"}
    # The second never asked Entity Resolution anything, let alone started a job (no stub left for it).


def test_given_two_executions_started_in_the_same_instant_when_they_claim_then_exactly_one_goes_on(
    stubs: Stubs,
) -> None:
    both = (("a-execution", NIGHT), ("b-execution", NIGHT))
    for _ in both:
        expect_running_executions(stubs, *both)
    expect_jobs(stubs)  # only the winner gets this far

    outcomes = {name: claim(stubs, name, NIGHT)["proceed"] for name, _ in both}

    assert outcomes == {"a-execution": True, "b-execution": False}


def test_given_a_matching_job_still_running_when_the_schedule_fires_then_nothing_starts(stubs: Stubs) -> None:
    expect_running_executions(stubs, ("nightly", NIGHT))
    expect_jobs(stubs, (OTHER_JOB_ID, "SUCCEEDED"), (JOB_ID, "RUNNING"))

    assert claim(stubs, "nightly", NIGHT) == {
        "proceed": False,
        "reason": f"matching job {JOB_ID} of {WORKFLOW} is still RUNNING",
    }


# --- start and poll with backoff ---------------------------------------------------------------------------


def test_given_a_claimed_run_when_started_then_the_job_is_named_after_the_night_with_the_first_wait(
    stubs: Stubs,
) -> None:
    stubs.er.add_response("start_matching_job", {"jobId": JOB_ID}, {"workflowName": WORKFLOW})

    assert stubs.pipeline.handle({"step": "start"}) == {
        "started": True,
        "job_id": JOB_ID,
        "run_id": RUN_ID,
        "status": "QUEUED",
        "attempt": 0,
        "wait_seconds": 60,
    }


def test_given_a_job_started_meanwhile_when_starting_then_the_execution_ends_without_a_second_job(
    stubs: Stubs,
) -> None:
    stubs.er.add_client_error(
        "start_matching_job",
        service_error_code="ConflictException",
        service_message="a job of this workflow is running",
        http_status_code=409,
        expected_params={"workflowName": WORKFLOW},
    )

    assert stubs.pipeline.handle({"step": "start"}) == {
        "started": False,
        "reason": f"{WORKFLOW} already has a job in progress",
    }


def test_given_a_job_queued_then_running_when_polled_then_each_wait_doubles_up_to_the_maximum(stubs: Stubs) -> None:
    statuses = ["QUEUED", "QUEUED", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING"]
    for status in statuses:
        expect_job(stubs, status)

    waits, attempt = [], 0
    for status in statuses:
        outcome = poll(stubs, attempt)
        assert (outcome["status"], outcome["job_id"], outcome["run_id"]) == (status, JOB_ID, RUN_ID)
        waits.append(outcome["wait_seconds"])
        attempt = outcome["attempt"]

    assert waits == [120, 240, 480, 900, 900, 900, 900]  # after the start's 60 s
    assert attempt == len(statuses)


def test_the_backoff_doubles_from_the_first_wait_and_never_passes_the_maximum() -> None:
    assert [backoff_seconds(n, first=60, maximum=900) for n in range(6)] == [60, 120, 240, 480, 900, 900]
    assert backoff_seconds(10_000, first=60, maximum=900) == 900
    assert backoff_seconds(3, first=30, maximum=30) == 30
    with pytest.raises(ValueError, match="attempt must be 0 or more"):
        backoff_seconds(-1, first=60, maximum=900)


# --- the end of a job: publication or alert ----------------------------------------------------------------


def test_given_a_succeeded_job_when_polled_then_its_output_is_published_as_the_run(stubs: Stubs) -> None:
    expect_job(
        stubs,
        "SUCCEEDED",
        endTime=NIGHT + timedelta(hours=1),
        metrics={"inputRecords": 250, "totalRecordsProcessed": 250, "recordsNotProcessed": 0, "matchIDs": 180},
    )
    stubs.glue.add_response(
        "start_job_run",
        {"JobRunId": "jr_0123"},
        {"JobName": PUBLICATION_JOB, "Arguments": {"--job_id": JOB_ID, "--run_id": RUN_ID}},
    )

    assert poll(stubs, 4) == {
        "started": True,
        "job_id": JOB_ID,
        "run_id": RUN_ID,
        "status": "SUCCEEDED",
        "publication_run_id": "jr_0123",
        "records": 250,
        "records_not_processed": 0,
    }
    # No alert was sent (an unstubbed SNS call would have failed the step).


def test_given_a_succeeded_job_that_skipped_records_when_polled_then_it_publishes_and_warns_where_they_are(
    stubs: Stubs,
) -> None:
    expect_job(stubs, "SUCCEEDED", metrics={"inputRecords": 250, "recordsNotProcessed": 3})
    stubs.glue.add_response("start_job_run", {"JobRunId": "jr_0124"})
    stubs.sns.add_response(
        "publish",
        {"MessageId": "m-1"},
        {
            "TopicArn": TOPIC,
            "Subject": "Customer matching left records unprocessed",
            "Message": f"Customer matching job {JOB_ID} of {WORKFLOW} (run {RUN_ID}) could not process 3 record(s): "
            "they keep their previous golden ids until a run matches them. The service's reasons are under "
            f"{OUTPUT_PATH}{WORKFLOW}/{JOB_ID}/error/",
        },
    )

    outcome = poll(stubs, 0)

    assert (outcome["status"], outcome["publication_run_id"], outcome["records_not_processed"]) == (
        "SUCCEEDED",
        "jr_0124",
        3,
    )


def test_given_a_failed_job_when_polled_then_the_platform_team_is_alerted_with_the_services_reason(
    stubs: Stubs,
) -> None:
    expect_job(stubs, "FAILED", errorDetails={"errorMessage": "Insufficient permissions to read the input table"})
    message = (
        f"Customer matching job {JOB_ID} of {WORKFLOW} (run {RUN_ID}) failed: "
        "Insufficient permissions to read the input table"
    )
    stubs.sns.add_response(
        "publish",
        {"MessageId": "m-2"},
        {"TopicArn": TOPIC, "Subject": "Customer matching failed", "Message": message},
    )

    outcome = poll(stubs, 2)

    assert outcome == {"started": True, "job_id": JOB_ID, "run_id": RUN_ID, "status": "FAILED", "error": message}
    # Nothing was published (an unstubbed Glue call would have failed the step).


def test_given_a_failed_job_without_a_message_when_polled_then_the_alert_still_says_it_failed(stubs: Stubs) -> None:
    expect_job(stubs, "FAILED")
    stubs.sns.add_response("publish", {"MessageId": "m-3"})

    assert poll(stubs, 0)["error"].endswith("failed: no error message given")


# --- what a step refuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"step": "train"}, r"pipeline step event: step: .*\(steps: claim, start, poll\)"),
        ({"step": "poll", "job_id": "J1", "run_id": RUN_ID, "attempt": 0}, "pipeline step event: poll.job_id: "),
        ({"step": "poll", "job_id": JOB_ID, "run_id": RUN_ID}, "pipeline step event: poll.attempt: Field required"),
        ({"step": "claim", "execution": "nightly", "started_at": "now"}, "pipeline step event: claim.execution: "),
        ({}, "pipeline step event: .*step"),
    ],
)
def test_given_an_event_it_cannot_act_on_when_handled_then_one_line_names_the_field(
    stubs: Stubs, event: dict[str, Any], message: str
) -> None:
    with pytest.raises(StepInputError, match=message) as raised:
        stubs.pipeline.handle(event)
    assert "\n" not in str(raised.value)


def test_given_a_status_the_pipeline_does_not_know_when_polled_then_it_fails_naming_it(stubs: Stubs) -> None:
    stubs.er.add_response(
        "get_matching_job",
        {"jobId": JOB_ID, "status": "PAUSED", "startTime": NIGHT},
        {"workflowName": WORKFLOW, "jobId": JOB_ID},
    )
    with pytest.raises(PipelineError, match=f"matching job {JOB_ID} .* does not know: PAUSED"):
        poll(stubs, 0)


@pytest.mark.parametrize(
    ("operation", "step", "message"),
    [
        (
            "start_matching_job",
            {"step": "start"},
            "Entity Resolution StartMatchingJob omni-cx-prod-customer-matching failed \\(AccessDeniedException\\)",
        ),
        (
            "get_matching_job",
            {"step": "poll", "job_id": JOB_ID, "run_id": RUN_ID, "attempt": 0},
            "Entity Resolution GetMatchingJob failed \\(AccessDeniedException\\)",
        ),
        ("list_matching_jobs", None, "Entity Resolution ListMatchingJobs failed \\(AccessDeniedException\\)"),
    ],
)
def test_given_entity_resolution_refuses_a_call_when_a_step_runs_then_the_error_names_the_call_and_code(
    stubs: Stubs, operation: str, step: dict[str, Any] | None, message: str
) -> None:
    if step is None:  # the claim lists executions first
        expect_running_executions(stubs, ("nightly", NIGHT))
        step = {"step": "claim", "execution": execution("nightly"), "started_at": NIGHT.isoformat()}
    stubs.er.add_client_error(operation, service_error_code="AccessDeniedException", http_status_code=403)
    with pytest.raises(PipelineError, match=message):
        stubs.pipeline.handle(step)


def test_given_the_alert_cannot_be_sent_when_a_job_failed_then_the_step_fails_for_the_state_machine(
    stubs: Stubs,
) -> None:
    expect_job(stubs, "FAILED", errorDetails={"errorMessage": "boom"})
    stubs.sns.add_client_error("publish", service_error_code="KMSAccessDeniedException", http_status_code=400)
    with pytest.raises(PipelineError, match=r"SNS Publish failed \(KMSAccessDeniedException\)"):
        poll(stubs, 0)


def test_a_bad_environment_fails_the_cold_start_naming_the_variable() -> None:
    with pytest.raises(ValueError, match=ENV_MAX_POLL_SECONDS):
        PipelineSettings.from_environment({**ENVIRONMENT, ENV_MAX_POLL_SECONDS: "30"})
    with pytest.raises(ValueError, match=ENV_STATE_MACHINE_ARN):
        PipelineSettings.from_environment({**ENVIRONMENT, ENV_STATE_MACHINE_ARN: "omni-cx-prod-customer-matching"})


def test_the_handler_runs_the_step_it_is_given(stubs: Stubs) -> None:
    stubs.er.add_response("start_matching_job", {"jobId": JOB_ID}, {"workflowName": WORKFLOW})
    handler.wiring.use(stubs.pipeline)
    try:
        assert handler.lambda_handler({"step": "start"}, FakeLambdaContext())["job_id"] == JOB_ID
    finally:
        handler.wiring.use(None)
