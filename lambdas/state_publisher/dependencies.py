"""Composition root: the fan-out over EventBridge and the DynamoDB idempotency store, built once per
execution environment.

Built on first use rather than at import, so a test (or a benchmark) can swap
in other adapters with `use`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botocore.config import Config

from omni_domain.constants import IDEMPOTENCY_EXPIRY_ATTRIBUTE, IDEMPOTENCY_PARTITION_KEY
from state_publisher.aws import EventBridgeChangePublisher
from state_publisher.fanout import StateFanOut, idempotency_config
from state_publisher.settings import PublisherSettings

# botocore's defaults (60 s to connect, 60 s to read, legacy retries) outlast the function's 30 s timeout: one
# hung call would time the invocation out, failing the whole batch with in-progress idempotency claims held.
# A PutEvents or an idempotency read/write answers in tens of milliseconds; 2 s to connect and 5 s to read,
# at most 3 attempts with standard (jittered, throttling-aware) retries, bound a call to ~21 s in the worst
# case, so a slow dependency fails the record (retried by the stream) before Lambda kills the invocation.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3})


def from_settings(
    settings: PublisherSettings,
    *,
    session: boto3.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> StateFanOut:
    """The fan-out over the settings' bus and idempotency table; the redrive command passes its own session
    (default: boto3's default session), tests a `sleep` that does not wait."""

    def client(service: str) -> Any:
        if session is None:
            return boto3.client(service, config=CLIENT_CONFIG)
        return session.client(service, config=CLIENT_CONFIG)

    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table,
        key_attr=IDEMPOTENCY_PARTITION_KEY,
        expiry_attr=IDEMPOTENCY_EXPIRY_ATTRIBUTE,
        boto3_client=client("dynamodb"),
    )
    return StateFanOut(
        EventBridgeChangePublisher(client("events"), settings.event_bus, sleep=sleep),
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
