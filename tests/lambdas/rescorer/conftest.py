"""Rescorer fixtures: CustomerStateChanged events and delay-queue batches from JSON files, a stored customer,
the debounce table and the delay queue, a SageMaker runtime client answered by a botocore Stubber (moto's
invoke_endpoint cannot answer per request), and a clock the tests move."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from eligibility.constants import ENV_PROPENSITY_ENDPOINT, ENV_PROPENSITY_TIMEOUT_MS
from omni_domain.constants import (
    ENV_CUSTOMER_TABLE,
    ENV_IDENTITY_TABLE,
    ENV_RESCORE_DEBOUNCE_SECONDS,
    ENV_RESCORE_TABLE,
    LIVE_STATE_RECORD,
    RESCORE_PARTITION_KEY,
)
from omni_domain.dynamodb_store import DynamoDBCustomerRepository, live_state_item
from omni_domain.models import (
    CartState,
    ConsentDecision,
    CustomerProfile,
    FrictionPoint,
    LiveState,
    ProfileAttributes,
    RollingSpend,
)
from rescorer.constants import ENV_RESCORE_DELAY_QUEUE_URL, ENV_RESCORE_PRODUCTS
from tests.lambdas.conftest import CUSTOMER_ID, REGION, TABLES, create_tables

EVENTS = Path(__file__).resolve().parents[3] / "sample_events" / "rescorer"  # shared with `omni lambda invoke`
ENDPOINT = "omni-propensity"
RESCORE_TABLE = "test-rescore-debounce"
DELAY_QUEUE = "test-rescore-delays"
DELAY_QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/{DELAY_QUEUE}"  # moto's default account
PRODUCTS = ("retention-offer", "broadband")
DEBOUNCE_SECONDS = 300
NOW = datetime(2026, 11, 29, 21, 0, 5, tzinfo=UTC)
# Personal data of the stored customer: no log line may contain any of it.
PII = ("Ada", "Lovelace", "ada.lovelace@example.com", "+447700900123", "1985-03-14")


@pytest.fixture(autouse=True)
def rescorer_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        ENV_RESCORE_TABLE: RESCORE_TABLE,
        ENV_RESCORE_DEBOUNCE_SECONDS: str(DEBOUNCE_SECONDS),
        ENV_PROPENSITY_ENDPOINT: ENDPOINT,
        ENV_PROPENSITY_TIMEOUT_MS: "500",
        ENV_RESCORE_PRODUCTS: ",".join(PRODUCTS),
        ENV_RESCORE_DELAY_QUEUE_URL: DELAY_QUEUE_URL,
        "POWERTOOLS_SERVICE_NAME": "rescorer",
    }.items():
        monkeypatch.setenv(name, value)


def state_event(name: str = "customer_state_changed", **detail: Any) -> dict[str, Any]:
    """A stored EventBridge event (sample_events/rescorer/<name>.json); keyword arguments replace members of its detail."""
    event = json.loads((EVENTS / f"{name}.json").read_text())
    event = copy.deepcopy(event)
    event["detail"].update(detail)
    return event


def delay_queue_batch(*bodies: str) -> dict[str, Any]:
    """An SQS batch of the delay queue (events/delay_queue_batch.json's record), one record per body."""
    template = json.loads((EVENTS / "delay_queue_batch.json").read_text())["Records"][0]
    records = []
    for number, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record.update(messageId=f"m-{number}", body=body)
        records.append(record)
    return {"Records": records}


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def profile(customer_id: str = CUSTOMER_ID, *, created: datetime = NOW - timedelta(days=400)) -> CustomerProfile:
    return CustomerProfile(
        customer_id=customer_id,
        attributes=ProfileAttributes(
            first_name="Ada",
            last_name="Lovelace",
            email="ada.lovelace@example.com",
            phone="+447700900123",
            date_of_birth=date(1985, 3, 14),
            preferred_channel="email",
        ),
        consent={"email": {"marketing": ConsentDecision(granted=True, decided_at=created)}},
        version=1,
        created_at=created,
        updated_at=created,
    )


def live_state(*, version: int = 5, spend: str = "820", purchases: int = 3, complaints: int = 1) -> LiveState:
    return LiveState(
        rolling_spend=RollingSpend(last_30_days=Decimal(120), last_365_days=Decimal(spend)),
        counters={"purchases": purchases, "complaints": complaints},
        friction_points=[FrictionPoint(kind="complaint", channel="web", at=NOW - timedelta(days=2), reference="cp-1")],
        cart=CartState(cart_id="c-1", status="active", value=Decimal("20.00"), at=NOW - timedelta(hours=1)),
        journey_stage="loyal",
        propensity={"retention-offer": 0.5},
        version=version,
        updated_at=NOW - timedelta(minutes=1),
    )


def put_state(client: Any, customer_id: str, state: LiveState) -> None:
    item = json.loads(json.dumps(live_state_item(customer_id, state), default=str), parse_float=Decimal)
    boto3.resource("dynamodb", region_name=REGION).Table(TABLES[ENV_CUSTOMER_TABLE]).put_item(Item=item)


def store_customer(client: Any, customer_id: str = CUSTOMER_ID, *, state: LiveState | None = None) -> None:
    repository(client).save(profile(customer_id), expected_version=None)
    put_state(client, customer_id, state or live_state())


def repository(client: Any) -> DynamoDBCustomerRepository:
    return DynamoDBCustomerRepository(
        client, customer_table=TABLES[ENV_CUSTOMER_TABLE], identity_table=TABLES[ENV_IDENTITY_TABLE]
    )


def state_item(client: Any, customer_id: str = CUSTOMER_ID) -> dict[str, Any] | None:
    """The STATE item as plain Python values, or None."""
    from boto3.dynamodb.types import TypeDeserializer

    response = client.get_item(
        TableName=TABLES[ENV_CUSTOMER_TABLE],
        Key={"customer_id": {"S": customer_id}, "record": {"S": LIVE_STATE_RECORD}},
        ConsistentRead=True,
    )
    item = response.get("Item")
    if item is None:
        return None
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def create_rescore_table(client: Any) -> None:
    client.create_table(
        TableName=RESCORE_TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": RESCORE_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": RESCORE_PARTITION_KEY, "AttributeType": "S"}],
    )


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """moto DynamoDB with the customer, identity and debounce tables (no customer stored), and the delay queue."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        create_rescore_table(client)
        url = boto3.client("sqs", region_name=REGION).create_queue(QueueName=DELAY_QUEUE)["QueueUrl"]
        assert url == DELAY_QUEUE_URL
        yield client


class RecordingSqs:
    """The moto SQS client, keeping each SendMessage's arguments: moto holds a delayed message back in
    wall-clock time, so a test reads what was sent here and delivers it itself."""

    def __init__(self) -> None:
        self._client = boto3.client("sqs", region_name=REGION)
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> Any:
        self.sent.append(kwargs)
        return self._client.send_message(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def sqs(dynamodb: Any) -> RecordingSqs:
    return RecordingSqs()


@dataclass
class StubbedRuntime:
    client: Any
    stubber: Stubber

    def answer(self, body: dict[str, Any] | str, *, rows: int | None = None) -> None:
        """Queue one invoke_endpoint answer; `rows`: the number of feature rows the request must carry."""
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        expected = None
        if rows is not None:
            expected = {
                "EndpointName": ENDPOINT,
                "ContentType": "application/json",
                "Accept": "application/json",
                "Body": _RowCount(rows),
            }
        self.stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentType": "application/json"},
            expected,
        )

    def fail(self, code: str = "ModelError", status: int = 424) -> None:
        self.stubber.add_client_error("invoke_endpoint", service_error_code=code, http_status_code=status)


class _RowCount:
    """Matches a request body that is a JSON list of `count` feature rows."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __eq__(self, other: object) -> bool:
        rows = json.loads(other) if isinstance(other, str | bytes) else None
        return isinstance(rows, list) and len(rows) == self.count

    def __hash__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"<JSON list of {self.count} rows>"


@pytest.fixture
def runtime() -> Iterator[StubbedRuntime]:
    client = boto3.client("sagemaker-runtime", region_name=REGION)
    with Stubber(client) as stubber:
        yield StubbedRuntime(client, stubber)
        stubber.assert_no_pending_responses()
