"""Fixtures of the alert router tests: stored alarm state change events, moto SNS (read through SQS) and DynamoDB."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from alert_router import dependencies
from alert_router.constants import (
    ENV_DASHBOARD_URL,
    ENV_DEFAULT_TEAM,
    ENV_SUPPRESSION_MINUTES,
    ENV_SUPPRESSION_TABLE,
    ENV_TEAM_TOPICS,
    SUPPRESSION_PARTITION_KEY,
)
from tests.lambdas.conftest import REGION, FakeLambdaContext

EVENTS = Path(__file__).resolve().parents[3] / "sample_events" / "alert-router"  # shared with `omni lambda invoke`
ACCOUNT = "123456789012"
TEAMS = ("care", "platform", "growth", "ops")
DEFAULT_TEAM = "ops"
TABLE = "test-alert-suppression"
DASHBOARD = "https://console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/omni-dev-alerts"


def topic_arn(team: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts-{team}"


def load_event(name: str) -> dict[str, Any]:
    """A stored EventBridge event: sample_events/alert-router/<name>.json."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def alarm_event(
    name: str, *, event_id: str | None = None, at: datetime | None = None, description: Any = ...
) -> dict[str, Any]:
    """A stored event with another id, state timestamp or description (None removes it)."""
    event = copy.deepcopy(load_event(name))
    if event_id is not None:
        event["id"] = event_id
    if at is not None:
        event["detail"]["state"]["timestamp"] = _stamp(at)
        event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if description is None:
        event["detail"]["configuration"].pop("description", None)
    elif description is not ...:
        event["detail"]["configuration"]["description"] = description
    return event


def state_time(event: dict[str, Any]) -> datetime:
    return datetime.strptime(event["detail"]["state"]["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")


def later(event: dict[str, Any], minutes: float) -> datetime:
    return state_time(event) + timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def router_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_TEAM_TOPICS, json.dumps({team: topic_arn(team) for team in TEAMS}))
    monkeypatch.setenv(ENV_DEFAULT_TEAM, DEFAULT_TEAM)
    monkeypatch.setenv(ENV_DASHBOARD_URL, DASHBOARD)
    monkeypatch.setenv(ENV_SUPPRESSION_TABLE, TABLE)
    monkeypatch.setenv(ENV_SUPPRESSION_MINUTES, "30")


@dataclass(frozen=True)
class Received:
    topic: str
    subject: str
    message: str


@dataclass(frozen=True)
class Aws:
    dynamodb: Any
    sns: Any
    sqs: Any
    queues: dict[str, str]

    def received(self, team: str) -> list[Received]:
        """Everything published to the team's topic, read from its SQS subscription."""
        found = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queues[team], MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                body = json.loads(message["Body"])
                found.append(Received(body["TopicArn"], body.get("Subject", ""), body["Message"]))
                self.sqs.delete_message(QueueUrl=self.queues[team], ReceiptHandle=message["ReceiptHandle"])

    def item(self, alarm_name: str) -> dict[str, Any] | None:
        key = {SUPPRESSION_PARTITION_KEY: {"S": alarm_name}}
        return self.dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")


def create_suppression_table(client: Any) -> None:
    """The table as the stack deploys it: partition key `alarm_name` (S); `expires_at` is its TTL attribute."""
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": SUPPRESSION_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": SUPPRESSION_PARTITION_KEY, "AttributeType": "S"}],
    )


@pytest.fixture
def aws() -> Iterator[Aws]:
    """moto SNS topics per team, each with an SQS queue subscribed, and the suppression table."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_suppression_table(dynamodb)
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        queues = {}
        for team in TEAMS:
            arn = sns.create_topic(Name=f"alerts-{team}")["TopicArn"]
            url = sqs.create_queue(QueueName=f"alerts-{team}")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
            queues[team] = url
        dependencies.use(None)
        yield Aws(dynamodb=dynamodb, sns=sns, sqs=sqs, queues=queues)
        dependencies.use(None)


Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def invoke(aws: Aws) -> Invoke:
    """Call the handler in-process, as EventBridge's asynchronous invocation would."""
    from alert_router.handler import lambda_handler

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return lambda_handler(event, FakeLambdaContext(function_name="alert-router"))

    return call
