"""The propensity score: a port, the SageMaker runtime adapter, and why a score can be unavailable.

The endpoint is called with a short timeout and no retries: a decision that
waits for a slow model is worse than a rules-only decision now, and a retry
would double the wait. Every failure becomes `ScoringUnavailable` with a reason
the caller reports as a metric; nothing here decides what a fallback means.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

FallbackReason = Literal["no-endpoint", "timeout", "error", "bad-response"]
JSON = "application/json"


class ScoringUnavailable(Exception):  # noqa: N818 - an outcome the service expects, not a fault
    def __init__(self, reason: FallbackReason) -> None:
        super().__init__(reason)
        self.reason: FallbackReason = reason


class Scorer(Protocol):
    def score(self, features: Mapping[str, Any]) -> float:
        """The propensity (0-1) for one customer's raw attributes, or ScoringUnavailable."""
        ...


class NoModel:
    """No endpoint configured (the model is not deployed yet): every decision is rules-only."""

    def score(self, features: Mapping[str, Any]) -> float:
        raise ScoringUnavailable("no-endpoint")


def runtime_config(timeout_ms: int) -> Config:
    seconds = timeout_ms / 1000
    return Config(
        connect_timeout=min(1.0, seconds),
        read_timeout=seconds,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )


def runtime_client(timeout_ms: int) -> Any:
    """The SageMaker runtime client every propensity scorer calls through (`runtime_config`'s policy)."""
    return boto3.client("sagemaker-runtime", config=runtime_config(timeout_ms))


class SageMakerScorer:
    def __init__(self, client: Any, endpoint_name: str) -> None:
        self._client = client
        self._endpoint = endpoint_name

    def score(self, features: Mapping[str, Any]) -> float:
        return _first_score(invoke_json(self._client, self._endpoint, features))


def invoke_json(client: Any, endpoint_name: str, payload: Any) -> bytes:
    """The endpoint's raw answer to `payload` sent as JSON; a timeout or an AWS error is ScoringUnavailable."""
    try:
        response = client.invoke_endpoint(
            EndpointName=endpoint_name, ContentType=JSON, Accept=JSON, Body=json.dumps(payload)
        )
        body: bytes = response["Body"].read()
    except (ReadTimeoutError, ConnectTimeoutError):
        raise ScoringUnavailable("timeout") from None
    except (ClientError, BotoCoreError):
        raise ScoringUnavailable("error") from None
    return body


def _first_score(body: bytes) -> float:
    try:
        score = float(json.loads(body)["scores"][0])
    except (ValueError, KeyError, IndexError, TypeError):
        raise ScoringUnavailable("bad-response") from None
    if not 0.0 <= score <= 1.0:  # also refuses NaN
        raise ScoringUnavailable("bad-response")
    return score
