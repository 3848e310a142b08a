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


class SageMakerScorer:
    def __init__(self, client: Any, endpoint_name: str) -> None:
        self._client = client
        self._endpoint = endpoint_name

    def score(self, features: Mapping[str, Any]) -> float:
        try:
            response = self._client.invoke_endpoint(
                EndpointName=self._endpoint, ContentType=JSON, Accept=JSON, Body=json.dumps(features)
            )
            body = response["Body"].read()
        except (ReadTimeoutError, ConnectTimeoutError):
            raise ScoringUnavailable("timeout") from None
        except (ClientError, BotoCoreError):
            raise ScoringUnavailable("error") from None
        return _first_score(body)


def _first_score(body: bytes) -> float:
    try:
        score = float(json.loads(body)["scores"][0])
    except (ValueError, KeyError, IndexError, TypeError):
        raise ScoringUnavailable("bad-response") from None
    if not 0.0 <= score <= 1.0:  # also refuses NaN
        raise ScoringUnavailable("bad-response")
    return score
