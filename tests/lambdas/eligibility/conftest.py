"""Eligibility fixtures: moto tables (customer, rule sets, decisions, idempotency), a stored customer,
queued SageMaker runtime answers, and the handler invoked in-process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemakerruntime.models import sagemakerruntime_backends

from eligibility.constants import (
    DECISION_PARTITION_KEY,
    DECISION_SORT_KEY,
    ENV_DECISION_TTL_DAYS,
    ENV_DECISIONS_TABLE,
    ENV_PROPENSITY_ENDPOINT,
    ENV_RULES_TABLE,
    RULES_PARTITION_KEY,
)
from omni_domain.constants import ENV_CUSTOMER_TABLE, ENV_IDENTITY_TABLE
from omni_domain.dynamodb_store import DynamoDBCustomerRepository, live_state_item
from omni_domain.models import ConsentDecision, CustomerProfile, LiveState, ProfileAttributes, RollingSpend
from tests.lambdas.conftest import CUSTOMER_ID, REGION, TABLES, FakeLambdaContext, create_tables

ENDPOINT = "omni-propensity"
ELIGIBILITY_TABLES = {ENV_RULES_TABLE: "test-eligibility-rules", ENV_DECISIONS_TABLE: "test-eligibility-decisions"}
NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def eligibility_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**ELIGIBILITY_TABLES, ENV_DECISION_TTL_DAYS: "30", ENV_PROPENSITY_ENDPOINT: ENDPOINT}.items():
        monkeypatch.setenv(name, value)


def create_eligibility_tables(client: Any) -> None:
    """The two tables with the key schema the stack deploys (eligibility.constants)."""
    client.create_table(
        TableName=ELIGIBILITY_TABLES[ENV_RULES_TABLE],
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": RULES_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": RULES_PARTITION_KEY, "AttributeType": "S"}],
    )
    client.create_table(
        TableName=ELIGIBILITY_TABLES[ENV_DECISIONS_TABLE],
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": DECISION_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": DECISION_SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": DECISION_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": DECISION_SORT_KEY, "AttributeType": "S"},
        ],
    )


def store_customer(
    client: Any,
    customer_id: str = CUSTOMER_ID,
    *,
    spend: str = "820",
    recent_spend: str = "64.5",
    tenure_days: int = 800,
) -> None:
    """A loyal customer with marketing consent for calls (what the stored rule set's first offer needs)."""
    created = NOW - timedelta(days=tenure_days)
    repository = DynamoDBCustomerRepository(
        client, customer_table=TABLES[ENV_CUSTOMER_TABLE], identity_table=TABLES[ENV_IDENTITY_TABLE]
    )
    repository.save(
        CustomerProfile(
            customer_id=customer_id,
            attributes=ProfileAttributes(first_name="Ada", last_name="Lovelace", email="ada.lovelace@example.com"),
            consent={"contact_centre": {"marketing": ConsentDecision(granted=True, decided_at=created)}},
            version=1,
            created_at=created,
            updated_at=created,
        ),
        expected_version=None,
    )
    state = LiveState(
        rolling_spend=RollingSpend(last_30_days=Decimal(recent_spend), last_365_days=Decimal(spend)),
        counters={"complaints": 1},
        version=4,
    )
    boto3.resource("dynamodb", region_name=REGION).Table(TABLES[ENV_CUSTOMER_TABLE]).put_item(
        Item=json.loads(json.dumps(live_state_item(customer_id, state), default=str), parse_float=Decimal)
    )


def queue_scores(*scores: float | str) -> None:
    """Answers moto's SageMaker runtime gives to the next invoke_endpoint calls (a str is sent as the raw body).

    moto keeps the answer it gave to a payload: the same features sent again get the same answer.
    """
    backend = sagemakerruntime_backends[DEFAULT_ACCOUNT_ID][REGION]
    for score in scores:
        body = score if isinstance(score, str) else json.dumps({"scores": [score]})
        backend.results_queue.append((body, "application/json", "AllTraffic", ""))


@pytest.fixture
def aws() -> Iterator[Any]:
    """moto with every table and a stored customer; the handler's dependencies are rebuilt inside it."""
    from eligibility import dependencies

    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        create_eligibility_tables(client)
        store_customer(client)
        dependencies.use(None)
        yield client
        dependencies.use(None)


Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def invoke(aws: Any) -> Invoke:
    from eligibility.handler import lambda_handler

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return lambda_handler(event, FakeLambdaContext(function_name="eligibility"))

    return call


def decisions_of(client: Any, customer_id: str = CUSTOMER_ID) -> list[dict[str, Any]]:
    response = client.query(
        TableName=ELIGIBILITY_TABLES[ENV_DECISIONS_TABLE],
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": DECISION_PARTITION_KEY},
        ExpressionAttributeValues={":pk": {"S": customer_id}},
    )
    return list(response["Items"])
