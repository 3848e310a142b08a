"""Shared fixtures of the Lambda tests: API Gateway events from JSON files, moto tables, a Lambda context."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from omni_domain.constants import (
    CUSTOMER_PARTITION_KEY,
    CUSTOMER_SORT_KEY,
    ENV_CUSTOMER_TABLE,
    ENV_IDEMPOTENCY_TABLE,
    ENV_IDENTITY_TABLE,
    IDEMPOTENCY_PARTITION_KEY,
    IDENTITY_BY_CUSTOMER_INDEX,
    IDENTITY_CUSTOMER_ATTRIBUTE,
    IDENTITY_PARTITION_KEY,
)

# The sample events `omni lambda invoke` also uses: sample_events/<function>/<name>.json.
SAMPLE_EVENTS = Path(__file__).resolve().parents[2] / "sample_events"
REGION = "eu-west-2"
TABLES = {
    ENV_CUSTOMER_TABLE: "test-customers",
    ENV_IDENTITY_TABLE: "test-identity-map",
    ENV_IDEMPOTENCY_TABLE: "test-idempotency",
}
CUSTOMER_ID = "gc-0a1b2c3d4e5f60718293"
# Powertools reads these when the handler module is imported (as in Lambda, where they are set first).
POWERTOOLS_ENVIRONMENT = {"POWERTOOLS_SERVICE_NAME": "profiles", "POWERTOOLS_METRICS_NAMESPACE": "omni-cx-test"}
for _name, _value in POWERTOOLS_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)


def load_event(name: str) -> dict[str, Any]:
    """A stored sample event by name (names are unique across functions): sample_events/<function>/<name>.json."""
    (path,) = SAMPLE_EVENTS.glob(f"*/{name}.json")
    return json.loads(path.read_text())


def api_event(
    name: str,
    *,
    customer_id: str | None = None,
    path: str | None = None,
    method: str | None = None,
    headers: dict[str, str | None] | None = None,
    query: dict[str, str] | None = None,
    body: Any = ...,
) -> dict[str, Any]:
    """A stored event with some parts changed; a header set to None is removed, a dict body is JSON-encoded."""
    event = copy.deepcopy(load_event(name))
    if customer_id is not None:
        stored_id = event["pathParameters"]["id"]
        event["path"] = event["path"].replace(stored_id, customer_id)
        event["requestContext"]["path"] = event["requestContext"]["path"].replace(stored_id, customer_id)
        event["pathParameters"] = {"id": customer_id}
    if path is not None:
        event["path"] = path
    if method is not None:
        event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    for header, value in (headers or {}).items():
        for existing in [name for name in event["headers"] if name.lower() == header.lower()]:
            del event["headers"][existing]
            del event["multiValueHeaders"][existing]
        if value is not None:
            event["headers"][header] = value
            event["multiValueHeaders"][header] = [value]
    if query is not None:
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {key: [value] for key, value in query.items()} or None
    if body is not ...:
        event["body"] = json.dumps(body) if isinstance(body, dict | list) else body
    return event


@dataclass
class FakeLambdaContext:
    function_name: str = "profiles"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:profiles:live"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def create_tables(client: Any) -> None:
    """The three tables with the key schema the stack deploys (omni_domain.constants)."""
    client.create_table(
        TableName=TABLES[ENV_CUSTOMER_TABLE],
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": CUSTOMER_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": CUSTOMER_SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": CUSTOMER_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": CUSTOMER_SORT_KEY, "AttributeType": "S"},
        ],
    )
    client.create_table(
        TableName=TABLES[ENV_IDENTITY_TABLE],
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": IDENTITY_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": IDENTITY_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": IDENTITY_CUSTOMER_ATTRIBUTE, "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": IDENTITY_BY_CUSTOMER_INDEX,
                "KeySchema": [{"AttributeName": IDENTITY_CUSTOMER_ATTRIBUTE, "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    client.create_table(
        TableName=TABLES[ENV_IDEMPOTENCY_TABLE],
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": IDEMPOTENCY_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": IDEMPOTENCY_PARTITION_KEY, "AttributeType": "S"}],
    )


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **POWERTOOLS_ENVIRONMENT,
        **TABLES,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """A moto DynamoDB with the service's tables; the handler's dependencies are rebuilt inside it."""
    from profiles import dependencies

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        dependencies.use(None)
        yield client
        dependencies.use(None)


Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def invoke(dynamodb: Any) -> Invoke:
    """Call the Lambda handler in-process, as API Gateway would."""
    from profiles.handler import lambda_handler

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return lambda_handler(event, FakeLambdaContext())

    return call
