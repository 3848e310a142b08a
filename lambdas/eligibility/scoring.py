"""The propensity score: a port, the SageMaker runtime adapter, and why a score can be unavailable.

The endpoint is called with a short timeout and no retries: a decision that
waits for a slow model is worse than a rules-only decision now, and a retry
would double the wait. Every failure becomes `ScoringUnavailable` with a reason
the caller reports as a metric; nothing here decides what a fallback means.

The endpoint answers `{"scores": [p], "model_version": "xgb-<hash>", "contributions": [[...]]}`:
the contributions (the top features of the score in log-odds, `Contribution`) and
the version are optional, so an endpoint serving older artefacts still scores;
a malformed contribution list is dropped rather than losing the score.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eligibility.attributes import Fact

FallbackReason = Literal["no-endpoint", "timeout", "error", "bad-response"]
JSON = "application/json"


class ScoringUnavailable(Exception):  # noqa: N818 - an outcome the service expects, not a fault
    def __init__(self, reason: FallbackReason) -> None:
        super().__init__(reason)
        self.reason: FallbackReason = reason


class Contribution(BaseModel):
    """How much one input moved the score: XGBoost's contribution of the column, in log-odds (bias excluded)."""

    model_config = ConfigDict(frozen=True)

    feature: str = Field(min_length=1, max_length=128, description="the model input (an attribute name)")
    value: Fact = Field(description="the value the model was sent; null when unknown")
    contribution: float = Field(
        allow_inf_nan=False, description="log-odds the input added to (or, negative, took from) the score"
    )


@dataclass(frozen=True)
class ModelScore:
    """The endpoint's answer for one customer: the calibrated propensity, its top contributions, the version."""

    score: float
    contributions: tuple[Contribution, ...] = ()
    model_version: str | None = None


class Scorer(Protocol):
    def score(self, features: Mapping[str, Any]) -> ModelScore:
        """The propensity (0-1) for one customer's raw attributes, or ScoringUnavailable."""
        ...


class NoModel:
    """No endpoint configured (the model is not deployed yet): every decision is rules-only."""

    def score(self, features: Mapping[str, Any]) -> ModelScore:
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

    def score(self, features: Mapping[str, Any]) -> ModelScore:
        return first_answer(invoke_json(self._client, self._endpoint, features))


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


MAX_CONTRIBUTIONS = 10  # the endpoint sends 3; more is kept to this many, largest first
MODEL_VERSION_MAX_LENGTH = 128


def first_answer(body: bytes) -> ModelScore:
    """The first customer's score, contributions and model version; ScoringUnavailable without a valid score."""
    try:
        answer = json.loads(body)
        score = float(answer["scores"][0])
    except (ValueError, KeyError, IndexError, TypeError):
        raise ScoringUnavailable("bad-response") from None
    if not 0.0 <= score <= 1.0:  # also refuses NaN
        raise ScoringUnavailable("bad-response")
    version = answer.get("model_version")
    if not isinstance(version, str) or not version.strip() or len(version) > MODEL_VERSION_MAX_LENGTH:
        version = None
    return ModelScore(score, first_contributions(answer), version)


def first_contributions(answer: Mapping[str, Any]) -> tuple[Contribution, ...]:
    """The first customer's contributions, by |contribution| descending; none when absent or malformed.

    A score without its explanation is still a score: a malformed list costs the
    explanation, never the decision.
    """
    try:
        items = answer["contributions"][0]
        contributions = [Contribution.model_validate(item) for item in items]
    except (KeyError, IndexError, TypeError, ValidationError):
        return ()
    if not all(math.isfinite(c.contribution) for c in contributions):
        return ()
    ranked = sorted(contributions, key=lambda c: -abs(c.contribution))
    return tuple(ranked[:MAX_CONTRIBUTIONS])
