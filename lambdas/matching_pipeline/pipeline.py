"""The steps of the Entity Resolution matching pipeline, over the four services it talks to.

The state machine (infra/stacks/customer_domain_stack.py) runs them in turn:

1. `claim`: this execution goes on only if no execution of the pipeline that started earlier is
   still running and no job of the workflow is queued or running. A schedule that fires twice (or a
   run started by hand beside the nightly one) therefore ends quietly instead of preparing the input
   under a running job or starting a second one;
2. (the state machine prepares the input table with a Glue job);
3. `start`: starts a matching job and names the run after its start time (`20261201T020000Z`, the
   run id every engine uses), with the first wait;
4. `poll`: looks at the job after each wait, doubling the wait up to the maximum while it is queued
   or running; when it succeeded, starts the Glue job that publishes its output (golden records,
   identity links, merges, the manifest last) and warns if the service left records unprocessed
   (they keep their previous golden ids); when it failed, alerts the platform team with the
   service's error message.

Only job ids, run ids, counts and the service's own error message are ever logged or sent: never a record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from matching_pipeline.constants import CLAIM, POLL, START
from matching_pipeline.errors import PipelineError, StepInputError
from matching_pipeline.settings import PipelineSettings

ACTIVE = frozenset({"QUEUED", "RUNNING"})
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
RUN_ID_FORMAT = "%Y%m%dT%H%M%SZ"  # glue_jobs.run_layout.new_run_id: run ids sort in time order
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def backoff_seconds(attempt: int, *, first: int, maximum: int) -> int:
    """The wait before look number `attempt` + 1: the first wait, doubled at each look, capped."""
    if attempt < 0:
        raise ValueError(f"attempt must be 0 or more, got {attempt}")
    # Doubling past the cap only grows the number: stop at the first power that reaches it.
    wait = first
    for _ in range(attempt):
        if wait >= maximum:
            break
        wait *= 2
    return min(wait, maximum)


class _Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClaimStep(_Step):
    step: Literal["claim"]
    execution: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:states:")]
    started_at: datetime


class StartStep(_Step):
    step: Literal["start"]


class PollStep(_Step):
    step: Literal["poll"]
    job_id: Annotated[str, Field(pattern=r"^[a-f0-9]{32}$")]
    run_id: Annotated[str, Field(pattern=r"^\d{8}T\d{6}Z$")]
    attempt: Annotated[int, Field(ge=0, le=10_000)]


Step = Annotated[ClaimStep | StartStep | PollStep, Field(discriminator="step")]
_STEP = TypeAdapter(Step)


def parse_step(event: Mapping[str, Any]) -> ClaimStep | StartStep | PollStep:
    """The state machine's event as a step, or one line naming the field that is wrong."""
    try:
        return _STEP.validate_python(dict(event))
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "step"  # the discriminator itself
        raise StepInputError(
            f"pipeline step event: {where}: {first['msg']} (steps: {CLAIM}, {START}, {POLL})"
        ) from None


@dataclass(frozen=True, slots=True)
class _Execution:
    arn: str
    started_at: datetime


