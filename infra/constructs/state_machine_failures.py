"""How the platform's state machines survive transient errors and report the rest.

Every Task retries its integration's transient errors with exponential backoff and
full jitter; anything else is caught into `FAILURE_PATH` and sent down one failure
path: an alert on the team's topic, then a Fail state whose own alarm reaches the
same topic if the alert could not be sent.
"""

from __future__ import annotations

from typing import TypeVar

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

# Publishing the alert: any failure of the publish call is worth another try (a duplicate alert is harmless).
ALERT_TRANSIENT = ("States.TaskFailed",)
RETRY_INTERVAL = Duration.seconds(5)
RETRY_BACKOFF = 2.0
RETRY_ATTEMPTS = 4  # 5 s, 10 s, 20 s, 40 s at most (full jitter draws each wait between 0 and that)
RETRY_MAX_DELAY = Duration.minutes(1)
# A Task state: a CDK task, or one CDK has no construct for (written out as a CustomState).
Task = TypeVar("Task", bound=sfn.TaskStateBase | sfn.CustomState)
FAILURE_PATH = "$.failure"  # {Error, Cause}: what a Catch caught, or what a check of the run said


def retry_transient(task: Task, transient: tuple[str, ...]) -> Task:
    """Retry `transient` errors with backoff and full jitter."""
    task.add_retry(
        errors=list(transient),
        interval=RETRY_INTERVAL,
        backoff_rate=RETRY_BACKOFF,
        max_attempts=RETRY_ATTEMPTS,
        max_delay=RETRY_MAX_DELAY,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


def guard(task: Task, transient: tuple[str, ...], failed: sfn.IChainable) -> Task:
    """Retry the transient errors; anything else (or still failing) goes to `failed` with its error and cause."""
    retry_transient(task, transient)
    task.add_catch(failed, errors=[sfn.Errors.ALL], result_path=FAILURE_PATH)
    return task


def alert_then_fail(
    scope: Construct, *, topic: sns.ITopic, subject: str, message: str, fail_id: str, error: str
) -> sfn.IChainable:
    """Alert the team with the run's error, then fail the execution (whose failure alarm fires too).

    `message` has three `{}`: the execution name, the error and its cause. One error name for
    every failure (an ErrorPath could resolve to a name Step Functions reserves, States.*); the
    cause says which error, and why.
    """
    failed = sfn.Fail(
        scope,
        fail_id,
        error=error,
        cause_path=sfn.JsonPath.format(
            "{}: {}",
            sfn.JsonPath.string_at(f"{FAILURE_PATH}.Error"),
            sfn.JsonPath.string_at(f"{FAILURE_PATH}.Cause"),
        ),
    )
    alert = tasks.SnsPublish(
        scope,
        "AlertPlatformTeam",
        topic=topic,
        subject=subject,
        message=sfn.TaskInput.from_text(
            sfn.JsonPath.format(
                message,
                sfn.JsonPath.execution_name,
                sfn.JsonPath.string_at(f"{FAILURE_PATH}.Error"),
                sfn.JsonPath.string_at(f"{FAILURE_PATH}.Cause"),
            )
        ),
        result_path=sfn.JsonPath.DISCARD,
    )
    retry_transient(alert, ALERT_TRANSIENT)
    # An alert that cannot be sent still ends the run in Fail, whose alarm reaches the same topic.
    alert.add_catch(failed, errors=[sfn.Errors.ALL], result_path=sfn.JsonPath.DISCARD)
    return alert.next(failed)
