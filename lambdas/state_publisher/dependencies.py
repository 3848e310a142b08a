"""Composition root: the fan-out over EventBridge and the DynamoDB idempotency store, built once per
execution environment.

Built on first use rather than at import, so a test (or a benchmark) can swap
in other adapters with `use`.
"""

from __future__ import annotations

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from omni_domain.constants import IDEMPOTENCY_EXPIRY_ATTRIBUTE, IDEMPOTENCY_PARTITION_KEY
from state_publisher.aws import EventBridgeChangePublisher
from state_publisher.fanout import StateFanOut, idempotency_config
from state_publisher.settings import PublisherSettings


def from_settings(settings: PublisherSettings) -> StateFanOut:
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table,
        key_attr=IDEMPOTENCY_PARTITION_KEY,
        expiry_attr=IDEMPOTENCY_EXPIRY_ATTRIBUTE,
        boto3_client=boto3.client("dynamodb"),
    )
    return StateFanOut(
        EventBridgeChangePublisher(boto3.client("events"), settings.event_bus),
        persistence,
        idempotency_config(settings.idempotency_expiry_seconds),
    )


_current: StateFanOut | None = None


def current() -> StateFanOut:
    global _current  # noqa: PLW0603 - one composition per execution environment, reused across invocations
    if _current is None:
        _current = from_settings(PublisherSettings.from_environment())
    return _current


def use(fanout: StateFanOut | None) -> None:
    """Replace the fan-out (None: rebuild it from the environment on next use)."""
    global _current  # noqa: PLW0603 - see current()
    _current = fanout