class MatchingPipeline:
    def __init__(
        self,
        settings: PipelineSettings,
        *,
        entity_resolution: Any,
        step_functions: Any,
        glue: Any,
        sns: Any,
        clock: Clock = utc_now,
    ) -> None:
        self._settings = settings
        self._er = entity_resolution
        self._sfn = step_functions
        self._glue = glue
        self._sns = sns
        self._clock = clock

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        step = parse_step(event)
        if isinstance(step, ClaimStep):
            return self.claim(step)
        if isinstance(step, StartStep):
            return self.start()
        return self.poll(step)

    def claim(self, step: ClaimStep) -> dict[str, Any]:
        mine = (step.started_at, step.execution)
        earlier = sorted(
            (execution.started_at, execution.arn)
            for execution in self._running_executions()
            if execution.arn != step.execution and (execution.started_at, execution.arn) < mine
        )
        if earlier:
            name = earlier[0][1].rsplit(":", 1)[-1]
            return {"proceed": False, "reason": f"execution {name} of the pipeline started first and is still running"}
        for job in self._jobs():
            if job.get("status") in ACTIVE:
                return {
                    "proceed": False,
                    "reason": f"matching job {job['jobId']} of {self._settings.workflow} is still {job['status']}",
                }
        return {"proceed": True, "reason": "no other run in progress"}

    def start(self) -> dict[str, Any]:
        workflow = self._settings.workflow
        try:
            response = self._er.start_matching_job(workflowName=workflow)
        except ClientError as error:
            if _code(error) == "ConflictException":  # a job started between the claim and now
                return {"started": False, "reason": f"{workflow} already has a job in progress"}
            raise PipelineError(f"Entity Resolution StartMatchingJob {workflow} failed ({_code(error)})") from error
        return {
            "started": True,
            "job_id": response["jobId"],
            "run_id": self._clock().astimezone(UTC).strftime(RUN_ID_FORMAT),
            "status": "QUEUED",
            "attempt": 0,
            "wait_seconds": self._wait(0),
        }

    def poll(self, step: PollStep) -> dict[str, Any]:
        workflow = self._settings.workflow
        job = self._call(
            "Entity Resolution GetMatchingJob",
            lambda: self._er.get_matching_job(workflowName=workflow, jobId=step.job_id),
        )
        status = str(job.get("status"))
        outcome: dict[str, Any] = {"started": True, "job_id": step.job_id, "run_id": step.run_id, "status": status}
        if status in ACTIVE:
            return {**outcome, "attempt": step.attempt + 1, "wait_seconds": self._wait(step.attempt + 1)}
        if status == SUCCEEDED:
            return {**outcome, **self._publish(step, job)}
        if status == FAILED:
            reason = str(job.get("errorDetails", {}).get("errorMessage") or "no error message given")
            message = f"Customer matching job {step.job_id} of {workflow} (run {step.run_id}) failed: {reason}"
            self._alert("Customer matching failed", message)
            return {**outcome, "error": message}
        raise PipelineError(
            f"matching job {step.job_id} of {workflow} is in a state the pipeline does not know: {status}"
        )

    def _publish(self, step: PollStep, job: Mapping[str, Any]) -> dict[str, Any]:
        settings = self._settings
        response = self._call(
            "Glue StartJobRun",
            lambda: self._glue.start_job_run(
                JobName=settings.publication_job, Arguments={"--job_id": step.job_id, "--run_id": step.run_id}
            ),
        )
        metrics = job.get("metrics", {})
        not_processed = int(metrics.get("recordsNotProcessed") or 0)
        if not_processed:
            errors = f"{settings.output_path.rstrip('/')}/{settings.workflow}/{step.job_id}/error/"
            self._alert(
                "Customer matching left records unprocessed",
                f"Customer matching job {step.job_id} of {settings.workflow} (run {step.run_id}) could not process "
                f"{not_processed} record(s): they keep their previous golden ids until a run matches them. "
                f"The service's reasons are under {errors}",
            )
        return {
            "publication_run_id": response["JobRunId"],
            "records": int(metrics.get("inputRecords") or 0),
            "records_not_processed": not_processed,
        }

    def _alert(self, subject: str, message: str) -> None:
        self._call(
            "SNS Publish",
            lambda: self._sns.publish(TopicArn=self._settings.alert_topic_arn, Subject=subject, Message=message),
        )

    def _wait(self, attempt: int) -> int:
        return backoff_seconds(
            attempt, first=self._settings.first_poll_seconds, maximum=self._settings.max_poll_seconds
        )

    def _running_executions(self) -> Iterator[_Execution]:
        pages = self._sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self._settings.state_machine_arn, statusFilter="RUNNING"
        )
        for page in self._pages("Step Functions ListExecutions", pages):
            for execution in page.get("executions", []):
                yield _Execution(execution["executionArn"], execution["startDate"])

    def _jobs(self) -> Iterator[dict[str, Any]]:
        pages = self._er.get_paginator("list_matching_jobs").paginate(workflowName=self._settings.workflow)
        for page in self._pages("Entity Resolution ListMatchingJobs", pages):
            yield from page.get("jobs", [])

    @staticmethod
    def _pages(call: str, pages: Any) -> Iterator[dict[str, Any]]:
        try:
            yield from pages
        except ClientError as error:
            raise PipelineError(f"{call} failed ({_code(error)})") from error

    @staticmethod
    def _call(call: str, request: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return request()
        except ClientError as error:
            raise PipelineError(f"{call} failed ({_code(error)})") from error


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))
