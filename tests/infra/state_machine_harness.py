"""A state machine's definition executed by moto's ASL interpreter, the states moto cannot run answered by mocks.

The answers go through the interpreter's mocked-response support (the model of Step Functions Local's mock
configuration): `{"Return": payload}` or `{"Throw": {"Error": ..., "Cause": ...}}`, one per invocation of the
state. A mocked .sync state never reaches its service, so it may run (moto has no .sync poller for every
integration; an unmocked one still fails). Waits and retry delays are recorded, not slept. Alerts published to
an SNS topic are read back from an SQS queue subscribed to it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-2"
EXECUTION_TIMEOUT_SECONDS = 30

Response = dict[str, Any]  # {"Return": payload} or {"Throw": {"Error": ..., "Cause": ...}}


@dataclass
class Execution:
    """One finished execution: what DescribeExecution and GetExecutionHistory said, and the waits it took."""

    described: dict[str, Any]
    history: list[dict[str, Any]]
    waits: list[int] = field(default_factory=list)  # the Wait states' seconds, in order
    delays: list[float] = field(default_factory=list)  # the retriers' delays, in order

    @property
    def entered(self) -> list[str]:
        """The states entered, in order."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.history if "stateEnteredEventDetails" in e]

    def task_events(self, event_type: str) -> dict[str, list[dict[str, Any]]]:
        """Each Task state's events of this type (TaskScheduled, TaskFailed...), in order, by state."""
        events: dict[str, list[dict[str, Any]]] = {}
        current = None
        for event in self.history:
            if "stateEnteredEventDetails" in event:
                current = event["stateEnteredEventDetails"]["name"]
            if event["type"] == event_type and current is not None:
                events.setdefault(current, []).append(event)
        return events

    def scheduled(self) -> dict[str, list[dict[str, Any]]]:
        """The parameters each Task state sent, attempt by attempt, by state."""
        return {
            state: [json.loads(event["taskScheduledEventDetails"]["parameters"]) for event in events]
            for state, events in self.task_events("TaskScheduled").items()
        }


def mock_test_case(machine: str, name: str, responses: Mapping[str, list[Response]]) -> Any:
    """The interpreter's mock test case for one execution: each state's answers, in order."""
    from moto.stepfunctions.parser.mocking.mock_config import (
        MockedResponseReturn,
        MockedResponseThrow,
        MockTestCase,
        StateMockedResponses,
    )

    return MockTestCase(
        machine,
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


class AlertQueue:
    """An SQS queue subscribed to an SNS topic (raw delivery): what the platform team would receive."""

    def __init__(self, topic_name: str) -> None:
        sns, self.sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name=topic_name)["TopicArn"]
        self.url = self.sqs.create_queue(QueueName="platform-team")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    def received(self) -> list[str]:
        messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
        return [message["Body"] for message in messages]


class Interpreter:
    """moto's Step Functions, executing state machines with the mocked answers of each run."""

    def __init__(self, waits: list[int], delays: list[float], calls: dict[str, int]) -> None:
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.case: Any = None
        self._waits = waits
        self._delays = delays
        self._calls = calls

    def create(self, name: str, definition: Mapping[str, Any]) -> str:
        """A state machine of this definition; its ARN."""
        return str(
            self.sfn.create_state_machine(
                name=name, definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/pipeline"
            )["stateMachineArn"]
        )

    def execute(
        self, arn: str, name: str, responses: Mapping[str, list[Response]], given: Mapping[str, Any] | None = None
    ) -> Execution:
        """Start an execution with this input and these mocked answers, and wait for it to end."""
        self.case = mock_test_case(arn.rsplit(":", 1)[-1], name, responses)
        self._waits.clear()
        self._delays.clear()
        self._calls.clear()
        execution = self.sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(given or {}))[
            "executionArn"
        ]
        deadline = time.monotonic() + EXECUTION_TIMEOUT_SECONDS
        while (described := self.sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                self.sfn.stop_execution(executionArn=execution)
                raise AssertionError(f"execution {name} still running after {EXECUTION_TIMEOUT_SECONDS} s")
            time.sleep(0.05)
        history = self.sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        return Execution(described, history, list(self._waits), list(self._delays))


@contextmanager
def interpreter(monkeypatch: pytest.MonkeyPatch, *, answers_by_invocation: bool = False) -> Iterator[Interpreter]:
    """moto's Step Functions executing definitions, mocked answers given per run (`Interpreter.execute`).

    moto picks a state's mocked answer by its retry count, so a state entered again (a poll loop) repeats its
    first answer; `answers_by_invocation` takes them in the order the state is invoked, retries and re-entries
    alike.
    """
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_unsupported as unsupported,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.backend import execution as executions

    waits: list[int] = []
    delays: list[float] = []
    calls: dict[str, int] = {}
    holder: list[Interpreter] = []
    start_worker: Callable[..., Any] = executions.Execution._get_start_execution_worker

    def worker_with_mocks(self: Any) -> Any:
        worker = start_worker(self)
        worker._mock_test_case = holder[0].case  # the worker's documented mock_test_case, set per run
        return worker

    monkeypatch.setattr(executions.Execution, "_get_start_execution_worker", worker_with_mocks)

    def by_invocation(self: Any) -> Any:
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

    if answers_by_invocation:
        monkeypatch.setattr(Environment, "get_current_mocked_response", by_invocation)
    # moto runs some optimised integrations only for task tokens; a mocked .sync state never reaches its service.
    monkeypatch.setattr(
        unsupported, "_SUPPORTED_INTEGRATION_PATTERNS", {ResourceCondition.WaitForTaskToken, ResourceCondition.Sync}
    )
    monkeypatch.setattr(
        wait_function.WaitFunction, "_wait_interval", lambda self, env, wait_seconds: waits.append(int(wait_seconds))
    )
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=delays.append))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        holder.append(Interpreter(waits, delays, calls))
        yield holder[0]
