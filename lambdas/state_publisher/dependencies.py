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
from omni_domain.wiring import Wiring
from state_publisher.aws import EventBridgeChangePublisher
from state_publisher.fanout import StateFanOut, idempotency_config
from state_publisher.settings import PublisherSettings

# botocore's defaults (60 s to connect, 60 s to read, legacy retries) outlast the function's 30 s timeout
# (STATE_PUBLISHER_TIMEOUT_SECONDS, which the stack deploys): one hung call would time the invocation out,
# failing the whole batch with in-progress idempotency claims held.
# A PutEvents or an idempotency read/write answers in tens of milliseconds. A published record makes three calls
# in a row: the idempotency in-progress write, PutEvents, the idempotency completion. Each call is at most
# CALL_ATTEMPTS attempts of (1 s to connect + 2 s to read) with one standard-mode (jittered) backoff of at most
# 1 s between them: 2 x 3 s + 1 s = 7 s per call, 21 s for the record's three calls, leaving 9 s of the 30 s
# timeout. (An entry PutEvents refuses in its answer is re-sent, aws.MAX_ATTEMPTS in all; those answers come
# back in milliseconds, a re-send that hangs is one more 7 s call.) A slow dependency therefore fails the record
# (retried by the stream) before Lambda kills the invocation. `worst_case_call_seconds` is the arithmetic, kept
# honest by a test.
CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = 2
CALL_ATTEMPTS = 2
MAX_RETRY_BACKOFF_SECONDS = 1  # standard mode's first backoff: rand(0, 1) x 1 s (throttling), 50 ms otherwise
CALLS_PER_PUBLISHED_RECORD = 3
CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": CALL_ATTEMPTS},
)


def worst_case_call_seconds() -> int:
    """The longest one call can take under CLIENT_CONFIG: every attempt hangs to both timeouts, plus backoffs."""
    return (
        CALL_ATTEMPTS * (CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS)
        + (CALL_ATTEMPTS - 1) * MAX_RETRY_BACKOFF_SECONDS
    )


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


# One composition per execution environment, reused across invocations; `use` swaps in fakes.
wiring: Wiring[StateFanOut] = Wiring(lambda: from_settings(PublisherSettings.from_environment()))
current = wiring.current
use = wiring.use
